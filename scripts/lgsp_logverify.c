/*
 * lgsp-logverify FILE... [--pubkey PATH]: checks the hash chain of
 * transaction logs given oldest first (rotated files, then the current
 * one) and, with the public key, every signed checkpoint.  Prints OK and a
 * summary, or each problem with its file and line, first one first.
 * Exit status: 0 OK, 1 problems found, 2 a file or the key unreadable.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_chain.h"


static int
usage(void)
{
    fprintf(stderr, "usage: lgsp-logverify FILE... [--pubkey PATH]\n"
                    "  FILEs oldest first: rotated logs, then the current"
                    " one\n");
    return 2;
}


int
main(int argc, char **argv)
{
    int                     i, nfiles;
    char                   *line, err[256], **files;
    FILE                   *f;
    size_t                  cap, n, np;
    ssize_t                 len;
    uint64_t                lineno;
    EVP_PKEY               *pubkey;
    lgsp_chain_summary_t    s;
    lgsp_chain_problem_t   *problems;
    lgsp_chain_verifier_t  *v;

    pubkey = NULL;
    files = calloc(argc, sizeof(char *));
    nfiles = 0;

    if (files == NULL) {
        return 2;
    }

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pubkey") == 0) {
            if (++i == argc) {
                return usage();
            }

            pubkey = lgsp_chain_load_key(argv[i], 0, err, sizeof(err));
            if (pubkey == NULL) {
                fprintf(stderr, "lgsp-logverify: %s\n", err);
                return 2;
            }

        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage();

        } else {
            files[nfiles++] = argv[i];
        }
    }

    if (nfiles == 0) {
        return usage();
    }

    v = lgsp_chain_verifier_new(pubkey);
    if (v == NULL) {
        fprintf(stderr, "lgsp-logverify: out of memory\n");
        return 2;
    }

    line = NULL;
    cap = 0;

    for (i = 0; i < nfiles; i++) {
        f = strcmp(files[i], "-") ? fopen(files[i], "r") : stdin;

        if (f == NULL) {
            fprintf(stderr, "lgsp-logverify: cannot read \"%s\"\n", files[i]);
            return 2;
        }

        lineno = 0;

        while ((len = getline(&line, &cap, f)) != -1) {
            lineno++;

            if (len && line[len - 1] == '\n') {
                len--;
            }

            lgsp_chain_verify_line(v, i, lineno, line, len);
        }

        if (f != stdin) {
            fclose(f);
        }
    }

    np = lgsp_chain_verify_end(v, &problems);
    lgsp_chain_verifier_summary(v, &s);

    for (n = 0; n < np; n++) {
        printf("%s:%llu: %s\n", files[problems[n].file],
               (unsigned long long) problems[n].line, problems[n].text);
    }

    if (np) {
        printf("FAILED: %zu problem%s; %llu records, %llu checkpoints\n", np,
               np == 1 ? "" : "s", (unsigned long long) s.records,
               (unsigned long long) s.checkpoints);

    } else if (s.records + s.checkpoints == 0) {
        printf("OK: no records\n");

    } else {
        printf("OK: %llu records, seq %llu to %llu, %llu checkpoints",
               (unsigned long long) s.records,
               (unsigned long long) s.first_seq,
               (unsigned long long) s.last_seq,
               (unsigned long long) s.checkpoints);

        if (pubkey) {
            printf(" (%llu signatures verified)",
                   (unsigned long long) s.verified);

        } else if (s.checkpoints) {
            printf(" (signatures not checked: no --pubkey)");
        }

        printf("; head %s\n", s.head);
    }

    free(line);
    free(files);
    lgsp_chain_verifier_free(v);
    EVP_PKEY_free(pubkey);

    return np ? 1 : 0;
}
