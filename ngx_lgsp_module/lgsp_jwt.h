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
    LGSP_JWT_WRONG_AUDIENCE
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

/* 0 when no string in the claims holds a control character */
int lgsp_jwt_claims_clean(json_t *payload, const char **name);

void lgsp_jwt_free(lgsp_jwt_t *jwt);

const char *lgsp_jwt_status_text(lgsp_jwt_status_e status);

#endif /* LGSP_JWT_H */
