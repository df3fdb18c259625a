/*
 * LGSP on nginx: JWT authentication in the access phase.  Keys are parsed
 * at configuration time (lgsp_jwk.c), tokens verified by lgsp_jwt.c; this
 * file is the nginx glue: directives, the verified-token cache in shared
 * memory, the claim variables and the RFC 6750 answers.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_catalog.h"
#include "ngx_http_lgsp_jwks.h"
#include "lgsp_jwk.h"
#include "lgsp_jwt.h"
#include "lgsp_sha256.h"


#define NGX_HTTP_LGSP_JWT_OFF       0
#define NGX_HTTP_LGSP_JWT_ON        1
#define NGX_HTTP_LGSP_JWT_OPTIONAL  2

/* lgsp_jwt_bind: RFC 8705 certificate-bound tokens */
#define NGX_HTTP_LGSP_JWT_BIND_OFF       0
#define NGX_HTTP_LGSP_JWT_BIND_CERT      1
#define NGX_HTTP_LGSP_JWT_BIND_REQUIRED  2

#define NGX_HTTP_LGSP_DIGEST_LEN    32

/* how long a verified token without "exp" may stay in the cache */
#define NGX_HTTP_LGSP_JWT_NO_EXP_TTL  60

#define NGX_HTTP_LGSP_AGENCY_MAX    128


typedef struct {
    ngx_str_t                    name;
    ngx_array_t                 *values;        /* of ngx_str_t */
} ngx_http_lgsp_jwt_claim_rule_t;


/*
 * What a verified token is cached under: the token itself, compared byte
 * for byte (no digest of it to compute per request), and the policy it
 * was verified under: the location's, and the remote key set's document.
 */
typedef struct {
    ngx_str_t                    token;
    u_char                      *policy;        /* DIGEST_LEN bytes */
    u_char                      *remote;        /* JWKS_DIGEST_LEN, or NULL */
    ngx_rbtree_key_t             hash;
} ngx_http_lgsp_jwt_cache_key_t;


typedef struct {
    ngx_rbtree_node_t            node;          /* key: the key's hash */
    ngx_queue_t                  queue;         /* most recent first */
    u_char                       policy[NGX_HTTP_LGSP_DIGEST_LEN];
    u_char                       remote[NGX_HTTP_LGSP_JWKS_DIGEST_LEN];
    unsigned                     has_remote:1;
    time_t                       exp;           /* -1: no exp claim */
    time_t                       expires;       /* when the entry goes */
    u_short                      token_len;
    u_short                      agency_len;
    u_short                      payload_len;
    signed char                  bound;         /* lgsp_jwt_cnf_x5t() */
    u_char                       x5t[LGSP_JWT_X5T_LEN];
    u_char                       data[1];       /* token, agency, payload */
} ngx_http_lgsp_jwt_cache_node_t;


/* what a verified token says, fresh or from the cache */
typedef struct {
    ngx_str_t                    agency;
    ngx_str_t                    payload;
    ngx_int_t                    bound;         /* lgsp_jwt_cnf_x5t() */
    u_char                       x5t[LGSP_JWT_X5T_LEN];
} ngx_http_lgsp_jwt_identity_t;


typedef struct {
    ngx_shm_zone_t              *cache;

    /* for nginx -t's warning about lgsp_jwt behind auth_request */
    ngx_int_t                    auth_request;  /* its ctx_index, or -1 */
    ngx_array_t                  auth_uris;     /* of ngx_str_t */
    ngx_array_t                  locations;     /* with lgsp_jwt on */
} ngx_http_lgsp_jwt_main_conf_t;


typedef struct {
    ngx_uint_t                   mode;
    ngx_str_t                    mode_file;     /* where lgsp_jwt was set */
    ngx_uint_t                   mode_line;
    lgsp_jwk_set_t              *keys;
    ngx_uint_t                   algorithms;    /* LGSP_JWA_BIT() set */
    ngx_str_t                    issuer;
    ngx_str_t                    audience;
    time_t                       leeway;
    ngx_flag_t                   require_exp;
    ngx_str_t                    agency_claim;
    ngx_array_t                 *claim_rules;
    ngx_http_complex_value_t    *token;
    size_t                       max_size;
    ngx_array_t                 *types;         /* of ngx_str_t; NULL: any */
    ngx_uint_t                   bind;

    /* the digest of all the above that decides a token's fate */
    u_char                       policy[NGX_HTTP_LGSP_DIGEST_LEN];
} ngx_http_lgsp_jwt_loc_conf_t;


typedef struct {
    ngx_str_t                   *name;
    ngx_http_lgsp_jwt_loc_conf_t *conf;
} ngx_http_lgsp_jwt_location_t;


static ngx_int_t ngx_http_lgsp_jwt_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_lgsp_jwt_bearer(ngx_str_t *auth);
static ngx_int_t ngx_http_lgsp_jwt_token(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, ngx_str_t *token);
static ngx_int_t ngx_http_lgsp_jwt_verify(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, lgsp_jwk_set_t *remote,
    ngx_http_lgsp_jwt_cache_key_t *key, char *err, size_t errlen);
static ngx_int_t ngx_http_lgsp_jwt_accept(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, ngx_http_lgsp_jwt_identity_t *id,
    char *err, size_t errlen);
static ngx_int_t ngx_http_lgsp_jwt_check_type(
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, json_t *header, char *err,
    size_t errlen);
static ngx_int_t ngx_http_lgsp_jwt_check_bind(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, ngx_http_lgsp_jwt_identity_t *id,
    char *err, size_t errlen);
static ngx_int_t ngx_http_lgsp_jwt_reject(ngx_http_request_t *r,
    ngx_uint_t status, const char *reason, const char *detail,
    ngx_http_lgsp_jwt_claim_rule_t *rule);
static ngx_int_t ngx_http_lgsp_jwt_check_rules(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, json_t *payload,
    ngx_http_lgsp_jwt_claim_rule_t **failed);
static ngx_int_t ngx_http_lgsp_jwt_agency(json_t *payload, ngx_str_t *name,
    ngx_str_t *agency);
static ngx_int_t ngx_http_lgsp_jwt_cache_get(ngx_http_request_t *r,
    ngx_http_lgsp_lru_t *cache, ngx_http_lgsp_jwt_cache_key_t *key,
    time_t leeway, ngx_http_lgsp_jwt_identity_t *id);
static void ngx_http_lgsp_jwt_cache_put(ngx_http_lgsp_lru_t *cache,
    ngx_http_lgsp_jwt_cache_key_t *key, time_t exp,
    ngx_http_lgsp_jwt_identity_t *id);
static ngx_http_lgsp_jwt_cache_node_t *ngx_http_lgsp_jwt_cache_find(
    ngx_http_lgsp_lru_t *cache, ngx_http_lgsp_jwt_cache_key_t *key);
