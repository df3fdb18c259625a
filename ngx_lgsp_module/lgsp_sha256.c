/*
 * SHA-256 with the method fetched once per process.
 */

#include "lgsp_sha256.h"


static EVP_MD      *lgsp_sha256_md;
static EVP_MD_CTX  *lgsp_sha256_ctx;


EVP_MD_CTX *
lgsp_sha256_start(void)
{
    if (lgsp_sha256_md == NULL) {
        lgsp_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    if (lgsp_sha256_ctx == NULL) {
        lgsp_sha256_ctx = EVP_MD_CTX_new();
    }

    if (lgsp_sha256_md == NULL || lgsp_sha256_ctx == NULL
        || EVP_DigestInit_ex2(lgsp_sha256_ctx, lgsp_sha256_md, NULL) != 1)
    {
        return NULL;
    }

    return lgsp_sha256_ctx;
}


void
lgsp_sha256_free(void)
{
    EVP_MD_CTX_free(lgsp_sha256_ctx);
    EVP_MD_free(lgsp_sha256_md);

    lgsp_sha256_ctx = NULL;
    lgsp_sha256_md = NULL;
}
