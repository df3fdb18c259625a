/*
 * Key loading for JWT verification: JWKS, PEM, raw HMAC secrets.
 */

#define _GNU_SOURCE  /* memmem */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lgsp_jwk.h"


/* a key file larger than this is certainly not a key */
#define LGSP_JWK_FILE_MAX  (1024 * 1024)

#define LGSP_RSA_MIN_BITS  2048
#define LGSP_HMAC_MIN_LEN  32


static const char  *lgsp_jwa_names[LGSP_JWA_COUNT] = {
    "HS256", "HS384", "HS512",
    "RS256", "RS384", "RS512",
    "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512",
    "EdDSA", "Ed25519", "Ed448"
};


static int lgsp_jwk_fail(char *err, size_t errlen, const char *fmt, ...);
static lgsp_jwk_t *lgsp_jwk_set_push(lgsp_jwk_set_t *set);
static int lgsp_jwk_add_json(lgsp_jwk_set_t *set, const unsigned char *data,
    size_t len, const char *kid, char *err, size_t errlen);
static void lgsp_jwk_skip(lgsp_jwk_set_t *set, const char *why);
static int lgsp_jwk_add_jwk(lgsp_jwk_set_t *set, json_t *jwk, size_t index,
    const char *kid, char *err, size_t errlen);
static int lgsp_jwk_add_pem(lgsp_jwk_set_t *set, const unsigned char *data,
    size_t len, const char *kid, char *err, size_t errlen);
static int lgsp_jwk_add_secret(lgsp_jwk_set_t *set, const unsigned char *data,
    size_t len, const char *kid, char *err, size_t errlen);
static int lgsp_jwk_bind_pkey(lgsp_jwk_t *key, EVP_PKEY *pkey, char *err,
    size_t errlen);
static unsigned lgsp_jwk_hmac_algs(size_t len);
static EVP_PKEY *lgsp_jwk_rsa_from_json(json_t *jwk, char *err,
    size_t errlen);
static EVP_PKEY *lgsp_jwk_ec_from_json(json_t *jwk, char *err,
    size_t errlen);
static EVP_PKEY *lgsp_jwk_okp_from_json(json_t *jwk, char *err,
    size_t errlen);
static long lgsp_jwk_member_bytes(json_t *jwk, const char *name,
    unsigned char **out, char *err, size_t errlen);
static EVP_PKEY *lgsp_jwk_from_params(const char *type,
    OSSL_PARAM_BLD *bld);
static int lgsp_jwk_key_hmac(lgsp_jwk_t *key, char *err, size_t errlen);
static void lgsp_jwk_clear(lgsp_jwk_t *key);


