/*
 * JWT decoding, signature verification and claim rules.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "lgsp_jwt.h"


/* room for the largest signature: an RSA-8192 one of 1024 bytes */
#define LGSP_JWT_SIG_MAX  1040


static json_t *lgsp_jwt_decode_part(const char *part, size_t len);
static int lgsp_jwt_verify_key(const lgsp_jwk_t *key, lgsp_jwa_e alg,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen);
static int lgsp_jwt_ecdsa_to_der(const unsigned char *sig, size_t siglen,
    size_t half, unsigned char *der, size_t *derlen);
static lgsp_jwt_status_e lgsp_jwt_time_claim(json_t *payload,
    const char *name, long long *value, char *err, size_t errlen);
static int lgsp_jwt_has_control(const char *s, size_t len);


/* short tokens: they become metric labels and record fields */
static const char  *lgsp_jwt_status_texts[] = {
    "ok",
    "malformed",
    "algorithm_refused",
    "unsupported",
    "no_key",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "no_expiry",
    "bad_claim",
    "wrong_issuer",
    "wrong_audience",
    "wrong_type",
    "unbound"
};


const char *
lgsp_jwt_status_text(lgsp_jwt_status_e status)
{
    return lgsp_jwt_status_texts[status];
}


lgsp_jwt_status_e
lgsp_jwt_verify(const char *token, size_t len, const lgsp_jwk_set_t *keys,
    unsigned allowed, lgsp_jwt_t *jwt, char *err, size_t errlen)
{
    int                 alg, named;
    long                n, siglen;
    size_t              i, dot1, dot2;
    json_t             *kidv;
    const char         *kid, *p;
    lgsp_jwk_t         *key;
    unsigned char       sig[LGSP_JWT_SIG_MAX];
    lgsp_jwt_status_e   status;

    memset(jwt, 0, sizeof(lgsp_jwt_t));

    p = memchr(token, '.', len);
    dot1 = p ? (size_t) (p - token) : len;
    p = (dot1 < len) ? memchr(token + dot1 + 1, '.', len - dot1 - 1) : NULL;
    dot2 = p ? (size_t) (p - token) : len;

    if (dot2 == len || memchr(token + dot2 + 1, '.', len - dot2 - 1)) {
        snprintf(err, errlen, "token is not three base64url parts");
        return LGSP_JWT_MALFORMED;
    }

    jwt->header = lgsp_jwt_decode_part(token, dot1);
    if (jwt->header == NULL) {
        snprintf(err, errlen, "token header is not a base64url JSON object");
        status = LGSP_JWT_MALFORMED;
        goto failed;
    }

    p = json_string_value(json_object_get(jwt->header, "alg"));
    alg = p ? lgsp_jwa_from_name(p, strlen(p)) : -1;

    if (alg < 0 || !(allowed & LGSP_JWA_BIT(alg))) {
        snprintf(err, errlen, "algorithm \"%.16s\" is not accepted",
                 p ? p : "");
        status = LGSP_JWT_ALG_REFUSED;
        goto failed;
    }

    jwt->alg = alg;

    /* RFC 7515 4.1.11: we implement no extension, so any "crit" fails */
    if (json_object_get(jwt->header, "crit") != NULL) {
        snprintf(err, errlen, "critical header extensions are not supported");
        status = LGSP_JWT_UNSUPPORTED;
        goto failed;
    }

    kidv = json_object_get(jwt->header, "kid");
    kid = json_string_value(kidv);

    if (kidv != NULL && kid == NULL) {
        snprintf(err, errlen, "token \"kid\" is not a string");
        status = LGSP_JWT_MALFORMED;
        goto failed;
    }

    jwt->payload_len = 0;
    jwt->payload_json = malloc(lgsp_base64url_decoded_len(dot2 - dot1 - 1));
    if (jwt->payload_json == NULL) {
        snprintf(err, errlen, "out of memory");
        status = LGSP_JWT_MALFORMED;
        goto failed;
    }

    n = lgsp_base64url_decode((unsigned char *) jwt->payload_json,
                              token + dot1 + 1, dot2 - dot1 - 1);
    jwt->payload = (n > 0) ? json_loadb(jwt->payload_json, n,
                                        JSON_REJECT_DUPLICATES, NULL)
                           : NULL;

    if (!json_is_object(jwt->payload)) {
        snprintf(err, errlen, "token payload is not a base64url JSON object");
        status = LGSP_JWT_MALFORMED;
        goto failed;
    }

    jwt->payload_len = n;

    if (len - dot2 - 1 > LGSP_JWT_SIG_MAX * 4 / 3
        || (siglen = lgsp_base64url_decode(sig, token + dot2 + 1,
                                           len - dot2 - 1)) <= 0)
    {
        snprintf(err, errlen, "token signature is not base64url");
        status = LGSP_JWT_MALFORMED;
        goto failed;
    }

    /* keys named by the token's kid; keys without an id when none is */
    named = 0;

    if (kid != NULL) {
        for (i = 0; i < keys->nkeys; i++) {
            if (keys->keys[i].kid && strcmp(keys->keys[i].kid, kid) == 0) {
                named = 1;
                break;
            }
        }
    }

    status = LGSP_JWT_NO_KEY;

    for (i = 0; i < keys->nkeys; i++) {
        key = &keys->keys[i];

        if (!(key->algs & LGSP_JWA_BIT(alg))) {
            continue;
        }

        if (named && strcmp(key->kid ? key->kid : "", kid) != 0) {
            continue;
        }

        if (kid != NULL && !named && key->kid != NULL) {
            continue;
        }

        if (lgsp_jwt_verify_key(key, alg, (const unsigned char *) token,
                                dot2, sig, siglen))
        {
            return LGSP_JWT_OK;
        }

        status = LGSP_JWT_BAD_SIGNATURE;
    }

    if (status == LGSP_JWT_NO_KEY) {
        snprintf(err, errlen, "no key for algorithm %s%s%.64s%s",
                 lgsp_jwa_name(alg), kid ? " and key id \"" : "",
                 kid ? kid : "", kid ? "\"" : "");

    } else {
        snprintf(err, errlen, "signature does not verify");
    }

failed:

    lgsp_jwt_free(jwt);
    return status;
}


