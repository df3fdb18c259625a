/*
 * LGSP on nginx: what the LGSP modules share.  The core module
 * (ngx_http_lgsp_module) owns the per-request context, the transaction id,
 * the service code of a location and the problem+json answers.
 */

#ifndef _NGX_HTTP_LGSP_H_INCLUDED_
#define _NGX_HTTP_LGSP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a UUIDv7 in text form: time-ordered, unique across workers and nodes */
#define NGX_HTTP_LGSP_TXID_LEN  36

#define NGX_HTTP_LGSP_PROBLEM_BASE  "urn:lgsp:problem:"


/* what became of a request: for transaction records and metrics */
typedef enum {
    NGX_HTTP_LGSP_OUTCOME_OK = 0,
    NGX_HTTP_LGSP_OUTCOME_AUTH,
    NGX_HTTP_LGSP_OUTCOME_ACCESS,
    NGX_HTTP_LGSP_OUTCOME_QUOTA,
    NGX_HTTP_LGSP_OUTCOME_SCHEMA,
    NGX_HTTP_LGSP_OUTCOME_UPSTREAM,
    NGX_HTTP_LGSP_OUTCOME_ERROR
} ngx_http_lgsp_outcome_e;


/* a request's transaction record, in a log with on_error=deny */
typedef enum {
    NGX_HTTP_LGSP_RECORD_PENDING = 0,    /* to write in the log phase */
    NGX_HTTP_LGSP_RECORD_WRITTEN,        /* written as the answer left */
    NGX_HTTP_LGSP_RECORD_REFUSED,        /* answered records-unavailable */
    NGX_HTTP_LGSP_RECORD_WITHHELD        /* and the answer's body dropped */
} ngx_http_lgsp_record_e;


/*
 * A shared zone of entries found by an rbtree and aged by a queue, most
 * recent first: the JWT cache and the local quota counters, made by
 * ngx_http_lgsp_lru_add_zone().  name is the directive, for the slab's
 * messages.
 */
typedef struct {
    ngx_rbtree_t              rbtree;
    ngx_rbtree_node_t         sentinel;
    ngx_queue_t               queue;
} ngx_http_lgsp_lru_sh_t;


typedef struct {
    ngx_http_lgsp_lru_sh_t   *sh;
    ngx_slab_pool_t          *shpool;
    ngx_rbtree_insert_pt      insert;
    char                     *name;
} ngx_http_lgsp_lru_t;


/*
 * The headers the LGSP sends upstream under names of its own: a main
 * request's context keeps where its list holds each (no lookup by name).
 */
typedef enum {
    NGX_HTTP_LGSP_UPSTREAM_TXID = 0,
    NGX_HTTP_LGSP_UPSTREAM_AGENCY,
    NGX_HTTP_LGSP_UPSTREAM_SERVICE,
    NGX_HTTP_LGSP_UPSTREAM_NAMED           /* any other: looked up by name */
} ngx_http_lgsp_upstream_e;


/* one per main request; survives internal redirects */
typedef struct {
    u_char                txid[NGX_HTTP_LGSP_TXID_LEN];

    /* set by JWT authentication: the caller's identity */
    ngx_str_t             agency;
    ngx_str_t             jwt_payload;   /* the verified claims, JSON text */
    void                 *jwt_claims;    /* json_t *, parsed on first use */

    ngx_http_lgsp_outcome_e  outcome;
    /*
     * why a step refused, a short token: JWT gives missing, too_large,
     * malformed, algorithm_refused, unsupported, no_key, bad_signature,
     * expired, not_yet_valid, no_expiry, bad_claim, wrong_issuer,
     * wrong_audience, wrong_type, unbound, no_agency, insufficient_scope
     */
    ngx_str_t             reason;

    /* the quota module's state: a redirect must not take a quota twice */
    void                 *quota;

    /*
     * set by the log module in the preaccess phase: the lgsp_service of
     * the location the request reached, which records and metrics name
     * even after an error_page redirect
     */
    ngx_str_t             service;
    ngx_str_t             tenant;        /* set with service */

    /* the log module's: where the request's record stands */
    ngx_http_lgsp_record_e  record;

    /* the delivery module's state: a fallback redirect comes back to it */
    void                 *deliver;

    /* r->main's headers_in lines that ngx_http_lgsp_set_upstream() added */
    ngx_table_elt_t      *upstream[NGX_HTTP_LGSP_UPSTREAM_NAMED];

    /* the request reached a location an lgsp_* directive applies to */
    unsigned              applied:1;
    unsigned              client_headers_checked:1;

    /* a request the delivery module made for an attempt: recorded, not
     * counted among the requests */
    unsigned              delivery_attempt:1;
} ngx_http_lgsp_ctx_t;


