/*
 * LGSP on nginx: protocol and format conversion between REST/JSON and
 * SOAP/XML systems.  The conversions are the pure functions of
 * lgsp_xml_*.c; this file is the nginx glue: request bodies converted in
 * the precontent phase (after the quota and the JSON Schema check), and
 * answers buffered by a header and a body filter up to
 * lgsp_convert_max_size, converted, and sent with their headers corrected.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_convert.h"
#include "lgsp_body.h"
#include "lgsp_xml.h"


#define NGX_HTTP_LGSP_CONVERT_ERR_LEN  320

#define NGX_HTTP_LGSP_UNPROCESSABLE_CONTENT  422


typedef enum {
    NGX_HTTP_LGSP_CONVERT_NONE = 0,
    NGX_HTTP_LGSP_CONVERT_OFF,
    NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP,
    NGX_HTTP_LGSP_CONVERT_JSON_TO_XML,
    NGX_HTTP_LGSP_CONVERT_SOAP_TO_JSON,
    NGX_HTTP_LGSP_CONVERT_XML_TO_JSON
} ngx_http_lgsp_convert_mode_e;


/* one direction's conversion, as a directive sets it */
typedef struct {
    ngx_http_lgsp_convert_mode_e  mode;
    lgsp_xml_wrap_t               wrap;      /* into XML */
    ngx_str_t                     action;    /* SOAPAction, or 1.2 action */
    ngx_int_t                     unwrap;    /* -1: as the request says */
    lgsp_schema_t                *schema;    /* into JSON; NULL: none */
} ngx_http_lgsp_convert_t;


typedef struct {
    ngx_http_lgsp_convert_t       request;
    ngx_http_lgsp_convert_t       response;
    size_t                        max_size;
} ngx_http_lgsp_convert_loc_conf_t;


typedef enum {
    NGX_HTTP_LGSP_CONVERT_PASS = 0,          /* the answer is not ours */
    NGX_HTTP_LGSP_CONVERT_BUFFER,            /* gathering it */
    NGX_HTTP_LGSP_CONVERT_REFUSE,            /* refused at its headers */
    NGX_HTTP_LGSP_CONVERT_SENT               /* ours went out: drop it */
} ngx_http_lgsp_convert_state_e;


typedef struct {
    ngx_http_request_t           *request;   /* whose: found again after an
                                                internal redirect */
    ngx_int_t                     status;    /* for the resumed phase */
    ngx_http_lgsp_convert_state_e state;
    /* the answer's conversion: NONE, JSON_TO_SOAP or XML_TO_JSON */
    ngx_http_lgsp_convert_mode_e  answer;
    int                           fault_soap; /* problems as Faults: 11, 12 */
    ngx_str_t                     refusal;   /* why, at the headers */
    lgsp_sbuf_t                   body;      /* the answer, malloc()ed */
    ngx_str_t                     head;      /* a HEAD's method name, while
                                                the provider is asked GET */
    ngx_str_t                     original;  /* the body before conversion */
} ngx_http_lgsp_convert_ctx_t;


/* a refusal of the provider's answer */
typedef struct {
    ngx_str_t                     type;
    ngx_str_t                     title;
    ngx_str_t                     reason;    /* for the record */
} ngx_http_lgsp_convert_refusal_t;


static ngx_int_t ngx_http_lgsp_convert_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_convert_ours(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_convert_head(ngx_http_request_t *r,
    ngx_http_lgsp_convert_loc_conf_t *clcf);
static void ngx_http_lgsp_convert_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_convert_request(ngx_http_request_t *r,
    ngx_http_lgsp_convert_loc_conf_t *clcf);
static ngx_int_t ngx_http_lgsp_convert_set_body(ngx_http_request_t *r,
    lgsp_sbuf_t *out, char *type);
static void ngx_http_lgsp_convert_refuse(ngx_http_request_t *r,
    ngx_uint_t status, char *type, char *title, char *reason, char *detail);
static char *ngx_http_lgsp_convert_xml_type(int soap);
static int ngx_http_lgsp_convert_request_soap(ngx_http_request_t *r);
static ngx_http_lgsp_convert_ctx_t *ngx_http_lgsp_convert_get_ctx(
    ngx_http_request_t *r);
static ngx_http_lgsp_convert_ctx_t *ngx_http_lgsp_convert_find_ctx(
    ngx_http_request_t *r);
static void ngx_http_lgsp_convert_free(void *data);
static ngx_int_t ngx_http_lgsp_convert_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_convert_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_lgsp_convert_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx);
static ngx_int_t ngx_http_lgsp_convert_xml_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx);
static ngx_int_t ngx_http_lgsp_convert_json_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx);
static ngx_int_t ngx_http_lgsp_convert_fault(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx, lgsp_json_t *problem,
    ngx_uint_t status);
static ngx_int_t ngx_http_lgsp_convert_bad_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx, ngx_uint_t why, const char *detail,
    ngx_str_t *members);
static ngx_int_t ngx_http_lgsp_convert_send(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx, ngx_uint_t status, char *type,
    u_char *data, size_t len);
static void *ngx_http_lgsp_convert_alloc(void *pool, size_t size);
static lgsp_json_t *ngx_http_lgsp_convert_parse(ngx_http_request_t *r,
    u_char *data, size_t len, char *err);
static char *ngx_http_lgsp_convert_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_lgsp_convert_schema(ngx_conf_t *cf,
    ngx_http_lgsp_convert_t *cv, ngx_str_t *path);
static void ngx_http_lgsp_convert_schema_free(void *data);
static void *ngx_http_lgsp_convert_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_convert_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_lgsp_convert_init(ngx_conf_t *cf);


