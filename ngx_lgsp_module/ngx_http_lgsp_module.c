/*
 * LGSP on nginx: the core module.  Removes the X-LGSP-* headers clients
 * send (post-read phase, every request); knows where the LGSP applies (the
 * locations an lgsp_* directive applies to) and gives the requests there
 * their transaction id (rewrite phase), which goes upstream and back to
 * the caller; names the service of a location, and sends the problem+json
 * answers of every LGSP module.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "ngx_http_lgsp.h"
#include "lgsp_jwk.h"
#include "lgsp_sha256.h"


/* a tenant: its code, its title, and where lgsp_tenant first named it */
typedef struct {
    ngx_str_t             code;
    ngx_str_t             title;
    ngx_str_t             file;
    ngx_uint_t            line;
} ngx_http_lgsp_tenant_t;


/* an lgsp_service line, for the check that no two tenants share a code */
typedef struct {
    ngx_http_lgsp_loc_conf_t  *conf;
    ngx_str_t                  file;
    ngx_uint_t                 line;
} ngx_http_lgsp_service_line_t;


/* an lgsp_* directive, and its own handler */
typedef struct {
    ngx_command_t        *cmd;
    char               *(*set)(ngx_conf_t *cf, ngx_command_t *cmd,
                               void *conf);
    ngx_module_t         *module;
} ngx_http_lgsp_directive_t;


/* more than the LGSP modules have (ngx_http_lgsp_note_directives()) */
#define NGX_HTTP_LGSP_DIRECTIVES  128


/* what lgsp_tenant and lgsp_service lines of the http block say */
typedef struct {
    ngx_array_t           tenants;       /* ngx_http_lgsp_tenant_t */
    ngx_array_t           services;      /* ngx_http_lgsp_service_line_t */
    ngx_uint_t            configured;    /* some lgsp_* directive is set */
    u_char               *used;          /* by ctx_index: a module's is */
} ngx_http_lgsp_main_conf_t;


static ngx_int_t ngx_http_lgsp_post_read_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_rewrite_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_strip_client_headers(ngx_http_request_t *r);
static ngx_uint_t ngx_http_lgsp_is_lgsp_header(ngx_table_elt_t *h);
static ngx_int_t ngx_http_lgsp_header_filter(ngx_http_request_t *r);
static ngx_table_elt_t *ngx_http_lgsp_find_upstream(ngx_http_request_t *r,
    ngx_http_lgsp_header_t *header);
static ngx_table_elt_t *ngx_http_lgsp_find_header(ngx_list_t *headers,
    ngx_str_t *name);
