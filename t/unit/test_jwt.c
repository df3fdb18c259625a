/*
 * Unit tests of the JWT core (lgsp_jwk.c, lgsp_jwt.c).  Tokens are minted
 * by libjwt, an implementation independent of the one under test.
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

    return UNIT_DONE("jwt");
}
