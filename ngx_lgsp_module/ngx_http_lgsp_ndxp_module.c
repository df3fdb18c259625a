/*
 * LGSP on nginx: the access token of the national platform (NDXP).  The
 * token is fetched by OAuth2 client credentials through an internal
 * location the operator writes (lgsp_ndxp_token_uri), shared by all
 * workers (ngx_http_lgsp_fetch_module), refreshed ahead of expiry and
 * dropped when the platform answers 401; $lgsp_ndxp_token gives it to
 * proxy_set_header.  The consumer key and secret come from a file
 * (lgsp_ndxp_credentials_file) as $lgsp_ndxp_basic_auth.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_fetch.h"
#include "ngx_http_lgsp_metrics.h"
#include "lgsp_oauth.h"


/* the credentials file: "consumerKey:consumerSecret" */
#define NGX_HTTP_LGSP_NDXP_CREDENTIALS_MAX  1024


typedef struct {
    ngx_http_lgsp_fetch_t       *fetch;
    ngx_str_t                    basic_auth;   /* base64(key:secret), the
                                                  parts form-encoded */
} ngx_http_lgsp_ndxp_loc_conf_t;


typedef struct {
    ngx_http_lgsp_fetch_state_t  fetch;
    ngx_str_t                    token;
    ngx_uint_t                   version;
} ngx_http_lgsp_ndxp_ctx_t;


static ngx_int_t ngx_http_lgsp_ndxp_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_ndxp_unavailable(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_ndxp_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_ndxp_check(ngx_http_request_t *r,
    ngx_str_t *body, ngx_str_t *value, time_t *ttl, u_char *err,
    size_t errlen);
static void ngx_http_lgsp_ndxp_ended(ngx_uint_t ok, time_t expires);
static ngx_int_t ngx_http_lgsp_ndxp_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_lgsp_ndxp_basic_auth_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_lgsp_ndxp_token_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_ndxp_credentials_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_lgsp_ndxp_add_variables(ngx_conf_t *cf);
static void *ngx_http_lgsp_ndxp_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_ndxp_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_lgsp_ndxp_init(ngx_conf_t *cf);


static ngx_str_t  ngx_http_lgsp_ndxp_what = ngx_string("NDXP token");


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_command_t  ngx_http_lgsp_ndxp_commands[] = {

    { ngx_string("lgsp_ndxp_token_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_lgsp_ndxp_token_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_ndxp_credentials_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_lgsp_ndxp_credentials_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_ndxp_module_ctx = {
    ngx_http_lgsp_ndxp_add_variables,      /* preconfiguration */
    ngx_http_lgsp_ndxp_init,               /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_ndxp_create_loc_conf,    /* create location configuration */
    ngx_http_lgsp_ndxp_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_ndxp_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_ndxp_module_ctx,        /* module context */
    ngx_http_lgsp_ndxp_commands,           /* module directives */
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


static ngx_http_variable_t  ngx_http_lgsp_ndxp_vars[] = {

    { ngx_string("lgsp_ndxp_token"), NULL,
      ngx_http_lgsp_ndxp_token_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("lgsp_ndxp_basic_auth"), NULL,
      ngx_http_lgsp_ndxp_basic_auth_variable, 0, NGX_HTTP_VAR_NOCACHEABLE,
      0 },

      ngx_http_null_variable
};


/*
 * Precontent: the token is in hand before proxy_pass builds the request.
 * This module is listed before the quota and schema modules in "config",
 * so (handlers of a phase run in reverse order of registration) a request
 * those refuse never costs a token fetch.
 */
static ngx_int_t
ngx_http_lgsp_ndxp_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_lgsp_ndxp_ctx_t       *ctx;
    ngx_http_lgsp_ndxp_loc_conf_t  *nlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_ndxp_module);

    if (nlcf->fetch == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_ndxp_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_lgsp_ndxp_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_lgsp_ndxp_module);
    }

    rc = ngx_http_lgsp_fetch_get(r, &ctx->fetch, nlcf->fetch, -1,
                                 &ctx->token, &ctx->version);

    switch (rc) {

    case NGX_OK:
        return NGX_DECLINED;

    case NGX_AGAIN:
        return NGX_AGAIN;

    case NGX_DECLINED:
        ngx_http_finalize_request(r, ngx_http_lgsp_ndxp_unavailable(r));
        return NGX_DONE;

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


static ngx_int_t
ngx_http_lgsp_ndxp_unavailable(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t      *ctx;
    ngx_http_lgsp_problem_t   problem;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&ctx->reason, "no NDXP token");

    problem.status = NGX_HTTP_SERVICE_UNAVAILABLE;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_UPSTREAM;
    ngx_str_set(&problem.type, "ndxp-token-unavailable");
    ngx_str_set(&problem.title, "Service Unavailable");
    ngx_str_set(&problem.detail, "the national platform (NDXP) gave no"
                " access token; try again later");
    ngx_str_null(&problem.members);

    return ngx_http_lgsp_send_problem(r, &problem);
}


/* a 401 from the platform: the token is no good, the next request fetches */
static ngx_int_t
ngx_http_lgsp_ndxp_header_filter(ngx_http_request_t *r)
{
    ngx_http_lgsp_ndxp_ctx_t       *ctx;
    ngx_http_lgsp_ndxp_loc_conf_t  *nlcf;

    if (r == r->main && r->upstream
        && r->headers_out.status == NGX_HTTP_UNAUTHORIZED)
    {
        ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_ndxp_module);
        nlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_ndxp_module);

        if (ctx && ctx->token.len && nlcf->fetch) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "lgsp: the platform refused the NDXP token;"
                          " dropping it");

            ngx_http_lgsp_fetch_drop(nlcf->fetch, ctx->version);
            ngx_http_lgsp_metrics_set(ngx_cycle,
                                      NGX_HTTP_LGSP_METRIC_NDXP_TOKEN_EXPIRES,
                                      NULL, 0);
        }
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_lgsp_ndxp_check(ngx_http_request_t *r, ngx_str_t *body,
    ngx_str_t *value, time_t *ttl, u_char *err, size_t errlen)
{
    lgsp_oauth_token_t  *token;

    token = ngx_palloc(r->pool, sizeof(lgsp_oauth_token_t));
    if (token == NULL) {
        ngx_cpystrn(err, (u_char *) "no memory", errlen);
        return NGX_DECLINED;
    }

    if (lgsp_oauth_token_parse((char *) body->data, body->len, token,
                               (char *) err, errlen)
        != 0)
    {
        return NGX_DECLINED;
    }

    value->data = (u_char *) token->token;
    value->len = token->token_len;
    *ttl = (time_t) token->expires_in;

    return NGX_OK;
}