typedef struct {
    ngx_str_t             service;       /* lgsp_service CODE */
    ngx_str_t             service_title;
    ngx_str_t             tenant;        /* lgsp_tenant CODE */

    /* an lgsp_* directive is set here or at a level above */
    ngx_uint_t            applies;
} ngx_http_lgsp_loc_conf_t;


/*
 * A header the LGSP sends upstream, named in the source: its lowercase
 * form written there too, its hash computed on first use.
 */
typedef struct {
    ngx_str_t             key;
    u_char               *lowcase_key;
    ngx_uint_t            hash;
    ngx_http_lgsp_upstream_e  slot;
} ngx_http_lgsp_header_t;


#define ngx_http_lgsp_header(key, lowcase_key, slot)                         \
    { ngx_string(key), (u_char *) lowcase_key, 0, slot }


/* a rejection, sent as RFC 9457 application/problem+json */
typedef struct {
    ngx_uint_t            status;
    ngx_http_lgsp_outcome_e  outcome;
    ngx_str_t             type;          /* slug after the base URI */
    ngx_str_t             title;
    ngx_str_t             detail;        /* plain text: escaped when sent */
    ngx_str_t             members;       /* extra JSON members, or empty */
} ngx_http_lgsp_problem_t;


/* the context of r->main, created with its txid on first use */
ngx_http_lgsp_ctx_t *ngx_http_lgsp_get_ctx(ngx_http_request_t *r);

/* the context r->main's pool keeps, where nginx cleared module contexts */
ngx_http_lgsp_ctx_t *ngx_http_lgsp_pooled_ctx(ngx_http_request_t *r);

/*
 * Whether the LGSP applies to a request: an lgsp_* directive applies to
 * its location, or to one it went through before an internal redirect.
 * Elsewhere the modules' handlers and filters do nothing (only the
 * removal of clients' X-LGSP-* headers is server-wide).
 */
ngx_uint_t ngx_http_lgsp_applies(ngx_http_request_t *r);

/*
 * Whether the http block has any lgsp_* directive: without one, the
 * modules install no phase handler or filter (the core module's removal
 * of clients' X-LGSP-* headers excepted), for nothing would use them.
 */
ngx_uint_t ngx_http_lgsp_configured(ngx_conf_t *cf);

/*
 * Whether one of a module's own directives is set: a module whose steps
 * read only its own directives installs them only then.
 */
ngx_uint_t ngx_http_lgsp_module_used(ngx_conf_t *cf, ngx_module_t *module);

/*
 * Discards the request body and sends the problem.  Returns what
 * ngx_http_finalize_request() should be given; from a phase handler:
 *     ngx_http_finalize_request(r, ngx_http_lgsp_send_problem(r, &p));
 *     return NGX_DONE;
 */
ngx_int_t ngx_http_lgsp_send_problem(ngx_http_request_t *r,
    ngx_http_lgsp_problem_t *problem);

/*
 * The problem's body, with the response's status and headers set for it;
 * NULL when out of memory.  For filters, which send it on themselves.
 */
