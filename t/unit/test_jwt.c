/*
 * Unit tests of the JWT core (lgsp_jwk.c, lgsp_jwt.c).  Tokens are minted
 * by libjwt, an implementation independent of the one under test, or, for
 * the EdDSA names of RFC 9864 it does not know, signed by OpenSSL
 * directly.  Key sets as identity providers publish them: keys this core
 * cannot use are skipped (RFC 7517 section 5); the "typ" comparison of
 * RFC 8725 3.11 and the cnf claim of RFC 8705.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lgsp_jwt.h"
#include "unit.h"


typedef struct {
    char    *private_pem;
    char    *public_pem;
} test_keypair_t;


static test_keypair_t
test_keypair(const char *type, const char *param)
{
    BIO             *bio;
    long             n;
    char            *data;
    EVP_PKEY        *pkey;
    test_keypair_t   kp;

    if (strcmp(type, "RSA") == 0) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    } else {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
    }

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
    n = BIO_get_mem_data(bio, &data);
    kp.private_pem = strndup(data, n);
    BIO_free(bio);

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    n = BIO_get_mem_data(bio, &data);
    kp.public_pem = strndup(data, n);
    BIO_free(bio);

    EVP_PKEY_free(pkey);

    return kp;
}


static char *
test_mint(jwt_alg_t alg, const char *key, const char *claims_json)
{
    char   *token;
    jwt_t  *jwt;

    jwt_new(&jwt);
    jwt_add_grants_json(jwt, claims_json);
    jwt_set_alg(jwt, alg, (const unsigned char *) key, (int) strlen(key));
    token = jwt_encode_str(jwt);
    jwt_free(jwt);

    return token;
}


static lgsp_jwt_status_e
test_verify(const char *token, lgsp_jwk_set_t *set, unsigned allowed)
{
    char               err[256];
    lgsp_jwt_t         jwt;
    lgsp_jwt_status_e  st;

    st = lgsp_jwt_verify(token, strlen(token), set, allowed, &jwt, err,
                         sizeof(err));
    if (st == LGSP_JWT_OK) {
        lgsp_jwt_free(&jwt);
    }

    return st;
}


static void
test_base64url(void)
{
    unsigned char  out[64];

    UNIT_EQ_INT(lgsp_base64url_decode(out, "aGVsbG8", 7), 5, "b64 decode");
    UNIT_OK(memcmp(out, "hello", 5) == 0, "b64 decode content");
    UNIT_EQ_INT(lgsp_base64url_decode(out, "-_-_", 4), 3, "b64url alphabet");
    UNIT_EQ_INT(lgsp_base64url_decode(out, "aGVsbG8=", 8), -1,
                "padding refused");
    UNIT_EQ_INT(lgsp_base64url_decode(out, "aGVsbG9", 7), -1,
                "non-canonical trailing bits refused");
    UNIT_EQ_INT(lgsp_base64url_decode(out, "a+/b", 4), -1,
                "standard alphabet refused");
    UNIT_EQ_INT(lgsp_base64url_decode(out, "a", 1), -1,
                "one leftover character refused");
}


static void
test_algorithm_names(void)
{
    UNIT_EQ_INT(lgsp_jwa_from_name("RS256", 5), LGSP_JWA_RS256, "RS256");
    UNIT_EQ_INT(lgsp_jwa_from_name("EdDSA", 5), LGSP_JWA_EDDSA, "EdDSA");
    UNIT_EQ_INT(lgsp_jwa_from_name("none", 4), -1, "none is no algorithm");
    UNIT_EQ_INT(lgsp_jwa_from_name("rs256", 5), -1, "names are exact");
}


static void
test_hmac_key_lengths(void)
{
    char            err[256];
    lgsp_jwk_set_t  set = { 0 };
    unsigned char   secret[64];

    memset(secret, 'k', sizeof(secret));

    UNIT_EQ_INT(lgsp_jwk_set_add_buffer(&set, secret, 31, NULL, err,
                                        sizeof(err)),
                -1, "31-byte secret refused");
    UNIT_EQ_INT(lgsp_jwk_set_add_buffer(&set, secret, 32, NULL, err,
                                        sizeof(err)),
                0, "32-byte secret loads");
    UNIT_EQ_INT(lgsp_jwk_set_algs(&set), LGSP_JWA_BIT(LGSP_JWA_HS256),
                "32 bytes serve HS256 only");

    lgsp_jwk_set_free(&set);

    lgsp_jwk_set_add_buffer(&set, secret, 64, NULL, err, sizeof(err));
    UNIT_EQ_INT(lgsp_jwk_set_algs(&set), LGSP_JWA_HMAC,
                "64 bytes serve every HS algorithm");
    lgsp_jwk_set_free(&set);
}


static void
test_verify_hmac(void)
{
    char            *token, *sig, err[256];
    const char      *secret;
    lgsp_jwk_set_t   set = { 0 };

    secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    lgsp_jwk_set_add_buffer(&set, (const unsigned char *) secret,
                            strlen(secret), NULL, err, sizeof(err));

    token = test_mint(JWT_ALG_HS256, secret, "{\"agency\":\"H29\"}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "HS256 from libjwt verifies");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_BIT(LGSP_JWA_HS512)),
                LGSP_JWT_ALG_REFUSED, "HS256 outside the allow-list");

    /* change one signature character: the signature no longer fits */
    sig = strrchr(token, '.') + 5;
    *sig = (*sig == 'A') ? 'B' : 'A';
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL),
                LGSP_JWT_BAD_SIGNATURE, "tampered payload refused");
    free(token);

    token = test_mint(JWT_ALG_HS384, secret, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "HS384 verifies");
    free(token);

    token = test_mint(JWT_ALG_HS512, secret, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "HS512 verifies");
    free(token);

    lgsp_jwk_set_free(&set);
}


