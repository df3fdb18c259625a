/*
 * Keys for JWT verification (RFC 7517, RFC 7518): JWKS documents, PEM
 * public keys and certificates, raw HMAC secrets.  Keys are parsed once,
 * when the configuration is read, and bound to the algorithms their type
 * can serve, so that an RSA or EC public key can never verify an HS*
 * token.  nginx-free: plain C on OpenSSL and jansson.
 */

#ifndef LGSP_JWK_H
#define LGSP_JWK_H

#include <stddef.h>
#include <openssl/evp.h>


/*
 * JWS algorithms (RFC 7518, RFC 8037, RFC 9864), as bits of an allow-list.
 * EdDSA is polymorphic (Ed25519 or Ed448 keys); Ed25519 and Ed448 are its
 * fully-specified names, each bound to its own curve.
 */
typedef enum {
    LGSP_JWA_HS256 = 0,
    LGSP_JWA_HS384,
    LGSP_JWA_HS512,
    LGSP_JWA_RS256,
    LGSP_JWA_RS384,
    LGSP_JWA_RS512,
    LGSP_JWA_PS256,
    LGSP_JWA_PS384,
    LGSP_JWA_PS512,
    LGSP_JWA_ES256,
    LGSP_JWA_ES384,
    LGSP_JWA_ES512,
    LGSP_JWA_EDDSA,
    LGSP_JWA_ED25519,
    LGSP_JWA_ED448,
    LGSP_JWA_COUNT
} lgsp_jwa_e;

#define LGSP_JWA_BIT(alg)   (1u << (alg))
#define LGSP_JWA_HMAC       0x007u
#define LGSP_JWA_RSA        0x1f8u
#define LGSP_JWA_OKP        0x7000u
#define LGSP_JWA_ALL        ((1u << LGSP_JWA_COUNT) - 1)


typedef enum {
    LGSP_KEY_HMAC = 1,
    LGSP_KEY_RSA,
    LGSP_KEY_EC,
    LGSP_KEY_OKP
} lgsp_key_type_e;


/* room for the reasons keys were skipped, for one log line */
#define LGSP_JWK_SKIPPED_MAX  512


typedef struct {
    lgsp_key_type_e   type;
    char             *kid;          /* NULL: the key has no id */
    unsigned          algs;         /* what this key may verify */
    EVP_PKEY         *pkey;         /* RSA, EC, Ed25519, Ed448 */
    unsigned char    *secret;       /* HMAC */
    size_t            secret_len;

    /* HMAC keyed once per HS algorithm: a verification copies one */
    EVP_MAC_CTX      *hmac[3];
} lgsp_jwk_t;


typedef struct {
    lgsp_jwk_t       *keys;
    size_t            nkeys;

    /* the keys of a JWKS that the last add left out, and why */
    size_t            nskipped;
    char              skipped[LGSP_JWK_SKIPPED_MAX];
} lgsp_jwk_set_t;


/* "RS256" -> LGSP_JWA_RS256; -1 for unknown names and for "none" */
int lgsp_jwa_from_name(const char *name, size_t len);
const char *lgsp_jwa_name(lgsp_jwa_e alg);

/*
 * Adds the keys of a file to the set: a JWKS or a single JWK (JSON), a PEM
 * public key or certificate (RSA, EC, Ed25519, Ed448), or else a raw HMAC
 * secret (one trailing newline dropped).  kid, when not NULL, names a key
 * that has no id of its own.  A key of a JWKS that cannot verify
 * signatures here (unknown kty, crv or alg, use other than sig, key_ops
 * without verify, a bad or too weak key) is skipped, as RFC 7517 section
 * 5 says, and counted in set->nskipped with its reason in set->skipped.
 * Returns 0, or -1 with a message in err: the input is not a key file,
 * or a JWKS holds no usable key.
 */
int lgsp_jwk_set_add_file(lgsp_jwk_set_t *set, const char *path,
    const char *kid, char *err, size_t errlen);
int lgsp_jwk_set_add_buffer(lgsp_jwk_set_t *set, const unsigned char *data,
    size_t len, const char *kid, char *err, size_t errlen);

/* the union of what the set's keys may verify */
unsigned lgsp_jwk_set_algs(const lgsp_jwk_set_t *set);

void lgsp_jwk_set_free(lgsp_jwk_set_t *set);

/* the digest of an algorithm, fetched once; NULL for the EdDSA family */
const EVP_MD *lgsp_jwa_digest(lgsp_jwa_e alg);

/* frees the digests fetched, as a process exits */
void lgsp_jwa_digest_free(void);

/* strict base64url without padding; returns the length or -1 */
long lgsp_base64url_decode(unsigned char *dst, const char *src, size_t len);
#define lgsp_base64url_decoded_len(len)  (((len) * 3) / 4 + 3)

#endif /* LGSP_JWK_H */