static void ngx_http_lgsp_txid(u_char *txid);
static u_char *ngx_http_lgsp_hex(u_char *p, uint64_t v, ngx_uint_t digits);
static void ngx_http_lgsp_ctx_cleanup(void *data);
static ngx_int_t ngx_http_lgsp_txid_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_lgsp_agency_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_lgsp_service_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_lgsp_tenant_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_lgsp_service(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_tenant(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_check_code(ngx_conf_t *cf, ngx_str_t *code,
    char *what);
static ngx_http_lgsp_tenant_t *ngx_http_lgsp_find_tenant(
    ngx_http_lgsp_main_conf_t *lmcf, ngx_str_t *code);
static ngx_int_t ngx_http_lgsp_check_services(ngx_conf_t *cf);
static void *ngx_http_lgsp_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_lgsp_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_lgsp_note_directives(ngx_conf_t *cf);
static char *ngx_http_lgsp_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_lgsp_lru_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void *ngx_http_lgsp_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_lgsp_init(ngx_conf_t *cf);
static void ngx_http_lgsp_free_digests(void *data);
static ngx_int_t ngx_http_lgsp_init_process(ngx_cycle_t *cycle);


static ngx_http_lgsp_header_t  ngx_http_lgsp_txid_header =
    ngx_http_lgsp_header("X-LGSP-Transaction-ID", "x-lgsp-transaction-id",
                         NGX_HTTP_LGSP_UPSTREAM_TXID);


/*
 * The UUIDv7 state of this worker: a random node part, written once as
 * the id's last 18 characters, and a sequence
 */
static uint64_t   ngx_http_lgsp_node;
static u_char     ngx_http_lgsp_node_text[sizeof("-8xxx-xxxxxxxxxxxx") - 1];
static uint64_t   ngx_http_lgsp_last_ms;
static ngx_uint_t ngx_http_lgsp_seq;

/* the ids' first 14 characters, written once a millisecond */
static uint64_t   ngx_http_lgsp_ms_text_of;
static u_char     ngx_http_lgsp_ms_text[sizeof("xxxxxxxx-xxxx-") - 1];

/* "000102...feff": a byte's two hexadecimal digits at twice its value */
static u_char     ngx_http_lgsp_hex_pairs[512];


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/*
 * The LGSP modules' directives, whose handlers ngx_http_lgsp_directive()
 * calls: the command arrays are the module's own, so the table lives as
 * long as they do.
 */
static ngx_http_lgsp_directive_t  ngx_http_lgsp_directives[
                                      NGX_HTTP_LGSP_DIRECTIVES];
static ngx_uint_t                 ngx_http_lgsp_ndirectives;


static ngx_command_t  ngx_http_lgsp_commands[] = {

    { ngx_string("lgsp_service"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_lgsp_service,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_tenant"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_lgsp_tenant,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_module_ctx = {
    ngx_http_lgsp_preconfiguration,        /* preconfiguration */
    ngx_http_lgsp_init,                    /* postconfiguration */

    ngx_http_lgsp_create_main_conf,        /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_create_loc_conf,         /* create location configuration */
    ngx_http_lgsp_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_module_ctx,             /* module context */
    ngx_http_lgsp_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_lgsp_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_lgsp_vars[] = {

    { ngx_string("lgsp_txid"), NULL, ngx_http_lgsp_txid_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("lgsp_agency"), NULL, ngx_http_lgsp_agency_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("lgsp_service"), NULL, ngx_http_lgsp_service_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("lgsp_tenant"), NULL, ngx_http_lgsp_tenant_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_http_lgsp_ctx_t *
ngx_http_lgsp_pooled_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t   *cln;
    ngx_http_lgsp_ctx_t  *ctx;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_lgsp_ctx_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_lgsp_module);
            return ctx;
        }
    }

    return NULL;
}


ngx_http_lgsp_ctx_t *
ngx_http_lgsp_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t   *cln;
    ngx_http_lgsp_ctx_t  *ctx;

    ctx = ngx_http_lgsp_find_ctx(r);
    if (ctx) {
        return ctx;
    }

    r = r->main;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_lgsp_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_lgsp_ctx_t));
    ngx_http_lgsp_txid(ctx->txid);

    cln->handler = ngx_http_lgsp_ctx_cleanup;
    ngx_http_set_ctx(r, ctx, ngx_http_lgsp_module);

    return ctx;
}


ngx_uint_t
ngx_http_lgsp_applies(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t       *ctx;
    ngx_http_lgsp_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);

    if (llcf->applies) {
        return 1;
    }

    /* an error_page may lead a request on where no directive applies */
    ctx = ngx_http_lgsp_find_ctx(r);

    return ctx && ctx->applied;
}


ngx_int_t
ngx_http_lgsp_send_problem(ngx_http_request_t *r,
    ngx_http_lgsp_problem_t *problem)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    b = ngx_http_lgsp_problem_buf(r, problem);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_buf_t *
