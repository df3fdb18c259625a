/*
 * JSON Web Tokens (RFC 7519) in compact JWS form (RFC 7515): decoding,
 * signature verification with the keys of an lgsp_jwk_set_t, and the
 * claim rules.  nginx-free: plain C on OpenSSL and jansson.
 */

#ifndef LGSP_JWT_H
#define LGSP_JWT_H

#include <stddef.h>
#include <jansson.h>

#include "lgsp_jwk.h"


typedef enum {
    LGSP_JWT_OK = 0,
    LGSP_JWT_MALFORMED,          /* not a compact JWS with JSON parts */
    LGSP_JWT_ALG_REFUSED,        /* "none", unknown or not allowed */
    LGSP_JWT_UNSUPPORTED,        /* a "crit" extension we do not know */
    LGSP_JWT_NO_KEY,             /* no configured key fits kid and alg */
    LGSP_JWT_BAD_SIGNATURE,
    LGSP_JWT_EXPIRED,
    LGSP_JWT_NOT_YET_VALID,      /* nbf, or iat in the future */
    LGSP_JWT_NO_EXPIRY,
    LGSP_JWT_BAD_CLAIM,          /* a time claim that is not a number... */
    LGSP_JWT_WRONG_ISSUER,
    LGSP_JWT_WRONG_AUDIENCE,
    LGSP_JWT_WRONG_TYPE,         /* "typ" is not one required */
    LGSP_JWT_UNBOUND             /* cnf does not name the caller's cert */
} lgsp_jwt_status_e;


typedef struct {
    lgsp_jwa_e      alg;
    json_t         *header;
    json_t         *payload;
    char           *payload_json;    /* the payload as sent, decoded */
    size_t          payload_len;
} lgsp_jwt_t;


typedef struct {
    long long       now;             /* seconds since the epoch */
    long long       leeway;          /* seconds */
    int             require_exp;
    const char     *issuer;          /* NULL: any */
    const char     *audience;        /* NULL: any */
} lgsp_jwt_rules_t;


/*
 * Decodes a compact JWS and verifies its signature with a key of the set
 * that fits its kid and alg; allowed is a bit set of LGSP_JWA_BIT().
 * On LGSP_JWT_OK the caller owns jwt and frees it with lgsp_jwt_free().
 * err gets a short message for the client on any other status.
 */
lgsp_jwt_status_e lgsp_jwt_verify(const char *token, size_t len,
    const lgsp_jwk_set_t *keys, unsigned allowed, lgsp_jwt_t *jwt,
    char *err, size_t errlen);

/* exp, nbf, iat with leeway; iss and aud; exp is returned for caching */
lgsp_jwt_status_e lgsp_jwt_check_claims(json_t *payload,
    const lgsp_jwt_rules_t *rules, long long *exp, char *err, size_t errlen);

/*
 * A claim matches a value when it is that string, holds it as an array
 * member, or holds it as a word of a space-separated string (OAuth scope).
 */
int lgsp_jwt_claim_matches(json_t *claim, const char *value, size_t len);

/*
 * 1 when a "typ" header value names the media type want: compared without
 * case, the "application/" prefix optional on either side (RFC 7515
 * 4.1.9, RFC 8725 3.11), so "at+jwt" matches "application/AT+JWT".
 */
int lgsp_jwt_type_matches(const char *typ, size_t len, const char *want,
    size_t wlen);

/* the SHA-256 thumbprint of a certificate */
#define LGSP_JWT_X5T_LEN  32

/*
 * RFC 8705 3.1: the "x5t#S256" member of the "cnf" claim, the base64url
 * SHA-256 thumbprint of the DER client certificate the token is bound to,
 * decoded into x5t (LGSP_JWT_X5T_LEN bytes).  1: the token is bound;
 * 0: it has no cnf; -1: cnf names no well-formed x5t#S256.
 */
int lgsp_jwt_cnf_x5t(json_t *payload, unsigned char *x5t);

/* 0 when no string in the claims holds a control character */
int lgsp_jwt_claims_clean(json_t *payload, const char **name);

void lgsp_jwt_free(lgsp_jwt_t *jwt);

const char *lgsp_jwt_status_text(lgsp_jwt_status_e status);

#endif /* LGSP_JWT_H */