ngx_buf_t *ngx_http_lgsp_problem_buf(ngx_http_request_t *r,
    ngx_http_lgsp_problem_t *problem);

/*
 * The request body, once read, in one piece of memory: the buffer itself
 * when nginx read it into one, otherwise a copy in the request pool
 * gathered from memory and the temporary file.
 */
ngx_int_t ngx_http_lgsp_request_body(ngx_http_request_t *r,
    ngx_str_t *body);

/*
 * The zone NAME:SIZE of a directive's parameter arg (name and size its two
 * parts), checked and added; NULL after saying why.
 */
ngx_shm_zone_t *ngx_http_lgsp_lru_add_zone(ngx_conf_t *cf, ngx_str_t *arg,
    ngx_str_t *name, ngx_str_t *size, void *tag, ngx_rbtree_insert_pt insert,
    char *directive);

/* adds a module's variables, a list ended by ngx_http_null_variable */
ngx_int_t ngx_http_lgsp_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars);

/* a variable's value is s, or "not found" when s is empty */
ngx_int_t ngx_http_lgsp_variable_str(ngx_http_variable_value_t *v,
    ngx_str_t *s);

/* the service code of the request's location, or the location's name */
void ngx_http_lgsp_service_name(ngx_http_request_t *r, ngx_str_t *name);

/*
 * The tenant a request counts for: that of the location it reached in the
 * preaccess phase (before an error_page could move it), else that of its
 * location now; empty when it has none.
 */
void ngx_http_lgsp_tenant_name(ngx_http_request_t *r, ngx_str_t *tenant);

/* the title lgsp_tenant gave a tenant code, or an empty string */
ngx_str_t *ngx_http_lgsp_tenant_title(ngx_conf_t *cf, ngx_str_t *tenant);

/*
 * What became of a request, for records and metrics: "ok", "auth",
 * "access", "quota", "schema", "upstream" or "error".  A request no step
 * refused is "upstream" when its provider answered 5xx or could not be
 * reached, "error" when nginx itself answered 4xx or 5xx.
 */
ngx_str_t *ngx_http_lgsp_outcome_name(ngx_http_request_t *r);

/*
 * Adds an X-LGSP-* header to the request headers, so that proxy_pass
 * carries it upstream; clients' own X-LGSP-* headers are removed on
 * arrival, so what arrives upstream is always the LGSP's word.
 */
ngx_int_t ngx_http_lgsp_set_upstream_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);

/* the same for a header named in the source: nothing computed per request */
ngx_int_t ngx_http_lgsp_set_upstream(ngx_http_request_t *r,
    ngx_http_lgsp_header_t *header, ngx_str_t *value);

/*
 * A subrequest's own header list, made before its headers change (its
 * parent's otherwise); nothing to do for a main request or one that has it.
 */
ngx_int_t ngx_http_lgsp_own_headers(ngx_http_request_t *r);

/*
 * A new header line named key, with an empty value, added to headers
 * (r->headers_out.headers or r->headers_in.headers); NULL without memory.
 */
ngx_table_elt_t *ngx_http_lgsp_push_header(ngx_list_t *headers,
    ngx_str_t *key);


extern ngx_module_t  ngx_http_lgsp_module;


/*
 * The context of r->main if it has one; never creates it.  Only an
 * internal redirect and nginx's own error answer from a filter
 * (ngx_http_filter_finalize_request(): a 412 for If-Match) clear module
 * contexts; the pool keeps ours.  Inline: the handlers of every request
 * look, and almost always find it at once.
 */
static ngx_inline ngx_http_lgsp_ctx_t *
ngx_http_lgsp_find_ctx(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t  *ctx;

    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_lgsp_module);

    if (ctx || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    return ngx_http_lgsp_pooled_ctx(r);
}


#endif /* _NGX_HTTP_LGSP_H_INCLUDED_ */
