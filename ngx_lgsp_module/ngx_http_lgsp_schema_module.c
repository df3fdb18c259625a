/*
 * LGSP on nginx: JSON Schema validation of request bodies in the
 * precontent phase.  Schemas are compiled at configuration time
 * (lgsp_schema_*.c) and shared read-only by the workers; this file is the
 * nginx glue: directives, reading the body without blocking (in memory,
 * in a temporary file, chunked), and the problem+json answers.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_catalog.h"
#include "lgsp_body.h"
#include "lgsp_schema.h"


#define NGX_HTTP_LGSP_SCHEMA_ERR_LEN  512

#define NGX_HTTP_LGSP_UNPROCESSABLE_CONTENT  422


/* why a request is refused: an index into ngx_http_lgsp_schema_refusals */
typedef enum {
    NGX_HTTP_LGSP_SCHEMA_NOT_JSON = 0,
    NGX_HTTP_LGSP_SCHEMA_TOO_LARGE,
    NGX_HTTP_LGSP_SCHEMA_MISSING,
    NGX_HTTP_LGSP_SCHEMA_MALFORMED,
    NGX_HTTP_LGSP_SCHEMA_DUPLICATE_KEY,
    NGX_HTTP_LGSP_SCHEMA_TOO_DEEP,
    NGX_HTTP_LGSP_SCHEMA_INVALID,
    NGX_HTTP_LGSP_SCHEMA_TOO_COSTLY
} ngx_http_lgsp_schema_refusal_e;


typedef struct {
    ngx_uint_t                   status;
    ngx_str_t                    type;
    ngx_str_t                    title;
    ngx_str_t                    reason;       /* for the record */
} ngx_http_lgsp_schema_refusal_t;


/* one compiled schema, shared by every location naming the same file */
typedef struct {
    ngx_str_t                    path;
    ngx_flag_t                   format_assert;
    lgsp_schema_t               *schema;
} ngx_http_lgsp_schema_compiled_t;


typedef struct {
    ngx_array_t                  compiled;     /* of ..._compiled_t */
} ngx_http_lgsp_schema_main_conf_t;


typedef struct {
    /* unset: data NULL; "off": len 0 */
    ngx_str_t                    path;
    ngx_str_t                    name;         /* as written */

    /* where lgsp_schema_request is, for nginx -t when compiling fails */
    ngx_str_t                    conf_file;
    ngx_uint_t                   conf_line;

    ngx_flag_t                   format_assert;
    size_t                       max_body;
    ngx_uint_t                   max_depth;
    ngx_uint_t                   max_errors;
    ngx_uint_t                   max_cost;

    lgsp_schema_t               *schema;       /* NULL: no validation */
} ngx_http_lgsp_schema_loc_conf_t;


typedef struct {
    ngx_int_t                    status;       /* for the resumed phase */
    off_t                        received;     /* body bytes so far */
    unsigned                     too_large:1;
} ngx_http_lgsp_schema_ctx_t;


static ngx_int_t ngx_http_lgsp_schema_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_schema_check_request(ngx_http_request_t *r,
    ngx_http_lgsp_schema_loc_conf_t *slcf);
static ngx_int_t ngx_http_lgsp_schema_no_body(ngx_http_request_t *r);
static void ngx_http_lgsp_schema_body_handler(ngx_http_request_t *r);
static void *ngx_http_lgsp_schema_alloc(void *pool, size_t size);
static ngx_int_t ngx_http_lgsp_schema_validate(ngx_http_request_t *r,
    ngx_http_lgsp_schema_ctx_t *ctx);
static ngx_int_t ngx_http_lgsp_schema_violation(ngx_http_request_t *r,
    lgsp_schema_errors_t *errors);
static ngx_int_t ngx_http_lgsp_schema_too_costly(ngx_http_request_t *r,
    ngx_http_lgsp_schema_loc_conf_t *slcf);
