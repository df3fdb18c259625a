/*
 * Unit tests of lgsp_chain.c: sealing, the tail reader, checkpoint
 * signatures, the JSON escaper and the verifier's naming of tampering.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_chain.h"
#include "unit.h"


#define LINES  8

static char    lines[LINES][512];
static size_t  lens[LINES];


/* a chain of LINES records; with a key, line 5 is a checkpoint */
static void
make_chain(EVP_PKEY *key, const char *key_id)
{
    int     i;
    char    head[LGSP_CHAIN_HASH_HEX + 1], ck[LGSP_CHAIN_CHECKPOINT_LEN + 1];
    size_t  n;

    lgsp_chain_genesis(head);
    head[LGSP_CHAIN_HASH_HEX] = '\0';

    for (i = 0; i < LINES; i++) {
        if (key && i == 4) {
            lgsp_chain_checkpoint(key, key_id, i, head, ck);
            n = sprintf(lines[i], "{\"seq\":%d,\"time\":\"t\",%s", i + 1, ck);

        } else {
            n = sprintf(lines[i], "{\"seq\":%d,\"txid\":\"tx-%d\"", i + 1, i);
        }

        n = lgsp_chain_seal(lines[i], n, head);
        lens[i] = n - 1;              /* without the "\n" */
    }
}


/* verifies lines in the order given; returns the problems' count */
static size_t
verify(EVP_PKEY *pub, const int *order, size_t n, lgsp_chain_problem_t *first)
{
    size_t                  i, np;
    lgsp_chain_problem_t   *problems;
    lgsp_chain_verifier_t  *v;

    v = lgsp_chain_verifier_new(pub);

    for (i = 0; i < n; i++) {
        lgsp_chain_verify_line(v, 0, i + 1, lines[order[i]], lens[order[i]]);
    }

    np = lgsp_chain_verify_end(v, &problems);

    if (np && first) {
        *first = problems[0];
    }

    lgsp_chain_verifier_free(v);

    return np;
}


static void
test_seal(void)
{
    char      head[LGSP_CHAIN_HASH_HEX + 1], line[512];
    size_t    n;
    uint64_t  seq;
    char      got[LGSP_CHAIN_HASH_HEX + 1];

    lgsp_chain_genesis(head);
    head[LGSP_CHAIN_HASH_HEX] = '\0';

    n = sprintf(line, "{\"seq\":1,\"a\":1");
    n = lgsp_chain_seal(line, n, head);
    line[n] = '\0';

    /* printf '{"seq":1,"a":1,"prev":"0...0"' | sha256sum */
    UNIT_EQ_STR(head, "68b0eed178ee6df443df12715e07cc2d"
                      "fa46ece6191eec1d02767d5ccb8c3bcb",
                "hash is SHA-256 of content and prev");
    UNIT_OK(strncmp(line, "{\"seq\":1,\"a\":1,\"prev\":\"0000", 27) == 0,
            "seal appends prev");
    UNIT_OK(line[n - 1] == '\n' && line[n - 2] == '}', "seal ends the line");
    UNIT_OK(strstr(line, head) != NULL, "the line carries its hash");

    got[LGSP_CHAIN_HASH_HEX] = '\0';
    UNIT_EQ_INT(lgsp_chain_tail(line, n, &seq, got), 0, "tail reads a line");
    UNIT_EQ_INT(seq, 1, "tail reads seq");
    UNIT_EQ_STR(got, head, "tail reads the hash");

    /* a partial line after it (a crash mid-write) is skipped */
    memcpy(line + n, "{\"seq\":2,\"a\"", 12);
    UNIT_EQ_INT(lgsp_chain_tail(line, n + 12, &seq, got), 0,
                "tail skips a partial last line");
    UNIT_EQ_INT(seq, 1, "tail reads the complete line");

    UNIT_EQ_INT(lgsp_chain_tail("garbage\n", 8, &seq, got), -1,
                "tail refuses a foreign line");
    UNIT_EQ_INT(lgsp_chain_tail("", 0, &seq, got), -1,
                "tail of an empty file");
}