ngx_http_lgsp_problem_buf(ngx_http_request_t *r,
    ngx_http_lgsp_problem_t *problem)
{
    u_char               *p;
    size_t                len;
    ngx_buf_t            *b;
    ngx_http_lgsp_ctx_t  *ctx;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    ctx->outcome = problem->outcome;

    len = sizeof("{\"type\":\"" NGX_HTTP_LGSP_PROBLEM_BASE "\",\"title\":\""
                 "\",\"status\":000,\"detail\":\"\",\"instance\":\"\"}") - 1
          + problem->type.len
          + problem->title.len
          + problem->detail.len
          + ngx_escape_json(NULL, problem->detail.data, problem->detail.len)
          + NGX_HTTP_LGSP_TXID_LEN;

    if (problem->members.len) {
        len += sizeof(",") - 1 + problem->members.len;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    p = ngx_sprintf(b->last, "{\"type\":\"" NGX_HTTP_LGSP_PROBLEM_BASE
                    "%V\",\"title\":\"%V\",\"status\":%03ui,\"detail\":\"",
                    &problem->type, &problem->title, problem->status);
    p = (u_char *) ngx_escape_json(p, problem->detail.data,
                                   problem->detail.len);
    p = ngx_sprintf(p, "\",\"instance\":\"%*s\"", NGX_HTTP_LGSP_TXID_LEN,
                    ctx->txid);

    if (problem->members.len) {
        *p++ = ',';
        p = ngx_copy(p, problem->members.data, problem->members.len);
    }

    *p++ = '}';
    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = problem->status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/problem+json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    return b;
}


/*
 * The body in one piece of memory: the buffer itself when nginx read it
 * into one, otherwise a copy gathered from memory and the temporary file.
 */
ngx_int_t
ngx_http_lgsp_request_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl, *bufs;

    bufs = r->request_body->bufs;
    len = 0;

    for (cl = bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    body->len = len;
    body->data = NULL;

    if (len == 0) {
        return NGX_OK;
    }

    for (cl = bufs; ngx_buf_size(cl->buf) == 0; cl = cl->next) {
        /* void */
    }

    if (ngx_buf_in_memory(cl->buf) && ngx_buf_size(cl->buf) == len) {
        body->data = cl->buf->pos;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = bufs; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_size(b);

        if (size == 0) {
            /* the last_buf mark of a chunked body */
            continue;
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, size);
            continue;
        }

        n = ngx_read_file(b->file, p, size, b->file_pos);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n != size) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "lgsp: read only %z of %O bytes of the"
                          " request body from \"%V\"", n, size,
                          &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_lgsp_variable_str(ngx_http_variable_value_t *v, ngx_str_t *s)
{
    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


void
ngx_http_lgsp_service_name(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_http_lgsp_loc_conf_t  *llcf;
    ngx_http_core_loc_conf_t  *clcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);

    if (llcf->service.len) {
        *name = llcf->service;
        return;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    *name = clcf->name;
}


void
ngx_http_lgsp_tenant_name(ngx_http_request_t *r, ngx_str_t *tenant)
{
    ngx_http_lgsp_ctx_t       *ctx;
    ngx_http_lgsp_loc_conf_t  *llcf;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_lgsp_module);

    if (ctx && ctx->tenant.len) {
        *tenant = ctx->tenant;
        return;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);
    *tenant = llcf->tenant;
}


ngx_str_t *
ngx_http_lgsp_tenant_title(ngx_conf_t *cf, ngx_str_t *tenant)
{
    ngx_http_lgsp_tenant_t     *t;
    ngx_http_lgsp_main_conf_t  *lmcf;

    static ngx_str_t  none = ngx_null_string;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_module);

    t = ngx_http_lgsp_find_tenant(lmcf, tenant);

    return t ? &t->title : &none;
}


ngx_str_t *
ngx_http_lgsp_outcome_name(ngx_http_request_t *r)
{
    ngx_uint_t            status;
    ngx_http_lgsp_ctx_t  *ctx;

    static ngx_str_t  names[] = {
        ngx_string("ok"),
        ngx_string("auth"),
        ngx_string("access"),
        ngx_string("quota"),
        ngx_string("schema"),
        ngx_string("upstream"),
        ngx_string("error")
    };

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return &names[NGX_HTTP_LGSP_OUTCOME_ERROR];
    }

    if (ctx->outcome != NGX_HTTP_LGSP_OUTCOME_OK) {
        return &names[ctx->outcome];
    }

    r = r->main;
    status = r->err_status ? r->err_status : r->headers_out.status;

    if (r->upstream_states && r->upstream_states->nelts) {
        return &names[status >= NGX_HTTP_INTERNAL_SERVER_ERROR
                      ? NGX_HTTP_LGSP_OUTCOME_UPSTREAM
                      : NGX_HTTP_LGSP_OUTCOME_OK];
    }

    return &names[status >= NGX_HTTP_BAD_REQUEST
                  ? NGX_HTTP_LGSP_OUTCOME_ERROR
                  : NGX_HTTP_LGSP_OUTCOME_OK];
}


ngx_int_t
ngx_http_lgsp_set_upstream_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_http_lgsp_header_t  header;

    header.key = *name;
    header.lowcase_key = ngx_pnalloc(r->pool, name->len);
    if (header.lowcase_key == NULL) {
        return NGX_ERROR;
    }

    header.hash = ngx_hash_strlow(header.lowcase_key, name->data, name->len);
    header.slot = NGX_HTTP_LGSP_UPSTREAM_NAMED;

    return ngx_http_lgsp_set_upstream(r, &header, value);
}


/*
 * A subrequest's header list is a copy of its parent's whose parts are the
 * parent's: a header pushed onto it would not be seen, one changed would
 * change the parent's.  Before its headers change, a subrequest gets a
 * list of its own, once.
 */