static void ngx_http_lgsp_schema_too_large(ngx_http_request_t *r,
    ngx_http_lgsp_schema_loc_conf_t *slcf, off_t size);
static void ngx_http_lgsp_schema_refuse(ngx_http_request_t *r,
    ngx_http_lgsp_schema_refusal_e why, ngx_str_t *detail,
    ngx_str_t *members);
static ngx_int_t ngx_http_lgsp_schema_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static char *ngx_http_lgsp_schema_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_schema_check_max_body(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_lgsp_schema_check_bounds(ngx_conf_t *cf, void *post,
    void *data);
static lgsp_schema_t *ngx_http_lgsp_schema_compile(ngx_conf_t *cf,
    ngx_http_lgsp_schema_loc_conf_t *slcf);
static void ngx_http_lgsp_schema_free(void *data);
static ngx_int_t ngx_http_lgsp_schema_describe(ngx_conf_t *cf,
    void **loc_conf, ngx_http_lgsp_service_info_t *info);
static ngx_int_t ngx_http_lgsp_schema_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_lgsp_schema_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_lgsp_schema_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_schema_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_lgsp_schema_init(ngx_conf_t *cf);


static ngx_http_lgsp_schema_refusal_t  ngx_http_lgsp_schema_refusals[] = {

    { NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, ngx_string("unsupported-media-type"),
      ngx_string("Unsupported Media Type"), ngx_string("not_json") },

    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, ngx_string("body-too-large"),
      ngx_string("Content Too Large"), ngx_string("too_large") },

    { NGX_HTTP_BAD_REQUEST, ngx_string("body-missing"),
      ngx_string("Request Body Missing"), ngx_string("missing") },

    { NGX_HTTP_BAD_REQUEST, ngx_string("malformed-json"),
      ngx_string("Malformed JSON"), ngx_string("malformed") },

    { NGX_HTTP_BAD_REQUEST, ngx_string("duplicate-key"),
      ngx_string("Duplicate Object Key"), ngx_string("duplicate_key") },

    { NGX_HTTP_BAD_REQUEST, ngx_string("too-deep"),
      ngx_string("JSON Nested Too Deeply"), ngx_string("too_deep") },

    { NGX_HTTP_LGSP_UNPROCESSABLE_CONTENT, ngx_string("schema-violation"),
      ngx_string("Schema Violation"), ngx_string("invalid") },

    { NGX_HTTP_LGSP_UNPROCESSABLE_CONTENT,
      ngx_string("validation-too-costly"),
      ngx_string("Validation Too Costly"), ngx_string("too_costly") }
};


static ngx_conf_post_t  ngx_http_lgsp_schema_max_body_post =
    { ngx_http_lgsp_schema_check_max_body };

/* jansson parses no deeper than 2048 levels */
static ngx_conf_num_bounds_t  ngx_http_lgsp_schema_max_depth_bounds =
    { ngx_http_lgsp_schema_check_bounds, 1, 2048 };

static ngx_conf_num_bounds_t  ngx_http_lgsp_schema_max_errors_bounds =
    { ngx_http_lgsp_schema_check_bounds, 1, 1000 };

static ngx_conf_num_bounds_t  ngx_http_lgsp_schema_max_cost_bounds =
    { ngx_http_lgsp_schema_check_bounds, 1000, 1000000000000 };


static ngx_http_request_body_filter_pt  ngx_http_next_request_body_filter;