/* why an answer is refused: indexes of ngx_http_lgsp_convert_refusals */
enum {
    NGX_HTTP_LGSP_CONVERT_FAULT = 0,
    NGX_HTTP_LGSP_CONVERT_INVALID,
    NGX_HTTP_LGSP_CONVERT_UNREADABLE,
    NGX_HTTP_LGSP_CONVERT_TOO_LARGE,
    NGX_HTTP_LGSP_CONVERT_COMPRESSED
};


static ngx_http_lgsp_convert_refusal_t  ngx_http_lgsp_convert_refusals[] = {

    { ngx_string("soap-fault"), ngx_string("SOAP Fault"),
      ngx_string("soap_fault") },

    { ngx_string("answer-schema-violation"),
      ngx_string("Answer Does Not Match Its Schema"),
      ngx_string("answer_invalid") },

    { ngx_string("answer-not-convertible"),
      ngx_string("Answer Not Convertible"),
      ngx_string("answer_unconvertible") },

    { ngx_string("answer-too-large"), ngx_string("Answer Too Large"),
      ngx_string("answer_too_large") },

    { ngx_string("answer-compressed"), ngx_string("Answer Compressed"),
      ngx_string("answer_compressed") }
};


static ngx_conf_enum_t  ngx_http_lgsp_convert_modes[] = {
    { ngx_string("off"), NGX_HTTP_LGSP_CONVERT_OFF },
    { ngx_string("json_to_soap"), NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP },
    { ngx_string("json_to_xml"), NGX_HTTP_LGSP_CONVERT_JSON_TO_XML },
    { ngx_string("soap_to_json"), NGX_HTTP_LGSP_CONVERT_SOAP_TO_JSON },
    { ngx_string("xml_to_json"), NGX_HTTP_LGSP_CONVERT_XML_TO_JSON },
    { ngx_null_string, 0 }
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_command_t  ngx_http_lgsp_convert_commands[] = {

    { ngx_string("lgsp_convert_request"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_convert_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_convert_loc_conf_t, request),
      NULL },

    { ngx_string("lgsp_convert_response"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_convert_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_convert_loc_conf_t, response),
      NULL },

    { ngx_string("lgsp_convert_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_convert_loc_conf_t, max_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_convert_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_lgsp_convert_init,            /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_convert_create_loc_conf, /* create location configuration */
    ngx_http_lgsp_convert_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_convert_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_convert_module_ctx,     /* module context */
    ngx_http_lgsp_convert_commands,        /* module directives */
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
ngx_http_lgsp_convert_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_table_elt_t                   *h;
    ngx_http_lgsp_convert_ctx_t       *ctx;
    ngx_http_lgsp_convert_loc_conf_t  *clcf;

    if (!ngx_http_lgsp_convert_ours(r)) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_convert_module);

    if (ngx_http_lgsp_convert_head(r, clcf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (clcf->request.mode <= NGX_HTTP_LGSP_CONVERT_OFF) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_lgsp_convert_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->status != NGX_OK) {
        /* the phases resumed after the body was converted, or an internal
         * redirect brought the converted body here: converted once */
        return ctx->status;
    }

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return NGX_DECLINED;
    }

    h = r->headers_in.content_type;

    if (clcf->request.mode == NGX_HTTP_LGSP_CONVERT_SOAP_TO_JSON) {
        if (h == NULL
            || !lgsp_body_is_xml_type((char *) h->value.data, h->value.len))
        {
            ngx_http_lgsp_convert_refuse(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type", "Unsupported Media Type", "not_xml",
                "this service takes a SOAP envelope: send it with"
                " Content-Type text/xml (SOAP 1.1) or application/soap+xml"
                " (SOAP 1.2), charset UTF-8 if any");
            return NGX_DONE;
        }

    } else if (h == NULL
               || !lgsp_body_is_json_type((char *) h->value.data,
                                          h->value.len))
    {
        ngx_http_lgsp_convert_refuse(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type", "Unsupported Media Type", "not_json",
            "the request body must be JSON: send it with Content-Type"
            " application/json (or application/*+json), charset UTF-8 if"
            " any");
        return NGX_DONE;
    }

    if (r->headers_in.content_length_n > (off_t) clcf->max_size) {
        ngx_http_lgsp_convert_refuse(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
            "body-too-large", "Content Too Large", "too_large",
            "the request body is longer than lgsp_convert_max_size");
        return NGX_DONE;
    }

    ctx->status = NGX_DONE;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_lgsp_convert_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;
}


/*
 * The requests whose bodies and answers are converted: the main request,
 * and the subrequest by which guaranteed delivery makes an attempt: the
 * queued request, as its caller sent it, goes to the provider through
 * this location, conversions included.
 */
static ngx_int_t
ngx_http_lgsp_convert_ours(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t  *ctx;

    if (r == r->main) {
        return 1;
    }

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_lgsp_module);

    return ctx != NULL && ctx->delivery_attempt && r->parent == r->main;
}


/*
 * A HEAD to a location that converts answers: its provider is asked GET
 * (an answer to HEAD has no body to convert), so that the caller gets the
 * headers GET would give, Content-Length included; the header filter
 * gives the request its method name back, and nginx sends no body.
 */
static ngx_int_t
ngx_http_lgsp_convert_head(ngx_http_request_t *r,
    ngx_http_lgsp_convert_loc_conf_t *clcf)
{
    ngx_http_lgsp_convert_ctx_t  *ctx;

    if (r->method != NGX_HTTP_HEAD || r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_lgsp_convert_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (clcf->response.mode != NGX_HTTP_LGSP_CONVERT_XML_TO_JSON
        && clcf->response.mode != NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP)
    {
        if (ctx->head.len) {
            /* redirected here from a location that converts answers */
            r->method_name = ctx->head;
            ngx_str_null(&ctx->head);
        }

        return NGX_OK;
    }

    if (ctx->head.len == 0) {
        ctx->head = r->method_name;
        r->method_name = ngx_http_core_get_method;
    }

    return NGX_OK;
}


static void
ngx_http_lgsp_convert_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_http_lgsp_convert_ctx_t       *ctx;
    ngx_http_lgsp_convert_loc_conf_t  *clcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_convert_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_convert_module);

    rc = ngx_http_lgsp_convert_request(r, clcf);

    if (rc == NGX_DONE) {
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->status = NGX_DECLINED;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * The body converted and put in place of the one read: NGX_OK, NGX_DONE
 * when the request was refused, NGX_ERROR.
 */
static ngx_int_t
ngx_http_lgsp_convert_request(ngx_http_request_t *r,
    ngx_http_lgsp_convert_loc_conf_t *clcf)
{
    int                           rc;
    char                          err[NGX_HTTP_LGSP_CONVERT_ERR_LEN], *type;
    u_char                       *p;
    ngx_str_t                     body, name, value;
    lgsp_json_t                  *json;
    lgsp_sbuf_t                   out;
    lgsp_xml_read_t               rd;
    lgsp_xml_result_t             res;
    ngx_http_lgsp_convert_t      *cv;
    ngx_http_lgsp_convert_ctx_t  *ctx;

    cv = &clcf->request;

    if (ngx_http_lgsp_request_body(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (body.len > clcf->max_size) {
        ngx_http_lgsp_convert_refuse(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                     "body-too-large", "Content Too Large",
                                     "too_large", "the request body is"
                                     " longer than lgsp_convert_max_size");
        return NGX_DONE;
    }

    /* the delivery's subrequest: its Content-Type changes below */
    if (ngx_http_lgsp_own_headers(r) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&out, sizeof(lgsp_sbuf_t));

    if (cv->mode == NGX_HTTP_LGSP_CONVERT_SOAP_TO_JSON) {
        rd.max_size = clcf->max_size;
        rd.max_depth = LGSP_XML_MAX_DEPTH;
        rd.unwrap_soap = 1;
        rd.schema = cv->schema;

        rc = lgsp_xml_to_json((char *) body.data, body.len, &rd, &out, &res);
        lgsp_xml_result_free(&res);

        type = "application/json";

    } else {
        json = ngx_http_lgsp_convert_parse(r, body.data, body.len, err);

        if (json == NULL) {
            ngx_http_lgsp_convert_refuse(r, NGX_HTTP_BAD_REQUEST,
                                         "malformed-json", "Malformed JSON",
                                         "malformed", err);
            return NGX_DONE;
        }

        rc = lgsp_xml_from_json(json, &cv->wrap, &out, &res);

        type = ngx_http_lgsp_convert_xml_type(cv->wrap.soap);
    }

    if (rc != LGSP_XML_OK) {
        free(out.data);

        if (rc == LGSP_XML_NOMEM) {
            return NGX_ERROR;
        }

        ngx_http_lgsp_convert_refuse(r,
            rc == LGSP_XML_INVALID ? NGX_HTTP_LGSP_UNPROCESSABLE_CONTENT
                                   : NGX_HTTP_BAD_REQUEST,
            rc == LGSP_XML_INVALID ? "schema-violation"
                                   : "request-not-convertible",
            rc == LGSP_XML_INVALID ? "Schema Violation"
                                   : "Request Not Convertible",
            rc == LGSP_XML_INVALID ? "invalid" : "unconvertible",
            res.message);
        return NGX_DONE;
    }

    if (ngx_http_lgsp_convert_set_body(r, &out, type) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_convert_module);
    ctx->original = body;

    if (cv->wrap.soap == 12 && cv->action.len) {
        /* SOAP 1.2 carries the action in the media type */
        value.len = r->headers_in.content_type->value.len
                    + sizeof("; action=\"\"") - 1 + cv->action.len;
        p = ngx_pnalloc(r->pool, value.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        value.data = p;
        ngx_sprintf(p, "%V; action=\"%V\"", &r->headers_in.content_type->value,
                    &cv->action);
        r->headers_in.content_type->value = value;
    }

    if (cv->wrap.soap == 11) {
        value.len = cv->action.len + 2;
        p = ngx_pnalloc(r->pool, value.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        value.data = p;
        ngx_sprintf(p, "\"%V\"", &cv->action);
        ngx_str_set(&name, "SOAPAction");

        if (ngx_http_lgsp_set_upstream_header(r, &name, &value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_lgsp_convert_original_body(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_http_lgsp_convert_ctx_t  *ctx;

    ctx = ngx_http_lgsp_convert_find_ctx(r);

    if (ctx == NULL || ctx->original.data == NULL) {
        return NGX_DECLINED;
    }

    *body = ctx->original;

    return NGX_OK;
}


/* the converted body in place of the one read, its headers told */
static ngx_int_t
ngx_http_lgsp_convert_set_body(ngx_http_request_t *r, lgsp_sbuf_t *out,
    char *type)
{
    u_char       *p;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (out->nomem) {
        free(out->data);
        return NGX_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    p = ngx_pnalloc(r->pool, out->len + 1);

    if (b == NULL || cl == NULL || p == NULL) {
        free(out->data);
        return NGX_ERROR;
    }

    ngx_memcpy(p, out->data, out->len);
    free(out->data);

    b->pos = p;
    b->last = p + out->len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;

    r->request_body->bufs = cl;
    r->request_body->temp_file = NULL;
    r->headers_in.content_length_n = out->len;

    if (r->headers_in.content_length) {
        p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        r->headers_in.content_length->value.data = p;
        r->headers_in.content_length->value.len =
            ngx_sprintf(p, "%O", (off_t) out->len) - p;
    }

    r->headers_in.content_type->value.data = (u_char *) type;
    r->headers_in.content_type->value.len = ngx_strlen(type);

    return NGX_OK;
}


/*
 * Refuses the request and finalizes it; the header filter makes the
 * problem a Fault for SOAP callers.
 */
static void
ngx_http_lgsp_convert_refuse(ngx_http_request_t *r, ngx_uint_t status,
    char *type, char *title, char *reason, char *detail)
{
    ngx_http_lgsp_ctx_t      *ctx;
    ngx_http_lgsp_problem_t   problem;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->reason.data = (u_char *) reason;
    ctx->reason.len = ngx_strlen(reason);

    problem.status = status;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_ERROR;
    problem.type.data = (u_char *) type;
    problem.type.len = ngx_strlen(type);
    problem.title.data = (u_char *) title;
    problem.title.len = ngx_strlen(title);
    problem.detail.data = (u_char *) detail;
    problem.detail.len = ngx_strlen(detail);
    ngx_str_null(&problem.members);

    ngx_http_finalize_request(r, ngx_http_lgsp_send_problem(r, &problem));
}


/* the media type of SOAP 1.1 (11), SOAP 1.2 (12) or plain XML (0) */
static char *
ngx_http_lgsp_convert_xml_type(int soap)
{
    return (soap == 12) ? "application/soap+xml; charset=utf-8"
           : (soap == 11) ? "text/xml; charset=utf-8"
           : "application/xml; charset=utf-8";
}


/* the SOAP version a caller speaks, by its request's media type */
static int
ngx_http_lgsp_convert_request_soap(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = r->headers_in.content_type;

    if (h && h->value.len >= sizeof("application/soap+xml") - 1
        && ngx_strncasecmp(h->value.data, (u_char *) "application/soap+xml",
                           sizeof("application/soap+xml") - 1) == 0)
    {
        return 12;
    }

    return 11;
}


static ngx_http_lgsp_convert_ctx_t *
ngx_http_lgsp_convert_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_lgsp_convert_ctx_t  *ctx;

    ctx = ngx_http_lgsp_convert_find_ctx(r);
    if (ctx) {
        return ctx;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_lgsp_convert_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_lgsp_convert_ctx_t));
    ctx->request = r;
    ctx->status = NGX_OK;

    cln->handler = ngx_http_lgsp_convert_free;
    ngx_http_set_ctx(r, ctx, ngx_http_lgsp_convert_module);

    return ctx;
}


/* the request's context, if it has one */
static ngx_http_lgsp_convert_ctx_t *
ngx_http_lgsp_convert_find_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_lgsp_convert_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_convert_module);
    if (ctx) {
        return ctx;
    }

    /* an internal redirect clears module contexts; the pool keeps ours */
    for (cln = r->pool->cleanup; r->internal && cln; cln = cln->next) {
        if (cln->handler == ngx_http_lgsp_convert_free) {
            ctx = cln->data;

            if (ctx->request == r) {
                ngx_http_set_ctx(r, ctx, ngx_http_lgsp_convert_module);
                return ctx;
            }
        }
    }

    return NULL;
}


static void
ngx_http_lgsp_convert_free(void *data)
{
    ngx_http_lgsp_convert_ctx_t  *ctx = data;

    free(ctx->body.data);
}


/*
 * Takes the answers this location converts: XML for xml_to_json, JSON for
 * json_to_soap, and at soap_to_json locations the problems that refuse a
 * SOAP caller, which become Faults.
 */
static ngx_int_t
ngx_http_lgsp_convert_header_filter(ngx_http_request_t *r)
{
    int                                fault_soap;
    ngx_str_t                         *type;
    ngx_table_elt_t                   *enc;
    ngx_http_lgsp_convert_ctx_t       *ctx;
    ngx_http_lgsp_convert_mode_e       answer;
    ngx_http_lgsp_convert_loc_conf_t  *clcf;

    if (!ngx_http_lgsp_convert_ours(r)) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_lgsp_convert_find_ctx(r);

    if (ctx && ctx->head.len) {
        /* the provider was asked GET for this HEAD: the request is HEAD
         * again, and nginx sends the answer's headers alone */
        r->method_name = ctx->head;
        ngx_str_null(&ctx->head);
    }

    if (r->header_only
        || r->headers_out.status == NGX_HTTP_NO_CONTENT
        || r->headers_out.status == NGX_HTTP_NOT_MODIFIED)
    {
        /* no body to convert */
        return ngx_http_next_header_filter(r);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_convert_module);
    type = &r->headers_out.content_type;
    answer = NGX_HTTP_LGSP_CONVERT_NONE;
    fault_soap = 0;

    if (clcf->response.mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP) {
        fault_soap = clcf->response.wrap.soap;

    } else if (clcf->request.mode == NGX_HTTP_LGSP_CONVERT_SOAP_TO_JSON) {
        fault_soap = ngx_http_lgsp_convert_request_soap(r);
    }

    if (clcf->response.mode == NGX_HTTP_LGSP_CONVERT_XML_TO_JSON
        && lgsp_body_is_xml_type((char *) type->data, type->len))
    {
        answer = NGX_HTTP_LGSP_CONVERT_XML_TO_JSON;

    } else if (fault_soap
               && lgsp_body_is_json_type((char *) type->data, type->len)
               && (clcf->response.mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP
                   || (type->len >= sizeof("application/problem+json") - 1
                       && ngx_strncasecmp(type->data,
                              (u_char *) "application/problem+json",
                              sizeof("application/problem+json") - 1)
                          == 0)))
    {
        answer = NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP;
    }

    if (answer == NGX_HTTP_LGSP_CONVERT_NONE) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_lgsp_convert_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->state != NGX_HTTP_LGSP_CONVERT_PASS) {
        /* a problem of this module's own, on its way out */
        return ngx_http_next_header_filter(r);
    }

    ctx->answer = answer;
    ctx->fault_soap = fault_soap;
    ctx->state = NGX_HTTP_LGSP_CONVERT_BUFFER;

    enc = r->headers_out.content_encoding;

    if (enc && enc->hash && enc->value.len
        && !(enc->value.len == 8
             && ngx_strncasecmp(enc->value.data, (u_char *) "identity", 8)
                == 0))
    {
        ctx->state = NGX_HTTP_LGSP_CONVERT_REFUSE;
        ctx->refusal = enc->value;
    }

    r->filter_need_in_memory = 1;
    r->allow_ranges = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_convert_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                             size;
    ngx_uint_t                         last;
    ngx_chain_t                       *cl;
    ngx_http_lgsp_convert_ctx_t       *ctx;
    ngx_http_lgsp_convert_loc_conf_t  *clcf;
    u_char                             detail[NGX_HTTP_LGSP_CONVERT_ERR_LEN];

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_convert_module);

    if (ctx == NULL || ctx->state == NGX_HTTP_LGSP_CONVERT_PASS
        || !ngx_http_lgsp_convert_ours(r))
    {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->state == NGX_HTTP_LGSP_CONVERT_SENT) {
        /* what the provider still sends is dropped; ours is flushed */
        for (cl = in; cl; cl = cl->next) {
            cl->buf->pos = cl->buf->last;
            cl->buf->file_pos = cl->buf->file_last;
        }

        return ngx_http_next_body_filter(r, NULL);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_convert_module);
    last = 0;

    for (cl = in; cl; cl = cl->next) {
        size = ngx_buf_in_memory(cl->buf) ? cl->buf->last - cl->buf->pos : 0;

        if (ctx->state == NGX_HTTP_LGSP_CONVERT_BUFFER) {
            if (ctx->body.len + size > clcf->max_size) {
                ngx_sprintf(detail, "the provider's answer is longer than"
                            " the %uz bytes lgsp_convert_max_size allows%Z",
                            clcf->max_size);
                return ngx_http_lgsp_convert_bad_answer(r, ctx,
                           NGX_HTTP_LGSP_CONVERT_TOO_LARGE, (char *) detail,
                           NULL);
            }

            lgsp_sbuf_put(&ctx->body, (char *) cl->buf->pos, size);
        }

        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        /* a subrequest's answer ends with last_in_chain */
        if (cl->buf->last_buf
            || (cl->buf->last_in_chain && r != r->main))
        {
            last = 1;
        }
    }

    if (ctx->body.nomem) {
        return NGX_ERROR;
    }

    if (!last) {
        return NGX_OK;
    }

    if (ctx->state == NGX_HTTP_LGSP_CONVERT_REFUSE) {
        ngx_sprintf(detail, "the provider's answer is compressed"
                    " (Content-Encoding: %V) and cannot be converted; let"
                    " this location ask for plain answers: proxy_set_header"
                    " Accept-Encoding \"\"%Z", &ctx->refusal);
        return ngx_http_lgsp_convert_bad_answer(r, ctx,
                   NGX_HTTP_LGSP_CONVERT_COMPRESSED, (char *) detail, NULL);
    }

    return ngx_http_lgsp_convert_answer(r, ctx);
}


static ngx_int_t
ngx_http_lgsp_convert_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx)
{
    if (ctx->answer == NGX_HTTP_LGSP_CONVERT_XML_TO_JSON) {
        return ngx_http_lgsp_convert_xml_answer(r, ctx);
    }

    return ngx_http_lgsp_convert_json_answer(r, ctx);
}


static ngx_int_t
ngx_http_lgsp_convert_xml_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx)
{
    int                                rc;
    u_char                            *p;
    size_t                             len;
    ngx_int_t                          status;
    ngx_str_t                          members;
    lgsp_sbuf_t                        out;
    lgsp_xml_read_t                    rd;
    lgsp_xml_result_t                  res;
    ngx_http_lgsp_convert_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_convert_module);

    rd.max_size = clcf->max_size;
    rd.max_depth = LGSP_XML_MAX_DEPTH;
    rd.unwrap_soap = clcf->response.unwrap == 1;
    rd.schema = clcf->response.schema;

    ngx_memzero(&out, sizeof(lgsp_sbuf_t));

    rc = lgsp_xml_to_json(ctx->body.data ? ctx->body.data : "", ctx->body.len,
                          &rd, &out, &res);

    if (rc == LGSP_XML_OK) {
        status = ngx_http_lgsp_convert_send(r, ctx, r->headers_out.status,
                                            "application/json",
                                            (u_char *) out.data, out.len);
        free(out.data);
        return status;
    }

    free(out.data);

    if (rc == LGSP_XML_NOMEM) {
        lgsp_xml_result_free(&res);
        return NGX_ERROR;
    }

    if (rc != LGSP_XML_FAULT) {
        status = ngx_http_lgsp_convert_bad_answer(r, ctx,
                     rc == LGSP_XML_INVALID ? NGX_HTTP_LGSP_CONVERT_INVALID
                                            : NGX_HTTP_LGSP_CONVERT_UNREADABLE,
                     res.message, NULL);
        lgsp_xml_result_free(&res);
        return status;
    }

    /* the Fault's words as the problem's extension members */
    len = sizeof("\"faultcode\":\"\",\"faultstring\":\"\"") - 1;

    if (res.fault_code) {
        len += 6 * ngx_strlen(res.fault_code);
    }

    if (res.fault_string) {
        len += 6 * ngx_strlen(res.fault_string);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        lgsp_xml_result_free(&res);
        return NGX_ERROR;
    }

    members.data = p;
    p = ngx_cpymem(p, res.soap == 12 ? "\"Code\":\"" : "\"faultcode\":\"",
                   res.soap == 12 ? sizeof("\"Code\":\"") - 1
                                  : sizeof("\"faultcode\":\"") - 1);

    if (res.fault_code) {
        p = (u_char *) ngx_escape_json(p, (u_char *) res.fault_code,
                                       ngx_strlen(res.fault_code));
    }

    p = ngx_cpymem(p, res.soap == 12 ? "\",\"Reason\":\""
                                     : "\",\"faultstring\":\"",
                   res.soap == 12 ? sizeof("\",\"Reason\":\"") - 1
                                  : sizeof("\",\"faultstring\":\"") - 1);

    if (res.fault_string) {
        p = (u_char *) ngx_escape_json(p, (u_char *) res.fault_string,
                                       ngx_strlen(res.fault_string));
    }

    *p++ = '"';
    members.len = p - members.data;

    status = ngx_http_lgsp_convert_bad_answer(r, ctx,
                                              NGX_HTTP_LGSP_CONVERT_FAULT,
                                              res.message, &members);
    lgsp_xml_result_free(&res);

    return status;
}


/* a JSON answer as a SOAP envelope; a problem or an error as a Fault */
static ngx_int_t
ngx_http_lgsp_convert_json_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx)
{
    int                                rc;
    char                               err[NGX_HTTP_LGSP_CONVERT_ERR_LEN];
    ngx_int_t                          status;
    lgsp_json_t                       *json;
    lgsp_sbuf_t                        out;
    lgsp_xml_result_t                  res;
    ngx_http_lgsp_convert_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_convert_module);

    json = ngx_http_lgsp_convert_parse(r, (u_char *) ctx->body.data,
                                       ctx->body.len, err);

    if (json == NULL) {
        return ngx_http_lgsp_convert_bad_answer(r, ctx,
                   NGX_HTTP_LGSP_CONVERT_UNREADABLE, err, NULL);
    }

    if (r->headers_out.status >= NGX_HTTP_BAD_REQUEST
        || clcf->response.mode != NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP)
    {
        return ngx_http_lgsp_convert_fault(r, ctx, json,
                                           r->headers_out.status);
    }

    ngx_memzero(&out, sizeof(lgsp_sbuf_t));

    rc = lgsp_xml_from_json(json, &clcf->response.wrap, &out, &res);

    if (rc != LGSP_XML_OK) {
        free(out.data);

        if (rc == LGSP_XML_NOMEM) {
            return NGX_ERROR;
        }

        return ngx_http_lgsp_convert_bad_answer(r, ctx,
                   NGX_HTTP_LGSP_CONVERT_UNREADABLE, res.message, NULL);
    }

    status = ngx_http_lgsp_convert_send(r, ctx, r->headers_out.status,
                 ngx_http_lgsp_convert_xml_type(clcf->response.wrap.soap),
                 (u_char *) out.data, out.len);
    free(out.data);

    return status;
}