int
lgsp_jwa_from_name(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < LGSP_JWA_COUNT; i++) {
        if (strlen(lgsp_jwa_names[i]) == len
            && memcmp(lgsp_jwa_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
lgsp_jwa_name(lgsp_jwa_e alg)
{
    return (alg < LGSP_JWA_COUNT) ? lgsp_jwa_names[alg] : "?";
}


/* OpenSSL 3 looks a digest up by name on every use unless fetched once */
static EVP_MD  *lgsp_jwa_mds[3];


const EVP_MD *
lgsp_jwa_digest(lgsp_jwa_e alg)
{
    size_t              i;
    static const char  *names[3] = { "SHA256", "SHA384", "SHA512" };

    if (alg >= LGSP_JWA_EDDSA) {
        return NULL;
    }

    i = (alg - LGSP_JWA_HS256) % 3;

    if (lgsp_jwa_mds[i] == NULL) {
        lgsp_jwa_mds[i] = EVP_MD_fetch(NULL, names[i], NULL);
    }

    return lgsp_jwa_mds[i];
}


void
lgsp_jwa_digest_free(void)
{
    size_t  i;

    for (i = 0; i < 3; i++) {
        EVP_MD_free(lgsp_jwa_mds[i]);
        lgsp_jwa_mds[i] = NULL;
    }
}


long
lgsp_base64url_decode(unsigned char *dst, const char *src, size_t len)
{
    size_t         i;
    unsigned       acc, bits, v;
    unsigned char  c, *p;

    p = dst;
    acc = 0;
    bits = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '-') {
            v = 62;
        } else if (c == '_') {
            v = 63;
        } else {
            return -1;
        }

        acc = (acc << 6) | v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            *p++ = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    /* one leftover character, or leftover bits set, is not canonical */
    if (bits >= 6 || acc != 0) {
        return -1;
    }

    return p - dst;
}


int
lgsp_jwk_set_add_file(lgsp_jwk_set_t *set, const char *path, const char *kid,
    char *err, size_t errlen)
{
    int             rc;
    long            size;
    FILE           *f;
    unsigned char  *data;

    f = fopen(path, "rb");
    if (f == NULL) {
        return lgsp_jwk_fail(err, errlen, "cannot open \"%s\": %s", path,
                             strerror(errno));
    }

    data = NULL;

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        rc = lgsp_jwk_fail(err, errlen, "cannot read \"%s\": %s", path,
                           strerror(errno));
        goto done;
    }

    if (size == 0 || size > LGSP_JWK_FILE_MAX) {
        rc = lgsp_jwk_fail(err, errlen, "\"%s\" is %s", path,
                           size ? "too large for a key file" : "empty");
        goto done;
    }

    data = malloc(size);
    if (data == NULL || fread(data, 1, size, f) != (size_t) size) {
        rc = lgsp_jwk_fail(err, errlen, "cannot read \"%s\"", path);
        goto done;
    }

    rc = lgsp_jwk_set_add_buffer(set, data, size, kid, err, errlen);

done:

    if (data) {
        OPENSSL_cleanse(data, size);
        free(data);
    }

    fclose(f);
    return rc;
}


int
lgsp_jwk_set_add_buffer(lgsp_jwk_set_t *set, const unsigned char *data,
    size_t len, const char *kid, char *err, size_t errlen)
{
    size_t  i;

    set->nskipped = 0;
    set->skipped[0] = '\0';

    for (i = 0; i < len && strchr(" \t\r\n", data[i]) && data[i]; i++) {
        /* skip leading white space */
    }

    if (i < len && data[i] == '{') {
        return lgsp_jwk_add_json(set, data, len, kid, err, errlen);
    }

    if (len - i >= 10 && memcmp(data + i, "-----BEGIN", 10) == 0) {
        return lgsp_jwk_add_pem(set, data, len, kid, err, errlen);
    }

    return lgsp_jwk_add_secret(set, data, len, kid, err, errlen);
}


unsigned
lgsp_jwk_set_algs(const lgsp_jwk_set_t *set)
{
    size_t    i;
    unsigned  algs;

    algs = 0;

    for (i = 0; i < set->nkeys; i++) {
        algs |= set->keys[i].algs;
    }

    return algs;
}


void
lgsp_jwk_set_free(lgsp_jwk_set_t *set)
{
    size_t  i;

    for (i = 0; i < set->nkeys; i++) {
        lgsp_jwk_clear(&set->keys[i]);
    }

    free(set->keys);
    set->keys = NULL;
    set->nkeys = 0;
}


static int
lgsp_jwk_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);

    return -1;
}


static lgsp_jwk_t *
lgsp_jwk_set_push(lgsp_jwk_set_t *set)
{
    lgsp_jwk_t  *keys;

    keys = realloc(set->keys, (set->nkeys + 1) * sizeof(lgsp_jwk_t));
    if (keys == NULL) {
        return NULL;
    }

    set->keys = keys;
    memset(&keys[set->nkeys], 0, sizeof(lgsp_jwk_t));

    return &keys[set->nkeys++];
}


