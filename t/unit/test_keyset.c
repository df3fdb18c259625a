/*
 * Unit tests of the key-set reader (lgsp_jwk.c) as identity providers
 * publish key sets: keys it cannot use are skipped (RFC 7517 section 5),
 * the fully-specified EdDSA names of RFC 9864 and their binding to one
 * curve each, the "typ" comparison of RFC 8725 3.11 and the cnf claim of
 * RFC 8705.  Keys are made by OpenSSL here; tokens are signed by OpenSSL
 * directly, not by the code under test.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lgsp_jwt.h"
#include "unit.h"


/* base64url without padding */
static char *
test_b64url(const unsigned char *data, size_t len)
{
    char    *out, *p;
    size_t   n;

    out = malloc(4 * ((len + 2) / 3) + 1);
    n = EVP_EncodeBlock((unsigned char *) out, data, (int) len);

    while (n && out[n - 1] == '=') {
        n--;
    }

    out[n] = '\0';

    for (p = out; *p; p++) {
        *p = (*p == '+') ? '-' : (*p == '/') ? '_' : *p;
    }

    return out;
}


/* the public half of an OKP key, "x" of its JWK */
static char *
test_okp_x(EVP_PKEY *pkey)
{
    size_t          len;
    unsigned char   raw[64];

    len = sizeof(raw);
    EVP_PKEY_get_raw_public_key(pkey, raw, &len);

    return test_b64url(raw, len);
}


/* a compact JWS: header and payload as given, signed by pkey (EdDSA) */
static char *
test_sign(EVP_PKEY *pkey, const char *header, const char *payload)
{
    char           *h, *p, *s, *token;
    size_t          siglen, len;
    EVP_MD_CTX     *ctx;
    unsigned char   sig[128];

    h = test_b64url((const unsigned char *) header, strlen(header));
    p = test_b64url((const unsigned char *) payload, strlen(payload));

    len = strlen(h) + 1 + strlen(p);
    token = malloc(len + 1 + 200);
    sprintf(token, "%s.%s", h, p);

    ctx = EVP_MD_CTX_new();
    siglen = sizeof(sig);
    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey);
    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *) token, len);
    EVP_MD_CTX_free(ctx);

    s = test_b64url(sig, siglen);
    sprintf(token + len, ".%s", s);

    free(h);
    free(p);
    free(s);

    return token;
}


static lgsp_jwt_status_e
test_verify(const char *token, lgsp_jwk_set_t *set)
{
    char               err[256];
    lgsp_jwt_t         jwt;
    lgsp_jwt_status_e  st;

    st = lgsp_jwt_verify(token, strlen(token), set, LGSP_JWA_ALL, &jwt, err,
                         sizeof(err));
    if (st == LGSP_JWT_OK) {
        lgsp_jwt_free(&jwt);
    }

    return st;
}


static int
test_add(lgsp_jwk_set_t *set, const char *json, char *err, size_t errlen)
{
    return lgsp_jwk_set_add_buffer(set, (const unsigned char *) json,
                                   strlen(json), NULL, err, errlen);
}