/*
 * A problem (or a provider's JSON error) as a SOAP Fault: SOAP 1.1 sends
 * every Fault with 500 (WS-I Basic Profile); SOAP 1.2 the caller's with
 * 400, the others with 500.
 */
static ngx_int_t
ngx_http_lgsp_convert_fault(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx, lgsp_json_t *problem,
    ngx_uint_t status)
{
    int                  rc, client;
    char                 err[NGX_HTTP_LGSP_CONVERT_ERR_LEN];
    u_char              *p;
    ngx_int_t            sent;
    lgsp_sbuf_t          out;
    lgsp_xml_result_t    res;
    ngx_http_lgsp_ctx_t *lctx;

    if (problem->type != LGSP_JSON_OBJECT) {
        /* not a problem document: one that says what came */
        lctx = ngx_http_lgsp_get_ctx(r);
        if (lctx == NULL) {
            return NGX_ERROR;
        }

        p = ngx_pnalloc(r->pool, 256);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(p, "{\"title\":\"Provider Error\",\"status\":%ui,"
                    "\"detail\":\"the provider answered HTTP %ui\","
                    "\"instance\":\"%*s\"}%Z", status, status,
                    NGX_HTTP_LGSP_TXID_LEN, lctx->txid);

        problem = ngx_http_lgsp_convert_parse(r, p, ngx_strlen(p), err);
        if (problem == NULL) {
            return NGX_ERROR;
        }
    }

    client = status >= NGX_HTTP_BAD_REQUEST
             && status < NGX_HTTP_INTERNAL_SERVER_ERROR;

    ngx_memzero(&out, sizeof(lgsp_sbuf_t));

    rc = lgsp_xml_fault(ctx->fault_soap, client, problem, &out, &res);

    if (rc != LGSP_XML_OK) {
        free(out.data);
        return NGX_ERROR;
    }

    sent = ngx_http_lgsp_convert_send(r, ctx,
               (ctx->fault_soap == 12 && client)
               ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_INTERNAL_SERVER_ERROR,
               ngx_http_lgsp_convert_xml_type(ctx->fault_soap),
               (u_char *) out.data, out.len);
    free(out.data);

    return sent;
}