static int
lgsp_jwk_add_json(lgsp_jwk_set_t *set, const unsigned char *data, size_t len,
    const char *kid, char *err, size_t errlen)
{
    int           rc;
    char          why[256];
    size_t        i, before;
    json_t       *doc, *keys;
    json_error_t  jerr;

    doc = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        return lgsp_jwk_fail(err, errlen, "not valid JSON at line %d: %s",
                             jerr.line, jerr.text);
    }

    before = set->nkeys;
    keys = json_object_get(doc, "keys");

    if (keys == NULL) {
        /* a single key: not being usable is the file's fault */
        rc = lgsp_jwk_add_jwk(set, doc, 0, kid, err, errlen) == 0 ? 0 : -1;

    } else if (!json_is_array(keys) || json_array_size(keys) == 0) {
        rc = lgsp_jwk_fail(err, errlen,
                           "JWKS \"keys\" must be a non-empty array");

    } else {
        rc = 0;

        for (i = 0; i < json_array_size(keys) && rc == 0; i++) {
            rc = lgsp_jwk_add_jwk(set, json_array_get(keys, i), i, NULL,
                                  why, sizeof(why));

            /* RFC 7517 5: a key we cannot use is ignored, not fatal */
            if (rc == 1) {
                lgsp_jwk_skip(set, why);
                rc = 0;

            } else if (rc < 0) {
                lgsp_jwk_fail(err, errlen, "%s", why);
            }
        }

        if (rc == 0 && set->nkeys == before) {
            rc = lgsp_jwk_fail(err, errlen, "JWKS holds no usable signature"
                               " verification key: %s", set->skipped);
        }
    }

    json_decref(doc);
    return rc;
}


/* one reason more for the notice; what does not fit is cut with "..." */
static void
lgsp_jwk_skip(lgsp_jwk_set_t *set, const char *why)
{
    size_t  used, room;

    used = strlen(set->skipped);
    room = sizeof(set->skipped) - used;

    if (room > 4) {
        if ((size_t) snprintf(set->skipped + used, room, "%s%s",
                              used ? "; " : "", why)
            >= room)
        {
            memcpy(set->skipped + sizeof(set->skipped) - 4, "...", 4);
        }
    }

    set->nskipped++;
}


/*
 * 0: the key is added; 1: it cannot verify signatures here and is not
 * added, err says why; -1: out of memory.
 */