ngx_int_t
ngx_http_lgsp_own_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *copy;

    if (r == r->main
        || r->headers_in.headers.part.elts
           != r->parent->headers_in.headers.part.elts)
    {
        return NGX_OK;
    }

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (part = &old.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            copy = ngx_list_push(&r->headers_in.headers);
            if (copy == NULL) {
                return NGX_ERROR;
            }

            *copy = h[i];

            if (r->headers_in.content_type == &h[i]) {
                r->headers_in.content_type = copy;
            }

            if (r->headers_in.content_length == &h[i]) {
                r->headers_in.content_length = copy;
            }
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_lgsp_set_upstream(ngx_http_request_t *r,
    ngx_http_lgsp_header_t *header, ngx_str_t *value)
{
    ngx_table_elt_t      *h, **line;
    ngx_http_lgsp_ctx_t  *ctx;

    /* proxy_set_header of the same name must still win: hash it right */
    if (header->hash == 0) {
        header->hash = ngx_hash_key(header->lowcase_key, header->key.len);
    }

    /*
     * Once the post-read phase has removed the client's X-LGSP-* headers,
     * a main request's list holds one of our names only where this
     * function added it, and the context keeps where.
     */
    line = NULL;

    if (r == r->main && header->slot != NGX_HTTP_LGSP_UPSTREAM_NAMED) {
        ctx = ngx_http_lgsp_find_ctx(r);

        if (ctx && ctx->client_headers_checked) {
            line = &ctx->upstream[header->slot];
        }
    }

    if (line == NULL) {
        if (ngx_http_lgsp_own_headers(r) != NGX_OK) {
            return NGX_ERROR;
        }

        h = ngx_http_lgsp_find_upstream(r, header);

    } else {
        h = *line;
    }

    if (h) {
        h->value = *value;
        return NGX_OK;
    }

    h = ngx_http_lgsp_push_header(&r->headers_in.headers, &header->key);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value = *value;
    h->lowcase_key = header->lowcase_key;
    h->hash = header->hash;

    if (line) {
        *line = h;
    }

    return NGX_OK;
}


/* a request header by the name and hash of header */
static ngx_table_elt_t *
ngx_http_lgsp_find_upstream(ngx_http_request_t *r,
    ngx_http_lgsp_header_t *header)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    /* nginx hashed the request's own header names just so */
    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash == header->hash
                && h[i].key.len == header->key.len
                && ngx_strncasecmp(h[i].key.data, header->key.data,
                                   header->key.len)
                   == 0)
            {
                return &h[i];
            }
        }
    }

    return NULL;
}


ngx_table_elt_t *
ngx_http_lgsp_push_header(ngx_list_t *headers, ngx_str_t *key)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key = *key;
    ngx_str_null(&h->value);
    h->lowcase_key = NULL;

#if (nginx_version >= 1023000)
    /* since 1.23 the lines of one header are linked: this one is alone */
    h->next = NULL;
#endif

    return h;
}


/*
 * Every request, before its location is known: no server may pass on a
 * client's X-LGSP-* header (to a provider, or into its access log).
 */
static ngx_int_t
ngx_http_lgsp_post_read_handler(ngx_http_request_t *r)
{
    if (ngx_http_lgsp_strip_client_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * Where the LGSP applies, once the location is known (after every
 * internal redirect too), and before a "return" may answer: the
 * transaction id, which goes upstream.
 */
static ngx_int_t
ngx_http_lgsp_rewrite_handler(ngx_http_request_t *r)
{
    ngx_str_t                  txid;
    ngx_http_lgsp_ctx_t       *ctx;
    ngx_http_lgsp_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);

    if (!llcf->applies || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* after the post-read phase: what the request has of X-LGSP-* is ours */
    ctx->applied = 1;
    ctx->client_headers_checked = 1;

    txid.len = NGX_HTTP_LGSP_TXID_LEN;
    txid.data = ctx->txid;

    if (ngx_http_lgsp_set_upstream(r, &ngx_http_lgsp_txid_header, &txid)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * Rebuilds the header list without the X-LGSP-* headers a client sent:
 * in the post-read phase, before any other handler or variable sees
 * them, or as the answer leaves when nginx refused the request earlier.
 */
static ngx_int_t
ngx_http_lgsp_strip_client_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, found, total;
    ngx_list_t        sent;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *k;

    found = 0;
    total = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            total++;
            found += ngx_http_lgsp_is_lgsp_header(&h[i]);
        }
    }

    if (found == 0) {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "lgsp: removing %ui client X-LGSP-* headers", found);

    /* the elements stay in the pool, where headers_in's pointers hold */
    sent = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, total - found + 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (part = &sent.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_lgsp_is_lgsp_header(&h[i])) {
                continue;
            }

            k = ngx_list_push(&r->headers_in.headers);
            if (k == NULL) {
                return NGX_ERROR;
            }

            *k = h[i];
        }
    }

    return NGX_OK;
}


/*
 * A name that begins with x-lgsp- once lowercased and with "_" read as
 * "-": with underscores_in_headers on, X_LGSP_Agency reaches proxy_pass
 * as it is, and CGI/WSGI backends read it as HTTP_X_LGSP_AGENCY.
 */
