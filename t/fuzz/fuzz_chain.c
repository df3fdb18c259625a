/*
 * libFuzzer target for the transaction log verifier (lgsp_chain.c), the
 * code lgsp-logverify runs over files an attacker may have written.  The
 * first byte chooses how the rest is read:
 *   bit 0: lines are verified as they are (0), or are record bodies that
 *          the target seals into a chain first (1), so that the verifier's
 *          deeper checks (seq, PREV, checkpoints) are reached;
 *   bit 1: checkpoints are verified with a fixed Ed25519 key, or counted.
 * A chain the target sealed itself, with no checkpoint line, must verify.
 */

#define _GNU_SOURCE    /* memmem */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "lgsp_chain.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  fuzz_ed_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAeSBi8maHRTFmJYozzD+068zw0wCxkb7Hdyvbj4/mng0=\n"
    "-----END PUBLIC KEY-----\n";


static EVP_PKEY *
fuzz_key(void)
{
    BIO              *bio;
    static EVP_PKEY  *key;

    if (key == NULL) {
        bio = BIO_new_mem_buf(fuzz_ed_pem, sizeof(fuzz_ed_pem) - 1);
        key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);

        if (key == NULL) {
            abort();
        }
    }

    return key;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     seal, sealed_only;
    char                   *buf, head[LGSP_CHAIN_HASH_HEX + 1];
    size_t                  n, len, np;
    uint64_t                lineno, seq;
    const char             *text, *end, *nl;
    lgsp_chain_problem_t   *problems;
    lgsp_chain_verifier_t  *v;

    if (size < 1) {
        return 0;
    }

    seal = data[0] & 1;
    v = lgsp_chain_verifier_new((data[0] & 2) ? fuzz_key() : NULL);
    if (v == NULL) {
        abort();
    }

    text = (const char *) data + 1;
    end = (const char *) data + size;
    lineno = 0;
    seq = 0;
    sealed_only = seal;
    lgsp_chain_genesis(head);

    while (text < end) {
        nl = memchr(text, '\n', end - text);
        len = (nl ? nl : end) - text;
        lineno++;

        if (seal) {
            /* {"seq":N, then the body, then the seal */
            buf = malloc(len + 32 + LGSP_CHAIN_SEAL_LEN);
            if (buf == NULL) {
                abort();
            }

            n = (size_t) snprintf(buf, 32, "{\"seq\":%llu,",
                                  (unsigned long long) ++seq);
            memcpy(buf + n, text, len);

            if (memmem(text, len, "checkpoint", 10) != NULL) {
                sealed_only = 0;
            }

            n = lgsp_chain_seal(buf, n + len, head);
            if (n == 0) {
                abort();
            }

            /* the verifier takes a line without its "\n" */
            lgsp_chain_verify_line(v, 0, lineno, buf, n - 1);
            free(buf);

        } else {
            lgsp_chain_verify_line(v, 0, lineno, text, len);
        }

        text += len + 1;
    }

    np = lgsp_chain_verify_end(v, &problems);

    /*
     * a body that is not JSON members makes a line of another form: only
     * a chain of well-formed sealed lines is known to be whole
     */
    if (sealed_only && np != 0 && problems[0].kind != LGSP_CHAIN_NOT_RECORD)
    {
        abort();
    }

    lgsp_chain_verifier_free(v);

    return 0;
}
