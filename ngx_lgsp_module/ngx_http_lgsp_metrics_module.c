/*
 * LGSP on nginx: metrics and the live dashboard.  After every LGSP
 * transaction (a request to a location with lgsp_service, or one an LGSP
 * step refused), the log phase counts it into a shared-memory table of
 * series (a series is a metric and a set of label values), read by two
 * handlers: lgsp_metrics, the Prometheus text format, and lgsp_status, an
 * HTML page that reads the same handler's JSON (?format=json).  The
 * table holds at most lgsp_metrics_max_series series; beyond that a metric
 * counts under its "other" series.  Counting is lock-free; the lock is
 * taken only to add a series.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_log.h"
#include "ngx_http_lgsp_metrics.h"
#include "lgsp_status_page.h"


#define NGX_HTTP_LGSP_METRICS_LABELS_LEN  256
#define NGX_HTTP_LGSP_METRICS_BUCKETS     12     /* the last is +Inf */
#define NGX_HTTP_LGSP_METRICS_MINUTES     60
#define NGX_HTTP_LGSP_METRICS_TENANT_LEN  64

/* tenants whose days and minutes are counted apart; slot 0 is all */
#define NGX_HTTP_LGSP_METRICS_TENANTS     256

/* a histogram's values: the buckets, then the count and the sum in ms */
#define NGX_HTTP_LGSP_METRICS_COUNT       NGX_HTTP_LGSP_METRICS_BUCKETS
#define NGX_HTTP_LGSP_METRICS_SUM         (NGX_HTTP_LGSP_METRICS_BUCKETS + 1)
#define NGX_HTTP_LGSP_METRICS_VALUES      (NGX_HTTP_LGSP_METRICS_BUCKETS + 2)

#define NGX_HTTP_LGSP_COUNTER             0
#define NGX_HTTP_LGSP_GAUGE               1
#define NGX_HTTP_LGSP_HISTOGRAM           2

#define NGX_HTTP_LGSP_HANDLER_METRICS     1
#define NGX_HTTP_LGSP_HANDLER_STATUS      2


/* the metrics counted here, after those of ngx_http_lgsp_metrics.h */
enum {
    NGX_HTTP_LGSP_METRIC_REQUESTS = NGX_HTTP_LGSP_METRIC_EXTERNAL,
    NGX_HTTP_LGSP_METRIC_REQUEST_DURATION,
    NGX_HTTP_LGSP_METRIC_UPSTREAM_DURATION,
    NGX_HTTP_LGSP_METRIC_JWT_REJECTIONS,
    NGX_HTTP_LGSP_METRIC_ACCESS_REJECTIONS,
    NGX_HTTP_LGSP_METRIC_QUOTA_REJECTIONS,
    NGX_HTTP_LGSP_METRIC_SCHEMA_REJECTIONS,
    NGX_HTTP_LGSP_METRICS_N
};


typedef struct {
    ngx_str_t                    name;
    ngx_str_t                    help;
    ngx_uint_t                   type;
    ngx_str_t                    other;     /* the labels of overflow */
} ngx_http_lgsp_metric_t;


typedef struct {
    ngx_atomic_t                 values[NGX_HTTP_LGSP_METRICS_VALUES];
    ngx_uint_t                   metric;
    size_t                       len;
    u_char                       labels[NGX_HTTP_LGSP_METRICS_LABELS_LEN];
} ngx_http_lgsp_series_t;


/* transactions today and per minute, of all tenants or of one */
typedef struct {
    ngx_atomic_t                 day;       /* local day of "today" */
    ngx_atomic_t                 today;
    ngx_atomic_t                 minute[NGX_HTTP_LGSP_METRICS_MINUTES];
    ngx_atomic_t                 per_minute[NGX_HTTP_LGSP_METRICS_MINUTES];
    size_t                       len;
    u_char                       tenant[NGX_HTTP_LGSP_METRICS_TENANT_LEN];
} ngx_http_lgsp_activity_t;


typedef struct {
    ngx_uint_t                   max;       /* lgsp_metrics_max_series */
    ngx_uint_t                   nseries;   /* in use, overflow included */
    ngx_uint_t                   nlabelled; /* in use, overflow excluded */
    ngx_uint_t                   cap;       /* index slots: a power of 2 */
    ngx_atomic_t                *index;     /* series number + 1; 0: free */
    ngx_http_lgsp_series_t      *series;

    time_t                       started;
    ngx_atomic_t                 ntenants;  /* activity slots in use */
    ngx_http_lgsp_activity_t     activity[NGX_HTTP_LGSP_METRICS_TENANTS];
} ngx_http_lgsp_metrics_sh_t;


typedef struct {
    ngx_uint_t                   max_series;
    ngx_flag_t                   enabled;
    ngx_shm_zone_t              *zone;
    ngx_slab_pool_t             *shpool;
    ngx_http_lgsp_metrics_sh_t  *sh;
} ngx_http_lgsp_metrics_main_conf_t;


typedef struct {
    ngx_uint_t                   handler;   /* not counted themselves */
    ngx_http_complex_value_t    *tenant;    /* the one tenant shown */
} ngx_http_lgsp_metrics_loc_conf_t;


/* what the dashboard adds up from the series of lgsp_requests_total */
typedef struct {
    ngx_str_t                    name;
    uint64_t                     requests;
    uint64_t                     errors;
    uint64_t                     rejected;
} ngx_http_lgsp_status_row_t;


static ngx_int_t ngx_http_lgsp_metrics_log_handler(ngx_http_request_t *r);
static void ngx_http_lgsp_metrics_observe(ngx_http_lgsp_series_t *s,
    ngx_msec_t ms);
static void ngx_http_lgsp_metrics_tick(
    ngx_http_lgsp_metrics_main_conf_t *mmcf, ngx_str_t *tenant);
static void ngx_http_lgsp_metrics_tick_activity(
    ngx_http_lgsp_metrics_main_conf_t *mmcf, ngx_http_lgsp_activity_t *a);
static ngx_http_lgsp_activity_t *ngx_http_lgsp_metrics_activity(
    ngx_http_lgsp_metrics_main_conf_t *mmcf, ngx_str_t *tenant,
    ngx_uint_t add);
static ngx_uint_t ngx_http_lgsp_metrics_in_scope(ngx_http_lgsp_series_t *s,
    ngx_str_t *scope);
static ngx_int_t ngx_http_lgsp_metrics_scope(ngx_http_request_t *r,
    ngx_str_t **scope);
static ngx_http_lgsp_series_t *ngx_http_lgsp_metrics_series(
    ngx_http_lgsp_metrics_main_conf_t *mmcf, ngx_uint_t metric,
    u_char *labels, size_t len);
static ngx_http_lgsp_series_t *ngx_http_lgsp_metrics_find(
    ngx_http_lgsp_metrics_sh_t *sh, ngx_uint_t metric, u_char *labels,
    size_t len, ngx_uint_t *slot);