static ngx_command_t  ngx_http_lgsp_schema_commands[] = {

    { ngx_string("lgsp_schema_request"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_lgsp_schema_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_schema_format_assert"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_schema_loc_conf_t, format_assert),
      NULL },

    { ngx_string("lgsp_schema_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_schema_loc_conf_t, max_body),
      &ngx_http_lgsp_schema_max_body_post },

    { ngx_string("lgsp_schema_max_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_schema_loc_conf_t, max_depth),
      &ngx_http_lgsp_schema_max_depth_bounds },

    { ngx_string("lgsp_schema_max_errors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_schema_loc_conf_t, max_errors),
      &ngx_http_lgsp_schema_max_errors_bounds },

    { ngx_string("lgsp_schema_max_cost"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_schema_loc_conf_t, max_cost),
      &ngx_http_lgsp_schema_max_cost_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_schema_module_ctx = {
    ngx_http_lgsp_schema_preconfiguration, /* preconfiguration */
    ngx_http_lgsp_schema_init,             /* postconfiguration */

    ngx_http_lgsp_schema_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_schema_create_loc_conf,  /* create location configuration */
    ngx_http_lgsp_schema_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_schema_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_schema_module_ctx,      /* module context */
    ngx_http_lgsp_schema_commands,         /* module directives */
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
ngx_http_lgsp_schema_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_http_lgsp_schema_ctx_t       *ctx;
    ngx_http_lgsp_schema_loc_conf_t  *slcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_schema_module);

    if (slcf->schema == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_schema_module);

    if (ctx) {
        /* the phases resumed after the body was read and found valid */
        return ctx->status;
    }

    rc = ngx_http_lgsp_schema_check_request(r, slcf);

    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_lgsp_schema_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->status = NGX_DONE;
    ngx_http_set_ctx(r, ctx, ngx_http_lgsp_schema_module);

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_lgsp_schema_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;
}


/*
 * What the headers alone decide: NGX_OK to read the body, NGX_DECLINED
 * when there is nothing to validate, NGX_DONE when the request is refused.
 */
static ngx_int_t
ngx_http_lgsp_schema_check_request(ngx_http_request_t *r,
    ngx_http_lgsp_schema_loc_conf_t *slcf)
{
    ngx_str_t         detail, *type;
    ngx_table_elt_t  *h;

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return ngx_http_lgsp_schema_no_body(r);
    }

    h = r->headers_in.content_type;
    type = h ? &h->value : NULL;

    if (type == NULL
        || !lgsp_body_is_json_type((const char *) type->data, type->len))
    {
        if (type == NULL) {
            ngx_str_set(&detail, "the request carries a body without"
                        " Content-Type; send the JSON with Content-Type"
                        " application/json (or application/*+json),"
                        " charset UTF-8 if any");

        } else {
            ngx_str_set(&detail, "the request body must be JSON: send it"
                        " with Content-Type application/json (or"
                        " application/*+json), charset UTF-8 if any");
        }

        ngx_http_lgsp_schema_refuse(r, NGX_HTTP_LGSP_SCHEMA_NOT_JSON, &detail,
                                    NULL);
        return NGX_DONE;
    }

    if (r->headers_in.content_length_n > (off_t) slcf->max_body) {
        ngx_http_lgsp_schema_too_large(r, slcf,
                                       r->headers_in.content_length_n);
        return NGX_DONE;
    }

    return NGX_OK;
}


/*
 * A request without a body has nothing to validate, unless its method
 * exists to send a document: a POST, PUT or PATCH without one is refused
 * (400), since no document is not a document that breaks the schema.
 */
static ngx_int_t
ngx_http_lgsp_schema_no_body(ngx_http_request_t *r)
{
    ngx_str_t  detail;

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH))) {
        return NGX_DECLINED;
    }

    ngx_str_set(&detail, "this service takes a JSON document in the request"
                " body, and the body is empty");

    ngx_http_lgsp_schema_refuse(r, NGX_HTTP_LGSP_SCHEMA_MISSING, &detail,
                                NULL);
    return NGX_DONE;
}


static void
ngx_http_lgsp_schema_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_lgsp_schema_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_schema_module);

    rc = ngx_http_lgsp_schema_validate(r, ctx);

    if (rc == NGX_DONE) {
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->status = NGX_DECLINED;

    /*
     * the upstream module would close a temporary file of the body once
     * the answer starts; the record written after it hashes that body
     */
    r->preserve_body = 1;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


static void *
ngx_http_lgsp_schema_alloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


/*
 * NGX_OK when the body is valid, NGX_DONE when the request was refused,
 * NGX_ERROR on an internal failure.
 */
static ngx_int_t
ngx_http_lgsp_schema_validate(ngx_http_request_t *r,
    ngx_http_lgsp_schema_ctx_t *ctx)
{
    int                               kind, valid;
    char                              err[NGX_HTTP_LGSP_SCHEMA_ERR_LEN];
    ngx_int_t                         rc;
    ngx_str_t                         body, detail;
    lgsp_json_t                      *json;
    lgsp_json_options_t               opts;
    lgsp_schema_errors_t              errors;
    ngx_http_lgsp_schema_refusal_e    why;
    ngx_http_lgsp_schema_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_schema_module);

    if (ctx->too_large) {
        /* the part kept is not the body: let nothing take it for it */
        r->request_body->bufs = NULL;

        ngx_http_lgsp_schema_too_large(r, slcf, -1);
        return NGX_DONE;
    }

    if (ngx_http_lgsp_request_body(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (body.len == 0) {
        /* an empty chunked body */
        rc = ngx_http_lgsp_schema_no_body(r);
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    /* the document lives in the request pool, as the body does */
    opts.alloc = ngx_http_lgsp_schema_alloc;
    opts.ctx = r->pool;
    opts.max_depth = slcf->max_depth;
    opts.borrow = 1;

    json = lgsp_json_parse_strict((const char *) body.data, body.len, &opts,
                                  &kind, err, sizeof(err));

    if (json == NULL) {
        why = (kind == LGSP_JSON_DUPLICATE_KEY)
              ? NGX_HTTP_LGSP_SCHEMA_DUPLICATE_KEY
              : (kind == LGSP_JSON_TOO_DEEP) ? NGX_HTTP_LGSP_SCHEMA_TOO_DEEP
                                             : NGX_HTTP_LGSP_SCHEMA_MALFORMED;

        detail.data = (u_char *) err;
        detail.len = ngx_strlen(err);

        ngx_http_lgsp_schema_refuse(r, why, &detail, NULL);
        return NGX_DONE;
    }

    errors.errors = NULL;
    errors.n = 0;
    errors.max = slcf->max_errors;

    valid = lgsp_schema_validate_within(slcf->schema, json, &errors,
                                        slcf->max_cost, NULL);

    if (valid == 1) {
        return NGX_OK;
    }

    rc = (valid == 0) ? ngx_http_lgsp_schema_violation(r, &errors)
         : (valid == LGSP_SCHEMA_OVER_BUDGET)
           ? ngx_http_lgsp_schema_too_costly(r, slcf)
           : NGX_ERROR;

    lgsp_schema_errors_free(&errors);

    return rc;
}


static ngx_int_t
ngx_http_lgsp_schema_violation(ngx_http_request_t *r,
    lgsp_schema_errors_t *errors)
{
    u_char               *p;
    char                 *list;
    size_t                len;
    ngx_str_t             service, detail, members;
    lgsp_schema_error_t  *e;

    list = lgsp_body_errors_json(errors);
    if (list == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(list);

    members.len = sizeof("\"errors\":") - 1 + len;
    members.data = ngx_pnalloc(r->pool, members.len);
    if (members.data == NULL) {
        ngx_free(list);
        return NGX_ERROR;
    }

    p = ngx_cpymem(members.data, "\"errors\":", sizeof("\"errors\":") - 1);
    ngx_memcpy(p, list, len);
    ngx_free(list);

    ngx_http_lgsp_service_name(r, &service);

    /* the first error in the detail; all of them in "errors" */
    len = sizeof("the request body does not match the schema of service"
                 " \"\": ") - 1 + service.len
          + sizeof(" (and  more in \"errors\")") - 1 + NGX_SIZE_T_LEN;

    e = errors->n ? &errors->errors[0] : NULL;

    if (e) {
        len += ngx_strlen(e->instance_path) + 1 + ngx_strlen(e->message);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    detail.data = p;
    p = ngx_sprintf(p, "the request body does not match the schema of"
                    " service \"%V\"", &service);

    if (e) {
        p = ngx_sprintf(p, ": %s%s%s", e->instance_path,
                        e->instance_path[0] ? " " : "", e->message);
    }

    if (errors->n > 1) {
        p = ngx_sprintf(p, " (and %uz more in \"errors\")", errors->n - 1);
    }

    detail.len = p - detail.data;

    ngx_http_lgsp_schema_refuse(r, NGX_HTTP_LGSP_SCHEMA_INVALID, &detail,
                                &members);
    return NGX_DONE;
}


/* the answer would take more work than lgsp_schema_max_cost allows */
static ngx_int_t
ngx_http_lgsp_schema_too_costly(ngx_http_request_t *r,
    ngx_http_lgsp_schema_loc_conf_t *slcf)
{
    u_char     *p;
    ngx_str_t   detail, members;

    p = ngx_pnalloc(r->pool, sizeof("checking the request body against the"
                                    " schema takes more than the  units of"
                                    " work this service allows"
                                    " (lgsp_schema_max_cost)") - 1
                             + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    detail.data = p;
    detail.len = ngx_sprintf(p, "checking the request body against the"
                             " schema takes more than the %ui units of work"
                             " this service allows (lgsp_schema_max_cost)",
                             slcf->max_cost)
                 - p;

    p = ngx_pnalloc(r->pool, sizeof("\"maxCost\":") - 1 + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    members.data = p;
    members.len = ngx_sprintf(p, "\"maxCost\":%ui", slcf->max_cost) - p;

    ngx_http_lgsp_schema_refuse(r, NGX_HTTP_LGSP_SCHEMA_TOO_COSTLY, &detail,
                                &members);
    return NGX_DONE;
}


/* size: the Content-Length announced, or -1 when the body is chunked */
static void
ngx_http_lgsp_schema_too_large(ngx_http_request_t *r,
    ngx_http_lgsp_schema_loc_conf_t *slcf, off_t size)
{
    u_char     *p;
    ngx_str_t   detail, members;

    p = ngx_pnalloc(r->pool, sizeof("the request body is longer than the"
                                    " bytes this service accepts") - 1
                             + 2 * NGX_OFF_T_LEN);
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    detail.data = p;

    if (size >= 0) {
        p = ngx_sprintf(p, "the request body has %O bytes; this service"
                        " accepts at most %uz", size, slcf->max_body);

    } else {
        p = ngx_sprintf(p, "the request body is longer than the %uz bytes"
                        " this service accepts", slcf->max_body);
    }

    detail.len = p - detail.data;

    p = ngx_pnalloc(r->pool, sizeof("\"maxBytes\":") - 1 + NGX_SIZE_T_LEN);
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    members.data = p;
    members.len = ngx_sprintf(p, "\"maxBytes\":%uz", slcf->max_body) - p;

    ngx_http_lgsp_schema_refuse(r, NGX_HTTP_LGSP_SCHEMA_TOO_LARGE, &detail,
                                &members);
}


/* sends the problem and finalizes the request */
static void
ngx_http_lgsp_schema_refuse(ngx_http_request_t *r,
    ngx_http_lgsp_schema_refusal_e why, ngx_str_t *detail,
    ngx_str_t *members)
{
    ngx_http_lgsp_ctx_t             *ctx;
    ngx_http_lgsp_problem_t          problem;
    ngx_http_lgsp_schema_refusal_t  *refusal;

    refusal = &ngx_http_lgsp_schema_refusals[why];

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->reason = refusal->reason;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "lgsp schema: refused, %V: %V", &refusal->reason, detail);

    problem.status = refusal->status;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_SCHEMA;
    problem.type = refusal->type;
    problem.title = refusal->title;
    problem.detail = *detail;

    if (members) {
        problem.members = *members;

    } else {
        ngx_str_null(&problem.members);
    }

    ngx_http_finalize_request(r, ngx_http_lgsp_send_problem(r, &problem));
}


/*
 * Counts the body as it arrives, so that a chunked body is stopped at
 * lgsp_schema_max_body: past it, the rest is read and dropped, never
 * buffered, and the 413 answer goes out once the body has ended.
 */
static ngx_int_t
ngx_http_lgsp_schema_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                      *cl, last;
    ngx_http_lgsp_schema_ctx_t       *ctx;
    ngx_http_lgsp_schema_loc_conf_t  *slcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_schema_module);

    if (ctx == NULL) {
        return ngx_http_next_request_body_filter(r, in);
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_schema_module);

    for (cl = in; cl; cl = cl->next) {
        ctx->received += ngx_buf_size(cl->buf);
    }

    if (ctx->received <= (off_t) slcf->max_body) {
        return ngx_http_next_request_body_filter(r, in);
    }

    ctx->too_large = 1;
    last.buf = NULL;
    last.next = NULL;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;

        if (cl->buf->last_buf) {
            last.buf = cl->buf;
        }
    }

    return ngx_http_next_request_body_filter(r, last.buf ? &last : NULL);
}


static char *
ngx_http_lgsp_schema_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_schema_loc_conf_t *slcf = conf;

    ngx_str_t  *value;

    if (slcf->path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&slcf->path, "");
        return NGX_CONF_OK;
    }

    slcf->name = value[1];
    slcf->path = value[1];

    if (ngx_conf_full_name(cf->cycle, &slcf->path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    slcf->conf_file = cf->conf_file->file.name;
    slcf->conf_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_schema_check_max_body(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *size = data;

    if (*size == 0) {
        return "must be more than 0";
    }

    return NGX_CONF_OK;
}


/* nginx's own bounds check does not name the directive; this one does */
static char *
ngx_http_lgsp_schema_check_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_conf_num_bounds_t *bounds = post;
    ngx_int_t *np = data;

    u_char  *p;

    if (*np >= bounds->low && *np <= bounds->high) {
        return NGX_CONF_OK;
    }

    p = ngx_pnalloc(cf->pool,
                    sizeof("must be between  and ") + 2 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(p, "must be between %i and %i%Z", bounds->low, bounds->high);

    return (char *) p;
}


/* each file is compiled once per format_assert value, whoever names it */
static lgsp_schema_t *
ngx_http_lgsp_schema_compile(ngx_conf_t *cf,
    ngx_http_lgsp_schema_loc_conf_t *slcf)
{
    char                              err[NGX_HTTP_LGSP_SCHEMA_ERR_LEN];
    ngx_uint_t                        i;
    lgsp_schema_t                    *schema;
    ngx_conf_file_t                  *conf_file, where;
    ngx_pool_cleanup_t               *cln;
    lgsp_schema_options_t             opts;
    ngx_http_lgsp_schema_compiled_t  *c;
    ngx_http_lgsp_schema_main_conf_t *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_schema_module);

    c = smcf->compiled.elts;

    for (i = 0; i < smcf->compiled.nelts; i++) {
        if (c[i].format_assert == slcf->format_assert
            && c[i].path.len == slcf->path.len
            && ngx_strncmp(c[i].path.data, slcf->path.data, slcf->path.len)
               == 0)
        {
            return c[i].schema;
        }
    }

    /* set up first: the schema is freed with the cycle whatever follows */
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ngx_memzero(&opts, sizeof(lgsp_schema_options_t));
    opts.format_assert = slcf->format_assert;

    schema = lgsp_schema_compile_file((const char *) slcf->path.data, &opts,
                                      err, sizeof(err));

    /*
     * Locations are merged after the whole http block is read: name the
     * line of lgsp_schema_request, not the end of the block.
     */
    conf_file = cf->conf_file;
    where = *conf_file;
    where.file.name = slcf->conf_file;
    where.line = slcf->conf_line;

    cf->conf_file = &where;

    if (schema == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid schema: %s", err);
        cf->conf_file = conf_file;

        return NULL;
    }

    for (i = 0; lgsp_schema_warning(schema, i); i++) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "schema: %s",
                           lgsp_schema_warning(schema, i));
    }

    cf->conf_file = conf_file;

    cln->handler = ngx_http_lgsp_schema_free;
    cln->data = schema;

    c = ngx_array_push(&smcf->compiled);
    if (c == NULL) {
        return NULL;
    }

    c->path = slcf->path;
    c->format_assert = slcf->format_assert;
    c->schema = schema;

    return schema;
}


static void
ngx_http_lgsp_schema_free(void *data)
{
    lgsp_schema_free(data);
}


/* the catalogue names the schema, and gives its document to OpenAPI */
static ngx_int_t
ngx_http_lgsp_schema_describe(ngx_conf_t *cf, void **loc_conf,
    ngx_http_lgsp_service_info_t *info)
{
    u_char                           *p;
    ssize_t                           n;
    ngx_file_t                        file;
    ngx_file_info_t                   fi;
    ngx_http_lgsp_schema_loc_conf_t  *slcf;

    slcf = loc_conf[ngx_http_lgsp_schema_module.ctx_index];

    if (slcf->schema == NULL) {
        return NGX_OK;
    }

    info->schema = slcf->name;

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = slcf->path;
    file.log = cf->log;

    file.fd = ngx_open_file(slcf->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                            0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &slcf->path);
        return NGX_ERROR;
    }

    n = NGX_ERROR;
    p = NULL;

    if (ngx_fd_info(file.fd, &fi) != NGX_FILE_ERROR) {
        p = ngx_pnalloc(cf->pool, ngx_file_size(&fi));

        if (p) {
            n = ngx_read_file(&file, p, ngx_file_size(&fi), 0);
        }
    }

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &slcf->path);
    }

    if (p == NULL || n != ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot read the schema \"%V\" for the catalogue",
                           &slcf->path);
        return NGX_ERROR;
    }

    info->schema_json.data = p;
    info->schema_json.len = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_schema_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_lgsp_catalog_describer_add(cf,
                                               ngx_http_lgsp_schema_describe);
}


