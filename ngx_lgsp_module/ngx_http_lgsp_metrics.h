/*
 * LGSP on nginx: the metrics other modules feed.  Requests, durations and
 * rejections are counted by the metrics module itself after each request
 * (from the request context); what happens outside a request is counted
 * here by the module that sees it:
 *
 *     ngx_str_t  kind = ngx_string("timeout");
 *     ngx_http_lgsp_metrics_count(ngx_cycle,
 *                             NGX_HTTP_LGSP_METRIC_REDIS_ERRORS, &kind, 1);
 *     ngx_http_lgsp_metrics_set(ngx_cycle, NGX_HTTP_LGSP_METRIC_REDIS_UP,
 *                               NULL, 0);
 *
 * Both do nothing when no lgsp_metrics or lgsp_status is configured; both
 * are lock-free but for the first use of a label value.
 */

#ifndef _NGX_HTTP_LGSP_METRICS_H_INCLUDED_
#define _NGX_HTTP_LGSP_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef enum {
    /* counter, label "kind": connect, timeout, reply... */
    NGX_HTTP_LGSP_METRIC_REDIS_ERRORS = 0,
    /* gauge, no label: 1 while Redis answers, 0 while it does not */
    NGX_HTTP_LGSP_METRIC_REDIS_UP,
    /* counter, label "result": ok or failed */
    NGX_HTTP_LGSP_METRIC_NDXP_REFRESHES,
    /* gauge, no label: Unix time the held NDXP token expires, 0: none */
    NGX_HTTP_LGSP_METRIC_NDXP_TOKEN_EXPIRES,
    /* counter, label "file": transaction records that could not be written */
    NGX_HTTP_LGSP_METRIC_RECORDS_LOST,
    /* gauge, labels "tenant", "service": entries in its delivery queue */
    NGX_HTTP_LGSP_METRIC_DELIVERY_QUEUED,
    /* gauge, labels "tenant", "service": its oldest entry's age, seconds */
    NGX_HTTP_LGSP_METRIC_DELIVERY_OLDEST,
    /* counter, labels "tenant", "service", "result": delivery attempts */
    NGX_HTTP_LGSP_METRIC_DELIVERY_ATTEMPTS,
    /* counter, labels "tenant", "service": deliveries failed or expired */
    NGX_HTTP_LGSP_METRIC_DELIVERY_DEAD,

    NGX_HTTP_LGSP_METRIC_EXTERNAL        /* the count of the above */
} ngx_http_lgsp_metric_e;


/*
 * adds n to a counter; label: the values of its labels, in their order
 * (one ngx_str_t for a metric of one label), or NULL
 */
void ngx_http_lgsp_metrics_count(volatile ngx_cycle_t *cycle,
    ngx_http_lgsp_metric_e metric, ngx_str_t *label, ngx_int_t n);

/* sets a gauge */
void ngx_http_lgsp_metrics_set(volatile ngx_cycle_t *cycle,
    ngx_http_lgsp_metric_e metric, ngx_str_t *label, ngx_int_t value);


#endif /* _NGX_HTTP_LGSP_METRICS_H_INCLUDED_ */