static ngx_uint_t
ngx_http_lgsp_is_lgsp_header(ngx_table_elt_t *h)
{
    u_char      c;
    ngx_uint_t  i;

    static u_char  prefix[] = "x-lgsp-";

    /* every request's every header: most are told apart by two looks */
    if (h->key.len < sizeof(prefix) - 1 || (h->key.data[0] | 0x20) != 'x') {
        return 0;
    }

    for (i = 1; i < sizeof(prefix) - 1; i++) {
        c = ngx_tolower(h->key.data[i]);

        if (c != prefix[i] && !(c == '_' && prefix[i] == '-')) {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_lgsp_header_filter(ngx_http_request_t *r)
{
    ngx_str_t             txid;
    ngx_table_elt_t      *h;
    ngx_http_lgsp_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_lgsp_find_ctx(r);

    /*
     * nginx may have refused the request before its phases: the access
     * log comes next.  Where the LGSP does not apply, no X-LGSP-* header
     * of ours was added, and a second look finds none of the client's.
     */
    if (ctx == NULL || !ctx->client_headers_checked) {
        if (ngx_http_lgsp_strip_client_headers(r) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (!ngx_http_lgsp_applies(r)) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->applied = 1;

    txid.len = NGX_HTTP_LGSP_TXID_LEN;
    txid.data = ctx->txid;

    /* an upstream's own id gives way: the caller holds ours */
    h = ngx_http_lgsp_find_header(&r->headers_out.headers,
                                  &ngx_http_lgsp_txid_header.key);
    if (h) {
        h->value = txid;
        return ngx_http_next_header_filter(r);
    }

    h = ngx_http_lgsp_push_header(&r->headers_out.headers,
                                  &ngx_http_lgsp_txid_header.key);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value = txid;

    return ngx_http_next_header_filter(r);
}


/* a header of the list by name; cleared ones (hash 0) do not count */
static ngx_table_elt_t *
ngx_http_lgsp_find_header(ngx_list_t *headers, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    for (part = &headers->part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash && h[i].key.len == name->len
                && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
            {
                return &h[i];
            }
        }
    }

    return NULL;
}


/*
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit sequence
 * that keeps ids of one worker in order within a millisecond, then 62
 * random bits drawn once per worker, which keep workers and nodes apart.
 */
static void
ngx_http_lgsp_txid(u_char *txid)
{
    u_char      *p;
    uint64_t     ms;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    ms = (uint64_t) tp->sec * 1000 + tp->msec;

    if (ms > ngx_http_lgsp_last_ms) {
        ngx_http_lgsp_last_ms = ms;
        ngx_http_lgsp_seq = 0;

    } else if (++ngx_http_lgsp_seq > 0xfff) {
        /* more than 4096 ids in a millisecond: borrow the next one */
        ngx_http_lgsp_last_ms++;
        ngx_http_lgsp_seq = 0;
    }

    /* once per request: written out by hand, not by ngx_sprintf() */
    if (ngx_http_lgsp_ms_text_of != ngx_http_lgsp_last_ms) {
        ngx_http_lgsp_ms_text_of = ngx_http_lgsp_last_ms;

        p = ngx_http_lgsp_hex(ngx_http_lgsp_ms_text,
                              ngx_http_lgsp_last_ms >> 16, 8);
        *p++ = '-';
        p = ngx_http_lgsp_hex(p, ngx_http_lgsp_last_ms & 0xffff, 4);
        *p = '-';
    }

    p = ngx_cpymem(txid, ngx_http_lgsp_ms_text, sizeof(ngx_http_lgsp_ms_text));
    p = ngx_http_lgsp_hex(p, 0x7000 | ngx_http_lgsp_seq, 4);
    ngx_memcpy(p, ngx_http_lgsp_node_text, sizeof(ngx_http_lgsp_node_text));
}


/* the digits (an even number) lowest of v in lowercase hexadecimal */
static u_char *
ngx_http_lgsp_hex(u_char *p, uint64_t v, ngx_uint_t digits)
{
    u_char  *q;

    /* two digits a step: ids are written once per request */
    for (q = p + digits; q > p; v >>= 8) {
        q -= 2;
        q[0] = ngx_http_lgsp_hex_pairs[(v & 0xff) * 2];
        q[1] = ngx_http_lgsp_hex_pairs[(v & 0xff) * 2 + 1];
    }

    return p + digits;
}


static void
ngx_http_lgsp_ctx_cleanup(void *data)
{
    /* the context lives in the pool; its presence is the marker */
}


static ngx_int_t
ngx_http_lgsp_txid_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t             txid;
    ngx_http_lgsp_ctx_t  *ctx;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    txid.len = NGX_HTTP_LGSP_TXID_LEN;
    txid.data = ctx->txid;

    return ngx_http_lgsp_variable_str(v, &txid);
}


static ngx_int_t
ngx_http_lgsp_agency_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_lgsp_ctx_t  *ctx;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_lgsp_variable_str(v, &ctx->agency);
}


static ngx_int_t
ngx_http_lgsp_service_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_lgsp_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);

    return ngx_http_lgsp_variable_str(v, &llcf->service);
}