static ngx_http_lgsp_series_t *ngx_http_lgsp_metrics_external(
    volatile ngx_cycle_t *cycle, ngx_http_lgsp_metric_e metric,
    ngx_str_t *label);
static u_char *ngx_http_lgsp_metrics_label(u_char *p, u_char *last,
    char *name, ngx_str_t *value);
static u_char *ngx_http_lgsp_metrics_tenant_label(u_char *p, u_char *last,
    ngx_str_t *tenant);
static ngx_int_t ngx_http_lgsp_metrics_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_metrics_text(ngx_http_request_t *r,
    ngx_http_lgsp_metrics_sh_t *sh, ngx_str_t *scope, ngx_chain_t *out);
static ngx_int_t ngx_http_lgsp_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_status_json(ngx_http_request_t *r,
    ngx_http_lgsp_metrics_main_conf_t *mmcf, ngx_str_t *scope,
    ngx_chain_t *out);
static u_char *ngx_http_lgsp_status_rows(u_char *p, char *name,
    ngx_array_t *rows);
static ngx_int_t ngx_http_lgsp_status_add(ngx_array_t *rows,
    ngx_str_t *name, ngx_http_lgsp_series_t *s, ngx_str_t *status,
    ngx_str_t *outcome);
static void ngx_http_lgsp_status_percentiles(ngx_http_lgsp_metrics_sh_t *sh,
    ngx_uint_t metric, ngx_str_t *scope, uint64_t *count, double *p);
static void ngx_http_lgsp_metrics_value(ngx_http_lgsp_series_t *s,
    char *name, ngx_str_t *value);
static ngx_int_t ngx_http_lgsp_metrics_send(ngx_http_request_t *r,
    char *type, ngx_chain_t *out);
static char *ngx_http_lgsp_metrics_handler_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_lgsp_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void *ngx_http_lgsp_metrics_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_metrics_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_lgsp_metrics_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_metrics_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_lgsp_metrics_init(ngx_conf_t *cf);


static ngx_str_t  ngx_http_lgsp_metrics_cache_control =
    ngx_string("Cache-Control");


static ngx_conf_num_bounds_t  ngx_http_lgsp_metrics_max_series_bounds = {
    ngx_conf_check_num_bounds, 10, 100000
};


