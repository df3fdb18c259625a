/*
 * LGSP on nginx: remote JWT key sets, for key rotation at the identity
 * provider.  The JWKS document is fetched by subrequest to an internal
 * location (lgsp_jwt_jwks_uri) and shared by all workers through
 * ngx_http_lgsp_fetch_module; each worker parses it again only when its
 * version changes.  A token whose kid the set lacks asks for one early
 * fetch per lgsp_jwt_jwks_min_refresh; the last good set stays in use
 * while the provider is down.  The JWT module asks through
 * ngx_http_lgsp_jwks.h.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_lgsp_fetch.h"
#include "ngx_http_lgsp_jwks.h"


/* one per lgsp_jwt_jwks_uri line; each worker has its own parsed set */
typedef struct {
    ngx_http_lgsp_fetch_t       *fetch;
    ngx_uint_t                   version;       /* of the parsed set */
    lgsp_jwk_set_t              *set;
    u_char                       digest[NGX_HTTP_LGSP_JWKS_DIGEST_LEN];
} ngx_http_lgsp_jwks_t;


typedef struct {
    ngx_http_lgsp_jwks_t        *jwks;
    ngx_msec_t                   min_refresh;
} ngx_http_lgsp_jwks_loc_conf_t;


static ngx_int_t ngx_http_lgsp_jwks_update(ngx_http_request_t *r,
    ngx_http_lgsp_jwks_t *jwks, ngx_str_t *doc, ngx_uint_t version);
static ngx_int_t ngx_http_lgsp_jwks_digest(ngx_str_t *doc, u_char *digest);
static lgsp_jwk_set_t *ngx_http_lgsp_jwks_parse(ngx_str_t *doc, u_char *err,
    size_t errlen);
static ngx_int_t ngx_http_lgsp_jwks_check(ngx_http_request_t *r,
    ngx_str_t *body, ngx_str_t *value, time_t *ttl, u_char *err,
    size_t errlen);
static char *ngx_http_lgsp_jwks_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_lgsp_jwks_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_jwks_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);


static ngx_str_t  ngx_http_lgsp_jwks_what = ngx_string("JWT key set");


