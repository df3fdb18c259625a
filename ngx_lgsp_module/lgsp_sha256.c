/*
 * SHA-256 with the method fetched once per process.
 */

#include "lgsp_sha256.h"


EVP_MD_CTX *
lgsp_sha256_start(void)
{
    static EVP_MD      *md;
    static EVP_MD_CTX  *ctx;

    if (md == NULL) {
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    if (ctx == NULL) {
        ctx = EVP_MD_CTX_new();
    }

    if (md == NULL || ctx == NULL || EVP_DigestInit_ex2(ctx, md, NULL) != 1)
    {
        return NULL;
    }

    return ctx;
}
