/*
 * LGSP on nginx: documents fetched by subrequest and shared by all
 * workers (ngx_http_lgsp_fetch_module): the NDXP access token, remote JWT
 * key sets.  The operator writes the internal location that fetches
 * (proxy_pass, so TLS, timeouts and failover are nginx's own); the value
 * lives in shared memory, one fetch is in flight at a time across
 * workers, the others wait for it without blocking, and a failed fetch
 * is logged once per incident.
 */

#ifndef _NGX_HTTP_LGSP_FETCH_H_INCLUDED_
#define _NGX_HTTP_LGSP_FETCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * Checks what the internal location answered (status 200) and gives the
 * value to keep (it may point into body) and its lifetime in seconds (0:
 * no end).  NGX_OK, or NGX_DECLINED with a short reason in err (never the
 * body: it may hold secrets).
 */
typedef ngx_int_t (*ngx_http_lgsp_fetch_check_pt)(ngx_http_request_t *r,
    ngx_str_t *body, ngx_str_t *value, time_t *ttl, u_char *err,
    size_t errlen);

/* told of every fetch that ends: expires is 0 after a failure */
typedef void (*ngx_http_lgsp_fetch_ended_pt)(ngx_uint_t ok, time_t expires);


typedef struct {
    ngx_str_t                      uri;         /* the internal location */
    ngx_str_t                      key;         /* what + uri: the slot */
    ngx_str_t                      what;        /* for the error log */
    ngx_http_lgsp_fetch_check_pt   check;
    ngx_http_lgsp_fetch_ended_pt   ended;       /* or NULL */
    ngx_uint_t                     refresh_pct; /* of a value's lifetime */
    time_t                         refresh;     /* when it has none */
    time_t                         retry;       /* after a failed fetch */
    ngx_uint_t                     slot;        /* in the shared zone */
} ngx_http_lgsp_fetch_t;


/* one per request and fetch, kept in the caller's request context */
typedef struct {
    ngx_http_lgsp_fetch_t         *fetch;
    ngx_http_request_t            *request;
    ngx_event_t                    wait;        /* polls another's fetch */
    ngx_uint_t                     failures;    /* seen when waiting began */
    unsigned                       cleanup:1;
    unsigned                       fetching:1;  /* our subrequest is out */
    unsigned                       done:1;      /* and has ended */
    unsigned                       failed:1;
    unsigned                       waiting:1;
} ngx_http_lgsp_fetch_state_t;


/*
 * At configuration time: the fetch of uri for what ("NDXP token").
 * Locations naming the same what and uri share one value.
 */
ngx_http_lgsp_fetch_t *ngx_http_lgsp_fetch_add(ngx_conf_t *cf,
    ngx_str_t *what, ngx_str_t *uri);

/*
 * From a phase handler: the value and its version.  version holds the
 * version the caller has already: the value is copied into the request
 * pool only when the slot's differs.  min_age >= 0 asks for an early
 * fetch when the value is older than that many milliseconds.
 *   NGX_OK        the value;
 *   NGX_AGAIN     a fetch is under way: return NGX_AGAIN from the phase
 *                 handler, which is called again when it has ended;
 *   NGX_DECLINED  no value: the fetch failed, or failed recently;
 *   NGX_ERROR     no memory.
 */
ngx_int_t ngx_http_lgsp_fetch_get(ngx_http_request_t *r,
    ngx_http_lgsp_fetch_state_t *st, ngx_http_lgsp_fetch_t *fetch,
    ngx_msec_int_t min_age, ngx_str_t *value, ngx_uint_t *version);

/* forgets the value of that version: the next request fetches anew */
void ngx_http_lgsp_fetch_drop(ngx_http_lgsp_fetch_t *fetch,
    ngx_uint_t version);


#endif /* _NGX_HTTP_LGSP_FETCH_H_INCLUDED_ */