static ngx_command_t  ngx_http_lgsp_metrics_commands[] = {

    { ngx_string("lgsp_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_lgsp_metrics_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_LGSP_HANDLER_METRICS,
      NULL },

    { ngx_string("lgsp_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_lgsp_metrics_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_LGSP_HANDLER_STATUS,
      NULL },

    { ngx_string("lgsp_metrics_max_series"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_lgsp_metrics_main_conf_t, max_series),
      &ngx_http_lgsp_metrics_max_series_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_metrics_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_lgsp_metrics_init,            /* postconfiguration */

    ngx_http_lgsp_metrics_create_main_conf, /* create main configuration */
    ngx_http_lgsp_metrics_init_main_conf,  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_metrics_create_loc_conf, /* create location configuration */
    ngx_http_lgsp_metrics_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_metrics_module_ctx,     /* module context */
    ngx_http_lgsp_metrics_commands,        /* module directives */
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


/* in the order of the metric numbers */
static ngx_http_lgsp_metric_t  ngx_http_lgsp_metrics[] = {

    { ngx_string("lgsp_redis_errors_total"),
      ngx_string("Errors talking to Redis, by kind."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("kind=\"other\"") },

    { ngx_string("lgsp_redis_up"),
      ngx_string("1 while Redis answers, 0 while it does not."),
      NGX_HTTP_LGSP_GAUGE,
      ngx_null_string },

    { ngx_string("lgsp_ndxp_token_refreshes_total"),
      ngx_string("Refreshes of the national platform's access token, by"
                 " result."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("result=\"other\"") },

    { ngx_string("lgsp_ndxp_token_expiry_timestamp_seconds"),
      ngx_string("When the national platform's access token expires, 0 when"
                 " none is held."),
      NGX_HTTP_LGSP_GAUGE,
      ngx_null_string },

    { ngx_string("lgsp_records_lost_total"),
      ngx_string("Transaction records that could not be written."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("file=\"other\"") },

    { ngx_string("lgsp_delivery_queued"),
      ngx_string("Requests in a service's delivery queue, in flight"
                 " included."),
      NGX_HTTP_LGSP_GAUGE,
      ngx_string("service=\"other\"") },

    { ngx_string("lgsp_delivery_oldest_seconds"),
      ngx_string("Age of the oldest request in a service's delivery queue."),
      NGX_HTTP_LGSP_GAUGE,
      ngx_string("service=\"other\"") },

    { ngx_string("lgsp_delivery_attempts_total"),
      ngx_string("Delivery attempts, by service and result: delivered,"
                 " retry, failed, expired."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("service=\"other\",result=\"other\"") },

    { ngx_string("lgsp_delivery_dead_total"),
      ngx_string("Deliveries that ended failed or expired (dead letters)."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("service=\"other\"") },

    { ngx_string("lgsp_requests_total"),
      ngx_string("Requests by tenant, service, agency, status class and"
                 " outcome."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("service=\"other\",agency=\"other\",status=\"other\","
                 "outcome=\"other\"") },

    { ngx_string("lgsp_request_duration_seconds"),
      ngx_string("Time from the request's first byte to its last log, by"
                 " service."),
      NGX_HTTP_LGSP_HISTOGRAM,
      ngx_string("service=\"other\"") },

    { ngx_string("lgsp_upstream_duration_seconds"),
      ngx_string("Time the providers took, by service."),
      NGX_HTTP_LGSP_HISTOGRAM,
      ngx_string("service=\"other\"") },

    { ngx_string("lgsp_jwt_rejections_total"),
      ngx_string("Requests refused by JWT authentication, by reason."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("reason=\"other\"") },

    { ngx_string("lgsp_access_rejections_total"),
      ngx_string("Requests of agencies a service is not open to."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("service=\"other\",agency=\"other\"") },

    { ngx_string("lgsp_quota_rejections_total"),
      ngx_string("Requests refused by a quota, by service and agency."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("service=\"other\",agency=\"other\"") },

    { ngx_string("lgsp_schema_rejections_total"),
      ngx_string("Requests whose body failed the service's schema."),
      NGX_HTTP_LGSP_COUNTER,
      ngx_string("service=\"other\"") }
};


/* the label names of the metrics others count, in the same order */
static char  *ngx_http_lgsp_metrics_external_labels[][3] = {
    { "kind", NULL, NULL }, { NULL, NULL, NULL }, { "result", NULL, NULL },
    { NULL, NULL, NULL }, { "file", NULL, NULL },
    { "tenant", "service", NULL }, { "tenant", "service", NULL },
    { "tenant", "service", "result" }, { "tenant", "service", NULL }
};


static ngx_msec_t  ngx_http_lgsp_metrics_bounds[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

static char  *ngx_http_lgsp_metrics_le[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10", "+Inf"
};


static ngx_int_t
ngx_http_lgsp_metrics_log_handler(ngx_http_request_t *r)
{
    u_char                             *p, *last, *service_end;
    ngx_msec_t                          ms, ums;
    ngx_str_t                           service, tenant, status, *outcome;
    ngx_uint_t                          i, code, metric;
    ngx_time_t                         *tp;
    ngx_http_lgsp_ctx_t                *ctx;
    ngx_http_lgsp_series_t             *s;
    ngx_http_upstream_state_t          *state;
    ngx_http_lgsp_metrics_loc_conf_t   *mlcf;
    ngx_http_lgsp_metrics_main_conf_t  *mmcf;
    u_char                   labels[NGX_HTTP_LGSP_METRICS_LABELS_LEN];
    u_char                              class[3];

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_metrics_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_metrics_module);

    if (mmcf->sh == NULL || mlcf->handler || r != r->main
        || !ngx_http_lgsp_applies(r))
    {
        return NGX_OK;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* delivery attempts have metrics of their own */
    if (ctx->delivery_attempt) {
        return NGX_OK;
    }

    /* an LGSP transaction: a service's, or one an LGSP step refused */
    if (ngx_http_lgsp_record_service(r, &service) != NGX_OK
        && ctx->outcome == NGX_HTTP_LGSP_OUTCOME_OK)
    {
        return NGX_OK;
    }

    outcome = ngx_http_lgsp_outcome_name(r);
    ngx_http_lgsp_tenant_name(r, &tenant);

    code = r->err_status ? r->err_status : r->headers_out.status;
    class[0] = (code >= 100 && code < 600) ? (u_char) ('0' + code / 100)
                                          : 'x';
    class[1] = 'x';
    class[2] = 'x';
    status.data = class;
    status.len = 3;

    last = labels + sizeof(labels);

    /* tenant and service: the durations' labels, the others' start */
    p = ngx_http_lgsp_metrics_tenant_label(labels, last, &tenant);
    p = ngx_http_lgsp_metrics_label(p, last, "service", &service);
    service_end = p;

    p = ngx_http_lgsp_metrics_label(p, last, "agency", &ctx->agency);
    p = ngx_http_lgsp_metrics_label(p, last, "status", &status);
    p = ngx_http_lgsp_metrics_label(p, last, "outcome", outcome);

    s = ngx_http_lgsp_metrics_series(mmcf, NGX_HTTP_LGSP_METRIC_REQUESTS,
                                     labels, p ? (size_t) (p - labels) : 0);
    if (s) {
        (void) ngx_atomic_fetch_add(&s->values[0], 1);
    }

    p = service_end;

    tp = ngx_timeofday();
    ms = (ngx_msec_t) ((tp->sec - r->start_sec) * 1000
                       + (tp->msec - r->start_msec));
    ms = ngx_max((ngx_msec_int_t) ms, 0);

    s = ngx_http_lgsp_metrics_series(mmcf,
                                     NGX_HTTP_LGSP_METRIC_REQUEST_DURATION,
                                     labels, p ? (size_t) (p - labels) : 0);
    ngx_http_lgsp_metrics_observe(s, ms);

    if (r->upstream_states && r->upstream_states->nelts) {
        state = r->upstream_states->elts;
        ums = 0;

        for (i = 0; i < r->upstream_states->nelts; i++) {
            if (state[i].status) {
                ums += state[i].response_time;
            }
        }

        metric = NGX_HTTP_LGSP_METRIC_UPSTREAM_DURATION;
        s = ngx_http_lgsp_metrics_series(mmcf, metric, labels,
                                         p ? (size_t) (p - labels) : 0);
        ngx_http_lgsp_metrics_observe(s, ums);
    }

    switch (ctx->outcome) {

    case NGX_HTTP_LGSP_OUTCOME_AUTH:
        metric = NGX_HTTP_LGSP_METRIC_JWT_REJECTIONS;
        p = ngx_http_lgsp_metrics_tenant_label(labels, last, &tenant);
        p = ngx_http_lgsp_metrics_label(p, last, "reason", &ctx->reason);
        break;

    case NGX_HTTP_LGSP_OUTCOME_ACCESS:
        metric = NGX_HTTP_LGSP_METRIC_ACCESS_REJECTIONS;
        p = ngx_http_lgsp_metrics_label(p, last, "agency", &ctx->agency);
        break;

    case NGX_HTTP_LGSP_OUTCOME_QUOTA:
        metric = NGX_HTTP_LGSP_METRIC_QUOTA_REJECTIONS;
        p = ngx_http_lgsp_metrics_label(p, last, "agency", &ctx->agency);
        break;

    case NGX_HTTP_LGSP_OUTCOME_SCHEMA:
        metric = NGX_HTTP_LGSP_METRIC_SCHEMA_REJECTIONS;
        break;

    default:
        metric = 0;
    }

    if (metric) {
        s = ngx_http_lgsp_metrics_series(mmcf, metric, labels,
                                         p ? (size_t) (p - labels) : 0);
        if (s) {
            (void) ngx_atomic_fetch_add(&s->values[0], 1);
        }
    }

    ngx_http_lgsp_metrics_tick(mmcf, &tenant);

    return NGX_OK;
}


static void
ngx_http_lgsp_metrics_observe(ngx_http_lgsp_series_t *s, ngx_msec_t ms)
{
    ngx_uint_t  i;

    if (s == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_LGSP_METRICS_BUCKETS - 1; i++) {
        if (ms <= ngx_http_lgsp_metrics_bounds[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&s->values[i], 1);
    (void) ngx_atomic_fetch_add(&s->values[NGX_HTTP_LGSP_METRICS_COUNT], 1);
    (void) ngx_atomic_fetch_add(&s->values[NGX_HTTP_LGSP_METRICS_SUM], ms);
}


/* the dashboard's transactions today and per minute: all, and the tenant's */
static void
ngx_http_lgsp_metrics_tick(ngx_http_lgsp_metrics_main_conf_t *mmcf,
    ngx_str_t *tenant)
{
    ngx_http_lgsp_activity_t  *a;

    ngx_http_lgsp_metrics_tick_activity(mmcf, &mmcf->sh->activity[0]);

    if (tenant->len) {
        a = ngx_http_lgsp_metrics_activity(mmcf, tenant, 1);

        if (a) {
            ngx_http_lgsp_metrics_tick_activity(mmcf, a);
        }
    }
}


static void
ngx_http_lgsp_metrics_tick_activity(ngx_http_lgsp_metrics_main_conf_t *mmcf,
    ngx_http_lgsp_activity_t *a)
{
    ngx_uint_t          i;
    ngx_atomic_uint_t   day, minute;
    ngx_time_t         *tp;

    tp = ngx_timeofday();

    day = (tp->sec + tp->gmtoff * 60) / 86400;
    minute = tp->sec / 60;
    i = minute % NGX_HTTP_LGSP_METRICS_MINUTES;

    if (a->day != day || a->minute[i] != minute) {
        /* a new day or minute starts from 0, once */
        ngx_shmtx_lock(&mmcf->shpool->mutex);

        if (a->day != day) {
            a->today = 0;
            ngx_memory_barrier();
            a->day = day;
        }

        if (a->minute[i] != minute) {
            a->per_minute[i] = 0;
            ngx_memory_barrier();
            a->minute[i] = minute;
        }

        ngx_shmtx_unlock(&mmcf->shpool->mutex);
    }

    (void) ngx_atomic_fetch_add(&a->today, 1);
    (void) ngx_atomic_fetch_add(&a->per_minute[i], 1);
}


/*
 * The activity slot of a tenant, taken when new and add is set; NULL when
 * it has none, or every slot is taken (the tenant then counts in the
 * total only).
 */
static ngx_http_lgsp_activity_t *
ngx_http_lgsp_metrics_activity(ngx_http_lgsp_metrics_main_conf_t *mmcf,
    ngx_str_t *tenant, ngx_uint_t add)
{
    ngx_uint_t                   k, n;
    ngx_http_lgsp_activity_t    *a;
    ngx_http_lgsp_metrics_sh_t  *sh;

    sh = mmcf->sh;

    if (tenant->len == 0 || tenant->len > NGX_HTTP_LGSP_METRICS_TENANT_LEN) {
        return NULL;
    }

    n = sh->ntenants;
    ngx_memory_barrier();

    for (k = 1; k < n; k++) {
        a = &sh->activity[k];

        if (a->len == tenant->len
            && ngx_memcmp(a->tenant, tenant->data, tenant->len) == 0)
        {
            return a;
        }
    }

    if (!add) {
        return NULL;
    }

    ngx_shmtx_lock(&mmcf->shpool->mutex);

    /* another worker may have taken it meanwhile */
    for (k = n; k < sh->ntenants; k++) {
        a = &sh->activity[k];

        if (a->len == tenant->len
            && ngx_memcmp(a->tenant, tenant->data, tenant->len) == 0)
        {
            ngx_shmtx_unlock(&mmcf->shpool->mutex);
            return a;
        }
    }

    a = NULL;

    if (sh->ntenants < NGX_HTTP_LGSP_METRICS_TENANTS) {
        a = &sh->activity[sh->ntenants];
        ngx_memcpy(a->tenant, tenant->data, tenant->len);
        a->len = tenant->len;
        ngx_memory_barrier();
        sh->ntenants++;
    }

    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    return a;
}


/* a series is in the scope of a tenant when its first label names it */
static ngx_uint_t
ngx_http_lgsp_metrics_in_scope(ngx_http_lgsp_series_t *s, ngx_str_t *scope)
{
    size_t  n;

    if (scope == NULL) {
        return 1;
    }

    n = sizeof("tenant=\"") - 1;

    return s->len >= n + scope->len + 1
           && ngx_strncmp(s->labels, "tenant=\"", n) == 0
           && ngx_strncmp(s->labels + n, scope->data, scope->len) == 0
           && s->labels[n + scope->len] == '"';
}


/*
 * The series of a metric and labels, added when new; the metric's
 * "other" series when the table is full or the labels too long.
 */
static ngx_http_lgsp_series_t *
ngx_http_lgsp_metrics_series(ngx_http_lgsp_metrics_main_conf_t *mmcf,
    ngx_uint_t metric, u_char *labels, size_t len)
{
    ngx_uint_t                   slot;
    ngx_http_lgsp_series_t      *s;
    ngx_http_lgsp_metrics_sh_t  *sh;

    sh = mmcf->sh;

    if (labels == NULL
        || (len == 0 && ngx_http_lgsp_metrics[metric].other.len))
    {
        /* labels that did not fit */
        labels = ngx_http_lgsp_metrics[metric].other.data;
        len = ngx_http_lgsp_metrics[metric].other.len;
    }

    s = ngx_http_lgsp_metrics_find(sh, metric, labels, len, &slot);
    if (s) {
        return s;
    }

    ngx_shmtx_lock(&mmcf->shpool->mutex);

    s = ngx_http_lgsp_metrics_find(sh, metric, labels, len, &slot);
    if (s) {
        goto done;
    }

    if (sh->nlabelled >= sh->max
        && labels != ngx_http_lgsp_metrics[metric].other.data)
    {
        labels = ngx_http_lgsp_metrics[metric].other.data;
        len = ngx_http_lgsp_metrics[metric].other.len;

        s = ngx_http_lgsp_metrics_find(sh, metric, labels, len, &slot);
        if (s) {
            goto done;
        }

    } else if (labels != ngx_http_lgsp_metrics[metric].other.data) {
        sh->nlabelled++;
    }

    s = &sh->series[sh->nseries];
    s->metric = metric;
    s->len = len;
    ngx_memcpy(s->labels, labels, len);

    /* the series is whole before any worker can find it */
    ngx_memory_barrier();
    sh->index[slot] = ++sh->nseries;

done:

    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    return s;
}


/* the series, or NULL and the free slot where it would go */
static ngx_http_lgsp_series_t *
ngx_http_lgsp_metrics_find(ngx_http_lgsp_metrics_sh_t *sh, ngx_uint_t metric,
    u_char *labels, size_t len, ngx_uint_t *slot)
{
    uint32_t                 hash;
    ngx_uint_t               i, n;
    ngx_http_lgsp_series_t  *s;

    hash = ngx_murmur_hash2(labels, len) ^ (uint32_t) (metric * 0x9e3779b9);

    for (i = hash & (sh->cap - 1); /* void */; i = (i + 1) & (sh->cap - 1)) {
        n = sh->index[i];

        if (n == 0) {
            *slot = i;
            return NULL;
        }

        s = &sh->series[n - 1];

        if (s->metric == metric && s->len == len
            && ngx_memcmp(s->labels, labels, len) == 0)
        {
            return s;
        }
    }
}


static ngx_http_lgsp_series_t *
ngx_http_lgsp_metrics_external(volatile ngx_cycle_t *cycle,
    ngx_http_lgsp_metric_e metric, ngx_str_t *label)
{
    char                              **names;
    u_char                             *p;
    ngx_uint_t                          i;
    ngx_http_lgsp_metrics_main_conf_t  *mmcf;
    u_char                   labels[NGX_HTTP_LGSP_METRICS_LABELS_LEN];

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_lgsp_metrics_module);

    if (mmcf == NULL || mmcf->sh == NULL
        || metric >= NGX_HTTP_LGSP_METRIC_EXTERNAL)
    {
        return NULL;
    }

    p = labels;
    names = ngx_http_lgsp_metrics_external_labels[metric];

    for (i = 0; i < 3 && names[i] && label && p; i++) {
        p = (ngx_strcmp(names[i], "tenant") == 0)
            ? ngx_http_lgsp_metrics_tenant_label(p, labels + sizeof(labels),
                                                 &label[i])
            : ngx_http_lgsp_metrics_label(p, labels + sizeof(labels),
                                          names[i], &label[i]);
    }

    return ngx_http_lgsp_metrics_series(mmcf, metric, p ? labels : NULL,
                                        p ? (size_t) (p - labels) : 0);
}


void
ngx_http_lgsp_metrics_count(volatile ngx_cycle_t *cycle,
    ngx_http_lgsp_metric_e metric, ngx_str_t *label, ngx_int_t n)
{
    ngx_http_lgsp_series_t  *s;

    s = ngx_http_lgsp_metrics_external(cycle, metric, label);

    if (s) {
        (void) ngx_atomic_fetch_add(&s->values[0], n);
    }
}


void
ngx_http_lgsp_metrics_set(volatile ngx_cycle_t *cycle,
    ngx_http_lgsp_metric_e metric, ngx_str_t *label, ngx_int_t value)
{
    ngx_http_lgsp_series_t  *s;

    s = ngx_http_lgsp_metrics_external(cycle, metric, label);

    if (s) {
        s->values[0] = (ngx_atomic_uint_t) value;
    }
}


/*
 * Appends name="value" (escaped as the text format asks) with a comma
 * before it when not first; NULL when it does not fit.
 */
static u_char *
ngx_http_lgsp_metrics_label(u_char *p, u_char *last, char *name,
    ngx_str_t *value)
{
    u_char      c, *start;
    size_t      len;
    ngx_uint_t  i;

    if (p == NULL) {
        return NULL;
    }

    start = last - NGX_HTTP_LGSP_METRICS_LABELS_LEN;
    len = ngx_strlen(name);

    if ((size_t) (last - p) < len + 4 + 2 * value->len) {
        return NULL;
    }

    if (p != start) {
        *p++ = ',';
    }

    p = ngx_cpymem(p, name, len);
    *p++ = '=';
    *p++ = '"';

    for (i = 0; i < value->len; i++) {
        c = value->data[i];

        if (c == '\\' || c == '"') {
            *p++ = '\\';
            *p++ = c;

        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = c;
        }
    }

    *p++ = '"';

    return p;
}


/*
 * The first label of a transaction's series: its tenant.  A server with no
 * lgsp_tenant has none, which Prometheus reads as tenant="", and its
 * series stay as they were before tenants.
 */
static u_char *
ngx_http_lgsp_metrics_tenant_label(u_char *p, u_char *last,
    ngx_str_t *tenant)
{
    if (tenant->len == 0) {
        return p;
    }

    return ngx_http_lgsp_metrics_label(p, last, "tenant", tenant);
}


static ngx_int_t
ngx_http_lgsp_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_str_t                          *scope;
    ngx_chain_t                         out;
    ngx_http_lgsp_metrics_main_conf_t  *mmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_lgsp_metrics_scope(r, &scope);
    if (rc != NGX_OK) {
        return rc;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_metrics_module);

    if (ngx_http_lgsp_metrics_text(r, mmcf->sh, scope, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_lgsp_metrics_send(r, "text/plain; version=0.0.4", &out);
}


/*
 * The tenant a handler shows (lgsp_metrics tenant=, lgsp_status tenant=):
 * NULL for all.  A scoped handler whose tenant is empty shows nothing: the
 * viewer is told so, never shown every tenant.
 */
static ngx_int_t
ngx_http_lgsp_metrics_scope(ngx_http_request_t *r, ngx_str_t **scope)
{
    ngx_str_t                          *value;
    ngx_http_lgsp_problem_t             problem;
    ngx_http_lgsp_metrics_loc_conf_t   *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_metrics_module);

    *scope = NULL;

    if (mlcf->tenant == NULL) {
        return NGX_OK;
    }

    value = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (value == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_complex_value(r, mlcf->tenant, value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (value->len) {
        *scope = value;
        return NGX_OK;
    }

    ngx_memzero(&problem, sizeof(ngx_http_lgsp_problem_t));
    problem.status = NGX_HTTP_FORBIDDEN;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_ACCESS;
    ngx_str_set(&problem.type, "no-tenant");
    ngx_str_set(&problem.title, "Forbidden");
    ngx_str_set(&problem.detail, "this view shows one tenant, and no tenant"
                " is named for this request");

    return ngx_http_lgsp_send_problem(r, &problem);
}


/* the Prometheus text exposition format, 0.0.4 */
static ngx_int_t
ngx_http_lgsp_metrics_text(ngx_http_request_t *r,
    ngx_http_lgsp_metrics_sh_t *sh, ngx_str_t *scope, ngx_chain_t *out)
{
    u_char                  *p;
    size_t                   len, labels;
    uint64_t                 cumulative;
    ngx_buf_t               *b;
    ngx_uint_t               m, i, j, nseries;
    ngx_http_lgsp_series_t  *s;
    ngx_http_lgsp_metric_t  *metric;

    static char  *types[] = { "counter", "gauge", "histogram" };

    nseries = sh->nseries;
    ngx_memory_barrier();

    len = sizeof("# HELP lgsp_metrics_series Series in use, of at most"
                 " lgsp_metrics_max_series.\n"
                 "# TYPE lgsp_metrics_series gauge\n"
                 "lgsp_metrics_series \n") - 1 + NGX_INT_T_LEN;

    for (m = 0; m < NGX_HTTP_LGSP_METRICS_N; m++) {
        len += sizeof("# HELP  \n# TYPE  histogram\n") - 1
               + 2 * ngx_http_lgsp_metrics[m].name.len
               + ngx_http_lgsp_metrics[m].help.len;
    }

    /* a histogram's line: name_bucket{labels,le="+Inf"} value */
    labels = sizeof("_bucket{,le=\"+Inf\"} \n") - 1 + NGX_ATOMIC_T_LEN
             + 64;

    for (i = 0; i < nseries; i++) {
        len += (NGX_HTTP_LGSP_METRICS_BUCKETS + 2)
               * (labels + sh->series[i].len);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = b->last;

    /*
     * a tenant's view: the series whose first label is the tenant; the
     * platform's own metrics carry none
     */
    for (m = 0; m < NGX_HTTP_LGSP_METRICS_N; m++) {
        metric = &ngx_http_lgsp_metrics[m];

        p = ngx_sprintf(p, "# HELP %V %V\n# TYPE %V %s\n", &metric->name,
                        &metric->help, &metric->name, types[metric->type]);

        for (i = 0; i < nseries; i++) {
            s = &sh->series[i];

            if (s->metric != m || !ngx_http_lgsp_metrics_in_scope(s, scope)) {
                continue;
            }

            if (metric->type != NGX_HTTP_LGSP_HISTOGRAM) {
                p = ngx_sprintf(p, "%V%s%*s%s ", &metric->name,
                                s->len ? "{" : "", s->len, s->labels,
                                s->len ? "}" : "");

                /* a gauge may be set below 0 */
                p = (metric->type == NGX_HTTP_LGSP_GAUGE)
                    ? ngx_sprintf(p, "%i\n", (ngx_int_t) s->values[0])
                    : ngx_sprintf(p, "%uA\n", s->values[0]);

                continue;
            }

            cumulative = 0;

            for (j = 0; j < NGX_HTTP_LGSP_METRICS_BUCKETS; j++) {
                cumulative += s->values[j];
                p = ngx_sprintf(p, "%V_bucket{%*s%sle=\"%s\"} %uL\n",
                                &metric->name, s->len, s->labels,
                                s->len ? "," : "",
                                ngx_http_lgsp_metrics_le[j], cumulative);
            }

            p = ngx_sprintf(p, "%V_sum{%*s} %uA.%03uA\n%V_count{%*s} %uL\n",
                            &metric->name, s->len, s->labels,
                            s->values[NGX_HTTP_LGSP_METRICS_SUM] / 1000,
                            s->values[NGX_HTTP_LGSP_METRICS_SUM] % 1000,
                            &metric->name, s->len, s->labels, cumulative);
        }
    }

    if (scope == NULL) {
        p = ngx_sprintf(p, "# HELP lgsp_metrics_series Series in use, of at"
                        " most lgsp_metrics_max_series.\n"
                        "# TYPE lgsp_metrics_series gauge\n"
                        "lgsp_metrics_series %ui\n", nseries);
    }

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_buf_t                          *b;
    ngx_str_t                           format, *scope;
    ngx_chain_t                         out;
    ngx_http_lgsp_metrics_main_conf_t  *mmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_lgsp_metrics_scope(r, &scope);
    if (rc != NGX_OK) {
        return rc;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_metrics_module);

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK
        && format.len == 4 && ngx_strncmp(format.data, "json", 4) == 0)
    {
        if (ngx_http_lgsp_status_json(r, mmcf, scope, &out) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_lgsp_metrics_send(r, "application/json", &out);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) lgsp_status_page;
    b->last = b->pos + lgsp_status_page_len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_lgsp_metrics_send(r, "text/html; charset=utf-8", &out);
}


/* the dashboard's figures */
static ngx_int_t
ngx_http_lgsp_status_json(ngx_http_request_t *r,
    ngx_http_lgsp_metrics_main_conf_t *mmcf, ngx_str_t *scope,
    ngx_chain_t *out)
{
    u_char                  *p;
    size_t                   len;
    double                   lat[3], ulat[3];
    uint64_t                 total, errors, rejected, count, ucount;
    ngx_int_t                redis_up, ndxp_expires;
    uint64_t                 redis_errors, ndxp_ok, ndxp_failed, lost;
    uint64_t                 queued, oldest, dead;
    ngx_buf_t               *b;
    ngx_str_t                service, agency, status, outcome, v;
    ngx_uint_t               i, n, nseries, minute;
    ngx_array_t              services, agencies;
    ngx_time_t                  *tp;
    ngx_http_lgsp_series_t      *s;
    ngx_http_lgsp_activity_t    *a;
    ngx_http_lgsp_metrics_sh_t  *sh;

    static ngx_http_lgsp_activity_t  none;

    sh = mmcf->sh;
    nseries = sh->nseries;
    ngx_memory_barrier();

    if (ngx_array_init(&services, r->pool, 16,
                       sizeof(ngx_http_lgsp_status_row_t))
        != NGX_OK
        || ngx_array_init(&agencies, r->pool, 16,
                          sizeof(ngx_http_lgsp_status_row_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    total = 0;
    errors = 0;
    rejected = 0;
    redis_up = -1;
    ndxp_expires = -1;
    redis_errors = 0;
    ndxp_ok = 0;
    ndxp_failed = 0;
    lost = 0;
    queued = 0;
    oldest = 0;
    dead = 0;

    for (i = 0; i < nseries; i++) {
        s = &sh->series[i];

        if (!ngx_http_lgsp_metrics_in_scope(s, scope)) {
            continue;
        }

        switch (s->metric) {

        case NGX_HTTP_LGSP_METRIC_REQUESTS:
            ngx_http_lgsp_metrics_value(s, "service", &service);
            ngx_http_lgsp_metrics_value(s, "agency", &agency);
            ngx_http_lgsp_metrics_value(s, "status", &status);
            ngx_http_lgsp_metrics_value(s, "outcome", &outcome);

            total += s->values[0];

            if (status.len && status.data[0] == '5') {
                errors += s->values[0];
            }

            if (ngx_http_lgsp_status_add(&services, &service, s, &status,
                                         &outcome)
                != NGX_OK
                || ngx_http_lgsp_status_add(&agencies, &agency, s, &status,
                                            &outcome)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            break;

        case NGX_HTTP_LGSP_METRIC_JWT_REJECTIONS:
        case NGX_HTTP_LGSP_METRIC_ACCESS_REJECTIONS:
        case NGX_HTTP_LGSP_METRIC_QUOTA_REJECTIONS:
        case NGX_HTTP_LGSP_METRIC_SCHEMA_REJECTIONS:
            rejected += s->values[0];
            break;

        case NGX_HTTP_LGSP_METRIC_REDIS_UP:
            redis_up = s->values[0];
            break;

        case NGX_HTTP_LGSP_METRIC_REDIS_ERRORS:
            redis_errors += s->values[0];
            break;

        case NGX_HTTP_LGSP_METRIC_NDXP_TOKEN_EXPIRES:
            ndxp_expires = s->values[0];
            break;

        case NGX_HTTP_LGSP_METRIC_NDXP_REFRESHES:
            ngx_http_lgsp_metrics_value(s, "result", &v);

            if (v.len == 2 && ngx_strncmp(v.data, "ok", 2) == 0) {
                ndxp_ok += s->values[0];

            } else {
                ndxp_failed += s->values[0];
            }

            break;

        case NGX_HTTP_LGSP_METRIC_RECORDS_LOST:
            lost += s->values[0];
            break;

        case NGX_HTTP_LGSP_METRIC_DELIVERY_QUEUED:
            queued += s->values[0];
            break;

        case NGX_HTTP_LGSP_METRIC_DELIVERY_OLDEST:
            oldest = ngx_max(oldest, (uint64_t) s->values[0]);
            break;

        case NGX_HTTP_LGSP_METRIC_DELIVERY_DEAD:
            dead += s->values[0];
            break;
        }
    }

    ngx_http_lgsp_status_percentiles(sh, NGX_HTTP_LGSP_METRIC_REQUEST_DURATION,
                                     scope, &count, lat);
    ngx_http_lgsp_status_percentiles(sh,
                                     NGX_HTTP_LGSP_METRIC_UPSTREAM_DURATION,
                                     scope, &ucount, ulat);

    if (scope) {
        a = ngx_http_lgsp_metrics_activity(mmcf, scope, 0);

        if (a == NULL) {
            a = &none;
        }

    } else {
        a = &sh->activity[0];
    }

    len = 1024 + (scope ? scope->len : 0)
          + NGX_HTTP_LGSP_METRICS_MINUTES * (NGX_ATOMIC_T_LEN + 1)
          + (services.nelts + agencies.nelts)
            * (NGX_HTTP_LGSP_METRICS_LABELS_LEN + 3 * NGX_ATOMIC_T_LEN + 64);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    tp = ngx_timeofday();
    minute = tp->sec / 60;

    p = ngx_sprintf(b->last, "{\"time\":%T,\"started\":%T,", tp->sec,
                    sh->started);

    if (scope) {
        p = ngx_sprintf(p, "\"tenant\":\"%V\",", scope);
    }

    p = ngx_sprintf(p, "\"today\":%uA,\"per_minute\":[",
                    a->day == (ngx_atomic_uint_t) ((tp->sec + tp->gmtoff * 60)
                                                   / 86400)
                    ? a->today : 0);

    /* the last hour, oldest first, the current minute last */
    for (n = minute - NGX_HTTP_LGSP_METRICS_MINUTES + 1; n <= minute; n++) {
        i = n % NGX_HTTP_LGSP_METRICS_MINUTES;
        p = ngx_sprintf(p, "%s%uA", n == minute - NGX_HTTP_LGSP_METRICS_MINUTES
                                         + 1 ? "" : ",",
                        a->minute[i] == n ? a->per_minute[i] : 0);
    }

    p = ngx_sprintf(p, "],\"total\":%uL,\"errors\":%uL,\"rejected\":%uL,",
                    total, errors, rejected);

    p = ngx_http_lgsp_status_rows(p, "services", &services);
    p = ngx_http_lgsp_status_rows(p, "agencies", &agencies);

    p = ngx_sprintf(p, "\"latency_ms\":{\"count\":%uL,\"p50\":%.1f,"
                    "\"p95\":%.1f,\"p99\":%.1f},"
                    "\"upstream_latency_ms\":{\"count\":%uL,\"p50\":%.1f,"
                    "\"p95\":%.1f,\"p99\":%.1f},",
                    count, lat[0], lat[1], lat[2],
                    ucount, ulat[0], ulat[1], ulat[2]);

    /* the delivery queues: the tenant's own, in a tenant's view */
    p = ngx_sprintf(p, "\"delivery\":{\"queued\":%uL,"
                    "\"oldest_seconds\":%uL,\"dead\":%uL},",
                    queued, oldest, dead);

    if (scope) {
        /* the platform's own state is not a tenant's to see */
        *(p - 1) = '}';

    } else {
        if (redis_up < 0) {
            p = ngx_sprintf(p, "\"redis\":{\"up\":null,\"errors\":%uL},",
                            redis_errors);

        } else {
            p = ngx_sprintf(p, "\"redis\":{\"up\":%s,\"errors\":%uL},",
                            redis_up ? "true" : "false", redis_errors);
        }

        if (ndxp_expires < 0) {
            p = ngx_sprintf(p, "\"ndxp\":{\"token_expires\":null,");

        } else {
            p = ngx_sprintf(p, "\"ndxp\":{\"token_expires\":%i,",
                            ndxp_expires);
        }

        p = ngx_sprintf(p, "\"refreshes\":%uL,\"failures\":%uL},"
                        "\"records_lost\":%uL,\"series\":%ui,"
                        "\"max_series\":%ui}",
                        ndxp_ok, ndxp_failed, lost, nseries, sh->max);
    }

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    return NGX_OK;
}


static u_char *
ngx_http_lgsp_status_rows(u_char *p, char *name, ngx_array_t *rows)
{
    ngx_uint_t                   i;
    ngx_http_lgsp_status_row_t  *row;

    p = ngx_sprintf(p, "\"%s\":[", name);
    row = rows->elts;

    for (i = 0; i < rows->nelts; i++) {
        /* label values are already escaped for the text format: the same
           escapes as JSON's for '"' and '\' */
        p = ngx_sprintf(p, "%s{\"name\":\"%V\",\"requests\":%uL,"
                        "\"errors\":%uL,\"rejected\":%uL}",
                        i ? "," : "", &row[i].name, row[i].requests,
                        row[i].errors, row[i].rejected);
    }

    *p++ = ']';
    *p++ = ',';

    return p;
}


static ngx_int_t
ngx_http_lgsp_status_add(ngx_array_t *rows, ngx_str_t *name,
    ngx_http_lgsp_series_t *s, ngx_str_t *status, ngx_str_t *outcome)
{
    ngx_uint_t                   i;
    ngx_http_lgsp_status_row_t  *row;

    row = rows->elts;

    for (i = 0; i < rows->nelts; i++) {
        if (row[i].name.len == name->len
            && ngx_strncmp(row[i].name.data, name->data, name->len) == 0)
        {
            break;
        }
    }

    if (i == rows->nelts) {
        row = ngx_array_push(rows);
        if (row == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(row, sizeof(ngx_http_lgsp_status_row_t));
        row->name = *name;

    } else {
        row = &row[i];
    }

    row->requests += s->values[0];

    if (status->len && status->data[0] == '5') {
        row->errors += s->values[0];
    }

    if ((outcome->len == 4 && ngx_strncmp(outcome->data, "auth", 4) == 0)
        || (outcome->len == 6 && ngx_strncmp(outcome->data, "access", 6) == 0)
        || (outcome->len == 5 && ngx_strncmp(outcome->data, "quota", 5) == 0)
        || (outcome->len == 6 && ngx_strncmp(outcome->data, "schema", 6) == 0))
    {
        row->rejected += s->values[0];
    }

    return NGX_OK;
}


/*
 * p50, p95 and p99 in ms over all services, interpolated within the
 * histogram's buckets (as Prometheus' histogram_quantile() does); above
 * the last bound, the last bound.
 */
static void
ngx_http_lgsp_status_percentiles(ngx_http_lgsp_metrics_sh_t *sh,
    ngx_uint_t metric, ngx_str_t *scope, uint64_t *count, double *p)
{
    double       rank, lo, hi, below;
    uint64_t     buckets[NGX_HTTP_LGSP_METRICS_BUCKETS], total;
    ngx_uint_t   i, j, q;

    static double  quantiles[] = { 0.5, 0.95, 0.99 };

    ngx_memzero(buckets, sizeof(buckets));

    for (i = 0; i < sh->nseries; i++) {
        if (sh->series[i].metric == metric
            && ngx_http_lgsp_metrics_in_scope(&sh->series[i], scope))
        {
            for (j = 0; j < NGX_HTTP_LGSP_METRICS_BUCKETS; j++) {
                buckets[j] += sh->series[i].values[j];
            }
        }
    }

    total = 0;

    for (j = 0; j < NGX_HTTP_LGSP_METRICS_BUCKETS; j++) {
        total += buckets[j];
    }

    *count = total;

    for (q = 0; q < 3; q++) {
        p[q] = 0;

        if (total == 0) {
            continue;
        }

        rank = quantiles[q] * total;
        below = 0;

        for (j = 0; j < NGX_HTTP_LGSP_METRICS_BUCKETS; j++) {
            if (below + buckets[j] >= rank) {
                break;
            }

            below += buckets[j];
        }

        if (j >= NGX_HTTP_LGSP_METRICS_BUCKETS - 1) {
            p[q] = ngx_http_lgsp_metrics_bounds[j - 1];
            continue;
        }

        lo = j ? ngx_http_lgsp_metrics_bounds[j - 1] : 0;
        hi = ngx_http_lgsp_metrics_bounds[j];
        p[q] = lo + (hi - lo) * (rank - below) / buckets[j];
    }
}


/* the (escaped) value of a label of a series */
static void
ngx_http_lgsp_metrics_value(ngx_http_lgsp_series_t *s, char *name,
    ngx_str_t *value)
{
    u_char  *p, *last;
    size_t   len;

    len = ngx_strlen(name);
    p = s->labels;
    last = s->labels + s->len;

    ngx_str_null(value);

    while (p < last) {
        if ((size_t) (last - p) > len + 2 && ngx_strncmp(p, name, len) == 0
            && p[len] == '=' && p[len + 1] == '"')
        {
            value->data = p + len + 2;

            for (p = value->data; p < last && *p != '"'; p++) {
                if (*p == '\\') {
                    p++;
                }
            }

            value->len = p - value->data;
            return;
        }

        /* the next label: after the closing quote and comma */
        p = (u_char *) ngx_strlchr(p, last, '"');
        if (p == NULL) {
            return;
        }

        for (p++; p < last && *p != '"'; p++) {
            if (*p == '\\') {
                p++;
            }
        }

        p += 2;
    }
}


static ngx_int_t
ngx_http_lgsp_metrics_send(ngx_http_request_t *r, char *type,
    ngx_chain_t *out)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = out->buf->last - out->buf->pos;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    h = ngx_http_lgsp_push_header(&r->headers_out.headers,
                                  &ngx_http_lgsp_metrics_cache_control);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&h->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


static char *
ngx_http_lgsp_metrics_handler_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_lgsp_metrics_loc_conf_t *mlcf = conf;

    ngx_str_t                          *value;
    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_compile_complex_value_t    ccv;
    ngx_http_lgsp_metrics_main_conf_t  *mmcf;

    if (mlcf->handler != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    mlcf->handler = cmd->offset;

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (ngx_strncmp(value[1].data, "tenant=", 7) != 0
            || value[1].len == 7)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        mlcf->tenant = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (mlcf->tenant == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[1];
        ccv.value->data += 7;
        ccv.value->len -= 7;
        ccv.complex_value = mlcf->tenant;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (cmd->offset == NGX_HTTP_LGSP_HANDLER_METRICS)
                    ? ngx_http_lgsp_metrics_handler
                    : ngx_http_lgsp_status_handler;

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_metrics_module);
    mmcf->enabled = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_lgsp_metrics_main_conf_t  *omcf = data;

    ngx_uint_t                          cap;
    ngx_slab_pool_t                    *shpool;
    ngx_http_lgsp_metrics_sh_t         *sh;
    ngx_http_lgsp_metrics_main_conf_t  *mmcf;

    mmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    mmcf->shpool = shpool;

    if (omcf && omcf->sh->max == mmcf->max_series) {
        /* a reload: counters go on */
        mmcf->sh = omcf->sh;
        return NGX_OK;
    }

    for (cap = 64; cap < 2 * (mmcf->max_series + NGX_HTTP_LGSP_METRICS_N);
         cap <<= 1)
    {
        /* void */
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_lgsp_metrics_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->index = ngx_slab_calloc(shpool, cap * sizeof(ngx_atomic_t));
    sh->series = ngx_slab_calloc(shpool,
                                 (mmcf->max_series + NGX_HTTP_LGSP_METRICS_N)
                                 * sizeof(ngx_http_lgsp_series_t));

    if (sh->index == NULL || sh->series == NULL) {
        return NGX_ERROR;
    }

    sh->max = mmcf->max_series;
    sh->cap = cap;
    sh->started = ngx_time();
    sh->ntenants = 1;

    shpool->data = sh;
    mmcf->sh = sh;

    return NGX_OK;
}


static void *
ngx_http_lgsp_metrics_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_metrics_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_metrics_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->enabled = 0;
     *     conf->zone = NULL;
     *     conf->sh = NULL;
     */

    conf->max_series = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_lgsp_metrics_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_lgsp_metrics_main_conf_t *mmcf = conf;

    ngx_conf_init_uint_value(mmcf->max_series, 1000);

    return NGX_CONF_OK;
}


static void *
ngx_http_lgsp_metrics_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_metrics_loc_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_lgsp_metrics_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->handler = NGX_CONF_UNSET_UINT;
    conf->tenant = NULL;

    return conf;
}


static char *
ngx_http_lgsp_metrics_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_lgsp_metrics_loc_conf_t *conf = child;

    /* a handler is the location's own, never inherited */
    if (conf->handler == NGX_CONF_UNSET_UINT) {
        conf->handler = 0;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_metrics_init(ngx_conf_t *cf)
{
    size_t                              size;
    ngx_str_t                           name;
    ngx_http_handler_pt                *h;
    ngx_http_core_main_conf_t          *cmcf;
    ngx_http_lgsp_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_metrics_module);

    if (!mmcf->enabled) {
        return NGX_OK;
    }

    size = 4 * (mmcf->max_series + NGX_HTTP_LGSP_METRICS_N)
             * sizeof(ngx_atomic_t)
           + (mmcf->max_series + NGX_HTTP_LGSP_METRICS_N)
             * sizeof(ngx_http_lgsp_series_t)
           + sizeof(ngx_http_lgsp_metrics_sh_t);

    /* the slab allocator's own pages and rounding */
    size = ngx_align(2 * size + 16 * ngx_pagesize, ngx_pagesize);

    ngx_str_set(&name, "lgsp_metrics");

    mmcf->zone = ngx_shared_memory_add(cf, &name, size,
                                       &ngx_http_lgsp_metrics_module);
    if (mmcf->zone == NULL) {
        return NGX_ERROR;
    }

    mmcf->zone->init = ngx_http_lgsp_metrics_init_zone;
    mmcf->zone->data = mmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_metrics_log_handler;

    return NGX_OK;
}