static int
lgsp_jwk_add_jwk(lgsp_jwk_set_t *set, json_t *jwk, size_t index,
    const char *kid, char *err, size_t errlen)
{
    int          alg;
    char         where[64], msg[256];
    size_t       i;
    json_t      *ops, *op;
    const char  *kty, *use, *jkid, *jalg;
    EVP_PKEY    *pkey;
    lgsp_jwk_t  *key;

    snprintf(where, sizeof(where), "key #%zu", index);

    if (!json_is_object(jwk)) {
        lgsp_jwk_fail(err, errlen, "%s is not a JSON object", where);
        return 1;
    }

    kty = json_string_value(json_object_get(jwk, "kty"));
    use = json_string_value(json_object_get(jwk, "use"));
    jkid = json_string_value(json_object_get(jwk, "kid"));
    jalg = json_string_value(json_object_get(jwk, "alg"));
    ops = json_object_get(jwk, "key_ops");

    if (jkid != NULL) {
        snprintf(where, sizeof(where), "key \"%.40s\"", jkid);
    }

    if (kty == NULL) {
        lgsp_jwk_fail(err, errlen, "%s has no \"kty\"", where);
        return 1;
    }

    if (json_object_get(jwk, "use") != NULL
        && (use == NULL || strcmp(use, "sig") != 0))
    {
        lgsp_jwk_fail(err, errlen, "%s: \"use\" is \"%.10s\", not \"sig\"",
                      where, use ? use : "?");
        return 1;
    }

    if (ops != NULL) {
        json_array_foreach(ops, i, op) {
            if (json_is_string(op)
                && strcmp(json_string_value(op), "verify") == 0)
            {
                break;
            }
        }

        if (!json_is_array(ops) || i == json_array_size(ops)) {
            lgsp_jwk_fail(err, errlen, "%s: \"key_ops\" has no \"verify\"",
                          where);
            return 1;
        }
    }

    alg = -1;

    if (json_object_get(jwk, "alg") != NULL) {
        alg = jalg ? lgsp_jwa_from_name(jalg, strlen(jalg)) : -1;

        if (alg < 0) {
            lgsp_jwk_fail(err, errlen, "%s: unsupported \"alg\" \"%.20s\"",
                          where, jalg ? jalg : "?");
            return 1;
        }
    }

    key = lgsp_jwk_set_push(set);
    if (key == NULL) {
        lgsp_jwk_fail(err, errlen, "out of memory");
        return -1;
    }

    if (strcmp(kty, "oct") == 0) {
        long  n;

        n = lgsp_jwk_member_bytes(jwk, "k", &key->secret, err, errlen);
        if (n < 0) {
            goto skipped;
        }

        key->type = LGSP_KEY_HMAC;
        key->secret_len = n;
        key->algs = lgsp_jwk_hmac_algs(n);

        if (key->algs == 0) {
            lgsp_jwk_fail(err, errlen, "HMAC secret of %ld bytes is too"
                          " short (at least %d)", n, LGSP_HMAC_MIN_LEN);
            goto skipped;
        }

        if (lgsp_jwk_key_hmac(key, err, errlen) != 0) {
            goto skipped;
        }

    } else {
        if (strcmp(kty, "RSA") == 0) {
            pkey = lgsp_jwk_rsa_from_json(jwk, err, errlen);

        } else if (strcmp(kty, "EC") == 0) {
            pkey = lgsp_jwk_ec_from_json(jwk, err, errlen);

        } else if (strcmp(kty, "OKP") == 0) {
            pkey = lgsp_jwk_okp_from_json(jwk, err, errlen);

        } else {
            lgsp_jwk_fail(err, errlen, "unsupported \"kty\" \"%.10s\"",
                          kty);
            goto skipped;
        }

        if (pkey == NULL || lgsp_jwk_bind_pkey(key, pkey, err, errlen) != 0) {
            goto skipped;
        }
    }

    if (alg >= 0) {
        if (!(key->algs & LGSP_JWA_BIT(alg))) {
            lgsp_jwk_fail(err, errlen, "\"alg\" %s does not fit a key of"
                          " type %s", jalg, kty);
            goto skipped;
        }

        key->algs = LGSP_JWA_BIT(alg);
    }

    if (jkid == NULL) {
        jkid = kid;
    }

    if (jkid != NULL) {
        key->kid = strdup(jkid);
        if (key->kid == NULL) {
            lgsp_jwk_clear(key);
            set->nkeys--;
            lgsp_jwk_fail(err, errlen, "out of memory");
            return -1;
        }
    }

    return 0;

skipped:

    snprintf(msg, sizeof(msg), "%s: %s", where, err);
    snprintf(err, errlen, "%s", msg);

    lgsp_jwk_clear(key);
    set->nkeys--;

    return 1;
}


static int
lgsp_jwk_add_pem(lgsp_jwk_set_t *set, const unsigned char *data, size_t len,
    const char *kid, char *err, size_t errlen)
{
    BIO         *bio;
    X509        *cert;
    EVP_PKEY    *pkey;
    lgsp_jwk_t  *key;

    if (memmem(data, len, "PRIVATE KEY-----", 16) != NULL) {
        return lgsp_jwk_fail(err, errlen, "holds a private key: give the"
                             " gateway the public key only");
    }

    bio = BIO_new_mem_buf(data, (int) len);
    if (bio == NULL) {
        return lgsp_jwk_fail(err, errlen, "out of memory");
    }

    if (memmem(data, len, "-----BEGIN CERTIFICATE-----", 27) != NULL) {
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        pkey = cert ? X509_get_pubkey(cert) : NULL;
        X509_free(cert);

    } else {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }

    BIO_free(bio);
    ERR_clear_error();

    if (pkey == NULL) {
        return lgsp_jwk_fail(err, errlen, "not a PEM public key or"
                             " certificate (RSA, EC, Ed25519 or Ed448)");
    }

    key = lgsp_jwk_set_push(set);
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return lgsp_jwk_fail(err, errlen, "out of memory");
    }

    if (lgsp_jwk_bind_pkey(key, pkey, err, errlen) != 0
        || (kid != NULL && (key->kid = strdup(kid)) == NULL))
    {
        lgsp_jwk_clear(key);
        set->nkeys--;
        return -1;
    }

    return 0;
}