static ngx_int_t
ngx_http_lgsp_tenant_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  tenant;

    ngx_http_lgsp_tenant_name(r, &tenant);

    return ngx_http_lgsp_variable_str(v, &tenant);
}


static char *
ngx_http_lgsp_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_loc_conf_t *llcf = conf;

    ngx_str_t                     *value;
    ngx_http_lgsp_main_conf_t     *lmcf;
    ngx_http_lgsp_service_line_t  *line;

    if (llcf->service.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_lgsp_check_code(cf, &value[1], "service") != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    llcf->service = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "title=", 6) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        llcf->service_title.data = value[2].data + 6;
        llcf->service_title.len = value[2].len - 6;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_module);

    line = ngx_array_push(&lmcf->services);
    if (line == NULL) {
        return NGX_CONF_ERROR;
    }

    line->conf = llcf;
    line->file = cf->conf_file->file.name;
    line->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_tenant(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_loc_conf_t *llcf = conf;

    ngx_str_t                  *value, title;
    ngx_http_lgsp_tenant_t     *t;
    ngx_http_lgsp_main_conf_t  *lmcf;

    if (llcf->tenant.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_lgsp_check_code(cf, &value[1], "tenant") != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&title);

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "title=", 6) != 0
            || value[2].len == 6)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        title.data = value[2].data + 6;
        title.len = value[2].len - 6;
    }

    llcf->tenant = value[1];

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_module);

    t = ngx_http_lgsp_find_tenant(lmcf, &value[1]);

    if (t == NULL) {
        t = ngx_array_push(&lmcf->tenants);
        if (t == NULL) {
            return NGX_CONF_ERROR;
        }

        t->code = value[1];
        t->title = title;
        t->file = cf->conf_file->file.name;
        t->line = cf->conf_file->line;

        return NGX_CONF_OK;
    }

    if (title.len == 0) {
        return NGX_CONF_OK;
    }

    if (t->title.len == 0) {
        t->title = title;
        return NGX_CONF_OK;
    }

    if (t->title.len != title.len
        || ngx_strncmp(t->title.data, title.data, title.len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tenant \"%V\" is titled \"%V\" in %V:%ui",
                           &value[1], &t->title, &t->file, t->line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a code goes into headers, records and metric labels: keep it plain */
static char *
ngx_http_lgsp_check_code(ngx_conf_t *cf, ngx_str_t *code, char *what)
{
    ngx_uint_t  i;

    for (i = 0; i < code->len; i++) {
        if (!(isalnum(code->data[i]) || code->data[i] == '.'
              || code->data[i] == '_' || code->data[i] == '-'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %s code \"%V\": use letters,"
                               " digits, \".\", \"_\" and \"-\"",
                               what, code);
            return NGX_CONF_ERROR;
        }
    }

    if (code->len == 0 || code->len > 128) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"lgsp_%s\" directive takes a %s code of 1 to"
                           " 128 characters", what, what);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_http_lgsp_tenant_t *
ngx_http_lgsp_find_tenant(ngx_http_lgsp_main_conf_t *lmcf, ngx_str_t *code)
{
    ngx_uint_t               i;
    ngx_http_lgsp_tenant_t  *t;

    t = lmcf->tenants.elts;

    for (i = 0; i < lmcf->tenants.nelts; i++) {
        if (t[i].code.len == code->len
            && ngx_strncmp(t[i].code.data, code->data, code->len) == 0)
        {
            return &t[i];
        }
    }

    return NULL;
}


/*
 * A service code belongs to one tenant: its records, metrics and
 * catalogue entries must not be counted for two.  Checked once every
 * location has its tenant (merged from its server).
 */
static ngx_int_t
ngx_http_lgsp_check_services(ngx_conf_t *cf)
{
    ngx_uint_t                     i, j;
    ngx_http_lgsp_loc_conf_t      *a, *b;
    ngx_http_lgsp_main_conf_t     *lmcf;
    ngx_http_lgsp_service_line_t  *line;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_module);
    line = lmcf->services.elts;

    for (i = 0; i < lmcf->services.nelts; i++) {
        a = line[i].conf;

        for (j = 0; j < i; j++) {
            b = line[j].conf;

            if (a->tenant.len == 0 || b->tenant.len == 0
                || a->service.len != b->service.len
                || ngx_strncmp(a->service.data, b->service.data,
                               a->service.len) != 0
                || (a->tenant.len == b->tenant.len
                    && ngx_strncmp(a->tenant.data, b->tenant.data,
                                   a->tenant.len) == 0))
            {
                continue;
            }

            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "service \"%V\" of tenant \"%V\" in %V:%ui is"
                          " also in tenant \"%V\" in %V:%ui: a service"
                          " code belongs to one tenant",
                          &a->service, &a->tenant, &line[i].file,
                          line[i].line, &b->tenant, &line[j].file,
                          line[j].line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_lgsp_note_directives(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_lgsp_register_variables(cf, ngx_http_lgsp_vars);
}


/*
 * Where the LGSP applies is where one of its directives of server or
 * location level is set or inherited: nginx calls ngx_http_lgsp_directive()
 * for every lgsp_* directive, which notes it in the level's configuration,
 * then calls the directive's own handler.  Directives of the http level
 * only (zones, Redis) name what locations use, and apply nowhere by
 * themselves.  Runs for every configuration read; a reload finds the
 * table made.
 */
static ngx_int_t
ngx_http_lgsp_note_directives(ngx_conf_t *cf)
{
    ngx_uint_t                  i;
    ngx_module_t               *module;
    ngx_command_t              *cmd;
    ngx_http_lgsp_directive_t  *d;

    for (i = 0; cf->cycle->modules[i]; i++) {
        module = cf->cycle->modules[i];

        if (module->type != NGX_HTTP_MODULE || module->commands == NULL
            || ngx_strncmp(module->name, "ngx_http_lgsp_", 14) != 0)
        {
            continue;
        }

        for (cmd = module->commands; cmd->name.len; cmd++) {
            if (cmd->set == ngx_http_lgsp_directive) {
                continue;
            }

            if (ngx_http_lgsp_ndirectives == NGX_HTTP_LGSP_DIRECTIVES) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "lgsp: more than %d directives: raise"
                              " NGX_HTTP_LGSP_DIRECTIVES",
                              NGX_HTTP_LGSP_DIRECTIVES);
                return NGX_ERROR;
            }

            d = &ngx_http_lgsp_directives[ngx_http_lgsp_ndirectives++];
            d->cmd = cmd;
            d->set = cmd->set;
            d->module = module;

            cmd->set = ngx_http_lgsp_directive;
        }
    }

    return NGX_OK;
}


static char *
ngx_http_lgsp_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                       *rv;
    ngx_uint_t                  i;
    ngx_http_lgsp_loc_conf_t   *llcf;
    ngx_http_lgsp_main_conf_t  *lmcf;

    for (i = 0; ngx_http_lgsp_directives[i].cmd != cmd; i++) {
        /* void: every directive so handled is in the table */
    }

    rv = ngx_http_lgsp_directives[i].set(cf, cmd, conf);

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_module);
    lmcf->configured = 1;
    lmcf->used[ngx_http_lgsp_directives[i].module->ctx_index] = 1;

    if (cmd->type & (NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)) {
        llcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_lgsp_module);
        llcf->applies = 1;
    }

    return NGX_CONF_OK;
}