static void
test_verify_public_keys(void)
{
    char            *token, err[256];
    test_keypair_t   rsa, p256, p384, p521;
    lgsp_jwk_set_t   set = { 0 };

    rsa = test_keypair("RSA", NULL);
    p256 = test_keypair("EC", "P-256");
    p384 = test_keypair("EC", "P-384");
    p521 = test_keypair("EC", "P-521");

    UNIT_EQ_INT(lgsp_jwk_set_add_buffer(&set,
                    (const unsigned char *) rsa.private_pem,
                    strlen(rsa.private_pem), NULL, err, sizeof(err)),
                -1, "a private key is refused");
    UNIT_OK(strstr(err, "private key") != NULL, "and the message says so");

    UNIT_EQ_INT(lgsp_jwk_set_add_buffer(&set,
                    (const unsigned char *) rsa.public_pem,
                    strlen(rsa.public_pem), "r", err, sizeof(err)),
                0, "RSA PEM loads");
    lgsp_jwk_set_add_buffer(&set, (const unsigned char *) p256.public_pem,
                            strlen(p256.public_pem), NULL, err, sizeof(err));
    lgsp_jwk_set_add_buffer(&set, (const unsigned char *) p384.public_pem,
                            strlen(p384.public_pem), NULL, err, sizeof(err));
    lgsp_jwk_set_add_buffer(&set, (const unsigned char *) p521.public_pem,
                            strlen(p521.public_pem), NULL, err, sizeof(err));

    UNIT_EQ_INT(set.nkeys, 4, "four keys");
    UNIT_EQ_INT(set.keys[0].algs, LGSP_JWA_RSA, "RSA serves RS and PS");
    UNIT_EQ_INT(set.keys[1].algs, LGSP_JWA_BIT(LGSP_JWA_ES256),
                "P-256 serves ES256");
    UNIT_EQ_STR(set.keys[0].kid, "r", "kid given to a PEM key");

    token = test_mint(JWT_ALG_RS256, rsa.private_pem, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "RS256 from libjwt verifies");
    free(token);

    token = test_mint(JWT_ALG_RS512, rsa.private_pem, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "RS512 verifies");
    free(token);

    token = test_mint(JWT_ALG_ES256, p256.private_pem, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "ES256 from libjwt verifies");
    free(token);

    token = test_mint(JWT_ALG_ES384, p384.private_pem, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "ES384 verifies");
    free(token);

    token = test_mint(JWT_ALG_ES512, p521.private_pem, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "ES512 verifies");
    free(token);

    /* the RSA public key's PEM bytes as an HMAC secret: no key serves */
    token = test_mint(JWT_ALG_HS256, rsa.public_pem, "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_NO_KEY,
                "algorithm confusion refused");
    free(token);

    lgsp_jwk_set_free(&set);

    free(rsa.private_pem);
    free(rsa.public_pem);
    free(p256.private_pem);
    free(p256.public_pem);
    free(p384.private_pem);
    free(p384.public_pem);
    free(p521.private_pem);
    free(p521.public_pem);
}