static int
lgsp_jwk_add_secret(lgsp_jwk_set_t *set, const unsigned char *data,
    size_t len, const char *kid, char *err, size_t errlen)
{
    lgsp_jwk_t  *key;

    /* "echo secret > file" must mean the secret, not the secret and \n */
    if (len > 0 && data[len - 1] == '\n') {
        len--;
        if (len > 0 && data[len - 1] == '\r') {
            len--;
        }
    }

    if (lgsp_jwk_hmac_algs(len) == 0) {
        return lgsp_jwk_fail(err, errlen, "is neither JSON nor PEM, and as"
                             " an HMAC secret its %zu bytes are too short"
                             " (at least %d)", len, LGSP_HMAC_MIN_LEN);
    }

    key = lgsp_jwk_set_push(set);
    if (key == NULL) {
        return lgsp_jwk_fail(err, errlen, "out of memory");
    }

    key->type = LGSP_KEY_HMAC;
    key->algs = lgsp_jwk_hmac_algs(len);
    key->secret = malloc(len);
    key->secret_len = len;

    if (key->secret == NULL
        || (kid != NULL && (key->kid = strdup(kid)) == NULL))
    {
        lgsp_jwk_clear(key);
        set->nkeys--;
        return lgsp_jwk_fail(err, errlen, "out of memory");
    }

    memcpy(key->secret, data, len);

    if (lgsp_jwk_key_hmac(key, err, errlen) != 0) {
        lgsp_jwk_clear(key);
        set->nkeys--;
        return -1;
    }

    return 0;
}


/* RFC 7518 3.2: an HMAC key is at least as long as the hash output */
static unsigned
lgsp_jwk_hmac_algs(size_t len)
{
    unsigned  algs;

    algs = 0;

    if (len >= 32) {
        algs |= LGSP_JWA_BIT(LGSP_JWA_HS256);
    }

    if (len >= 48) {
        algs |= LGSP_JWA_BIT(LGSP_JWA_HS384);
    }

    if (len >= 64) {
        algs |= LGSP_JWA_BIT(LGSP_JWA_HS512);
    }

    return algs;
}


/* binds a public key to the algorithms its type and size can serve */
static int
lgsp_jwk_bind_pkey(lgsp_jwk_t *key, EVP_PKEY *pkey, char *err, size_t errlen)
{
    char  group[32];

    key->pkey = pkey;

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pkey) < LGSP_RSA_MIN_BITS) {
            return lgsp_jwk_fail(err, errlen, "RSA key of %d bits is too"
                                 " small (at least %d)",
                                 EVP_PKEY_get_bits(pkey), LGSP_RSA_MIN_BITS);
        }

        key->type = LGSP_KEY_RSA;
        key->algs = LGSP_JWA_RSA;
        return 0;

    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_utf8_string_param(pkey,
                                            OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), NULL))
        {
            return lgsp_jwk_fail(err, errlen, "EC key without a curve");
        }

        key->type = LGSP_KEY_EC;

        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
            key->algs = LGSP_JWA_BIT(LGSP_JWA_ES256);

        } else if (strcmp(group, "secp384r1") == 0
                   || strcmp(group, "P-384") == 0)
        {
            key->algs = LGSP_JWA_BIT(LGSP_JWA_ES384);

        } else if (strcmp(group, "secp521r1") == 0
                   || strcmp(group, "P-521") == 0)
        {
            key->algs = LGSP_JWA_BIT(LGSP_JWA_ES512);

        } else {
            return lgsp_jwk_fail(err, errlen, "EC curve %s is not one of"
                                 " P-256, P-384, P-521", group);
        }

        return 0;

    /* EdDSA serves either curve; the fully-specified name only its own */
    case EVP_PKEY_ED25519:
        key->type = LGSP_KEY_OKP;
        key->algs = LGSP_JWA_BIT(LGSP_JWA_EDDSA)
                    | LGSP_JWA_BIT(LGSP_JWA_ED25519);
        return 0;

    case EVP_PKEY_ED448:
        key->type = LGSP_KEY_OKP;
        key->algs = LGSP_JWA_BIT(LGSP_JWA_EDDSA)
                    | LGSP_JWA_BIT(LGSP_JWA_ED448);
        return 0;

    default:
        return lgsp_jwk_fail(err, errlen, "key type is not RSA, EC,"
                             " Ed25519 or Ed448");
    }
}