ngx_uint_t
ngx_http_lgsp_configured(ngx_conf_t *cf)
{
    ngx_http_lgsp_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_module);

    return lmcf->configured;
}


ngx_uint_t
ngx_http_lgsp_module_used(ngx_conf_t *cf, ngx_module_t *module)
{
    ngx_http_lgsp_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_module);

    return lmcf->used[module->ctx_index];
}


ngx_shm_zone_t *
ngx_http_lgsp_lru_add_zone(ngx_conf_t *cf, ngx_str_t *arg, ngx_str_t *name,
    ngx_str_t *size, void *tag, ngx_rbtree_insert_pt insert, char *directive)
{
    ssize_t               n;
    ngx_shm_zone_t       *zone;
    ngx_http_lgsp_lru_t  *lru;

    n = ngx_parse_size(size);

    if (name->len == 0 || n == NGX_ERROR
        || n < (ssize_t) (8 * ngx_pagesize))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\": a name and a size of at"
                           " least %uzk", arg, 8 * ngx_pagesize / 1024);
        return NULL;
    }

    lru = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_lru_t));
    if (lru == NULL) {
        return NULL;
    }

    zone = ngx_shared_memory_add(cf, name, n, tag);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already in use", name);
        return NULL;
    }

    lru->insert = insert;
    lru->name = directive;

    zone->init = ngx_http_lgsp_lru_init_zone;
    zone->data = lru;

    return zone;
}


