/*
 * LGSP on nginx: routing glue.  Access rights of agencies to services
 * (lgsp_allow_agency, closed by default), the service code sent upstream
 * in X-LGSP-Service, and lgsp_problem, which answers nginx's own errors
 * (an unreachable provider: 502, 504) with problem+json.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_catalog.h"
#include "lgsp_acl.h"


typedef struct {
    ngx_array_t                 *agencies;      /* of ngx_str_t, or NULL */
} ngx_http_lgsp_route_loc_conf_t;


typedef struct {
    ngx_uint_t                   status;
    ngx_str_t                    type;
    ngx_str_t                    title;
    ngx_str_t                    detail;
} ngx_http_lgsp_route_error_t;


static ngx_int_t ngx_http_lgsp_route_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_route_deny(ngx_http_request_t *r,
    ngx_http_lgsp_ctx_t *ctx, ngx_str_t *service);
static ngx_int_t ngx_http_lgsp_problem_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_route_describe(ngx_conf_t *cf,
    void **loc_conf, ngx_http_lgsp_service_info_t *info);
static char *ngx_http_lgsp_allow_agency(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_problem(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_lgsp_route_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_route_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_lgsp_route_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_lgsp_route_init(ngx_conf_t *cf);


static ngx_http_lgsp_header_t  ngx_http_lgsp_service_header =
    ngx_http_lgsp_header("X-LGSP-Service", "x-lgsp-service",
                         NGX_HTTP_LGSP_UPSTREAM_SERVICE);


static ngx_http_lgsp_route_error_t  ngx_http_lgsp_route_errors[] = {
    { NGX_HTTP_BAD_GATEWAY, ngx_string("bad-gateway"),
      ngx_string("Bad Gateway"),
      ngx_string("the provider system could not be reached") },
    { NGX_HTTP_SERVICE_UNAVAILABLE, ngx_string("unavailable"),
      ngx_string("Service Unavailable"),
      ngx_string("the service is unavailable") },
    { NGX_HTTP_GATEWAY_TIME_OUT, ngx_string("gateway-timeout"),
      ngx_string("Gateway Timeout"),
      ngx_string("the provider system did not answer in time") },
    { NGX_HTTP_BAD_REQUEST, ngx_string("bad-request"),
      ngx_string("Bad Request"),
      ngx_string("the request is malformed or too large") },
    { NGX_HTTP_FORBIDDEN, ngx_string("forbidden"),
      ngx_string("Forbidden"),
      ngx_string("access to this location is denied") },
    { NGX_HTTP_NOT_FOUND, ngx_string("not-found"),
      ngx_string("Not Found"),
      ngx_string("no service here") },
    { NGX_HTTP_NOT_ALLOWED, ngx_string("method-not-allowed"),
      ngx_string("Method Not Allowed"),
      ngx_string("the service does not take this method") },
    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, ngx_string("too-large"),
      ngx_string("Payload Too Large"),
      ngx_string("the request body is too large") },
    { 0, ngx_string("error"), ngx_string("Error"),
      ngx_string("the request could not be served") }
};


static ngx_command_t  ngx_http_lgsp_route_commands[] = {

    { ngx_string("lgsp_allow_agency"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_allow_agency,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_problem"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_lgsp_problem,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_route_module_ctx = {
    ngx_http_lgsp_route_preconfiguration,  /* preconfiguration */
    ngx_http_lgsp_route_init,              /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_route_create_loc_conf,   /* create location configuration */
    ngx_http_lgsp_route_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_route_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_route_module_ctx,       /* module context */
    ngx_http_lgsp_route_commands,          /* module directives */
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
 * A location with lgsp_service is closed unless lgsp_allow_agency opens
 * it: publishing a service grants nobody access.  The service code goes
 * upstream here, once the location is known.
 */
static ngx_int_t
ngx_http_lgsp_route_access_handler(ngx_http_request_t *r)
{
    ngx_str_t                       *entry, service;
    ngx_uint_t                       i;
    ngx_http_lgsp_ctx_t             *ctx;
    ngx_http_lgsp_loc_conf_t        *llcf;
    ngx_http_lgsp_route_loc_conf_t  *rlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);

    if (llcf->service.len == 0) {
        return NGX_DECLINED;
    }

    service = llcf->service;

    if (ngx_http_lgsp_set_upstream(r, &ngx_http_lgsp_service_header,
                                   &service)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_route_module);

    if (rlcf->agencies) {
        entry = rlcf->agencies->elts;

        for (i = 0; i < rlcf->agencies->nelts; i++) {
            if (lgsp_acl_entry_match((char *) entry[i].data, entry[i].len,
                                     (char *) ctx->agency.data,
                                     ctx->agency.len))
            {
                return NGX_DECLINED;
            }
        }
    }

    ngx_http_finalize_request(r, ngx_http_lgsp_route_deny(r, ctx, &service));
    return NGX_DONE;
}


static ngx_int_t
ngx_http_lgsp_route_deny(ngx_http_request_t *r, ngx_http_lgsp_ctx_t *ctx,
    ngx_str_t *service)
{
    ngx_str_t                *agency;
    ngx_http_lgsp_problem_t   problem;

    agency = &ctx->agency;
    ngx_str_set(&ctx->reason, "agency not allowed");

    problem.status = NGX_HTTP_FORBIDDEN;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_ACCESS;
    ngx_str_set(&problem.type, "agency-not-allowed");
    ngx_str_set(&problem.title, "Forbidden");
    ngx_str_null(&problem.members);

    problem.detail.data = ngx_pnalloc(r->pool, sizeof("agency \"\" may not"
                                      " call service \"\"") - 1
                                      + agency->len + service->len);
    if (problem.detail.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (agency->len) {
        problem.detail.len = ngx_sprintf(problem.detail.data,
                                         "agency \"%V\" may not call service"
                                         " \"%V\"", agency, service)
                             - problem.detail.data;
    } else {
        problem.detail.len = ngx_sprintf(problem.detail.data,
                                         "service \"%V\" is open to named"
                                         " agencies only", service)
                             - problem.detail.data;
    }

    return ngx_http_lgsp_send_problem(r, &problem);
}


/*
 * The content of an error_page location: nginx's own error (r->err_status,
 * e.g. 502 when the provider is down) as a problem document with the txid.
 */
static ngx_int_t
ngx_http_lgsp_problem_handler(ngx_http_request_t *r)
{
    ngx_uint_t                    status;
    ngx_http_lgsp_problem_t       problem;
    ngx_http_lgsp_route_error_t  *e;

    status = r->err_status ? r->err_status : NGX_HTTP_NOT_FOUND;

    for (e = ngx_http_lgsp_route_errors; e->status; e++) {
        if (e->status == status) {
            break;
        }
    }

    problem.status = status;
    problem.outcome = (status >= NGX_HTTP_BAD_GATEWAY
                       && status <= NGX_HTTP_GATEWAY_TIME_OUT)
                      ? NGX_HTTP_LGSP_OUTCOME_UPSTREAM
                      : NGX_HTTP_LGSP_OUTCOME_ERROR;
    problem.type = e->type;
    problem.title = e->title;
    problem.detail = e->detail;
    ngx_str_null(&problem.members);

    return ngx_http_lgsp_send_problem(r, &problem);
}


/* the catalogue lists who may call: NULL is nobody */
static ngx_int_t
ngx_http_lgsp_route_describe(ngx_conf_t *cf, void **loc_conf,
    ngx_http_lgsp_service_info_t *info)
{
    ngx_http_lgsp_route_loc_conf_t  *rlcf;

    rlcf = loc_conf[ngx_http_lgsp_route_module.ctx_index];
    info->agencies = rlcf->agencies;

    return NGX_OK;
}


static char *
ngx_http_lgsp_allow_agency(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_route_loc_conf_t *rlcf = conf;

    ngx_str_t   *value, *entry;
    ngx_uint_t   i;

    if (rlcf->agencies == NGX_CONF_UNSET_PTR) {
        rlcf->agencies = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (rlcf->agencies == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (!lgsp_acl_entry_valid((char *) value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid agency \"%V\": use a code, a prefix"
                               " ending in \"*\", or \"*\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        entry = ngx_array_push(rlcf->agencies);
        if (entry == NULL) {
            return NGX_CONF_ERROR;
        }

        *entry = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_problem(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate, or the location has another handler";
    }

    clcf->handler = ngx_http_lgsp_problem_handler;

    return NGX_CONF_OK;
}


static void *
ngx_http_lgsp_route_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_route_loc_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_lgsp_route_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->agencies = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_lgsp_route_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lgsp_route_loc_conf_t *prev = parent;
    ngx_http_lgsp_route_loc_conf_t *conf = child;

    /* like allow/deny: a level with its own lines takes none from above */
    ngx_conf_merge_ptr_value(conf->agencies, prev->agencies, NULL);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_route_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_lgsp_catalog_describer_add(cf,
                                               ngx_http_lgsp_route_describe);
}


/*
 * The agency check needs the identity that JWT authentication sets in the
 * same access phase.  nginx runs a phase's handlers in the reverse order
 * of their registration, and postconfiguration in module order: this
 * module is listed before ngx_http_lgsp_jwt_module in "config", so its
 * handler comes after JWT's.  The access phase (not precontent) keeps the
 * check before quotas, so a refused agency spends none of its quota.
 */
static ngx_int_t
ngx_http_lgsp_route_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_lgsp_configured(cf)) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_route_access_handler;

    return NGX_OK;
}