static ngx_int_t ngx_http_lgsp_jwt_cache_cmp(
    ngx_http_lgsp_jwt_cache_key_t *key, ngx_http_lgsp_jwt_cache_node_t *cn);
static void ngx_http_lgsp_jwt_cache_delete(ngx_http_lgsp_lru_t *cache,
    ngx_http_lgsp_jwt_cache_node_t *cn);
static void ngx_http_lgsp_jwt_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_lgsp_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_lgsp_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_jwt_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_jwt_require_claim(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_lgsp_jwt_type(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_jwt_bind(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_jwt_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_lgsp_jwt_free_keys(void *data);
static char *ngx_http_lgsp_jwt_policy(ngx_conf_t *cf,
    ngx_http_lgsp_jwt_loc_conf_t *conf);
static ngx_int_t ngx_http_lgsp_jwt_describe(ngx_conf_t *cf, void **loc_conf,
    ngx_http_lgsp_service_info_t *info);
static ngx_int_t ngx_http_lgsp_jwt_add_variables(ngx_conf_t *cf);
static void *ngx_http_lgsp_jwt_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_lgsp_jwt_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_lgsp_jwt_note_location(ngx_conf_t *cf,
    ngx_http_lgsp_jwt_loc_conf_t *conf);
static void ngx_http_lgsp_jwt_warn_auth_request(ngx_conf_t *cf);
static ngx_int_t ngx_http_lgsp_jwt_init(ngx_conf_t *cf);


static ngx_conf_enum_t  ngx_http_lgsp_jwt_modes[] = {
    { ngx_string("off"), NGX_HTTP_LGSP_JWT_OFF },
    { ngx_string("on"), NGX_HTTP_LGSP_JWT_ON },
    { ngx_string("optional"), NGX_HTTP_LGSP_JWT_OPTIONAL },
    { ngx_null_string, 0 }
};


static ngx_http_lgsp_header_t  ngx_http_lgsp_agency_header =
    ngx_http_lgsp_header("X-LGSP-Agency", "x-lgsp-agency",
                         NGX_HTTP_LGSP_UPSTREAM_AGENCY);

static ngx_str_t  ngx_http_lgsp_www_authenticate =
    ngx_string("WWW-Authenticate");

static ngx_str_t  ngx_http_lgsp_jwt_claim_prefix =
    ngx_string("lgsp_jwt_claim_");




static ngx_command_t  ngx_http_lgsp_jwt_commands[] = {

    { ngx_string("lgsp_jwt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_lgsp_jwt_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, mode),
      &ngx_http_lgsp_jwt_modes },

    { ngx_string("lgsp_jwt_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_lgsp_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_jwt_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_jwt_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, issuer),
      NULL },

    { ngx_string("lgsp_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, audience),
      NULL },

    { ngx_string("lgsp_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, leeway),
      NULL },

    { ngx_string("lgsp_jwt_require_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, require_exp),
      NULL },

    { ngx_string("lgsp_agency_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, agency_claim),
      NULL },

    { ngx_string("lgsp_jwt_require_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_lgsp_jwt_require_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_jwt_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, token),
      NULL },

    { ngx_string("lgsp_jwt_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwt_loc_conf_t, max_size),
      NULL },

    { ngx_string("lgsp_jwt_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_jwt_type,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_jwt_bind"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_lgsp_jwt_bind,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_jwt_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_lgsp_jwt_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_jwt_module_ctx = {
    ngx_http_lgsp_jwt_add_variables,       /* preconfiguration */
    ngx_http_lgsp_jwt_init,                /* postconfiguration */

    ngx_http_lgsp_jwt_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_jwt_create_loc_conf,     /* create location configuration */
    ngx_http_lgsp_jwt_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_jwt_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_jwt_module_ctx,         /* module context */
    ngx_http_lgsp_jwt_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_lgsp_jwt_handler(ngx_http_request_t *r)
{
    char                            err[256];
    ngx_int_t                       rc;
    lgsp_jwk_set_t                 *remote;
    ngx_http_lgsp_lru_t            *cache;
    ngx_http_lgsp_jwt_identity_t    id;
    ngx_http_lgsp_jwt_cache_key_t   key;
    ngx_http_lgsp_jwt_main_conf_t  *jmcf;
    ngx_http_lgsp_jwt_loc_conf_t   *jlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_jwt_module);

    if (jlcf->mode == NGX_HTTP_LGSP_JWT_OFF) {
        return NGX_DECLINED;
    }

    rc = ngx_http_lgsp_jwt_token(r, jlcf, &key.token);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        if (jlcf->mode == NGX_HTTP_LGSP_JWT_OPTIONAL) {
            return NGX_DECLINED;
        }

        return ngx_http_lgsp_jwt_reject(r, NGX_HTTP_UNAUTHORIZED, "missing",
                                        "no bearer token", NULL);
    }

    if (key.token.len > jlcf->max_size) {
        ngx_snprintf((u_char *) err, sizeof(err), "token is larger than"
                     " %uz bytes%Z", jlcf->max_size);
        return ngx_http_lgsp_jwt_reject(r, NGX_HTTP_UNAUTHORIZED, "too_large",
                                        err, NULL);
    }

    /* a remote key set is part of the policy: its document's digest */
    rc = ngx_http_lgsp_jwks_keys(r, 0, &remote, &key.remote);
    if (rc != NGX_OK) {
        return (rc == NGX_AGAIN) ? NGX_AGAIN : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key.policy = jlcf->policy;

    /*
     * The tree's key: the token's last bytes, its signature's, which an
     * issuer's key makes unpredictable (hashing them adds nothing); entries
     * of one key are told apart by the whole token, compared byte for byte.
     * A token too short to be one shares key 0.
     */
    key.hash = 0;

    if (key.token.len >= sizeof(ngx_rbtree_key_t)) {
        ngx_memcpy(&key.hash,
                   key.token.data + key.token.len - sizeof(ngx_rbtree_key_t),
                   sizeof(ngx_rbtree_key_t));
    }

    jmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_jwt_module);
    cache = jmcf->cache ? jmcf->cache->data : NULL;

    if (cache) {
        rc = ngx_http_lgsp_jwt_cache_get(r, cache, &key, jlcf->leeway, &id);
        if (rc == NGX_OK) {
            /* the binding is the connection's, not the token's: per request */
            return ngx_http_lgsp_jwt_accept(r, jlcf, &id, err, sizeof(err));
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_ABORT) {
            return ngx_http_lgsp_jwt_reject(r, NGX_HTTP_UNAUTHORIZED,
                                            "expired", "token expired", NULL);
        }
    }

    return ngx_http_lgsp_jwt_verify(r, jlcf, remote, &key, err, sizeof(err));
}


/*
 * The scheme "Bearer " in any case (RFC 7235), compared without a call to
 * ngx_strncasecmp(), whose loop costs as much as the cache lookup's hash
 */
static ngx_uint_t
ngx_http_lgsp_jwt_bearer(ngx_str_t *auth)
{
    u_char  *p;

    if (auth->len < sizeof("Bearer ") - 1) {
        return 0;
    }

    p = auth->data;

    /* with 0x20 set, only "B" and "b" read "b", and so on */
    return (p[0] | 0x20) == 'b' && (p[1] | 0x20) == 'e'
           && (p[2] | 0x20) == 'a' && (p[3] | 0x20) == 'r'
           && (p[4] | 0x20) == 'e' && (p[5] | 0x20) == 'r' && p[6] == ' ';
}


/* NGX_DECLINED when the request carries no token */
static ngx_int_t
ngx_http_lgsp_jwt_token(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, ngx_str_t *token)
{
    u_char     *p, *end;
    ngx_str_t  *auth;

    if (jlcf->token) {
        if (ngx_http_complex_value(r, jlcf->token, token) != NGX_OK) {
            return NGX_ERROR;
        }

        return token->len ? NGX_OK : NGX_DECLINED;
    }

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    auth = &r->headers_in.authorization->value;

    if (!ngx_http_lgsp_jwt_bearer(auth)) {
        return NGX_DECLINED;
    }

    p = auth->data + sizeof("Bearer ") - 1;
    end = auth->data + auth->len;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    token->data = p;
    token->len = end - p;

    return token->len ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_lgsp_jwt_verify(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, lgsp_jwk_set_t *remote,
    ngx_http_lgsp_jwt_cache_key_t *key, char *err, size_t errlen)
{
    char                            *issuer, *audience;
    u_char                          *remote_digest;
    const char                      *reason, *name;
    ngx_int_t                        rc;
    ngx_str_t                        agency;
    long long                        exp;
    lgsp_jwt_t                       jwt;
    lgsp_jwt_rules_t                 rules;
    lgsp_jwt_status_e                st;
    ngx_http_lgsp_lru_t       *cache;
    ngx_http_lgsp_jwt_claim_rule_t  *failed;
    ngx_http_lgsp_jwt_main_conf_t   *jmcf;
    ngx_http_lgsp_jwt_identity_t     id;

    st = LGSP_JWT_NO_KEY;
    ngx_cpystrn((u_char *) err, (u_char *) "no key for this token", errlen);

    if (jlcf->keys) {
        st = lgsp_jwt_verify((const char *) key->token.data, key->token.len,
                             jlcf->keys, jlcf->algorithms, &jwt, err, errlen);
    }

    if (st == LGSP_JWT_NO_KEY && remote) {
        st = lgsp_jwt_verify((const char *) key->token.data, key->token.len,
                             remote, jlcf->algorithms, &jwt, err, errlen);

        /* a new kid: the provider may have rotated its keys; ask again */
        if (st == LGSP_JWT_NO_KEY) {
            rc = ngx_http_lgsp_jwks_keys(r, 1, &remote, &remote_digest);
            if (rc != NGX_OK) {
                return (rc == NGX_AGAIN) ? NGX_AGAIN
                                         : NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    if (st != LGSP_JWT_OK) {
        return ngx_http_lgsp_jwt_reject(r, NGX_HTTP_UNAUTHORIZED,
                                        lgsp_jwt_status_text(st), err, NULL);
    }

    issuer = jlcf->issuer.len ? (char *) jlcf->issuer.data : NULL;
    audience = jlcf->audience.len ? (char *) jlcf->audience.data : NULL;

    rules.now = ngx_time();
    rules.leeway = jlcf->leeway;
    rules.require_exp = jlcf->require_exp;
    rules.issuer = issuer;
    rules.audience = audience;

    reason = NULL;
    exp = -1;
    ngx_str_null(&agency);

    if (ngx_http_lgsp_jwt_check_type(jlcf, jwt.header, err, errlen)
        != NGX_OK)
    {
        st = LGSP_JWT_WRONG_TYPE;

    } else {
        st = lgsp_jwt_check_claims(jwt.payload, &rules, &exp, err, errlen);
    }

    if (st != LGSP_JWT_OK) {
        reason = lgsp_jwt_status_text(st);

    } else if (lgsp_jwt_claims_clean(jwt.payload, &name) != 0) {
        reason = "bad_claim";
        ngx_snprintf((u_char *) err, errlen, "claim \"%s\" holds a control"
                     " character%Z", name);

    } else if (ngx_http_lgsp_jwt_agency(jwt.payload, &jlcf->agency_claim,
                                        &agency)
               != NGX_OK)
    {
        reason = "no_agency";
        ngx_snprintf((u_char *) err, errlen, "token names no agency in"
                     " claim \"%V\" (letters, digits, \".\", \"_\", \"-\","
                     " \":\")%Z", &jlcf->agency_claim);
    }

    if (reason) {
        lgsp_jwt_free(&jwt);
        return ngx_http_lgsp_jwt_reject(r, NGX_HTTP_UNAUTHORIZED, reason, err,
                                        NULL);
    }

    if (ngx_http_lgsp_jwt_check_rules(r, jlcf, jwt.payload, &failed)
        != NGX_OK)
    {
        lgsp_jwt_free(&jwt);
        ngx_snprintf((u_char *) err, errlen, "token claim \"%V\" does not"
                     " grant access here%Z", &failed->name);

        return ngx_http_lgsp_jwt_reject(r, NGX_HTTP_FORBIDDEN,
                                        "insufficient_scope", err, failed);
    }

    /* the binding is checked by ngx_http_lgsp_jwt_accept(), cached or not */
    ngx_memzero(&id, sizeof(ngx_http_lgsp_jwt_identity_t));
    id.bound = lgsp_jwt_cnf_x5t(jwt.payload, id.x5t);

    /* the identity outlives the token: copy it into the request pool */
    id.payload.len = jwt.payload_len;
    id.payload.data = ngx_pnalloc(r->pool, id.payload.len + agency.len);
    if (id.payload.data == NULL) {
        lgsp_jwt_free(&jwt);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(id.payload.data, jwt.payload_json, id.payload.len);
    id.agency.len = agency.len;
    id.agency.data = ngx_cpymem(id.payload.data + id.payload.len,
                                agency.data, agency.len) - agency.len;

    lgsp_jwt_free(&jwt);

    jmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_jwt_module);
    cache = jmcf->cache ? jmcf->cache->data : NULL;

    if (cache) {
        ngx_http_lgsp_jwt_cache_put(cache, key, exp, &id);
    }

    return ngx_http_lgsp_jwt_accept(r, jlcf, &id, err, errlen);
}


/* the binding is checked here: a cached token may come from anyone */
static ngx_int_t
ngx_http_lgsp_jwt_accept(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, ngx_http_lgsp_jwt_identity_t *id,
    char *err, size_t errlen)
{
    ngx_http_lgsp_ctx_t  *ctx;

    if (ngx_http_lgsp_jwt_check_bind(r, jlcf, id, err, errlen) != NGX_OK) {
        return ngx_http_lgsp_jwt_reject(r, NGX_HTTP_UNAUTHORIZED,
                                 lgsp_jwt_status_text(LGSP_JWT_UNBOUND), err,
                                 NULL);
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->agency = id->agency;
    ctx->jwt_payload = id->payload;
    ctx->jwt_claims = NULL;

    if (ngx_http_lgsp_set_upstream(r, &ngx_http_lgsp_agency_header,
                                   &id->agency)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/* lgsp_jwt_type: the header's "typ" names one of the types required */
static ngx_int_t
ngx_http_lgsp_jwt_check_type(ngx_http_lgsp_jwt_loc_conf_t *jlcf,
    json_t *header, char *err, size_t errlen)
{
    u_char      *p;
    json_t      *typ;
    ngx_str_t   *types;
    ngx_uint_t   i;

    if (jlcf->types == NULL) {
        return NGX_OK;
    }

    typ = json_object_get(header, "typ");
    types = jlcf->types->elts;

    for (i = 0; json_is_string(typ) && i < jlcf->types->nelts; i++) {
        if (lgsp_jwt_type_matches(json_string_value(typ),
                                  json_string_length(typ),
                                  (char *) types[i].data, types[i].len))
        {
            return NGX_OK;
        }
    }

    /* the token's text is cut short, and the message always ends */
    p = ngx_snprintf((u_char *) err, errlen - 1, "token type \"%*s\" is not"
                     " accepted here, \"%V\" is",
                     (size_t) ngx_min(json_string_length(typ), 64),
                     json_is_string(typ) ? json_string_value(typ) : "",
                     &types[0]);
    *p = '\0';

    return NGX_DECLINED;
}


/*
 * RFC 8705 3: a token with cnf x5t#S256 is good only on a TLS connection
 * whose client certificate has that SHA-256 thumbprint.  Checked for every
 * request, the cached ones too: the token may have been stolen.
 */
static ngx_int_t
ngx_http_lgsp_jwt_check_bind(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, ngx_http_lgsp_jwt_identity_t *id,
    char *err, size_t errlen)
{
    const char  *why;
#if (NGX_HTTP_SSL)
    X509        *cert;
    u_char       x5t[EVP_MAX_MD_SIZE];
    unsigned     len;
#endif

    if (jlcf->bind == NGX_HTTP_LGSP_JWT_BIND_OFF
        || (id->bound == 0 && jlcf->bind == NGX_HTTP_LGSP_JWT_BIND_CERT))
    {
        return NGX_OK;
    }

    if (id->bound == 0) {
        why = "token is not bound to a client certificate (cnf x5t#S256)";

    } else if (id->bound < 0) {
        why = "token \"cnf\" names no SHA-256 certificate thumbprint";

    } else {
        why = "token is bound to a client certificate that this connection"
              " did not present";

#if (NGX_HTTP_SSL)
        cert = r->connection->ssl
               ? SSL_get_peer_certificate(r->connection->ssl->connection)
               : NULL;

        if (cert) {
            len = 0;

            if (X509_digest(cert, EVP_sha256(), x5t, &len) == 1
                && len == LGSP_JWT_X5T_LEN
                && ngx_memcmp(x5t, id->x5t, LGSP_JWT_X5T_LEN) == 0)
            {
                X509_free(cert);
                return NGX_OK;
            }

            X509_free(cert);
            why = "token is bound to another client certificate";
        }
#endif
    }

    ngx_cpystrn((u_char *) err, (u_char *) why, errlen);

    return NGX_DECLINED;
}


/*
 * 401 invalid_token (RFC 6750 3.1; no error code when no token came) or
 * 403 insufficient_scope, with a problem+json body.  Returns NGX_DONE
 * after finalizing, which ends the access phase.
 */
static ngx_int_t
ngx_http_lgsp_jwt_reject(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, const char *detail,
    ngx_http_lgsp_jwt_claim_rule_t *rule)
{
    u_char                   *p, *safe, c;
    size_t                    len, dlen, i;
    ngx_str_t                *values;
    ngx_table_elt_t          *h;
    ngx_http_lgsp_ctx_t      *ctx;
    ngx_http_lgsp_problem_t   problem;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->reason.data = (u_char *) reason;
    ctx->reason.len = ngx_strlen(reason);

    /* RFC 6750 3: the description is printable ASCII without " and \ */
    dlen = ngx_strlen(detail);
    safe = ngx_pnalloc(r->pool, dlen);
    if (safe == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < dlen; i++) {
        c = detail[i];
        safe[i] = (c == '"') ? '\''
                  : (c < 0x20 || c > 0x7e || c == '\\') ? '?' : c;
    }

    len = sizeof("Bearer realm=\"lgsp\", error=\"insufficient_scope\","
                 " error_description=\"\", scope=\"\"") - 1 + dlen;
    values = NULL;

    if (rule) {
        values = rule->values->elts;

        for (i = 0; i < rule->values->nelts; i++) {
            len += values[i].len + 1;
        }
    }

    h = ngx_http_lgsp_push_header(&r->headers_out.headers,
                                  &ngx_http_lgsp_www_authenticate);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_strcmp(reason, "missing") == 0) {
        p = ngx_sprintf(h->value.data, "Bearer realm=\"lgsp\"");

    } else {
        p = ngx_sprintf(h->value.data,
                        "Bearer realm=\"lgsp\", error=\"%s\","
                        " error_description=\"%*s\"",
                        rule ? "insufficient_scope" : "invalid_token",
                        dlen, safe);
    }

    /* RFC 6750 3: scope lists what would have been enough */
    if (rule && rule->name.len == 5
        && ngx_strncmp(rule->name.data, "scope", 5) == 0)
    {
        p = ngx_cpymem(p, ", scope=\"", sizeof(", scope=\"") - 1);

        for (i = 0; i < rule->values->nelts; i++) {
            p = ngx_sprintf(p, "%s%V", i ? " " : "", &values[i]);
        }

        *p++ = '"';
    }

    h->value.len = p - h->value.data;
    r->headers_out.www_authenticate = h;

    problem.status = status;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_AUTH;

    if (rule) {
        ngx_str_set(&problem.type, "insufficient-scope");
        ngx_str_set(&problem.title, "Forbidden");

    } else {
        ngx_str_set(&problem.type, "invalid-token");
        ngx_str_set(&problem.title, "Unauthorized");
    }

    problem.detail.data = safe;
    problem.detail.len = dlen;
    ngx_str_null(&problem.members);

    ngx_http_finalize_request(r, ngx_http_lgsp_send_problem(r, &problem));

    return NGX_DONE;
}


/* every lgsp_jwt_require_claim must match one of its values */
static ngx_int_t
ngx_http_lgsp_jwt_check_rules(ngx_http_request_t *r,
    ngx_http_lgsp_jwt_loc_conf_t *jlcf, json_t *payload,
    ngx_http_lgsp_jwt_claim_rule_t **failed)
{
    json_t                          *claim;
    ngx_str_t                       *values;
    ngx_uint_t                       i, j;
    ngx_http_lgsp_jwt_claim_rule_t  *rules;

    if (jlcf->claim_rules == NULL) {
        return NGX_OK;
    }

    rules = jlcf->claim_rules->elts;

    for (i = 0; i < jlcf->claim_rules->nelts; i++) {
        claim = json_object_get(payload, (char *) rules[i].name.data);
        values = rules[i].values->elts;

        for (j = 0; j < rules[i].values->nelts; j++) {
            if (claim && lgsp_jwt_claim_matches(claim,
                                                (char *) values[j].data,
                                                values[j].len))
            {
                break;
            }
        }

        if (j == rules[i].values->nelts) {
            *failed = &rules[i];
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* the agency code goes into headers, keys and records: keep it plain */
static ngx_int_t
ngx_http_lgsp_jwt_agency(json_t *payload, ngx_str_t *name, ngx_str_t *agency)
{
    size_t   i;
    u_char   c;
    json_t  *claim;

    claim = json_object_get(payload, (char *) name->data);

    if (!json_is_string(claim)) {
        return NGX_DECLINED;
    }

    agency->data = (u_char *) json_string_value(claim);
    agency->len = json_string_length(claim);

    if (agency->len == 0 || agency->len > NGX_HTTP_LGSP_AGENCY_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < agency->len; i++) {
        c = agency->data[i];

        if (!(isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * NGX_OK: found, agency and payload copied into the request pool;
 * NGX_DECLINED: not cached; NGX_ABORT: cached but expired.
 */
static ngx_int_t
ngx_http_lgsp_jwt_cache_get(ngx_http_request_t *r,
    ngx_http_lgsp_lru_t *cache, ngx_http_lgsp_jwt_cache_key_t *key,
    time_t leeway, ngx_http_lgsp_jwt_identity_t *id)
{
    u_char                          *p;
    time_t                           now;
    ngx_int_t                        rc;
    ngx_http_lgsp_jwt_cache_node_t  *cn;

    now = ngx_time();
    p = NULL;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_lgsp_jwt_cache_find(cache, key);

    if (cn == NULL) {
        rc = NGX_DECLINED;

    } else if (cn->exp != -1 && now >= cn->exp + leeway) {
        ngx_http_lgsp_jwt_cache_delete(cache, cn);
        rc = NGX_ABORT;

    } else if (now >= cn->expires) {
        ngx_http_lgsp_jwt_cache_delete(cache, cn);
        rc = NGX_DECLINED;

    } else {
        ngx_queue_remove(&cn->queue);
        ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

        p = ngx_pnalloc(r->pool, cn->agency_len + cn->payload_len);
        rc = (p == NULL) ? NGX_ERROR : NGX_OK;

        if (p) {
            ngx_memcpy(p, cn->data + cn->token_len,
                       cn->agency_len + cn->payload_len);
            id->agency.data = p;
            id->agency.len = cn->agency_len;
            id->payload.data = p + cn->agency_len;
            id->payload.len = cn->payload_len;
            id->bound = cn->bound;
            ngx_memcpy(id->x5t, cn->x5t, LGSP_JWT_X5T_LEN);
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


static void
ngx_http_lgsp_jwt_cache_put(ngx_http_lgsp_lru_t *cache,
    ngx_http_lgsp_jwt_cache_key_t *key, time_t exp,
    ngx_http_lgsp_jwt_identity_t *id)
{
    u_char                          *p;
    size_t                           size;
    time_t                           now;
    ngx_uint_t                       n;
    ngx_queue_t                     *q;
    ngx_http_lgsp_jwt_cache_node_t  *cn;

    if (id->payload.len > 0xffff || key->token.len > 0xffff) {
        return;
    }

    now = ngx_time();
    size = offsetof(ngx_http_lgsp_jwt_cache_node_t, data)
           + key->token.len + id->agency.len + id->payload.len;

    ngx_shmtx_lock(&cache->shpool->mutex);

    if (ngx_http_lgsp_jwt_cache_find(cache, key) != NULL) {
        goto done;
    }

    /* make room: expired entries first, then the least recently used */
    for (n = 0; n < 3 && !ngx_queue_empty(&cache->sh->queue); n++) {
        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_lgsp_jwt_cache_node_t, queue);

        if (now < cn->expires) {
            break;
        }

        ngx_http_lgsp_jwt_cache_delete(cache, cn);
    }

    for ( ;; ) {
        cn = ngx_slab_alloc_locked(cache->shpool, size);
        if (cn != NULL) {
            break;
        }

        if (ngx_queue_empty(&cache->sh->queue)) {
            goto done;
        }

        q = ngx_queue_last(&cache->sh->queue);
        ngx_http_lgsp_jwt_cache_delete(cache,
            ngx_queue_data(q, ngx_http_lgsp_jwt_cache_node_t, queue));
    }

    cn->node.key = key->hash;
    ngx_memcpy(cn->policy, key->policy, NGX_HTTP_LGSP_DIGEST_LEN);
    cn->has_remote = (key->remote != NULL);

    if (key->remote) {
        ngx_memcpy(cn->remote, key->remote, NGX_HTTP_LGSP_JWKS_DIGEST_LEN);
    }

    cn->exp = exp;
    cn->expires = (exp == -1) ? now + NGX_HTTP_LGSP_JWT_NO_EXP_TTL : exp;
    cn->token_len = (u_short) key->token.len;
    cn->agency_len = (u_short) id->agency.len;
    cn->payload_len = (u_short) id->payload.len;
    cn->bound = (signed char) id->bound;
    ngx_memcpy(cn->x5t, id->x5t, LGSP_JWT_X5T_LEN);

    p = ngx_cpymem(cn->data, key->token.data, key->token.len);
    p = ngx_cpymem(p, id->agency.data, id->agency.len);
    ngx_memcpy(p, id->payload.data, id->payload.len);

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


static ngx_http_lgsp_jwt_cache_node_t *
ngx_http_lgsp_jwt_cache_find(ngx_http_lgsp_lru_t *cache,
    ngx_http_lgsp_jwt_cache_key_t *key)
{
    ngx_int_t                        rc;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_lgsp_jwt_cache_node_t  *cn;

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key->hash != node->key) {
            node = (key->hash < node->key) ? node->left : node->right;
            continue;
        }

        cn = (ngx_http_lgsp_jwt_cache_node_t *) node;
        rc = ngx_http_lgsp_jwt_cache_cmp(key, cn);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* the order of entries of one hash: token, then policy, then key set */
static ngx_int_t
ngx_http_lgsp_jwt_cache_cmp(ngx_http_lgsp_jwt_cache_key_t *key,
    ngx_http_lgsp_jwt_cache_node_t *cn)
{
    ngx_int_t  rc;

    if (key->token.len != cn->token_len) {
        return (key->token.len < cn->token_len) ? -1 : 1;
    }

    rc = ngx_memcmp(key->token.data, cn->data, key->token.len);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_memcmp(key->policy, cn->policy, NGX_HTTP_LGSP_DIGEST_LEN);
    if (rc != 0) {
        return rc;
    }

    if ((key->remote != NULL) != cn->has_remote) {
        return cn->has_remote ? -1 : 1;
    }

    return key->remote ? ngx_memcmp(key->remote, cn->remote,
                                    NGX_HTTP_LGSP_JWKS_DIGEST_LEN)
                       : 0;
}


static void
ngx_http_lgsp_jwt_cache_delete(ngx_http_lgsp_lru_t *cache,
    ngx_http_lgsp_jwt_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cache->shpool, cn);
}


static void
ngx_http_lgsp_jwt_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t               **p;
    ngx_http_lgsp_jwt_cache_key_t     key;
    ngx_http_lgsp_jwt_cache_node_t   *cn;

    cn = (ngx_http_lgsp_jwt_cache_node_t *) node;

    key.token.len = cn->token_len;
    key.token.data = cn->data;
    key.policy = cn->policy;
    key.remote = cn->has_remote ? cn->remote : NULL;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            p = (ngx_http_lgsp_jwt_cache_cmp(&key,
                     (ngx_http_lgsp_jwt_cache_node_t *) temp) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static void
ngx_http_lgsp_jwt_json_cleanup(void *data)
{
    json_decref(data);
}


/* $lgsp_jwt_claim_NAME: a top-level claim of the verified token */
static ngx_int_t
ngx_http_lgsp_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *name = (ngx_str_t *) data;

    char                 *dump;
    u_char               *key;
    json_t               *claim;
    ngx_pool_cleanup_t   *cln;
    ngx_http_lgsp_ctx_t  *ctx;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    v->not_found = 1;

    if (ctx->jwt_payload.len == 0) {
        return NGX_OK;
    }

    if (ctx->jwt_claims == NULL) {
        cln = ngx_pool_cleanup_add(r->main->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        ctx->jwt_claims = json_loadb((char *) ctx->jwt_payload.data,
                                     ctx->jwt_payload.len, 0, NULL);
        if (ctx->jwt_claims == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_lgsp_jwt_json_cleanup;
        cln->data = ctx->jwt_claims;
    }

    key = ngx_pnalloc(r->pool, name->len - ngx_http_lgsp_jwt_claim_prefix.len
                               + 1);
    if (key == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(key, name->data + ngx_http_lgsp_jwt_claim_prefix.len,
                name->len - ngx_http_lgsp_jwt_claim_prefix.len + 1);

    claim = json_object_get(ctx->jwt_claims, (char *) key);
    if (claim == NULL || json_is_null(claim)) {
        return NGX_OK;
    }

    if (json_is_string(claim)) {
        v->data = (u_char *) json_string_value(claim);
        v->len = json_string_length(claim);

    } else {
        dump = json_dumps(claim, JSON_COMPACT | JSON_ENCODE_ANY);
        if (dump == NULL) {
            return NGX_ERROR;
        }

        v->len = ngx_strlen(dump);
        v->data = ngx_pnalloc(r->pool, v->len);
        if (v->data == NULL) {
            free(dump);
            return NGX_ERROR;
        }

        ngx_memcpy(v->data, dump, v->len);
        free(dump);
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static char *
ngx_http_lgsp_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_jwt_loc_conf_t *jlcf = conf;

    char                 err[256];
    u_char              *kid;
    ngx_str_t           *value, path;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;
    kid = NULL;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "kid=", 4) != 0 || value[2].len == 4) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        kid = value[2].data + 4;
    }

    if (jlcf->keys == NGX_CONF_UNSET_PTR) {
        cln = ngx_pool_cleanup_add(cf->pool, sizeof(lgsp_jwk_set_t));
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(cln->data, sizeof(lgsp_jwk_set_t));
        cln->handler = ngx_http_lgsp_jwt_free_keys;
        jlcf->keys = cln->data;
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (lgsp_jwk_set_add_file(jlcf->keys, (char *) path.data, (char *) kid,
                              err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid key file \"%V\": %s", &path, err);
        return NGX_CONF_ERROR;
    }

    if (jlcf->keys->nskipped) {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "key file \"%V\": %uz key%s it cannot use"
                           " skipped (RFC 7517 section 5): %s", &path,
                           jlcf->keys->nskipped,
                           jlcf->keys->nskipped == 1 ? "" : "s",
                           jlcf->keys->skipped);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_jwt_loc_conf_t *jlcf = conf;

    int          alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (jlcf->algorithms != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    jlcf->algorithms = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = lgsp_jwa_from_name((char *) value[i].data, value[i].len);

        if (alg < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s algorithm \"%V\"",
                               ngx_strcasecmp(value[i].data,
                                              (u_char *) "none") == 0
                               ? "unsigned tokens are never accepted:"
                                 " invalid"
                               : "unknown", &value[i]);
            return NGX_CONF_ERROR;
        }

        jlcf->algorithms |= LGSP_JWA_BIT(alg);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_jwt_require_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_lgsp_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t                       *value, *v;
    ngx_uint_t                       i;
    ngx_http_lgsp_jwt_claim_rule_t  *rule;

    if (jlcf->claim_rules == NGX_CONF_UNSET_PTR) {
        jlcf->claim_rules = ngx_array_create(cf->pool, 2,
                                    sizeof(ngx_http_lgsp_jwt_claim_rule_t));
        if (jlcf->claim_rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    rule = ngx_array_push(jlcf->claim_rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    rule->name = value[1];
    rule->values = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                    sizeof(ngx_str_t));
    if (rule->values == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        v = ngx_array_push(rule->values);
        if (v == NULL) {
            return NGX_CONF_ERROR;
        }

        *v = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_jwt_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t   *value, *type;
    ngx_uint_t   i;

    if (jlcf->types != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "any") == 0) {
        jlcf->types = NULL;
        return NGX_CONF_OK;
    }

    jlcf->types = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                   sizeof(ngx_str_t));
    if (jlcf->types == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || ngx_strcmp(value[i].data, "any") == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid type \"%V\": \"any\" stands alone",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        type = ngx_array_push(jlcf->types);
        if (type == NULL) {
            return NGX_CONF_ERROR;
        }

        *type = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_jwt_bind(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t  *value;

    if (jlcf->bind != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        jlcf->bind = NGX_HTTP_LGSP_JWT_BIND_OFF;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "cert") != 0
        || (cf->args->nelts == 3
            && ngx_strcmp(value[2].data, "required") != 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V%s%s\": use off, cert or"
                           " cert required", &value[1],
                           cf->args->nelts == 3 ? " " : "",
                           cf->args->nelts == 3 ? value[2].data
                                                : (u_char *) "");
        return NGX_CONF_ERROR;
    }

    jlcf->bind = (cf->args->nelts == 3) ? NGX_HTTP_LGSP_JWT_BIND_REQUIRED
                                        : NGX_HTTP_LGSP_JWT_BIND_CERT;

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_jwt_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_jwt_main_conf_t *jmcf = conf;

    u_char     *p;
    ngx_str_t  *value, name, size;

    if (jmcf->cache) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": use zone=NAME:SIZE",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 5;
    p = (u_char *) ngx_strchr(name.data, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.len = p - name.data;
    size.data = p + 1;
    size.len = value[1].data + value[1].len - size.data;

    jmcf->cache = ngx_http_lgsp_lru_add_zone(cf, &value[1], &name, &size,
                                  &ngx_http_lgsp_jwt_module,
                                  ngx_http_lgsp_jwt_cache_insert_value,
                                  "lgsp_jwt_cache");

    return jmcf->cache ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static void
ngx_http_lgsp_jwt_free_keys(void *data)
{
    lgsp_jwk_set_free(data);
}


/*
 * Checks what lgsp_jwt on needs and digests the verification policy; the
 * digest is part of every cache key, so a token verified under one
 * policy (keys, algorithms, issuer...) is never taken as verified under
 * another, also across reloads, while the cache zone lives on.
 */
static char *
ngx_http_lgsp_jwt_policy(ngx_conf_t *cf, ngx_http_lgsp_jwt_loc_conf_t *conf)
{
    u_char                          *p;
    size_t                           i, j;
    unsigned                         usable;
    ngx_str_t                        text, none, *values;
    lgsp_jwk_t                      *key;
    EVP_MD_CTX                      *ctx;
    unsigned char                   *der;
    ngx_http_lgsp_jwt_claim_rule_t  *rules;
    u_char                           buf[1024];
    ngx_uint_t                       remote;

    remote = ngx_http_lgsp_jwks_configured(cf);

    if ((conf->keys == NULL || conf->keys->nkeys == 0) && !remote) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "lgsp_jwt is on, but no lgsp_jwt_key_file"
                           " or lgsp_jwt_jwks_uri is given");
        return NGX_CONF_ERROR;
    }

    usable = conf->keys ? lgsp_jwk_set_algs(conf->keys) : 0;

    /* remote keys are not known yet: each will serve its own type only */
    if (remote) {
        usable |= LGSP_JWA_ALL & ~LGSP_JWA_HMAC;
    }

    if (conf->algorithms == 0) {
        conf->algorithms = usable;

    } else if ((conf->algorithms & usable) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no key given by lgsp_jwt_key_file can serve an"
                           " algorithm of lgsp_jwt_algorithms");
        return NGX_CONF_ERROR;
    }

    ctx = lgsp_sha256_start();
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; conf->keys && i < conf->keys->nkeys; i++) {
        key = &conf->keys->keys[i];
        der = NULL;

        p = ngx_snprintf(buf, sizeof(buf), "key %d %s %ud ", key->type,
                         key->kid ? key->kid : "", key->algs);
        EVP_DigestUpdate(ctx, buf, p - buf);

        if (key->secret) {
            EVP_DigestUpdate(ctx, key->secret,
                             key->secret_len);

        } else {
            text.len = i2d_PUBKEY(key->pkey, &der);
            if (der == NULL) {
                return NGX_CONF_ERROR;
            }

            EVP_DigestUpdate(ctx, der, text.len);
            OPENSSL_free(der);
        }
    }

    ngx_str_set(&none, "");

    p = ngx_snprintf(buf, sizeof(buf), "|algs %ui|iss %V|aud %V|leeway %T"
                     "|exp %i|agency %V|bind %ui|",
                     conf->algorithms,
                     conf->issuer.len ? &conf->issuer : &none,
                     conf->audience.len ? &conf->audience : &none,
                     conf->leeway, conf->require_exp, &conf->agency_claim,
                     conf->bind);
    EVP_DigestUpdate(ctx, buf, p - buf);

    /* a token cached where any typ passed must not pass where one is due */
    if (conf->types) {
        values = conf->types->elts;
        EVP_DigestUpdate(ctx, "typ", sizeof("typ"));

        for (j = 0; j < conf->types->nelts; j++) {
            EVP_DigestUpdate(ctx, values[j].data, values[j].len + 1);
        }
    }

    if (conf->claim_rules) {
        rules = conf->claim_rules->elts;

        for (i = 0; i < conf->claim_rules->nelts; i++) {
            EVP_DigestUpdate(ctx, rules[i].name.data,
                             rules[i].name.len + 1);
            values = rules[i].values->elts;

            for (j = 0; j < rules[i].values->nelts; j++) {
                EVP_DigestUpdate(ctx, values[j].data,
                                 values[j].len + 1);
            }
        }
    }

    if (EVP_DigestFinal_ex(ctx, conf->policy, NULL) != 1)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_jwt_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_lgsp_jwt_claim_prefix,
                                NGX_HTTP_VAR_PREFIX|NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_lgsp_jwt_claim_variable;

    /* before any postconfiguration: the catalogue is built in one */
    return ngx_http_lgsp_catalog_describer_add(cf,
                                               ngx_http_lgsp_jwt_describe);
}


/* for the catalogue: "jwt" or "jwt-optional", and "claim=v1 v2" rules */
static ngx_int_t
ngx_http_lgsp_jwt_describe(ngx_conf_t *cf, void **loc_conf,
    ngx_http_lgsp_service_info_t *info)
{
    u_char                          *p;
    size_t                           len;
    ngx_str_t                       *text, *values;
    ngx_uint_t                       i, j;
    ngx_http_lgsp_jwt_loc_conf_t    *jlcf;
    ngx_http_lgsp_jwt_claim_rule_t  *rules;

    jlcf = loc_conf[ngx_http_lgsp_jwt_module.ctx_index];

    if (jlcf->mode == NGX_HTTP_LGSP_JWT_OFF) {
        return NGX_OK;
    }

    if (jlcf->mode == NGX_HTTP_LGSP_JWT_ON) {
        ngx_str_set(&info->authentication, "jwt");

    } else {
        ngx_str_set(&info->authentication, "jwt-optional");
    }

    if (jlcf->claim_rules == NULL) {
        return NGX_OK;
    }

    rules = jlcf->claim_rules->elts;

    info->claims = ngx_array_create(cf->pool, jlcf->claim_rules->nelts,
                                    sizeof(ngx_str_t));
    if (info->claims == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < jlcf->claim_rules->nelts; i++) {
        values = rules[i].values->elts;
        len = rules[i].name.len;

        for (j = 0; j < rules[i].values->nelts; j++) {
            len += 1 + values[j].len;
        }

        text = ngx_array_push(info->claims);
        if (text == NULL) {
            return NGX_ERROR;
        }

        text->data = ngx_pnalloc(cf->pool, len);
        if (text->data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(text->data, rules[i].name.data, rules[i].name.len);

        for (j = 0; j < rules[i].values->nelts; j++) {
            *p++ = j ? ' ' : '=';
            p = ngx_cpymem(p, values[j].data, values[j].len);
        }

        text->len = p - text->data;
    }

    return NGX_OK;
}


static char *
ngx_http_lgsp_jwt_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_jwt_loc_conf_t *jlcf = conf;

    char  *rv;

    rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    jlcf->mode_file = cf->conf_file->file.name;
    jlcf->mode_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static void *
ngx_http_lgsp_jwt_create_main_conf(ngx_conf_t *cf)
{
    ngx_uint_t                      i;
    ngx_http_lgsp_jwt_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_jwt_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->cache = NULL;
     */

    if (ngx_array_init(&conf->auth_uris, cf->pool, 4, sizeof(ngx_str_t))
        != NGX_OK
        || ngx_array_init(&conf->locations, cf->pool, 4,
                          sizeof(ngx_http_lgsp_jwt_location_t))
           != NGX_OK)
    {
        return NULL;
    }

    /* found by name: nginx may be built without it */
    conf->auth_request = -1;

    for (i = 0; cf->cycle->modules[i]; i++) {
        if (ngx_strcmp(cf->cycle->modules[i]->name,
                       "ngx_http_auth_request_module")
            == 0)
        {
            conf->auth_request = cf->cycle->modules[i]->ctx_index;
            break;
        }
    }

    return conf;
}


static void *
ngx_http_lgsp_jwt_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_jwt_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_jwt_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->mode_file = { 0, NULL };
     *     conf->mode_line = 0;
     *     conf->issuer = { 0, NULL };
     *     conf->audience = { 0, NULL };
     *     conf->agency_claim = { 0, NULL };
     *     conf->policy = { 0 };
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->algorithms = NGX_CONF_UNSET_UINT;
    conf->leeway = NGX_CONF_UNSET;
    conf->require_exp = NGX_CONF_UNSET;
    conf->claim_rules = NGX_CONF_UNSET_PTR;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->max_size = NGX_CONF_UNSET_SIZE;
    conf->types = NGX_CONF_UNSET_PTR;
    conf->bind = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_lgsp_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lgsp_jwt_loc_conf_t *prev = parent;
    ngx_http_lgsp_jwt_loc_conf_t *conf = child;

    if (conf->mode == NGX_CONF_UNSET_UINT) {
        conf->mode_file = prev->mode_file;
        conf->mode_line = prev->mode_line;
    }

    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              NGX_HTTP_LGSP_JWT_OFF);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_uint_value(conf->algorithms, prev->algorithms, 0);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_value(conf->require_exp, prev->require_exp, 1);
    ngx_conf_merge_str_value(conf->agency_claim, prev->agency_claim,
                             "agency");
    ngx_conf_merge_ptr_value(conf->claim_rules, prev->claim_rules, NULL);
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size, 8192);
    ngx_conf_merge_ptr_value(conf->types, prev->types, NULL);
    ngx_conf_merge_uint_value(conf->bind, prev->bind,
                              NGX_HTTP_LGSP_JWT_BIND_OFF);

    if (ngx_http_lgsp_jwt_note_location(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->mode == NGX_HTTP_LGSP_JWT_OFF) {
        return NGX_CONF_OK;
    }

    return ngx_http_lgsp_jwt_policy(cf, conf);
}


/*
 * nginx skips the access phase of subrequests, where lgsp_jwt works: a
 * location reached only through auth_request is not authenticated by its
 * lgsp_jwt.  While merging, cf->ctx holds the location's configurations:
 * its name, with lgsp_jwt on, and its auth_request URI (the first field of
 * ngx_http_auth_request_module's configuration, merged before ours, as
 * nginx's own modules come first) are noted here for the warning.
 */
static ngx_int_t
ngx_http_lgsp_jwt_note_location(ngx_conf_t *cf,
    ngx_http_lgsp_jwt_loc_conf_t *conf)
{
    ngx_str_t                      *uri, *auth_uri;
    ngx_http_conf_ctx_t            *ctx;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_lgsp_jwt_location_t   *loc;
    ngx_http_lgsp_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_jwt_module);
    ctx = cf->ctx;

    if (jmcf->auth_request >= 0) {
        auth_uri = ctx->loc_conf[jmcf->auth_request];
        uri = jmcf->auth_uris.nelts ? (ngx_str_t *) jmcf->auth_uris.elts
                                      + jmcf->auth_uris.nelts - 1
                                    : NULL;

        /* inner locations inherit it: noted once */
        if (auth_uri->len && (uri == NULL || uri->data != auth_uri->data)) {
            uri = ngx_array_push(&jmcf->auth_uris);
            if (uri == NULL) {
                return NGX_ERROR;
            }

            *uri = *auth_uri;
        }
    }

    clcf = ctx->loc_conf[ngx_http_core_module.ctx_index];

    if (conf->mode != NGX_HTTP_LGSP_JWT_OFF && clcf->name.len) {
        loc = ngx_array_push(&jmcf->locations);
        if (loc == NULL) {
            return NGX_ERROR;
        }

        loc->name = &clcf->name;
        loc->conf = conf;
    }

    return NGX_OK;
}


/* a location named exactly as an auth_request URI: the one it reaches */
static void
ngx_http_lgsp_jwt_warn_auth_request(ngx_conf_t *cf)
{
    ngx_uint_t                      i, j;
    ngx_str_t                      *uris;
    ngx_http_lgsp_jwt_location_t   *locs;
    ngx_http_lgsp_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_jwt_module);
    uris = jmcf->auth_uris.elts;
    locs = jmcf->locations.elts;

    for (i = 0; i < jmcf->locations.nelts; i++) {
        for (j = 0; j < jmcf->auth_uris.nelts; j++) {
            if (locs[i].name->len != uris[j].len
                || ngx_strncmp(locs[i].name->data, uris[j].data, uris[j].len)
                   != 0)
            {
                continue;
            }

            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "\"lgsp_jwt\" in %V:%ui does not authenticate"
                          " the requests that \"auth_request %V\" sends to"
                          " location \"%V\": nginx skips the access phase"
                          " of subrequests; set lgsp_jwt where the request"
                          " itself is handled",
                          &locs[i].conf->mode_file, locs[i].conf->mode_line,
                          &uris[j], locs[i].name);
            break;
        }
    }
}


static ngx_int_t
ngx_http_lgsp_jwt_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_lgsp_module_used(cf, &ngx_http_lgsp_jwt_module)) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_jwt_handler;

    ngx_http_lgsp_jwt_warn_auth_request(cf);

    return NGX_OK;
}
