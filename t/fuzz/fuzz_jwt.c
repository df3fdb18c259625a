/*
 * libFuzzer target for token decoding and verification (lgsp_jwt.c) with
 * a fixed key set: an HMAC secret, an EC P-256 and an Ed25519 public key.
 * The first byte chooses how the rest is read:
 *   even: a compact token as a client sends it, verified as is;
 *   odd:  "HEADER\0PAYLOAD" JSON, which the target encodes and signs with
 *         the HMAC secret, so that the claim rules behind a good signature
 *         are reached too.
 * A token that verifies must also pass a second, identical verification.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "lgsp_jwt.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  fuzz_secret[] = "fuzz-secret-of-32-bytes-or-more!!";

static const char  fuzz_ec_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECx+jfUqQeB1IBGh0YdSRESsNUSto\n"
    "cx3phrxWjr5yy26qMTSDLTl3vYxGWSVr4FKNrve6+g+1/5Uakx5co03Yzw==\n"
    "-----END PUBLIC KEY-----\n";

static const char  fuzz_ed_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAeSBi8maHRTFmJYozzD+068zw0wCxkb7Hdyvbj4/mng0=\n"
    "-----END PUBLIC KEY-----\n";

static lgsp_jwk_set_t  fuzz_keys;


static void
fuzz_keys_load(void)
{
    char  err[256];

    if (fuzz_keys.nkeys) {
        return;
    }

    if (lgsp_jwk_set_add_buffer(&fuzz_keys, (const unsigned char *) fuzz_secret,
                                sizeof(fuzz_secret) - 1, "hs", err,
                                sizeof(err)) != 0
        || lgsp_jwk_set_add_buffer(&fuzz_keys,
                                   (const unsigned char *) fuzz_ec_pem,
                                   sizeof(fuzz_ec_pem) - 1, "ec", err,
                                   sizeof(err)) != 0
        || lgsp_jwk_set_add_buffer(&fuzz_keys,
                                   (const unsigned char *) fuzz_ed_pem,
                                   sizeof(fuzz_ed_pem) - 1, NULL, err,
                                   sizeof(err)) != 0)
    {
        abort();
    }
}


static char *
fuzz_base64url(char *dst, const uint8_t *src, size_t len)
{
    static const char  a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789-_";
    size_t             i;
    uint32_t           v;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8 | src[i + 2];
        *dst++ = a[v >> 18];
        *dst++ = a[(v >> 12) & 63];
        *dst++ = a[(v >> 6) & 63];
        *dst++ = a[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) src[i] << 16;
        *dst++ = a[v >> 18];
        *dst++ = a[(v >> 12) & 63];

    } else if (len - i == 2) {
        v = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8;
        *dst++ = a[v >> 18];
        *dst++ = a[(v >> 12) & 63];
        *dst++ = a[(v >> 6) & 63];
    }

    return dst;
}


/* "HEADER\0PAYLOAD" as a token signed with HS256 by the fixed secret */
static size_t
fuzz_sign(char *token, const uint8_t *data, size_t size)
{
    char           *p;
    unsigned int    maclen;
    const uint8_t  *nul;
    unsigned char   mac[EVP_MAX_MD_SIZE];

    nul = memchr(data, '\0', size);
    if (nul == NULL) {
        return 0;
    }

    p = fuzz_base64url(token, data, nul - data);
    *p++ = '.';
    p = fuzz_base64url(p, nul + 1, data + size - nul - 1);

    if (HMAC(EVP_sha256(), fuzz_secret, sizeof(fuzz_secret) - 1,
             (unsigned char *) token, p - token, mac, &maclen) == NULL)
    {
        abort();
    }

    *p++ = '.';
    p = fuzz_base64url(p, mac, maclen);

    return p - token;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               *token, err[256];
    size_t              len;
    long long           exp;
    json_t             *scope;
    const char         *name;
    lgsp_jwt_t          jwt, again;
    lgsp_jwt_rules_t    rules;
    lgsp_jwt_status_e   rc;

    if (size < 1) {
        return 0;
    }

    fuzz_keys_load();

    token = malloc(2 * size + 128);
    if (token == NULL) {
        return 0;
    }

    if (data[0] & 1) {
        len = fuzz_sign(token, data + 1, size - 1);

    } else {
        len = size - 1;
        memcpy(token, data + 1, len);
    }

    memset(&jwt, 0, sizeof(jwt));
    rc = lgsp_jwt_verify(token, len, &fuzz_keys, LGSP_JWA_ALL, &jwt, err,
                         sizeof(err));

    if (rc == LGSP_JWT_OK) {
        memset(&again, 0, sizeof(again));
        if (lgsp_jwt_verify(token, len, &fuzz_keys, LGSP_JWA_ALL, &again,
                            err, sizeof(err))
            != LGSP_JWT_OK)
        {
            abort();
        }
        lgsp_jwt_free(&again);

        memset(&rules, 0, sizeof(rules));
        rules.now = 1700000000;
        rules.leeway = 30;
        rules.require_exp = (data[0] & 2) != 0;
        rules.issuer = (data[0] & 4) ? "https://sso.example.gov.vn" : NULL;
        rules.audience = (data[0] & 8) ? "lgsp" : NULL;

        (void) lgsp_jwt_check_claims(jwt.payload, &rules, &exp, err,
                                     sizeof(err));
        (void) lgsp_jwt_claims_clean(jwt.payload, &name);
        scope = json_object_get(jwt.payload, "scope");
        if (scope != NULL) {
            (void) lgsp_jwt_claim_matches(scope, "hotich.write", 12);
        }

        lgsp_jwt_free(&jwt);
    }

    (void) lgsp_jwt_status_text(rc);
    free(token);

    return 0;
}