static ngx_int_t
ngx_http_lgsp_lru_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_lgsp_lru_t  *olru = data;

    size_t                len;
    ngx_http_lgsp_lru_t  *lru;

    lru = shm_zone->data;

    if (olru) {
        lru->sh = olru->sh;
        lru->shpool = olru->shpool;
        return NGX_OK;
    }

    lru->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        lru->sh = lru->shpool->data;
        return NGX_OK;
    }

    lru->sh = ngx_slab_alloc(lru->shpool, sizeof(ngx_http_lgsp_lru_sh_t));
    if (lru->sh == NULL) {
        return NGX_ERROR;
    }

    lru->shpool->data = lru->sh;

    ngx_rbtree_init(&lru->sh->rbtree, &lru->sh->sentinel, lru->insert);
    ngx_queue_init(&lru->sh->queue);

    len = sizeof(" in  zone \"\"") + ngx_strlen(lru->name)
          + shm_zone->shm.name.len;

    lru->shpool->log_ctx = ngx_slab_alloc(lru->shpool, len);
    if (lru->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(lru->shpool->log_ctx, " in %s zone \"%V\"%Z", lru->name,
                &shm_zone->shm.name);

    /* a full zone gives up its oldest entries: no news for the error log */
    lru->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_lgsp_register_variables(ngx_conf_t *cf, ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_lgsp_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    lmcf->used = ngx_pcalloc(cf->pool, ngx_http_max_module);
    if (lmcf->used == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->tenants, cf->pool, 4,
                       sizeof(ngx_http_lgsp_tenant_t))
        != NGX_OK
        || ngx_array_init(&lmcf->services, cf->pool, 16,
                          sizeof(ngx_http_lgsp_service_line_t))
           != NGX_OK)
    {
        return NULL;
    }

    return lmcf;
}


static void *
ngx_http_lgsp_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->service = { 0, NULL };
     *     conf->service_title = { 0, NULL };
     *     conf->tenant = { 0, NULL };
     *     conf->applies = 0;
     */

    return conf;
}


static char *
ngx_http_lgsp_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lgsp_loc_conf_t *prev = parent;
    ngx_http_lgsp_loc_conf_t *conf = child;

    conf->applies |= prev->applies;

    if (conf->tenant.data == NULL) {
        conf->tenant = prev->tenant;
    }

    if (conf->service.data == NULL) {
        conf->service = prev->service;
        conf->service_title = prev->service_title;

        if (conf->service.len && prev->tenant.len
            && (conf->tenant.len != prev->tenant.len
                || ngx_strncmp(conf->tenant.data, prev->tenant.data,
                               prev->tenant.len) != 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "service \"%V\" of tenant \"%V\" is"
                               " inherited by a location of tenant \"%V\":"
                               " a service code belongs to one tenant",
                               &conf->service, &prev->tenant, &conf->tenant);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_init(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_lgsp_check_services(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_post_read_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_lgsp_header_filter;

    if (ngx_http_lgsp_configured(cf)) {
        h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = ngx_http_lgsp_rewrite_handler;
    }

    cln = ngx_pool_cleanup_add(cf->cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_lgsp_free_digests;

    return NGX_OK;
}


/*
 * The digests the process fetched once (lgsp_sha256.c, lgsp_jwa_digest())
 * go with the cycle: at exit, after every exit hook, in the master, the
 * workers, and a single process.  A cycle a reload replaces frees them
 * too; the next use fetches them again.
 */
static void
ngx_http_lgsp_free_digests(void *data)
{
    lgsp_sha256_free();
    lgsp_jwa_digest_free();
}


static ngx_int_t
ngx_http_lgsp_init_process(ngx_cycle_t *cycle)
{
    u_char      *p;
    uint64_t     lo;
    ngx_uint_t   i;

    static u_char  hex[] = "0123456789abcdef";

    for (i = 0; i < 256; i++) {
        ngx_http_lgsp_hex_pairs[i * 2] = hex[i >> 4];
        ngx_http_lgsp_hex_pairs[i * 2 + 1] = hex[i & 0xf];
    }

    if (RAND_bytes((u_char *) &ngx_http_lgsp_node,
                   sizeof(ngx_http_lgsp_node))
        != 1)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "lgsp: RAND_bytes() failed for transaction ids");
        return NGX_ERROR;
    }

    ngx_http_lgsp_node &= 0x3fffffffffffffffULL;

    lo = 0x8000000000000000ULL | ngx_http_lgsp_node;

    p = ngx_http_lgsp_node_text;
    *p++ = '-';
    p = ngx_http_lgsp_hex(p, lo >> 48, 4);
    *p++ = '-';
    ngx_http_lgsp_hex(p, lo & 0xffffffffffffULL, 12);

    return NGX_OK;
}