static EVP_PKEY *
lgsp_jwk_rsa_from_json(json_t *jwk, char *err, size_t errlen)
{
    long             nlen, elen;
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
    unsigned char   *nb, *eb;
    OSSL_PARAM_BLD  *bld;

    pkey = NULL;
    nb = NULL;
    eb = NULL;
    n = NULL;
    e = NULL;
    bld = NULL;

    nlen = lgsp_jwk_member_bytes(jwk, "n", &nb, err, errlen);
    if (nlen < 0) {
        goto done;
    }

    elen = lgsp_jwk_member_bytes(jwk, "e", &eb, err, errlen);
    if (elen < 0) {
        goto done;
    }

    n = BN_bin2bn(nb, (int) nlen, NULL);
    e = BN_bin2bn(eb, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (n == NULL || e == NULL || bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
    {
        lgsp_jwk_fail(err, errlen, "out of memory");
        goto done;
    }

    pkey = lgsp_jwk_from_params("RSA", bld);
    if (pkey == NULL) {
        lgsp_jwk_fail(err, errlen, "invalid RSA key");
    }

done:

    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nb);
    free(eb);

    return pkey;
}


static EVP_PKEY *
lgsp_jwk_ec_from_json(json_t *jwk, char *err, size_t errlen)
{
    long             xlen, ylen, size;
    EVP_PKEY        *pkey;
    const char      *crv, *group;
    unsigned char   *x, *y, point[1 + 2 * 66];
    OSSL_PARAM_BLD  *bld;

    crv = json_string_value(json_object_get(jwk, "crv"));

    if (crv != NULL && strcmp(crv, "P-256") == 0) {
        group = "prime256v1";
        size = 32;

    } else if (crv != NULL && strcmp(crv, "P-384") == 0) {
        group = "secp384r1";
        size = 48;

    } else if (crv != NULL && strcmp(crv, "P-521") == 0) {
        group = "secp521r1";
        size = 66;

    } else {
        lgsp_jwk_fail(err, errlen, "EC \"crv\" \"%.10s\" is not P-256,"
                      " P-384 or P-521", crv ? crv : "");
        return NULL;
    }

    pkey = NULL;
    x = NULL;
    y = NULL;
    bld = NULL;

    xlen = lgsp_jwk_member_bytes(jwk, "x", &x, err, errlen);
    if (xlen < 0) {
        goto done;
    }

    ylen = lgsp_jwk_member_bytes(jwk, "y", &y, err, errlen);
    if (ylen < 0) {
        goto done;
    }

    if (xlen != size || ylen != size) {
        lgsp_jwk_fail(err, errlen, "EC \"x\" and \"y\" must be %ld bytes for"
                      " %s", size, crv);
        goto done;
    }

    point[0] = 0x04;
    memcpy(point + 1, x, size);
    memcpy(point + 1 + size, y, size);

    bld = OSSL_PARAM_BLD_new();

    if (bld == NULL
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             point, 1 + 2 * size))
    {
        lgsp_jwk_fail(err, errlen, "out of memory");
        goto done;
    }

    pkey = lgsp_jwk_from_params("EC", bld);
    if (pkey == NULL) {
        lgsp_jwk_fail(err, errlen, "EC point is not on curve %s", crv);
    }

done:

    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);

    return pkey;
}