lgsp_jwt_status_e
lgsp_jwt_check_claims(json_t *payload, const lgsp_jwt_rules_t *rules,
    long long *exp, char *err, size_t errlen)
{
    size_t             i;
    json_t            *aud, *v;
    long long          nbf, iat;
    const char        *iss;
    lgsp_jwt_status_e  status;

    status = lgsp_jwt_time_claim(payload, "exp", exp, err, errlen);
    if (status != LGSP_JWT_OK) {
        return status;
    }

    if (*exp == -1) {
        if (rules->require_exp) {
            snprintf(err, errlen, "token has no \"exp\" claim");
            return LGSP_JWT_NO_EXPIRY;
        }

    } else if (rules->now >= *exp + rules->leeway) {
        snprintf(err, errlen, "token expired");
        return LGSP_JWT_EXPIRED;
    }

    status = lgsp_jwt_time_claim(payload, "nbf", &nbf, err, errlen);
    if (status != LGSP_JWT_OK) {
        return status;
    }

    if (nbf != -1 && rules->now + rules->leeway < nbf) {
        snprintf(err, errlen, "token is not valid yet");
        return LGSP_JWT_NOT_YET_VALID;
    }

    status = lgsp_jwt_time_claim(payload, "iat", &iat, err, errlen);
    if (status != LGSP_JWT_OK) {
        return status;
    }

    if (iat != -1 && rules->now + rules->leeway < iat) {
        snprintf(err, errlen, "token is issued in the future");
        return LGSP_JWT_NOT_YET_VALID;
    }

    if (rules->issuer) {
        iss = json_string_value(json_object_get(payload, "iss"));

        if (iss == NULL || strcmp(iss, rules->issuer) != 0) {
            snprintf(err, errlen, "token issuer is not accepted");
            return LGSP_JWT_WRONG_ISSUER;
        }
    }

    if (rules->audience) {
        aud = json_object_get(payload, "aud");

        if (json_is_string(aud)
            && strcmp(json_string_value(aud), rules->audience) == 0)
        {
            return LGSP_JWT_OK;
        }

        json_array_foreach(aud, i, v) {
            if (json_is_string(v)
                && strcmp(json_string_value(v), rules->audience) == 0)
            {
                return LGSP_JWT_OK;
            }
        }

        snprintf(err, errlen, "token audience is not accepted");
        return LGSP_JWT_WRONG_AUDIENCE;
    }

    return LGSP_JWT_OK;
}