static void *
ngx_http_lgsp_schema_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_schema_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_schema_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->compiled, cf->pool, 4,
                       sizeof(ngx_http_lgsp_schema_compiled_t))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static void *
ngx_http_lgsp_schema_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_schema_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_schema_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->path = { 0, NULL };
     *     conf->name = { 0, NULL };
     *     conf->conf_file = { 0, NULL };
     *     conf->conf_line = 0;
     *     conf->schema = NULL;
     */

    conf->format_assert = NGX_CONF_UNSET;
    conf->max_body = NGX_CONF_UNSET_SIZE;
    conf->max_depth = NGX_CONF_UNSET_UINT;
    conf->max_errors = NGX_CONF_UNSET_UINT;
    conf->max_cost = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_lgsp_schema_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_lgsp_schema_loc_conf_t *prev = parent;
    ngx_http_lgsp_schema_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->format_assert, prev->format_assert, 0);
    ngx_conf_merge_size_value(conf->max_body, prev->max_body, 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_depth, prev->max_depth, 64);
    ngx_conf_merge_uint_value(conf->max_errors, prev->max_errors, 10);
    ngx_conf_merge_uint_value(conf->max_cost, prev->max_cost,
                              LGSP_SCHEMA_MAX_COST);

    if (conf->path.data == NULL) {
        conf->path = prev->path;
        conf->name = prev->name;
        conf->conf_file = prev->conf_file;
        conf->conf_line = prev->conf_line;
    }

    if (conf->path.len == 0) {
        return NGX_CONF_OK;
    }

    conf->schema = ngx_http_lgsp_schema_compile(cf, conf);
    if (conf->schema == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_schema_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_lgsp_module_used(cf, &ngx_http_lgsp_schema_module)) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_schema_handler;

    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_lgsp_schema_body_filter;

    return NGX_OK;
}