/*
 * The provider's answer refused: 502 with a problem, or a Fault for a
 * SOAP caller.  The rest of the answer is dropped.
 */
static ngx_int_t
ngx_http_lgsp_convert_bad_answer(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx, ngx_uint_t why, const char *detail,
    ngx_str_t *members)
{
    char                              err[NGX_HTTP_LGSP_CONVERT_ERR_LEN];
    ngx_buf_t                        *b;
    lgsp_json_t                      *problem;
    ngx_http_lgsp_ctx_t              *lctx;
    ngx_http_lgsp_problem_t           p;
    ngx_http_lgsp_convert_refusal_t  *refusal;

    refusal = &ngx_http_lgsp_convert_refusals[why];

    lctx = ngx_http_lgsp_get_ctx(r);
    if (lctx == NULL) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "lgsp convert: the provider's answer is refused: %s",
                  detail);

    p.status = NGX_HTTP_BAD_GATEWAY;
    p.outcome = NGX_HTTP_LGSP_OUTCOME_UPSTREAM;
    p.type = refusal->type;
    p.title = refusal->title;
    p.detail.data = (u_char *) detail;
    p.detail.len = ngx_strlen(detail);

    if (members) {
        p.members = *members;

    } else {
        ngx_str_null(&p.members);
    }

    b = ngx_http_lgsp_problem_buf(r, &p);
    if (b == NULL) {
        return NGX_ERROR;
    }

    lctx->reason = refusal->reason;

    if (ctx->fault_soap) {
        problem = ngx_http_lgsp_convert_parse(r, b->pos, b->last - b->pos,
                                              err);
        if (problem == NULL) {
            return NGX_ERROR;
        }

        return ngx_http_lgsp_convert_fault(r, ctx, problem,
                                           NGX_HTTP_BAD_GATEWAY);
    }

    return ngx_http_lgsp_convert_send(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                      "application/problem+json", b->pos,
                                      b->last - b->pos);
}