int
lgsp_jwt_claim_matches(json_t *claim, const char *value, size_t len)
{
    int          n;
    char         buf[32];
    size_t       i, slen;
    json_t      *v;
    const char  *s, *end, *word;

    switch (json_typeof(claim)) {

    case JSON_STRING:
        s = json_string_value(claim);
        slen = json_string_length(claim);
        end = s + slen;

        while (s < end) {
            word = s;

            while (s < end && *s != ' ') {
                s++;
            }

            if (len && (size_t) (s - word) == len
                && memcmp(word, value, len) == 0)
            {
                return 1;
            }

            s++;
        }

        return 0;

    case JSON_ARRAY:
        json_array_foreach(claim, i, v) {
            if (json_is_string(v) && json_string_length(v) == len
                && memcmp(json_string_value(v), value, len) == 0)
            {
                return 1;
            }
        }

        return 0;

    case JSON_INTEGER:
        n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(claim));
        return (size_t) n == len && memcmp(buf, value, len) == 0;

    case JSON_TRUE:
        return len == 4 && memcmp(value, "true", 4) == 0;

    case JSON_FALSE:
        return len == 5 && memcmp(value, "false", 5) == 0;

    default:
        return 0;
    }
}


int
lgsp_jwt_type_matches(const char *typ, size_t len, const char *want,
    size_t wlen)
{
    static const char  prefix[] = "application/";

    if (len > sizeof(prefix) - 1
        && strncasecmp(typ, prefix, sizeof(prefix) - 1) == 0)
    {
        typ += sizeof(prefix) - 1;
        len -= sizeof(prefix) - 1;
    }

    if (wlen > sizeof(prefix) - 1
        && strncasecmp(want, prefix, sizeof(prefix) - 1) == 0)
    {
        want += sizeof(prefix) - 1;
        wlen -= sizeof(prefix) - 1;
    }

    return len == wlen && strncasecmp(typ, want, len) == 0;
}


int
lgsp_jwt_cnf_x5t(json_t *payload, unsigned char *x5t)
{
    json_t         *cnf, *v;
    unsigned char   buf[lgsp_base64url_decoded_len(43)];

    cnf = json_object_get(payload, "cnf");
    if (cnf == NULL) {
        return 0;
    }

    v = json_object_get(cnf, "x5t#S256");

    /* 32 bytes are 43 base64url characters without padding */
    if (!json_is_string(v) || json_string_length(v) != 43
        || lgsp_base64url_decode(buf, json_string_value(v), 43)
           != LGSP_JWT_X5T_LEN)
    {
        return -1;
    }

    memcpy(x5t, buf, LGSP_JWT_X5T_LEN);
    return 1;
}


int
lgsp_jwt_claims_clean(json_t *payload, const char **name)
{
    size_t       i;
    json_t      *value, *v;
    const char  *key;

    json_object_foreach(payload, key, value) {
        *name = key;

        if (lgsp_jwt_has_control(key, strlen(key))) {
            return -1;
        }

        if (json_is_string(value)
            && lgsp_jwt_has_control(json_string_value(value),
                                    json_string_length(value)))
        {
            return -1;
        }

        json_array_foreach(value, i, v) {
            if (json_is_string(v)
                && lgsp_jwt_has_control(json_string_value(v),
                                        json_string_length(v)))
            {
                return -1;
            }
        }
    }

    return 0;
}


void
lgsp_jwt_free(lgsp_jwt_t *jwt)
{
    json_decref(jwt->header);
    json_decref(jwt->payload);
    free(jwt->payload_json);
    memset(jwt, 0, sizeof(lgsp_jwt_t));
}