static void
test_time_claims(void)
{
    char               err[256];
    json_t            *p;
    long long          exp;
    lgsp_jwt_rules_t   rules = { 1000000, 0, 1, NULL, NULL };

    p = json_pack("{s:I}", "exp", (json_int_t) 1000000);
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_EXPIRED, "exp equal to now is expired");
    rules.leeway = 1;
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_OK, "one second of leeway saves it");
    UNIT_EQ_INT(exp, 1000000, "exp is returned");
    json_decref(p);

    rules.leeway = 0;
    p = json_pack("{s:I,s:I}", "exp", (json_int_t) 1000100,
                  "nbf", (json_int_t) 1000010);
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_NOT_YET_VALID, "nbf in the future");
    json_decref(p);

    p = json_pack("{s:I,s:I}", "exp", (json_int_t) 1000100,
                  "iat", (json_int_t) 1000010);
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_NOT_YET_VALID, "iat in the future");
    json_decref(p);

    p = json_pack("{}");
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_NO_EXPIRY, "exp required");
    rules.require_exp = 0;
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_OK, "exp optional");
    UNIT_EQ_INT(exp, -1, "absent exp is -1");
    json_decref(p);

    p = json_pack("{s:s}", "exp", "soon");
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_BAD_CLAIM, "exp must be a number");
    json_decref(p);
}


static void
test_issuer_audience(void)
{
    char               err[256];
    json_t            *p;
    long long          exp;
    lgsp_jwt_rules_t   rules = { 1000, 0, 0, "https://sso", "lgsp" };

    p = json_pack("{s:s,s:[s,s]}", "iss", "https://sso", "aud", "x", "lgsp");
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_OK, "issuer and audience in an array");
    json_decref(p);

    p = json_pack("{s:s,s:s}", "iss", "https://sso2", "aud", "lgsp");
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_WRONG_ISSUER, "wrong issuer");
    json_decref(p);

    p = json_pack("{s:s,s:s}", "iss", "https://sso", "aud", "lgsp2");
    UNIT_EQ_INT(lgsp_jwt_check_claims(p, &rules, &exp, err, sizeof(err)),
                LGSP_JWT_WRONG_AUDIENCE, "wrong audience");
    json_decref(p);
}


static void
test_claim_matching(void)
{
    json_t      *c;
    const char  *name;

    c = json_string("openid hotich.write  profile");
    UNIT_OK(lgsp_jwt_claim_matches(c, "hotich.write", 12), "scope word");
    UNIT_OK(lgsp_jwt_claim_matches(c, "profile", 7), "last word");
    UNIT_OK(!lgsp_jwt_claim_matches(c, "hotich", 6), "no partial word");
    UNIT_OK(!lgsp_jwt_claim_matches(c, "", 0), "no empty word");
    json_decref(c);

    c = json_pack("[s,i]", "ubnd", 5);
    UNIT_OK(lgsp_jwt_claim_matches(c, "ubnd", 4), "array member");
    UNIT_OK(!lgsp_jwt_claim_matches(c, "ubn", 3), "no partial member");
    json_decref(c);

    c = json_integer(42);
    UNIT_OK(lgsp_jwt_claim_matches(c, "42", 2), "integer by its text");
    json_decref(c);

    c = json_pack("{s:s,s:[s]}", "sub", "ok", "roles", "a\r\nb");
    UNIT_EQ_INT(lgsp_jwt_claims_clean(c, &name), -1,
                "CR LF in an array member");
    UNIT_EQ_STR(name, "roles", "names the claim");
    json_decref(c);
}


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
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "alg Ed25519 verifies with the Ed25519 key");
    free(token);

    token = test_sign(ed448, "{\"alg\":\"Ed448\",\"kid\":\"448\"}",
                      "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "alg Ed448 verifies with the Ed448 key");
    free(token);

    token = test_sign(ed448, "{\"alg\":\"EdDSA\"}", "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_OK,
                "polymorphic EdDSA verifies with an Ed448 key");
    free(token);

    /* no confusion: a fully-specified name never reaches the other curve */
    token = test_sign(ed448, "{\"alg\":\"Ed25519\",\"kid\":\"448\"}",
                      "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_NO_KEY,
                "alg Ed25519 finds no Ed448 key");
    free(token);

    token = test_sign(ed25519, "{\"alg\":\"Ed448\",\"kid\":\"25519\"}",
                      "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_NO_KEY,
                "alg Ed448 finds no Ed25519 key");
    free(token);

    token = test_sign(ed25519, "{\"alg\":\"Ed448\"}", "{\"a\":1}");
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_BAD_SIGNATURE,
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
    UNIT_EQ_INT(test_verify(token, &set, LGSP_JWA_ALL), LGSP_JWT_NO_KEY,
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
    test_base64url();
    test_algorithm_names();
    test_hmac_key_lengths();
    test_verify_hmac();
    test_verify_public_keys();
    test_time_claims();
    test_issuer_audience();
    test_claim_matching();
    test_skipped_keys();
    test_fully_specified_eddsa();
    test_type_comparison();
    test_cnf();

    return UNIT_DONE("jwt");
}
