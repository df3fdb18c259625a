/*
 * libFuzzer target for key loading (lgsp_jwk.c): the input is a key file
 * as an operator, or a JWKS endpoint, may give it: a JWKS, a JWK, a PEM
 * key or certificate, or else an HMAC secret.  The first byte chooses
 * whether kid= names the key.  A set that loads must be usable.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_jwk.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             err[256];
    size_t           i;
    lgsp_jwk_set_t   set;

    if (size < 1) {
        return 0;
    }

    memset(&set, 0, sizeof(set));

    if (lgsp_jwk_set_add_buffer(&set, data + 1, size - 1,
                                (data[0] & 1) ? "fuzz" : NULL, err,
                                sizeof(err))
        == 0)
    {
        for (i = 0; i < set.nkeys; i++) {
            if (set.keys[i].algs == 0
                || (set.keys[i].type == LGSP_KEY_HMAC
                    && set.keys[i].secret_len == 0))
            {
                abort();
            }
        }

        (void) lgsp_jwk_set_algs(&set);

    } else if (strlen(err) == 0) {
        /* every refusal names its reason */
        abort();
    }

    lgsp_jwk_set_free(&set);

    return 0;
}