/* every kind of key an identity provider may publish beside a good one */
static void
test_skipped_keys(void)
{
    char             err[512], json[4096], *ed, *x25519;
    EVP_PKEY        *k, *x;
    lgsp_jwk_set_t   set = { 0 };

    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    ed = test_okp_x(k);
    x25519 = test_okp_x(x);

    snprintf(json, sizeof(json), "{\"keys\":["
        /* oidc-provider's Ed25519 key, usable now (RFC 9864) */
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"Ed25519\","
        "\"use\":\"sig\",\"kid\":\"good\",\"x\":\"%s\"},"
        /* a post-quantum key of a type not known here */
        "{\"kty\":\"AKP\",\"alg\":\"ML-DSA-44\",\"kid\":\"pq\",\"pub\":\"AA\"},"
        /* a curve for key agreement, not signatures */
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"ecdh\",\"x\":\"%s\"},"
        /* an EC curve not supported */
        "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"kid\":\"k1\","
        "\"x\":\"AA\",\"y\":\"AA\"},"
        /* an algorithm not known */
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"Ed25519ph\","
        "\"kid\":\"ph\",\"x\":\"%s\"},"
        /* an encryption key */
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":\"enc\",\"kid\":\"enc\","
        "\"x\":\"%s\"},"
        /* key_ops that do not include verify */
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"key_ops\":[\"encrypt\"],"
        "\"kid\":\"ops\",\"x\":\"%s\"},"
        /* an algorithm of another key type */
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"RS256\",\"kid\":\"rs\","
        "\"x\":\"%s\"},"
        /* a key missing its public value */
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"nox\"},"
        /* no kty at all, and something that is no key */
        "{\"kid\":\"nokty\"},"
        "42"
        "]}", ed, x25519, ed, ed, ed, ed);

    UNIT_EQ_INT(test_add(&set, json, err, sizeof(err)), 0,
                "a set with one usable key among unusable ones loads");
    UNIT_EQ_INT(set.nkeys, 1, "the usable key is in");
    UNIT_EQ_STR(set.nkeys ? set.keys[0].kid : NULL, "good", "the good one");
    UNIT_EQ_INT(set.keys[0].algs, LGSP_JWA_BIT(LGSP_JWA_ED25519),
                "its alg binds it to Ed25519");
    UNIT_EQ_INT(set.nskipped, 10, "ten keys skipped");

    UNIT_OK(strstr(set.skipped, "key \"pq\": unsupported \"kty\" \"AKP\"")
            != NULL || strstr(set.skipped, "key \"pq\": unsupported \"alg\"")
            != NULL, "unknown kty (or its alg) skipped");
    UNIT_OK(strstr(set.skipped, "key \"ecdh\": OKP \"crv\" \"X25519\"")
            != NULL, "unknown OKP curve skipped");
    UNIT_OK(strstr(set.skipped, "key \"k1\": EC \"crv\" \"secp256k1\"")
            != NULL, "unknown EC curve skipped");
    UNIT_OK(strstr(set.skipped, "key \"ph\": unsupported \"alg\"") != NULL,
            "unknown alg skipped");
    UNIT_OK(strstr(set.skipped, "key \"enc\": \"use\" is \"enc\"") != NULL,
            "use enc skipped");
    UNIT_OK(strstr(set.skipped, "key \"ops\": \"key_ops\"") != NULL,
            "key_ops without verify skipped");
    UNIT_OK(strstr(set.skipped, "key \"rs\": \"alg\" RS256 does not fit")
            != NULL, "alg of another key type skipped");
    UNIT_OK(strstr(set.skipped, "key \"nox\": member \"x\" is missing")
            != NULL, "key without its public value skipped");
    UNIT_OK(strstr(set.skipped, "key \"nokty\" has no \"kty\"") != NULL,
            "key without kty skipped");
    UNIT_OK(strstr(set.skipped, "key #10 is not a JSON object") != NULL,
            "a member that is no object skipped");

    lgsp_jwk_set_free(&set);

    /* nothing usable: the set is refused, with the reasons */
    snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"OKP\","
             "\"crv\":\"X25519\",\"kid\":\"ecdh\",\"x\":\"%s\"},"
             "{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"rsa-enc\","
             "\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", x25519);

    UNIT_EQ_INT(test_add(&set, json, err, sizeof(err)), -1,
                "a set of unusable keys only is refused");
    UNIT_OK(strstr(err, "no usable signature verification key") != NULL
            && strstr(err, "rsa-enc") != NULL, "and says why");
    UNIT_EQ_INT(set.nkeys, 0, "no key is kept");
    lgsp_jwk_set_free(&set);

    /* a single JWK that cannot be used is an error of the file */
    snprintf(json, sizeof(json), "{\"kty\":\"OKP\",\"crv\":\"X25519\","
             "\"x\":\"%s\"}", x25519);
    UNIT_EQ_INT(test_add(&set, json, err, sizeof(err)), -1,
                "a lone unusable JWK is refused");
    UNIT_OK(strstr(err, "X25519") != NULL, "naming its curve");

    /* a later add reports its own skips only */
    snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"OKP\","
             "\"crv\":\"Ed25519\",\"x\":\"%s\"}]}", ed);
    UNIT_EQ_INT(test_add(&set, json, err, sizeof(err)), 0, "clean set");
    UNIT_EQ_INT(set.nskipped, 0, "nothing skipped this time");
    UNIT_EQ_STR(set.skipped, "", "and nothing to tell");
    lgsp_jwk_set_free(&set);

    free(ed);
    free(x25519);
    EVP_PKEY_free(k);
    EVP_PKEY_free(x);
}