static void
test_escape(void)
{
    int            c;
    unsigned char  out[64], run[18], *end;
    size_t         n;

    const unsigned char  in[] = "a\"b\\c\n\x01\xc3\xa9\xff/";

    n = lgsp_json_escape_len(in, sizeof(in) - 1);
    *lgsp_json_escape(out, in, sizeof(in) - 1) = '\0';

    UNIT_EQ_STR((char *) out, "a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00ff/",
                "escape: quotes, controls, UTF-8 kept, bad bytes as \\u00XX");
    UNIT_EQ_INT(n, strlen((char *) out), "escape length matches");

    /* overlong and surrogate forms are not UTF-8 */
    n = lgsp_json_escape_len((const unsigned char *) "\xc0\xaf\xed\xa0\x80",
                             5);
    UNIT_EQ_INT(n, 30, "overlong and surrogate bytes escaped");

    /* every byte between plain runs: length and form agree */
    for (c = 0; c < 256; c++) {
        memcpy(run, "plain text ", 11);
        run[11] = (unsigned char) c;
        memcpy(run + 12, " more\x7f", 6);

        n = lgsp_json_escape_len(run, 18);
        end = lgsp_json_escape(out, run, 18);

        if ((size_t) (end - out) != n
            || memcmp(out, "plain text ", 11) != 0
            || memcmp(end - 6, " more\x7f", 6) != 0
            || (c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
                && (n != 18 || out[11] != c))
            || ((c < 0x20 || c >= 0x80) && c != '\n' && c != '\r'
                && c != '\t' && n != 18 + 5))
        {
            break;
        }
    }

    UNIT_EQ_INT(c, 256, "each byte between plain runs escaped as alone");
}