static json_t *
lgsp_jwt_decode_part(const char *part, size_t len)
{
    long            n;
    json_t         *json;
    unsigned char  *buf;

    if (len == 0) {
        return NULL;
    }

    buf = malloc(lgsp_base64url_decoded_len(len));
    if (buf == NULL) {
        return NULL;
    }

    n = lgsp_base64url_decode(buf, part, len);
    json = (n > 0) ? json_loadb((const char *) buf, n,
                                JSON_REJECT_DUPLICATES, NULL)
                   : NULL;
    free(buf);

    if (json != NULL && !json_is_object(json)) {
        json_decref(json);
        return NULL;
    }

    return json;
}


static int
lgsp_jwt_verify_key(const lgsp_jwk_t *key, lgsp_jwa_e alg,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen)
{
    int             ok;
    size_t          derlen, maclen;
    const EVP_MD   *md;
    EVP_MD_CTX     *ctx;
    EVP_MAC_CTX    *mctx;
    EVP_PKEY_CTX   *pctx;
    unsigned char   mac[EVP_MAX_MD_SIZE], der[2 * 66 + 16];

    if (key->type == LGSP_KEY_HMAC) {
        mctx = EVP_MAC_CTX_dup(key->hmac[alg - LGSP_JWA_HS256]);

        ok = mctx != NULL
             && EVP_MAC_update(mctx, data, len)
             && EVP_MAC_final(mctx, mac, &maclen, sizeof(mac))
             && maclen == siglen
             && CRYPTO_memcmp(mac, sig, siglen) == 0;

        EVP_MAC_CTX_free(mctx);
        ERR_clear_error();

        return ok;
    }

    md = lgsp_jwa_digest(alg);

    if (key->type == LGSP_KEY_EC) {
        derlen = sizeof(der);

        if (lgsp_jwt_ecdsa_to_der(sig, siglen,
                                  alg == LGSP_JWA_ES256 ? 32
                                  : alg == LGSP_JWA_ES384 ? 48 : 66,
                                  der, &derlen) != 0)
        {
            return 0;
        }

        sig = der;
        siglen = derlen;
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return 0;
    }

    ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key->pkey) == 1;

    if (ok && alg >= LGSP_JWA_PS256 && alg <= LGSP_JWA_PS512) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
             && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                 RSA_PSS_SALTLEN_DIGEST) > 0;
    }

    ok = ok && EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;

    EVP_MD_CTX_free(ctx);
    ERR_clear_error();

    return ok;
}


/* JWS carries r || s of fixed size; OpenSSL verifies DER */
static int
lgsp_jwt_ecdsa_to_der(const unsigned char *sig, size_t siglen, size_t half,
    unsigned char *der, size_t *derlen)
{
    int             n;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    unsigned char  *p;

    if (siglen != 2 * half) {
        return -1;
    }

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int) half, NULL);
    s = BN_bin2bn(sig + half, (int) half, NULL);

    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }

    n = i2d_ECDSA_SIG(es, NULL);

    if (n <= 0 || (size_t) n > *derlen) {
        ECDSA_SIG_free(es);
        return -1;
    }

    p = der;
    *derlen = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);

    return 0;
}


/* a time claim's whole seconds, or -1 when it is absent */
static lgsp_jwt_status_e
lgsp_jwt_time_claim(json_t *payload, const char *name, long long *value,
    char *err, size_t errlen)
{
    double   d;
    json_t  *v;

    *value = -1;

    v = json_object_get(payload, name);
    if (v == NULL) {
        return LGSP_JWT_OK;
    }

    if (!json_is_number(v)) {
        snprintf(err, errlen, "token \"%s\" claim is not a number", name);
        return LGSP_JWT_BAD_CLAIM;
    }

    d = json_number_value(v);

    if (d < 0 || d > 1e15) {
        snprintf(err, errlen, "token \"%s\" claim is out of range", name);
        return LGSP_JWT_BAD_CLAIM;
    }

    *value = (long long) d;
    return LGSP_JWT_OK;
}


static int
lgsp_jwt_has_control(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}