/* RFC 9864: Ed25519 and Ed448 each on its own curve; EdDSA on either */
static void
test_fully_specified_eddsa(void)
{
    char            *token, *x, err[512], json[1024];
    EVP_PKEY        *ed25519, *ed448;
    lgsp_jwk_set_t   set = { 0 };

    UNIT_EQ_INT(lgsp_jwa_from_name("Ed25519", 7), LGSP_JWA_ED25519,
                "Ed25519 is an algorithm name");
    UNIT_EQ_INT(lgsp_jwa_from_name("Ed448", 5), LGSP_JWA_ED448,
                "Ed448 is an algorithm name");

    ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");

    x = test_okp_x(ed448);
    snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"OKP\","
             "\"crv\":\"Ed448\",\"kid\":\"448\",\"x\":\"%s\"}]}", x);
    free(x);
    UNIT_EQ_INT(test_add(&set, json, err, sizeof(err)), 0,
                "an Ed448 JWK loads");
    UNIT_EQ_INT(set.keys[0].algs, LGSP_JWA_BIT(LGSP_JWA_EDDSA)
                                  | LGSP_JWA_BIT(LGSP_JWA_ED448),
                "it serves EdDSA and Ed448");

    x = test_okp_x(ed25519);
    snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"OKP\","
             "\"crv\":\"Ed25519\",\"kid\":\"25519\",\"x\":\"%s\"}]}", x);
    free(x);
    test_add(&set, json, err, sizeof(err));
    UNIT_EQ_INT(set.keys[1].algs, LGSP_JWA_BIT(LGSP_JWA_EDDSA)
                                  | LGSP_JWA_BIT(LGSP_JWA_ED25519),
                "an Ed25519 JWK serves EdDSA and Ed25519");

    token = test_sign(ed25519, "{\"alg\":\"Ed25519\",\"kid\":\"25519\"}",
                      "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set), LGSP_JWT_OK,
                "alg Ed25519 verifies with the Ed25519 key");
    free(token);

    token = test_sign(ed448, "{\"alg\":\"Ed448\",\"kid\":\"448\"}",
                      "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set), LGSP_JWT_OK,
                "alg Ed448 verifies with the Ed448 key");
    free(token);

    token = test_sign(ed448, "{\"alg\":\"EdDSA\"}", "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set), LGSP_JWT_OK,
                "polymorphic EdDSA verifies with an Ed448 key");
    free(token);

    /* no confusion: a fully-specified name never reaches the other curve */
    token = test_sign(ed448, "{\"alg\":\"Ed25519\",\"kid\":\"448\"}",
                      "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set), LGSP_JWT_NO_KEY,
                "alg Ed25519 finds no Ed448 key");
    free(token);

    token = test_sign(ed25519, "{\"alg\":\"Ed448\",\"kid\":\"25519\"}",
                      "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set), LGSP_JWT_NO_KEY,
                "alg Ed448 finds no Ed25519 key");
    free(token);

    token = test_sign(ed25519, "{\"alg\":\"Ed448\"}", "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set), LGSP_JWT_BAD_SIGNATURE,
                "an Ed25519 signature under alg Ed448 does not verify");
    free(token);

    lgsp_jwk_set_free(&set);

    /* a JWK's own "alg" binds it to that name only */
    x = test_okp_x(ed25519);
    snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"OKP\","
             "\"crv\":\"Ed25519\",\"alg\":\"EdDSA\",\"x\":\"%s\"}]}", x);
    free(x);
    test_add(&set, json, err, sizeof(err));

    token = test_sign(ed25519, "{\"alg\":\"Ed25519\"}", "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set), LGSP_JWT_NO_KEY,
                "a key published for EdDSA does not take alg Ed25519");
    free(token);

    lgsp_jwk_set_free(&set);

    EVP_PKEY_free(ed25519);
    EVP_PKEY_free(ed448);
}