static EVP_PKEY *
lgsp_jwk_okp_from_json(json_t *jwk, char *err, size_t errlen)
{
    int             type;
    long            len, size;
    EVP_PKEY       *pkey;
    const char     *crv;
    unsigned char  *x;

    crv = json_string_value(json_object_get(jwk, "crv"));

    if (crv != NULL && strcmp(crv, "Ed25519") == 0) {
        type = EVP_PKEY_ED25519;
        size = 32;

    } else if (crv != NULL && strcmp(crv, "Ed448") == 0) {
        type = EVP_PKEY_ED448;
        size = 57;

    } else {
        lgsp_jwk_fail(err, errlen, "OKP \"crv\" \"%.10s\" is not Ed25519"
                      " or Ed448", crv ? crv : "");
        return NULL;
    }

    len = lgsp_jwk_member_bytes(jwk, "x", &x, err, errlen);
    if (len < 0) {
        return NULL;
    }

    pkey = NULL;

    if (len != size) {
        lgsp_jwk_fail(err, errlen, "%s \"x\" must be %ld bytes", crv, size);

    } else {
        pkey = EVP_PKEY_new_raw_public_key(type, NULL, x, len);
        if (pkey == NULL) {
            ERR_clear_error();
            lgsp_jwk_fail(err, errlen, "invalid %s key", crv);
        }
    }

    free(x);
    return pkey;
}


static long
lgsp_jwk_member_bytes(json_t *jwk, const char *name, unsigned char **out,
    char *err, size_t errlen)
{
    long         n;
    size_t       len;
    const char  *s;

    s = json_string_value(json_object_get(jwk, name));
    if (s == NULL) {
        return lgsp_jwk_fail(err, errlen, "member \"%s\" is missing", name);
    }

    len = strlen(s);

    *out = malloc(lgsp_base64url_decoded_len(len));
    if (*out == NULL) {
        return lgsp_jwk_fail(err, errlen, "out of memory");
    }

    n = lgsp_base64url_decode(*out, s, len);
    if (n <= 0) {
        free(*out);
        *out = NULL;
        return lgsp_jwk_fail(err, errlen, "member \"%s\" is not base64url",
                             name);
    }

    return n;
}


static EVP_PKEY *
lgsp_jwk_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY      *pkey;
    OSSL_PARAM    *params;
    EVP_PKEY_CTX  *ctx, *check;

    pkey = NULL;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);

    if (params == NULL || ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        pkey = NULL;
        goto done;
    }

    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

    if (check == NULL || EVP_PKEY_public_check(check) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(check);

done:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    ERR_clear_error();

    return pkey;
}


static int
lgsp_jwk_key_hmac(lgsp_jwk_t *key, char *err, size_t errlen)
{
    int          i;
    EVP_MAC     *mac;
    OSSL_PARAM   params[2];
    const char  *names[3] = { "SHA256", "SHA384", "SHA512" };

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        return lgsp_jwk_fail(err, errlen, "HMAC is not available");
    }

    for (i = 0; i < 3; i++) {
        if (!(key->algs & LGSP_JWA_BIT(LGSP_JWA_HS256 + i))) {
            continue;
        }

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *) names[i], 0);
        params[1] = OSSL_PARAM_construct_end();

        key->hmac[i] = EVP_MAC_CTX_new(mac);

        if (key->hmac[i] == NULL
            || !EVP_MAC_init(key->hmac[i], key->secret, key->secret_len,
                             params))
        {
            EVP_MAC_free(mac);
            ERR_clear_error();
            return lgsp_jwk_fail(err, errlen, "cannot key HMAC");
        }
    }

    EVP_MAC_free(mac);

    return 0;
}


static void
lgsp_jwk_clear(lgsp_jwk_t *key)
{
    int  i;

    for (i = 0; i < 3; i++) {
        EVP_MAC_CTX_free(key->hmac[i]);
    }

    if (key->secret) {
        OPENSSL_cleanse(key->secret, key->secret_len);
        free(key->secret);
    }

    EVP_PKEY_free(key->pkey);
    free(key->kid);
    memset(key, 0, sizeof(lgsp_jwk_t));
}