static void
test_verifier(EVP_PKEY *priv, EVP_PKEY *pub, EVP_PKEY *other_pub,
    const char *key_id)
{
    size_t                 np, n;
    char                   saved[512];
    lgsp_chain_summary_t   s;
    lgsp_chain_problem_t   p;
    lgsp_chain_verifier_t *v;

    static const int  in_order[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    static const int  removed[] = { 0, 1, 3, 4, 5, 6, 7 };
    static const int  swapped[] = { 0, 1, 3, 2, 4, 5, 6, 7 };
    static const int  copied[] = { 0, 1, 2, 2, 3, 4, 5, 6, 7 };

    make_chain(priv, key_id);

    UNIT_EQ_INT(verify(pub, in_order, 8, NULL), 0, "an intact chain is OK");

    v = lgsp_chain_verifier_new(pub);
    for (np = 0; np < LINES; np++) {
        lgsp_chain_verify_line(v, 0, np + 1, lines[np], lens[np]);
    }
    lgsp_chain_verifier_summary(v, &s);
    UNIT_EQ_INT(s.records, 7, "summary counts records");
    UNIT_EQ_INT(s.checkpoints, 1, "summary counts checkpoints");
    UNIT_EQ_INT(s.verified, 1, "the checkpoint's signature verifies");
    UNIT_EQ_INT(s.last_seq, 8, "summary names the last seq");
    lgsp_chain_verifier_free(v);

    np = verify(pub, removed, 7, &p);
    UNIT_EQ_INT(np, 1, "a removed line is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_REMOVED, "removal is named");
    UNIT_EQ_INT(p.line, 3, "removal is placed before the next line");

    np = verify(pub, swapped, 8, &p);
    UNIT_EQ_INT(np, 1, "a swap is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_REORDERED, "reordering is named");
    UNIT_EQ_INT(p.line, 4, "the moved line is named");

    np = verify(pub, copied, 9, &p);
    UNIT_EQ_INT(np, 1, "a repeated line is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_INSERTED, "insertion is named");
    UNIT_EQ_INT(p.line, 4, "the inserted line is named");

    memcpy(saved, lines[2], sizeof(saved));
    lines[2][20] ^= 1;                /* a digit of the txid */
    np = verify(pub, in_order, 8, &p);
    UNIT_EQ_INT(np, 1, "an altered line is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_ALTERED, "alteration is named");
    UNIT_EQ_INT(p.line, 3, "the altered line is named");

    lines[2][20] ^= 1;
    lines[2][14] = '#';               /* no longer JSON */
    np = verify(pub, in_order, 8, &p);
    UNIT_EQ_INT(np, 1, "an alteration that breaks JSON is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_ALTERED, "it is named as alteration");
    memcpy(lines[2], saved, sizeof(saved));

    /* the forger recomputes the hash of the line he altered */
    memcpy(saved, lines[1], sizeof(saved));
    {
        char  head[LGSP_CHAIN_HASH_HEX + 1];

        memcpy(head, lines[0] + lens[0] - 66, LGSP_CHAIN_HASH_HEX);
        n = sprintf(lines[1], "{\"seq\":2,\"txid\":\"forged\"");
        lens[1] = lgsp_chain_seal(lines[1], n, head) - 1;
    }
    np = verify(pub, in_order, 8, &p);
    UNIT_EQ_INT(np, 1, "a resealed line is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_RESEALED, "resealing is named");
    UNIT_EQ_INT(p.line, 2, "the resealed line is named, not the next");
    memcpy(lines[1], saved, sizeof(saved));
    make_chain(priv, key_id);

    memcpy(saved, lines[3], sizeof(saved));
    n = lens[3];
    strcpy(lines[3], "not a record");
    lens[3] = strlen(lines[3]);
    np = verify(pub, in_order, 8, &p);
    UNIT_OK(np >= 1 && p.kind == LGSP_CHAIN_NOT_RECORD && p.line == 4,
            "a foreign line is named");
    memcpy(lines[3], saved, sizeof(saved));
    lens[3] = n;

    np = verify(other_pub, in_order, 8, &p);
    UNIT_EQ_INT(np, 1, "another key's checkpoint is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_UNKNOWN_KEY, "the unknown key is named");

    /* a signature that is not the key's: flip one of its characters */
    {
        char  *sig, head[LGSP_CHAIN_HASH_HEX + 1];

        memcpy(head, lines[3] + lens[3] - 66, LGSP_CHAIN_HASH_HEX);
        lines[4][lens[4] - 149] = '\0';
        sig = strstr(lines[4], "\"sig\":\"") + 7;
        sig[10] = (sig[10] == 'A') ? 'B' : 'A';
        n = strlen(lines[4]);
        lens[4] = lgsp_chain_seal(lines[4], n, head) - 1;

        /* the chain after it is resealed too: only the signature fails */
        for (np = 5; np < LINES; np++) {
            n = lens[np] - (LGSP_CHAIN_SEAL_LEN - 1);
            lens[np] = lgsp_chain_seal(lines[np], n, head) - 1;
        }
    }
    np = verify(pub, in_order, 8, &p);
    UNIT_EQ_INT(np, 1, "a forged signature is one problem");
    UNIT_EQ_INT(p.kind, LGSP_CHAIN_BAD_CHECKPOINT, "bad checkpoint is named");
    UNIT_EQ_INT(p.line, 5, "the checkpoint's line is named");
    UNIT_EQ_INT(verify(NULL, in_order, 8, NULL), 0,
                "without a key, only the chain is checked");
}


int
main(void)
{
    char           err[256], key_id[LGSP_CHAIN_KEY_ID_HEX + 1];
    size_t         len;
    EVP_PKEY      *priv, *pub, *other, *other_pub;
    unsigned char  raw[32];

    priv = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    len = sizeof(raw);
    EVP_PKEY_get_raw_public_key(priv, raw, &len);
    pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
    EVP_PKEY_get_raw_public_key(other, raw, &len);
    other_pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);

    lgsp_chain_key_id(priv, key_id);

    test_seal();
    test_escape();
    test_verifier(priv, pub, other_pub, key_id);

    UNIT_OK(lgsp_chain_load_key("/nonexistent", 1, err, sizeof(err)) == NULL,
            "a missing key file is refused");
    UNIT_OK(strstr(err, "/nonexistent") != NULL, "the error names the file");

    EVP_PKEY_free(priv);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(other);
    EVP_PKEY_free(other_pub);

    return UNIT_DONE("chain");
}