/* RFC 8725 3.11, RFC 7515 4.1.9 */
static void
test_type_comparison(void)
{
    UNIT_OK(lgsp_jwt_type_matches("at+jwt", 6, "at+jwt", 6), "same type");
    UNIT_OK(lgsp_jwt_type_matches("AT+JWT", 6, "at+jwt", 6),
            "case does not matter");
    UNIT_OK(lgsp_jwt_type_matches("application/at+jwt", 18, "at+jwt", 6),
            "application/ prefix in the token");
    UNIT_OK(lgsp_jwt_type_matches("at+jwt", 6, "Application/AT+JWT", 18),
            "application/ prefix in the configuration");
    UNIT_OK(!lgsp_jwt_type_matches("JWT", 3, "at+jwt", 6),
            "a plain JWT is not an access token");
    UNIT_OK(!lgsp_jwt_type_matches("at+jwtx", 7, "at+jwt", 6),
            "no prefix match");
    UNIT_OK(!lgsp_jwt_type_matches("text/at+jwt", 11, "at+jwt", 6),
            "another top-level type");
    UNIT_OK(!lgsp_jwt_type_matches("", 0, "at+jwt", 6), "empty typ");
}


/* RFC 8705 3.1 */
static void
test_cnf(void)
{
    json_t         *p;
    unsigned char   x5t[LGSP_JWT_X5T_LEN], want[LGSP_JWT_X5T_LEN];

    memset(want, 0xab, sizeof(want));

    p = json_pack("{s:{s:s}}", "cnf", "x5t#S256",
                  "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s");
    UNIT_EQ_INT(lgsp_jwt_cnf_x5t(p, x5t), 1, "x5t#S256 read");
    UNIT_OK(memcmp(x5t, want, sizeof(want)) == 0, "and decoded");
    json_decref(p);

    p = json_pack("{s:s}", "sub", "a");
    UNIT_EQ_INT(lgsp_jwt_cnf_x5t(p, x5t), 0, "no cnf: not bound");
    json_decref(p);

    p = json_pack("{s:{s:s}}", "cnf", "jkt", "abc");
    UNIT_EQ_INT(lgsp_jwt_cnf_x5t(p, x5t), -1, "cnf without x5t#S256");
    json_decref(p);

    p = json_pack("{s:{s:s}}", "cnf", "x5t#S256",
                  "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=");
    UNIT_EQ_INT(lgsp_jwt_cnf_x5t(p, x5t), -1, "padded thumbprint refused");
    json_decref(p);

    p = json_pack("{s:{s:s}}", "cnf", "x5t#S256", "q6ur");
    UNIT_EQ_INT(lgsp_jwt_cnf_x5t(p, x5t), -1, "short thumbprint refused");
    json_decref(p);
}


int
main(void)
{
    test_skipped_keys();
    test_fully_specified_eddsa();
    test_type_comparison();
    test_cnf();

    return UNIT_DONE("keyset");
}