/* the answer made here goes out with its own headers */
static ngx_int_t
ngx_http_lgsp_convert_send(ngx_http_request_t *r,
    ngx_http_lgsp_convert_ctx_t *ctx, ngx_uint_t status, char *type,
    u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    ctx->state = NGX_HTTP_LGSP_CONVERT_SENT;

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, data, len);
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_http_clear_content_length(r);
    r->headers_out.content_length_n = len;

    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    rc = ngx_http_next_header_filter(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static void *
ngx_http_lgsp_convert_alloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


/* JSON in the request pool; NULL with err set when malformed */
static lgsp_json_t *
ngx_http_lgsp_convert_parse(ngx_http_request_t *r, u_char *data, size_t len,
    char *err)
{
    int                  kind;
    lgsp_json_options_t  opts;

    opts.alloc = ngx_http_lgsp_convert_alloc;
    opts.ctx = r->pool;
    opts.max_depth = LGSP_XML_MAX_DEPTH;
    opts.borrow = 1;

    return lgsp_json_parse_strict(data ? (char *) data : "", len, &opts,
                                  &kind, err, NGX_HTTP_LGSP_CONVERT_ERR_LEN);
}


/*
 * lgsp_convert_request MODE [name=value ...];
 * lgsp_convert_response MODE [name=value ...];
 */
static char *
ngx_http_lgsp_convert_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_lgsp_convert_t  *cv;

    u_char           *eq;
    ngx_str_t        *value, name, arg, schema;
    ngx_uint_t        i, response, mode;
    ngx_conf_enum_t  *e;

    cv = (ngx_http_lgsp_convert_t *) ((char *) conf + cmd->offset);
    response = (cmd->offset
                == offsetof(ngx_http_lgsp_convert_loc_conf_t, response));

    if (cv->mode != NGX_HTTP_LGSP_CONVERT_NONE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mode = NGX_HTTP_LGSP_CONVERT_NONE;

    for (e = ngx_http_lgsp_convert_modes; e->name.len; e++) {
        if (e->name.len == value[1].len
            && ngx_strcmp(e->name.data, value[1].data) == 0)
        {
            mode = e->value;
        }
    }

    if (mode == NGX_HTTP_LGSP_CONVERT_NONE
        || (response && (mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_XML
                         || mode == NGX_HTTP_LGSP_CONVERT_SOAP_TO_JSON))
        || (!response && mode == NGX_HTTP_LGSP_CONVERT_XML_TO_JSON))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown conversion \"%V\": %s", &value[1],
                           response ? "use xml_to_json, json_to_soap or off"
                                    : "use json_to_soap, json_to_xml,"
                                      " soap_to_json or off");
        return NGX_CONF_ERROR;
    }

    cv->mode = mode;
    cv->wrap.soap = (mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP) ? 11 : 0;
    ngx_str_null(&schema);

    for (i = 2; i < cf->args->nelts; i++) {
        eq = (u_char *) ngx_strchr(value[i].data, '=');

        if (eq == NULL || mode == NGX_HTTP_LGSP_CONVERT_OFF) {
            goto invalid;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;
        arg.data = eq + 1;
        arg.len = value[i].data + value[i].len - arg.data;

        if (arg.len == 0) {
            goto invalid;
        }

        if (mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP
            && name.len == 9 && ngx_strncmp(name.data, "operation", 9) == 0)
        {
            cv->wrap.name = (char *) arg.data;
            cv->wrap.name_len = arg.len;

        } else if (mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_XML
                   && name.len == 4 && ngx_strncmp(name.data, "root", 4) == 0)
        {
            cv->wrap.name = (char *) arg.data;
            cv->wrap.name_len = arg.len;

        } else if ((mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP
                    || mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_XML)
                   && name.len == 2 && ngx_strncmp(name.data, "ns", 2) == 0)
        {
            cv->wrap.ns = (char *) arg.data;
            cv->wrap.ns_len = arg.len;

        } else if (mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP
                   && name.len == 4 && ngx_strncmp(name.data, "soap", 4) == 0)
        {
            if (arg.len == 3 && ngx_strncmp(arg.data, "1.1", 3) == 0) {
                cv->wrap.soap = 11;

            } else if (arg.len == 3 && ngx_strncmp(arg.data, "1.2", 3) == 0) {
                cv->wrap.soap = 12;

            } else {
                goto invalid;
            }

        } else if (mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP && !response
                   && name.len == 6 && ngx_strncmp(name.data, "action", 6) == 0)
        {
            if (ngx_strlchr(arg.data, arg.data + arg.len, '"')) {
                goto invalid;
            }

            cv->action = arg;

        } else if ((mode == NGX_HTTP_LGSP_CONVERT_SOAP_TO_JSON
                    || mode == NGX_HTTP_LGSP_CONVERT_XML_TO_JSON)
                   && name.len == 6 && ngx_strncmp(name.data, "schema", 6) == 0)
        {
            schema = arg;

        } else if (mode == NGX_HTTP_LGSP_CONVERT_XML_TO_JSON
                   && name.len == 6 && ngx_strncmp(name.data, "unwrap", 6) == 0)
        {
            if (arg.len == 4 && ngx_strncmp(arg.data, "soap", 4) == 0) {
                cv->unwrap = 1;

            } else if (arg.len == 4 && ngx_strncmp(arg.data, "none", 4) == 0) {
                cv->unwrap = 0;

            } else {
                goto invalid;
            }

        } else {
            goto invalid;
        }
    }

    if ((mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP
         && (cv->wrap.name == NULL || cv->wrap.ns == NULL))
        || (mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_XML && cv->wrap.name == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" needs %s", &value[1],
                           mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_XML
                           ? "root=NAME" : "operation=NAME and ns=URI");
        return NGX_CONF_ERROR;
    }

    if (cv->wrap.name) {
        for (i = 0; i < cv->wrap.name_len; i++) {
            if (!(isalnum((u_char) cv->wrap.name[i])
                  || cv->wrap.name[i] == '_' || cv->wrap.name[i] == '-'
                  || cv->wrap.name[i] == '.')
                || (i == 0 && !isalpha((u_char) cv->wrap.name[0])
                    && cv->wrap.name[0] != '_'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%*s\" is not an XML element name",
                                   cv->wrap.name_len, cv->wrap.name);
                return NGX_CONF_ERROR;
            }
        }
    }

    if (cv->wrap.ns && ngx_strlchr((u_char *) cv->wrap.ns,
                                   (u_char *) cv->wrap.ns + cv->wrap.ns_len,
                                   '"'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a namespace URI cannot hold \"");
        return NGX_CONF_ERROR;
    }

    if (schema.len) {
        return ngx_http_lgsp_convert_schema(cf, cv, &schema);
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" for \"%V\"", &value[i],
                       &value[1]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_lgsp_convert_schema(ngx_conf_t *cf, ngx_http_lgsp_convert_t *cv,
    ngx_str_t *path)
{
    char                   err[NGX_HTTP_LGSP_CONVERT_ERR_LEN];
    ngx_str_t              full;
    ngx_pool_cleanup_t    *cln;
    lgsp_schema_options_t  opts;

    full = *path;

    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&opts, sizeof(lgsp_schema_options_t));

    cv->schema = lgsp_schema_compile_file((char *) full.data, &opts, err,
                                          sizeof(err));
    if (cv->schema == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid schema: %s", err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_lgsp_convert_schema_free;
    cln->data = cv->schema;

    return NGX_CONF_OK;
}


static void
ngx_http_lgsp_convert_schema_free(void *data)
{
    lgsp_schema_free(data);
}


static void *
ngx_http_lgsp_convert_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_convert_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_convert_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->request = { NONE, ... };
     *     conf->response = { NONE, ... };
     */

    conf->request.unwrap = -1;
    conf->response.unwrap = -1;
    conf->max_size = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_lgsp_convert_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_lgsp_convert_loc_conf_t *prev = parent;
    ngx_http_lgsp_convert_loc_conf_t *conf = child;

    ngx_conf_merge_size_value(conf->max_size, prev->max_size,
                              8 * 1024 * 1024);

    if (conf->request.mode == NGX_HTTP_LGSP_CONVERT_NONE) {
        conf->request = prev->request;
    }

    if (conf->response.mode == NGX_HTTP_LGSP_CONVERT_NONE) {
        conf->response = prev->response;
    }

    /* an answer to a request sent as SOAP is unwrapped unless told */
    if (conf->response.mode == NGX_HTTP_LGSP_CONVERT_XML_TO_JSON
        && conf->response.unwrap == -1)
    {
        conf->response.unwrap =
            (conf->request.mode == NGX_HTTP_LGSP_CONVERT_JSON_TO_SOAP);
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_convert_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_lgsp_module_used(cf, &ngx_http_lgsp_convert_module)) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    /*
     * The first handler of a phase runs last: the body is converted after
     * the quota is taken and the JSON checked against its schema, in
     * whichever order the modules were registered.
     */
    h = cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers.elts;
    ngx_memmove(&h[1], &h[0],
                (cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers.nelts - 1)
                * sizeof(ngx_http_handler_pt));
    h[0] = ngx_http_lgsp_convert_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_lgsp_convert_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_lgsp_convert_body_filter;

    return NGX_OK;
}