/* lgsp_ndxp_token_refreshes_total, lgsp_ndxp_token_expiry_timestamp_seconds */
static void
ngx_http_lgsp_ndxp_ended(ngx_uint_t ok, time_t expires)
{
    ngx_str_t  result;

    if (ok) {
        ngx_str_set(&result, "ok");
        ngx_http_lgsp_metrics_set(ngx_cycle,
                                  NGX_HTTP_LGSP_METRIC_NDXP_TOKEN_EXPIRES,
                                  NULL, expires);

    } else {
        ngx_str_set(&result, "failed");
    }

    ngx_http_lgsp_metrics_count(ngx_cycle,
                                NGX_HTTP_LGSP_METRIC_NDXP_REFRESHES,
                                &result, 1);
}


static ngx_int_t
ngx_http_lgsp_ndxp_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_lgsp_ndxp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_lgsp_ndxp_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_lgsp_variable_str(v, &ctx->token);
}


static ngx_int_t
ngx_http_lgsp_ndxp_basic_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_lgsp_ndxp_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_ndxp_module);

    return ngx_http_lgsp_variable_str(v, &nlcf->basic_auth);
}


static char *
ngx_http_lgsp_ndxp_token_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_ndxp_loc_conf_t *nlcf = conf;

    ngx_int_t    pct;
    ngx_str_t   *value, s;
    ngx_uint_t   i;
    ngx_flag_t   off;
    time_t       retry;

    if (nlcf->fetch != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    off = (ngx_strcmp(value[1].data, "off") == 0);
    pct = 80;
    retry = 1;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "refresh=", 8) == 0
            && value[i].len > 9 && value[i].data[value[i].len - 1] == '%')
        {
            pct = ngx_atoi(value[i].data + 8, value[i].len - 9);

            if (pct < 1 || pct > 100) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "retry=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            retry = ngx_parse_time(&s, 1);

            if (retry == (time_t) NGX_ERROR || retry < 1) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (off) {
        nlcf->fetch = NULL;
        return NGX_CONF_OK;
    }

    nlcf->fetch = ngx_http_lgsp_fetch_add(cf, &ngx_http_lgsp_ndxp_what,
                                          &value[1]);
    if (nlcf->fetch == NULL) {
        return NGX_CONF_ERROR;
    }

    if (nlcf->fetch->check
        && (nlcf->fetch->refresh_pct != (ngx_uint_t) pct
            || nlcf->fetch->retry != retry))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is given with other parameters elsewhere",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    nlcf->fetch->check = ngx_http_lgsp_ndxp_check;
    nlcf->fetch->ended = ngx_http_lgsp_ndxp_ended;
    nlcf->fetch->refresh_pct = pct;
    nlcf->fetch->retry = retry;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\": use refresh=1%%..100%%"
                       " and retry=time", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * Read once, at configuration time: the secret never enters a log.  Key
 * and secret are form-encoded (RFC 6749 2.3.1) unless encoding=raw.
 */
static char *
ngx_http_lgsp_ndxp_credentials_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_lgsp_ndxp_loc_conf_t *nlcf = conf;

    u_char       buf[NGX_HTTP_LGSP_NDXP_CREDENTIALS_MAX + 1], *colon;
    u_char       user_pass[3 * NGX_HTTP_LGSP_NDXP_CREDENTIALS_MAX];
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_str_t   *value, path, plain;
    ngx_uint_t   i, form;

    if (nlcf->basic_auth.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];
    form = 1;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "encoding=raw") == 0) {
            form = 0;

        } else if (ngx_strcmp(value[2].data, "encoding=form") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": use"
                               " encoding=form or encoding=raw", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &path);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    ngx_close_file(fd);

    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &path);
        return NGX_CONF_ERROR;
    }

    plain.data = buf;
    plain.len = n;

    while (plain.len && (plain.data[plain.len - 1] == '\n'
                         || plain.data[plain.len - 1] == '\r'))
    {
        plain.len--;
    }

    colon = ngx_strlchr(plain.data, plain.data + plain.len, ':');

    for (i = 0; i < plain.len; i++) {
        if (plain.data[i] < 0x20 || plain.data[i] == 0x7f) {
            break;
        }
    }

    if (n > NGX_HTTP_LGSP_NDXP_CREDENTIALS_MAX || colon == NULL
        || colon == plain.data || i < plain.len)
    {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid credentials file \"%V\": one line"
                           " \"consumerKey:consumerSecret\" expected",
                           &path);
        return NGX_CONF_ERROR;
    }

    plain.len = lgsp_oauth_basic_user_pass((char *) user_pass,
                                           (char *) plain.data, plain.len,
                                           (char *) colon, form);
    plain.data = user_pass;
    ngx_explicit_memzero(buf, sizeof(buf));

    nlcf->basic_auth.len = ngx_base64_encoded_length(plain.len);
    nlcf->basic_auth.data = ngx_pnalloc(cf->pool, nlcf->basic_auth.len);
    if (nlcf->basic_auth.data == NULL) {
        ngx_explicit_memzero(user_pass, sizeof(user_pass));
        return NGX_CONF_ERROR;
    }

    ngx_encode_base64(&nlcf->basic_auth, &plain);
    ngx_explicit_memzero(user_pass, sizeof(user_pass));

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_ndxp_add_variables(ngx_conf_t *cf)
{
    return ngx_http_lgsp_register_variables(cf, ngx_http_lgsp_ndxp_vars);
}


static void *
ngx_http_lgsp_ndxp_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_ndxp_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_ndxp_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->basic_auth = { 0, NULL };
     */

    conf->fetch = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_lgsp_ndxp_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lgsp_ndxp_loc_conf_t *prev = parent;
    ngx_http_lgsp_ndxp_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->fetch, prev->fetch, NULL);
    ngx_conf_merge_str_value(conf->basic_auth, prev->basic_auth, "");

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_ndxp_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_lgsp_module_used(cf, &ngx_http_lgsp_ndxp_module)) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_ndxp_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_lgsp_ndxp_header_filter;

    return NGX_OK;
}