static ngx_command_t  ngx_http_lgsp_jwks_commands[] = {

    { ngx_string("lgsp_jwt_jwks_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_lgsp_jwks_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_jwt_jwks_min_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_jwks_loc_conf_t, min_refresh),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_jwks_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_jwks_create_loc_conf,    /* create location configuration */
    ngx_http_lgsp_jwks_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_jwks_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_jwks_module_ctx,        /* module context */
    ngx_http_lgsp_jwks_commands,           /* module directives */
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


/*
 * This module is listed before the JWT module in "config", so its
 * locations are merged when the JWT module checks its own.
 */
ngx_uint_t
ngx_http_lgsp_jwks_configured(ngx_conf_t *cf)
{
    ngx_http_lgsp_jwks_loc_conf_t  *klcf;

    klcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_lgsp_jwks_module);

    return klcf->jwks != NULL && klcf->jwks != NGX_CONF_UNSET_PTR;
}


ngx_int_t
ngx_http_lgsp_jwks_keys(ngx_http_request_t *r, ngx_uint_t refetch,
    lgsp_jwk_set_t **keys, u_char **digest)
{
    ngx_int_t                       rc;
    ngx_str_t                       doc;
    ngx_uint_t                      version;
    ngx_msec_int_t                  min_age;
    ngx_http_lgsp_jwks_t           *jwks;
    ngx_http_lgsp_fetch_state_t    *st;
    ngx_http_lgsp_jwks_loc_conf_t  *klcf;

    klcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_jwks_module);
    jwks = klcf->jwks;

    *keys = NULL;
    *digest = NULL;

    if (jwks == NULL) {
        return NGX_OK;
    }

    st = ngx_http_get_module_ctx(r, ngx_http_lgsp_jwks_module);

    if (st == NULL) {
        st = ngx_pcalloc(r->pool, sizeof(ngx_http_lgsp_fetch_state_t));
        if (st == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, st, ngx_http_lgsp_jwks_module);
    }

    version = jwks->version;
    min_age = refetch ? (ngx_msec_int_t) klcf->min_refresh : -1;

    rc = ngx_http_lgsp_fetch_get(r, st, jwks->fetch, min_age, &doc,
                                 &version);

    if (rc == NGX_OK && version != jwks->version) {
        rc = ngx_http_lgsp_jwks_update(r, jwks, &doc, version);
    }

    if (rc == NGX_AGAIN || rc == NGX_ERROR) {
        return rc;
    }

    /* NGX_DECLINED: nothing fetched yet; the set we have, if any */

    if (jwks->set) {
        *keys = jwks->set;
        *digest = jwks->digest;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_jwks_update(ngx_http_request_t *r, ngx_http_lgsp_jwks_t *jwks,
    ngx_str_t *doc, ngx_uint_t version)
{
    u_char           err[128], digest[NGX_HTTP_LGSP_JWKS_DIGEST_LEN];
    lgsp_jwk_set_t  *set;

    if (ngx_http_lgsp_jwks_digest(doc, digest) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the same document fetched anew: the parsed set stands */
    if (jwks->set && ngx_memcmp(digest, jwks->digest, sizeof(digest)) == 0) {
        jwks->version = version;
        return NGX_OK;
    }

    set = ngx_http_lgsp_jwks_parse(doc, err, sizeof(err));

    if (set == NULL) {
        /* checked when fetched: only memory can fail here */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "lgsp: the JWT key set from \"%V\": %s",
                      &jwks->fetch->uri, err);
        return NGX_OK;
    }

    if (jwks->set) {
        lgsp_jwk_set_free(jwks->set);
        ngx_free(jwks->set);
    }

    jwks->set = set;
    jwks->version = version;
    ngx_memcpy(jwks->digest, digest, sizeof(digest));

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "lgsp jwks: version %ui, %uz keys", version, set->nkeys);

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_jwks_digest(ngx_str_t *doc, u_char *digest)
{
    if (EVP_Digest(doc->data, doc->len, digest, NULL, EVP_sha256(), NULL)
        != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A JWKS document or a single JWK with at least one key for signatures;
 * keys it cannot use are left out (RFC 7517 5), set->skipped says which.
 */
static lgsp_jwk_set_t *
ngx_http_lgsp_jwks_parse(ngx_str_t *doc, u_char *err, size_t errlen)
{
    u_char          *p, *last;
    lgsp_jwk_set_t  *set;

    last = doc->data + doc->len;

    for (p = doc->data; p < last && (*p == ' ' || *p == '\t' || *p == '\r'
                                     || *p == '\n'); p++)
    {
        /* void */
    }

    /* lgsp_jwk_set_add_buffer() would take anything else as a secret */
    if (p == last || *p != '{') {
        ngx_cpystrn(err, (u_char *) "the answer is not a JSON object",
                    errlen);
        return NULL;
    }

    set = ngx_calloc(sizeof(lgsp_jwk_set_t), ngx_cycle->log);
    if (set == NULL) {
        ngx_cpystrn(err, (u_char *) "no memory", errlen);
        return NULL;
    }

    if (lgsp_jwk_set_add_buffer(set, doc->data, doc->len, NULL, (char *) err,
                                errlen)
        != 0)
    {
        lgsp_jwk_set_free(set);
        ngx_free(set);
        return NULL;
    }

    return set;
}


/*
 * A bad document never replaces the last good one.  Keys left out are
 * told once per new document, not at every refresh: the fetching
 * request's location knows the document its worker has.
 */
static ngx_int_t
ngx_http_lgsp_jwks_check(ngx_http_request_t *r, ngx_str_t *body,
    ngx_str_t *value, time_t *ttl, u_char *err, size_t errlen)
{
    u_char                          digest[NGX_HTTP_LGSP_JWKS_DIGEST_LEN];
    lgsp_jwk_set_t                 *set;
    ngx_http_lgsp_jwks_t           *jwks;
    ngx_http_lgsp_jwks_loc_conf_t  *klcf;

    set = ngx_http_lgsp_jwks_parse(body, err, errlen);
    if (set == NULL) {
        return NGX_DECLINED;
    }

    klcf = ngx_http_get_module_loc_conf(r->parent, ngx_http_lgsp_jwks_module);
    jwks = klcf->jwks;

    if (set->nskipped
        && (ngx_http_lgsp_jwks_digest(body, digest) != NGX_OK
            || jwks == NULL || jwks->set == NULL
            || ngx_memcmp(digest, jwks->digest, sizeof(digest)) != 0))
    {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "lgsp: the JWT key set from \"%V\": %uz key%s it"
                      " cannot use skipped (RFC 7517 section 5): %s",
                      &r->uri, set->nskipped,
                      set->nskipped == 1 ? "" : "s", set->skipped);
    }

    lgsp_jwk_set_free(set);
    ngx_free(set);

    *value = *body;
    *ttl = 0;

    return NGX_OK;
}


static char *
ngx_http_lgsp_jwks_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_jwks_loc_conf_t *klcf = conf;

    time_t                 refresh;
    ngx_str_t             *value, s;
    ngx_http_lgsp_jwks_t  *jwks;

    if (klcf->jwks != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0 && cf->args->nelts == 2) {
        klcf->jwks = NULL;
        return NGX_CONF_OK;
    }

    refresh = 600;

    if (cf->args->nelts == 3) {
        s = value[2];

        if (ngx_strncmp(s.data, "refresh=", 8) != 0) {
            goto invalid;
        }

        s.data += 8;
        s.len -= 8;
        refresh = ngx_parse_time(&s, 1);

        if (refresh == (time_t) NGX_ERROR || refresh < 1) {
            goto invalid;
        }
    }

    jwks = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_jwks_t));
    if (jwks == NULL) {
        return NGX_CONF_ERROR;
    }

    jwks->fetch = ngx_http_lgsp_fetch_add(cf, &ngx_http_lgsp_jwks_what,
                                          &value[1]);
    if (jwks->fetch == NULL) {
        return NGX_CONF_ERROR;
    }

    if (jwks->fetch->check && jwks->fetch->refresh != refresh) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is given with another refresh elsewhere",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    jwks->fetch->check = ngx_http_lgsp_jwks_check;
    jwks->fetch->refresh = refresh;
    klcf->jwks = jwks;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\": use refresh=time",
                       &value[2]);
    return NGX_CONF_ERROR;
}


static void *
ngx_http_lgsp_jwks_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_jwks_loc_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_lgsp_jwks_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->jwks = NGX_CONF_UNSET_PTR;
    conf->min_refresh = NGX_CONF_UNSET_MSEC;

    return conf;
}


static char *
ngx_http_lgsp_jwks_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lgsp_jwks_loc_conf_t *prev = parent;
    ngx_http_lgsp_jwks_loc_conf_t *conf = child;

    time_t  retry;

    ngx_conf_merge_ptr_value(conf->jwks, prev->jwks, NULL);
    ngx_conf_merge_msec_value(conf->min_refresh, prev->min_refresh, 30000);

    if (conf->min_refresh < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "lgsp_jwt_jwks_min_refresh must be at least 1s");
        return NGX_CONF_ERROR;
    }

    /*
     * A failing provider is asked no more often than an unknown kid asks
     * (the retry counts whole seconds: rounded up).
     */
    retry = (time_t) ((conf->min_refresh + 999) / 1000);

    if (conf->jwks
        && (conf->jwks->fetch->retry == 0 || conf->jwks->fetch->retry > retry))
    {
        conf->jwks->fetch->retry = retry;
    }

    return NGX_CONF_OK;
}
