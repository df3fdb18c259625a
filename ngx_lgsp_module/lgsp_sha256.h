/*
 * SHA-256 with OpenSSL's method fetched once per process: OpenSSL 3 would
 * otherwise look it up by name on every digest.  nginx-free.
 */

#ifndef LGSP_SHA256_H
#define LGSP_SHA256_H

#include <openssl/evp.h>


/*
 * The process's SHA-256 context, started: the caller updates and
 * finishes it before the next start (nginx workers have one thread).
 * NULL when OpenSSL fails.
 */
EVP_MD_CTX *lgsp_sha256_start(void);

/* frees the method and the context, as a process exits; a later start
 * fetches them again */
void lgsp_sha256_free(void);

#endif /* LGSP_SHA256_H */
