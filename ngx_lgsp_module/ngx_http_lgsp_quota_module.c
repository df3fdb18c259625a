/*
 * LGSP on nginx: per-agency quotas in the precontent phase.  All limits of
 * a request are taken at once, in one Redis script (shared by every node)
 * or under one lock of the local shared-memory zone (one node, or while
 * Redis is down).  The arithmetic is lgsp_quota.c's; this file is the
 * glue: directives, the Redis script, the local zone, the 429 answer and
 * the RateLimit header fields.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_redis.h"
#include "ngx_http_lgsp_quota.h"
#include "lgsp_quota.h"
#include "lgsp_quota_reply.h"
#include "lgsp_uint.h"
#include "ngx_http_lgsp_catalog.h"


#define NGX_HTTP_LGSP_QUOTA_LOCAL    0
#define NGX_HTTP_LGSP_QUOTA_ALLOW    1
#define NGX_HTTP_LGSP_QUOTA_DENY     2

/* limits per location: bounds the script's arguments and the stack */
#define NGX_HTTP_LGSP_QUOTA_MAX      16

#define NGX_HTTP_LGSP_QUOTA_NAME_MAX 64

/* a batch's reply is bounded; each request takes at least 4 of it */
#define NGX_HTTP_LGSP_QUOTA_BATCH    (LGSP_QUOTA_REPLY_MAX_ELEMENTS / 4)

/* batches a worker keeps for reuse once answered, and their agency room */
#define NGX_HTTP_LGSP_QUOTA_SPARE    4
#define NGX_HTTP_LGSP_QUOTA_AGENCY   64

/* a call's keys and arguments, at most, that go on the stack */
#define NGX_HTTP_LGSP_QUOTA_KEYS     64

/* a batch's reply, as its ARGV: per request its count, 3 per limit */
#define ngx_http_lgsp_quota_batch_elements(batch)                            \
    ((batch)->nmembers + 3 * (batch)->nkeys)


typedef struct ngx_http_lgsp_quota_ctx_s    ngx_http_lgsp_quota_ctx_t;
typedef struct ngx_http_lgsp_quota_batch_s  ngx_http_lgsp_quota_batch_t;


typedef struct {
    ngx_http_complex_value_t        rate;
    ngx_http_complex_value_t       *key;        /* NULL: the service */
    ngx_str_t                       name;
    uint64_t                        burst;
    lgsp_quota_limit_t              limit;      /* of a rate without $ */
    ngx_str_t                       policy;     /* its RateLimit-Policy
                                                   item, when without $ */
    ngx_str_t                       args[3];    /* its script arguments,
                                                   when without $ */
    ngx_flag_t                      dynamic;
    ngx_flag_t                      per_key;    /* per=key: all agencies */
    ngx_str_t                       file;       /* for checks at merge */
    ngx_uint_t                      line;
} ngx_http_lgsp_quota_rule_t;


typedef struct {
    ngx_http_lgsp_redis_t          *redis;
    ngx_shm_zone_t                 *zone;
    ngx_http_lgsp_redis_script_t    script;

    /* this worker's batches not sent yet, and the event that sends them */
    ngx_queue_t                     batches;
    ngx_event_t                     flush;

    /*
     * answered batches kept for the next ones: a batch is a 4 KB
     * allocation, too large for malloc()'s thread cache
     */
    ngx_queue_t                     spare;
    ngx_uint_t                      nspare;
} ngx_http_lgsp_quota_main_conf_t;


typedef struct {
    ngx_array_t                    *rules;      /* lgsp_quota lines */
    ngx_uint_t                      fallback;
} ngx_http_lgsp_quota_loc_conf_t;


typedef struct {
    ngx_str_node_t                  sn;         /* str: the counter key */
    ngx_queue_t                     queue;
    uint64_t                        period;
    lgsp_quota_counter_t            counter;
    u_char                          data[1];
} ngx_http_lgsp_quota_node_t;


/* one limit as it applies to a request */
typedef struct {
    ngx_str_t                       name;
    ngx_str_t                       key;        /* the counter's name */
    ngx_str_t                       policy;     /* empty: made per request */
    ngx_str_t                      *args;       /* NULL: made per request */
    lgsp_quota_limit_t              limit;
    lgsp_quota_state_t              state;
} ngx_http_lgsp_quota_limit_t;


struct ngx_http_lgsp_quota_ctx_s {
    ngx_http_request_t             *request;
    ngx_str_t                       agency;     /* the keys' hash tag */
    ngx_http_lgsp_quota_limit_t    *limits;
    ngx_uint_t                      nlimits;
    ngx_str_t                      *args;       /* the script's, 1 + 3 n */
    ngx_uint_t                      refused;    /* 1-based; 0: none */
    ngx_http_lgsp_quota_batch_t    *batch;      /* while Redis answers */
    ngx_uint_t                      member;     /* its index in the batch */
    ngx_event_t                     resume;
    unsigned                        waiting:1;
    unsigned                        counted:1;  /* states are known */
    unsigned                        redis_failed:1;
    unsigned                        decided:1;
};


/* a request in a batch; its part of the reply is 1 + 3 * nlimits long */
typedef struct {
    ngx_http_lgsp_quota_ctx_t      *qctx;       /* NULL: it went away */
    ngx_uint_t                      nlimits;
} ngx_http_lgsp_quota_member_t;


/* the requests of one agency sent to Redis as one script call */
struct ngx_http_lgsp_quota_batch_s {
    ngx_queue_t                     queue;      /* while not sent */
    ngx_http_lgsp_quota_main_conf_t *qmcf;
    ngx_str_t                       agency;
    size_t                          agency_room;
    ngx_uint_t                      nkeys;
    ngx_uint_t                      nmembers;
    ngx_http_lgsp_quota_member_t    members[NGX_HTTP_LGSP_QUOTA_BATCH];
};


static ngx_int_t ngx_http_lgsp_quota_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_quota_limits(ngx_http_request_t *r,
    ngx_http_lgsp_quota_loc_conf_t *qlcf, ngx_http_lgsp_quota_ctx_t *qctx);
static ngx_int_t ngx_http_lgsp_quota_send(ngx_http_request_t *r,
    ngx_http_lgsp_quota_main_conf_t *qmcf, ngx_http_lgsp_quota_ctx_t *qctx);
static u_char *ngx_http_lgsp_quota_args(u_char *p, lgsp_quota_limit_t *l,
    ngx_str_t *args);
static ngx_http_lgsp_quota_batch_t *ngx_http_lgsp_quota_batch(
    ngx_http_lgsp_quota_main_conf_t *qmcf, ngx_str_t *agency,
    ngx_uint_t elements);
static void ngx_http_lgsp_quota_flush(ngx_event_t *ev);
static void ngx_http_lgsp_quota_send_batch(
    ngx_http_lgsp_quota_batch_t *batch);
static void ngx_http_lgsp_quota_redis_done(void *data, redisReply *reply);
static void ngx_http_lgsp_quota_batch_free(
    ngx_http_lgsp_quota_batch_t *batch);
static ngx_int_t ngx_http_lgsp_quota_redis_reply(
    ngx_http_lgsp_quota_ctx_t *qctx, redisReply *reply, size_t offset);
static void ngx_http_lgsp_quota_resume(ngx_event_t *ev);
static void ngx_http_lgsp_quota_cleanup(void *data);
static ngx_int_t ngx_http_lgsp_quota_decide(ngx_http_request_t *r,
    ngx_http_lgsp_quota_ctx_t *qctx);
static uint64_t ngx_http_lgsp_quota_now(void);
static ngx_int_t ngx_http_lgsp_quota_take_local(ngx_http_request_t *r,
    ngx_http_lgsp_lru_t *zone, ngx_http_lgsp_quota_ctx_t *qctx);
static ngx_http_lgsp_quota_node_t *ngx_http_lgsp_quota_node(
    ngx_http_lgsp_lru_t *zone, ngx_str_t *key, uint64_t now_ms,
    lgsp_quota_counter_t **keep, ngx_uint_t nkeep);
static ngx_uint_t ngx_http_lgsp_quota_kept(ngx_http_lgsp_quota_node_t *node,
    lgsp_quota_counter_t **keep, ngx_uint_t nkeep);
static ngx_int_t ngx_http_lgsp_quota_refuse(ngx_http_request_t *r,
    ngx_http_lgsp_quota_ctx_t *qctx);
static ngx_int_t ngx_http_lgsp_quota_unavailable(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_quota_misconfigured(ngx_http_request_t *r,
    ngx_str_t *rate);
static ngx_int_t ngx_http_lgsp_quota_retry_after(ngx_http_request_t *r,
    uint64_t seconds);
static ngx_int_t ngx_http_lgsp_quota_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_quota_remaining_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_lgsp_quota_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_quota_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_quota(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_lgsp_quota_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_lgsp_quota_describe(ngx_conf_t *cf,
    void **loc_conf, ngx_http_lgsp_service_info_t *info);
static ngx_int_t ngx_http_lgsp_quota_add_variables(ngx_conf_t *cf);
static void *ngx_http_lgsp_quota_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_lgsp_quota_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_quota_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_lgsp_quota_init(ngx_conf_t *cf);


/*
 * lgsp_quota_take() on Redis, atomically, for a batch of requests: the
 * requests of one agency that reached the quota check in one turn of the
 * event loop go in one call, so Redis and the worker do one round trip
 * for all of them.  ARGV holds, per request, its number of limits n, then
 * three per limit: quota, period in seconds, burst; KEYS holds the
 * requests' counters (hashes of window w, count c, count of the window
 * before p) in the same order.  The requests are taken one after the
 * other, each all-or-nothing, exactly as if each had its own call; a
 * counter read once is kept in "state" and written once at the end (the
 * limits of one request have distinct names, so distinct counters).
 * Redis's clock decides the window, so nodes with skewed clocks still
 * count in the same one.  Returns, per request, the refusing limit's
 * index (0: taken) and, per limit, the window's allowance, the count
 * (this request included when taken) and the milliseconds until the
 * window ends.  The requests of a batch repeat the same few arguments: each
 * distinct one is turned into a number once (strtod() took a tenth of
 * Redis's instructions per request), math's functions are looked up once
 * per call and one table serves every request's limits.
 */
static char  ngx_http_lgsp_quota_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "local floor, min, max = math.floor, math.min, math.max\n"
    "local state, out, seen, numbers, k, a = {}, {}, {}, {}, 0, 1\n"
    "local function arg(i)\n"
    "  local s = ARGV[i]\n"
    "  local v = numbers[s]\n"
    "  if v == nil then v = tonumber(s); numbers[s] = v end\n"
    "  return v\n"
    "end\n"
    "while a <= #ARGV do\n"
    "  local n, base, refused, longest = arg(a), #out, 0, -1\n"
    "  a = a + 1\n"
    "  out[base + 1] = 0\n"
    "  for i = 1, n do\n"
    "    local key = KEYS[k + i]\n"
    "    local q = arg(a)\n"
    "    local p = arg(a + 1) * 1000\n"
    "    local b = arg(a + 2)\n"
    "    local w = floor(now / p)\n"
    "    local s = state[key]\n"
    "    if s == nil then\n"
    "      local h = redis.call('HMGET', key, 'w', 'c', 'p')\n"
    "      s = {tonumber(h[1]), tonumber(h[2]) or 0, tonumber(h[3]) or 0,\n"
    "           p, false}\n"
    "      state[key] = s\n"
    "    end\n"
    "    if s[1] ~= w then\n"
    "      if s[1] == w - 1 then s[3] = s[2] else s[3] = 0 end\n"
    "      s[1], s[2] = w, 0\n"
    "    end\n"
    "    local allowed = q + min(b, max(q - s[3], 0))\n"
    "    local reset = (w + 1) * p - now\n"
    "    if s[2] >= allowed and reset > longest then\n"
    "      refused, longest = i, reset\n"
    "    end\n"
    "    seen[i] = s\n"
    "    out[base + 3 * i - 1] = allowed\n"
    "    out[base + 3 * i] = s[2]\n"
    "    out[base + 3 * i + 1] = reset\n"
    "    a = a + 3\n"
    "  end\n"
    "  if refused == 0 then\n"
    "    for i = 1, n do\n"
    "      local s = seen[i]\n"
    "      s[2], s[5] = s[2] + 1, true\n"
    "      out[base + 3 * i] = s[2]\n"
    "    end\n"
    "  end\n"
    "  out[base + 1] = refused\n"
    "  k = k + n\n"
    "end\n"
    "for key, s in pairs(state) do\n"
    "  if s[5] then\n"
    "    redis.call('HSET', key, 'w', s[1], 'c', s[2], 'p', s[3])\n"
    "    redis.call('PEXPIRE', key, 2 * s[4])\n"
    "  end\n"
    "end\n"
    "return out\n";


static ngx_conf_enum_t  ngx_http_lgsp_quota_fallbacks[] = {
    { ngx_string("local"), NGX_HTTP_LGSP_QUOTA_LOCAL },
    { ngx_string("allow"), NGX_HTTP_LGSP_QUOTA_ALLOW },
    { ngx_string("deny"), NGX_HTTP_LGSP_QUOTA_DENY },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_lgsp_quota_commands[] = {

    { ngx_string("lgsp_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_quota_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_quota_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_lgsp_quota_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_quota"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_quota,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_quota_fallback"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lgsp_quota_loc_conf_t, fallback),
      &ngx_http_lgsp_quota_fallbacks },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_quota_module_ctx = {
    ngx_http_lgsp_quota_add_variables,     /* preconfiguration */
    ngx_http_lgsp_quota_init,              /* postconfiguration */

    ngx_http_lgsp_quota_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_quota_create_loc_conf,   /* create location configuration */
    ngx_http_lgsp_quota_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_quota_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_quota_module_ctx,       /* module context */
    ngx_http_lgsp_quota_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_lgsp_quota_exit_process,      /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_lgsp_quota_remaining_name =
    ngx_string("lgsp_quota_remaining");

static ngx_str_t  ngx_http_lgsp_quota_retry_after_header =
    ngx_string("Retry-After");
static ngx_str_t  ngx_http_lgsp_quota_policy_header =
    ngx_string("RateLimit-Policy");
static ngx_str_t  ngx_http_lgsp_quota_status_header =
    ngx_string("RateLimit");


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_int_t
ngx_http_lgsp_quota_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_http_lgsp_ctx_t              *ctx;
    ngx_http_lgsp_quota_ctx_t        *qctx;
    ngx_http_lgsp_quota_loc_conf_t   *qlcf;
    ngx_http_lgsp_quota_main_conf_t  *qmcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_quota_module);

    if (qlcf->rules == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    qctx = ctx->quota;

    if (qctx) {
        if (qctx->waiting) {
            return NGX_AGAIN;
        }

        /* after an internal redirect the request was metered already */
        if (qctx->decided) {
            return NGX_DECLINED;
        }

        /* Redis answered */
        return ngx_http_lgsp_quota_decide(r, qctx);
    }

    qctx = ngx_pcalloc(r->pool, sizeof(ngx_http_lgsp_quota_ctx_t));
    if (qctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    qctx->request = r;
    ctx->quota = qctx;

    rc = ngx_http_lgsp_quota_limits(r, qlcf, qctx);
    if (rc != NGX_OK) {
        return rc;
    }

    if (qctx->nlimits == 0) {
        qctx->decided = 1;
        return NGX_DECLINED;
    }

    qmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_quota_module);

    if (qmcf->redis) {
        rc = ngx_http_lgsp_quota_send(r, qmcf, qctx);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        qctx->redis_failed = 1;
    }

    return ngx_http_lgsp_quota_decide(r, qctx);
}


/* the limits that apply: rates from variables may be empty, or bad */
static ngx_int_t
ngx_http_lgsp_quota_limits(ngx_http_request_t *r,
    ngx_http_lgsp_quota_loc_conf_t *qlcf, ngx_http_lgsp_quota_ctx_t *qctx)
{
    u_char                       *p;
    ngx_int_t                     rc;
    ngx_str_t                     rate, key, agency;
    ngx_uint_t                    i;
    ngx_http_lgsp_ctx_t          *ctx;
    ngx_http_lgsp_quota_rule_t   *rules;
    ngx_http_lgsp_quota_limit_t  *limit;

    ctx = ngx_http_lgsp_get_ctx(r);

    /* one hash tag per agency: a request's keys share a cluster slot */
    agency = ctx->agency;

    if (agency.len == 0) {
        ngx_str_set(&agency, "*");
    }

    qctx->agency = agency;

    rules = qlcf->rules->elts;

    qctx->limits = ngx_palloc(r->pool, qlcf->rules->nelts
                                       * sizeof(ngx_http_lgsp_quota_limit_t));
    if (qctx->limits == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < qlcf->rules->nelts; i++) {
        limit = &qctx->limits[qctx->nlimits];

        if (rules[i].dynamic) {
            if (ngx_http_complex_value(r, &rules[i].rate, &rate) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            rc = lgsp_quota_parse_rate((char *) rate.data, rate.len,
                                       &limit->limit);

            if (rc == LGSP_QUOTA_NO_LIMIT) {
                continue;
            }

            if (rc != LGSP_QUOTA_OK) {
                return ngx_http_lgsp_quota_misconfigured(r, &rate);
            }

        } else {
            limit->limit = rules[i].limit;
        }

        limit->limit.burst = rules[i].burst;
        limit->name = rules[i].name;
        limit->policy = rules[i].policy;
        limit->args = rules[i].dynamic ? NULL : rules[i].args;

        if (rules[i].key) {
            if (ngx_http_complex_value(r, rules[i].key, &key) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

        } else {
            ngx_http_lgsp_service_name(r, &key);
        }

        limit->key.data = ngx_pnalloc(r->pool,
                                      sizeof("lgsp:quota:all:{}:::") - 1
                                      + agency.len + key.len
                                      + limit->name.len + NGX_INT64_LEN);
        if (limit->key.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /*
         * per=key: one counter for every agency, e.g. a tenant's ceiling;
         * the key's own hash tag, beside the agency's of the others
         */
        if (rules[i].per_key) {
            p = ngx_cpymem(limit->key.data, "lgsp:quota:all:{",
                           sizeof("lgsp:quota:all:{") - 1);
            p = ngx_cpymem(p, key.data, key.len);
            *p++ = '}';

        } else {
            p = ngx_cpymem(limit->key.data, "lgsp:quota:{",
                           sizeof("lgsp:quota:{") - 1);
            p = ngx_cpymem(p, agency.data, agency.len);
            p = ngx_cpymem(p, "}:", 2);
            p = ngx_cpymem(p, key.data, key.len);
        }

        /* by hand, not by ngx_sprintf(): once per request and limit */
        *p++ = ':';
        p = ngx_cpymem(p, limit->name.data, limit->name.len);
        *p++ = ':';
        p = (u_char *) lgsp_uint((char *) p, limit->limit.period);
        limit->key.len = p - limit->key.data;

        qctx->nlimits++;
    }

    return NGX_OK;
}


/*
 * NGX_AGAIN: the request waits for Redis, in this turn's batch of its
 * agency; NGX_DECLINED: Redis is down.
 */
static ngx_int_t
ngx_http_lgsp_quota_send(ngx_http_request_t *r,
    ngx_http_lgsp_quota_main_conf_t *qmcf, ngx_http_lgsp_quota_ctx_t *qctx)
{
    u_char                        *p;
    ngx_str_t                     *arg;
    ngx_uint_t                     i;
    ngx_pool_cleanup_t            *cln;
    ngx_http_lgsp_quota_batch_t   *batch;
    ngx_http_lgsp_quota_member_t  *m;

    if (ngx_http_lgsp_redis_link(qmcf->redis) != NGX_OK) {
        return NGX_DECLINED;
    }

    qctx->args = ngx_palloc(r->pool, (1 + 3 * qctx->nlimits)
                                     * sizeof(ngx_str_t));
    p = ngx_pnalloc(r->pool, (1 + 3 * qctx->nlimits) * NGX_INT64_LEN);
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (qctx->args == NULL || p == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    arg = qctx->args;

    arg->data = p;
    p = (u_char *) lgsp_uint((char *) p, qctx->nlimits);
    arg->len = p - arg->data;

    for (i = 0; i < qctx->nlimits; i++) {
        if (qctx->limits[i].args) {
            ngx_memcpy(arg + 1, qctx->limits[i].args, 3 * sizeof(ngx_str_t));
            arg += 3;
            continue;
        }

        p = ngx_http_lgsp_quota_args(p, &qctx->limits[i].limit, arg + 1);
        arg += 3;
    }

    batch = ngx_http_lgsp_quota_batch(qmcf, &qctx->agency,
                                      1 + 3 * qctx->nlimits);
    if (batch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m = &batch->members[batch->nmembers];
    m->qctx = qctx;
    m->nlimits = qctx->nlimits;

    qctx->batch = batch;
    qctx->member = batch->nmembers;

    batch->nmembers++;
    batch->nkeys += qctx->nlimits;

    /* a client that goes away while Redis answers leaves the batch */
    cln->handler = ngx_http_lgsp_quota_cleanup;
    cln->data = qctx;

    qctx->waiting = 1;
    qctx->resume.handler = ngx_http_lgsp_quota_resume;
    qctx->resume.data = qctx;
    qctx->resume.log = r->connection->log;

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


/* a limit's three script arguments: quota, period, burst, printed at p */
static u_char *
ngx_http_lgsp_quota_args(u_char *p, lgsp_quota_limit_t *l, ngx_str_t *args)
{
    args[0].data = p;
    p = (u_char *) lgsp_uint((char *) p, l->quota);
    args[0].len = p - args[0].data;

    args[1].data = p;
    p = (u_char *) lgsp_uint((char *) p, l->period);
    args[1].len = p - args[1].data;

    args[2].data = p;
    p = (u_char *) lgsp_uint((char *) p, l->burst);
    args[2].len = p - args[2].data;

    return p;
}


/*
 * The agency's open batch with room for a request of so many reply
 * elements: one hash tag per call keeps the batch on one cluster slot.
 * The batches go when the event loop has handled this turn's events.
 */
static ngx_http_lgsp_quota_batch_t *
ngx_http_lgsp_quota_batch(ngx_http_lgsp_quota_main_conf_t *qmcf,
    ngx_str_t *agency, ngx_uint_t elements)
{
    size_t                        room;
    ngx_queue_t                  *q;
    ngx_http_lgsp_quota_batch_t  *batch;

    for (q = ngx_queue_head(&qmcf->batches);
         q != ngx_queue_sentinel(&qmcf->batches);
         q = ngx_queue_next(q))
    {
        batch = ngx_queue_data(q, ngx_http_lgsp_quota_batch_t, queue);

        if (batch->agency.len != agency->len
            || ngx_memcmp(batch->agency.data, agency->data, agency->len)
               != 0)
        {
            continue;
        }

        if (batch->nmembers < NGX_HTTP_LGSP_QUOTA_BATCH
            && ngx_http_lgsp_quota_batch_elements(batch) + elements
               <= LGSP_QUOTA_REPLY_MAX_ELEMENTS)
        {
            return batch;
        }

        /* full: it goes now, a new one takes the rest of the turn */
        ngx_queue_remove(q);
        ngx_http_lgsp_quota_send_batch(batch);
        break;
    }

    batch = NULL;

    for (q = ngx_queue_head(&qmcf->spare);
         q != ngx_queue_sentinel(&qmcf->spare);
         q = ngx_queue_next(q))
    {
        batch = ngx_queue_data(q, ngx_http_lgsp_quota_batch_t, queue);

        if (batch->agency_room >= agency->len) {
            ngx_queue_remove(q);
            qmcf->nspare--;
            break;
        }

        batch = NULL;
    }

    if (batch == NULL) {
        room = ngx_max(agency->len, NGX_HTTP_LGSP_QUOTA_AGENCY);

        batch = ngx_alloc(sizeof(ngx_http_lgsp_quota_batch_t) + room,
                          ngx_cycle->log);
        if (batch == NULL) {
            return NULL;
        }

        batch->agency_room = room;
    }

    batch->qmcf = qmcf;
    batch->agency.data = (u_char *) (batch + 1);
    batch->agency.len = agency->len;
    ngx_memcpy(batch->agency.data, agency->data, agency->len);
    batch->nkeys = 0;
    batch->nmembers = 0;

    ngx_queue_insert_tail(&qmcf->batches, &batch->queue);

    if (!qmcf->flush.posted) {
        ngx_post_event(&qmcf->flush, &ngx_posted_events);
    }

    return batch;
}


static void
ngx_http_lgsp_quota_flush(ngx_event_t *ev)
{
    ngx_http_lgsp_quota_main_conf_t *qmcf = ev->data;

    ngx_queue_t  *q;

    while (!ngx_queue_empty(&qmcf->batches)) {
        q = ngx_queue_head(&qmcf->batches);
        ngx_queue_remove(q);

        ngx_http_lgsp_quota_send_batch(
            ngx_queue_data(q, ngx_http_lgsp_quota_batch_t, queue));
    }
}


static void
ngx_http_lgsp_quota_send_batch(ngx_http_lgsp_quota_batch_t *batch)
{
    ngx_int_t                      rc;
    ngx_str_t                     *keys, *args;
    ngx_uint_t                     i, j, n, nkeys, nargs, size;
    ngx_http_lgsp_quota_ctx_t     *qctx;
    ngx_http_lgsp_quota_member_t  *m;
    ngx_str_t                      stack[NGX_HTTP_LGSP_QUOTA_KEYS];

    /* requests that went away before it left are not in it */
    n = 0;

    for (i = 0; i < batch->nmembers; i++) {
        m = &batch->members[i];

        if (m->qctx == NULL) {
            batch->nkeys -= m->nlimits;
            continue;
        }

        m->qctx->member = n;
        batch->members[n++] = *m;
    }

    batch->nmembers = n;

    if (n == 0) {
        ngx_http_lgsp_quota_batch_free(batch);
        return;
    }

    size = batch->nkeys + ngx_http_lgsp_quota_batch_elements(batch);

    if (size <= NGX_HTTP_LGSP_QUOTA_KEYS) {
        keys = stack;

    } else {
        keys = ngx_alloc(size * sizeof(ngx_str_t), ngx_cycle->log);
        if (keys == NULL) {
            ngx_http_lgsp_quota_redis_done(batch, NULL);
            return;
        }
    }

    args = keys + batch->nkeys;
    nkeys = 0;
    nargs = 0;

    for (i = 0; i < n; i++) {
        qctx = batch->members[i].qctx;

        for (j = 0; j < qctx->nlimits; j++) {
            keys[nkeys++] = qctx->limits[j].key;
        }

        for (j = 0; j < 1 + 3 * qctx->nlimits; j++) {
            args[nargs++] = qctx->args[j];
        }
    }

    rc = ngx_http_lgsp_redis_eval(batch->qmcf->redis, &batch->qmcf->script,
                                  keys, nkeys, args, nargs,
                                  ngx_http_lgsp_quota_redis_done, batch);

    if (keys != stack) {
        ngx_free(keys);
    }

    if (rc != NGX_AGAIN) {
        /* Redis went away since the requests came: they fall back */
        ngx_http_lgsp_quota_redis_done(batch, NULL);
    }
}


/* the batch's answer, or NULL: each request still here resumes */
static void
ngx_http_lgsp_quota_redis_done(void *data, redisReply *reply)
{
    ngx_http_lgsp_quota_batch_t *batch = data;

    size_t                      offset;
    ngx_uint_t                  i;
    ngx_http_lgsp_quota_ctx_t  *qctx;

    if (reply && (reply->type != REDIS_REPLY_ARRAY
                  || reply->elements
                     != ngx_http_lgsp_quota_batch_elements(batch)))
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "lgsp: unexpected reply of the redis quota script");
        reply = NULL;
    }

    offset = 0;

    for (i = 0; i < batch->nmembers; i++) {
        qctx = batch->members[i].qctx;

        if (qctx) {
            qctx->batch = NULL;
            qctx->waiting = 0;

            if (reply == NULL
                || ngx_http_lgsp_quota_redis_reply(qctx, reply, offset)
                   != NGX_OK)
            {
                qctx->redis_failed = 1;
            }

            /* the Redis connection is in the middle of its loop: go on
             * from a clean stack */
            ngx_post_event(&qctx->resume, &ngx_posted_events);
        }

        offset += 1 + 3 * batch->members[i].nlimits;
    }

    ngx_http_lgsp_quota_batch_free(batch);
}


static void
ngx_http_lgsp_quota_batch_free(ngx_http_lgsp_quota_batch_t *batch)
{
    ngx_http_lgsp_quota_main_conf_t  *qmcf;

    qmcf = batch->qmcf;

    if (qmcf->nspare == NGX_HTTP_LGSP_QUOTA_SPARE) {
        ngx_free(batch);
        return;
    }

    ngx_queue_insert_head(&qmcf->spare, &batch->queue);
    qmcf->nspare++;
}


static ngx_int_t
ngx_http_lgsp_quota_redis_reply(ngx_http_lgsp_quota_ctx_t *qctx,
    redisReply *reply, size_t offset)
{
    long                refused;
    ngx_uint_t          i;
    lgsp_quota_limit_t  limits[NGX_HTTP_LGSP_QUOTA_MAX];
    lgsp_quota_state_t  states[NGX_HTTP_LGSP_QUOTA_MAX];

    for (i = 0; i < qctx->nlimits; i++) {
        limits[i] = qctx->limits[i].limit;
    }

    refused = lgsp_quota_reply(reply, offset, limits, states, qctx->nlimits);

    if (refused < 0) {
        ngx_log_error(NGX_LOG_ERR, qctx->request->connection->log, 0,
                      "lgsp: unexpected reply of the redis quota script");
        return NGX_ERROR;
    }

    qctx->refused = refused;

    for (i = 0; i < qctx->nlimits; i++) {
        qctx->limits[i].state = states[i];
    }

    qctx->counted = 1;

    return NGX_OK;
}


static void
ngx_http_lgsp_quota_resume(ngx_event_t *ev)
{
    ngx_http_lgsp_quota_ctx_t *qctx = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = qctx->request;
    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_lgsp_quota_cleanup(void *data)
{
    ngx_http_lgsp_quota_ctx_t *qctx = data;

    if (qctx->batch) {
        qctx->batch->members[qctx->member].qctx = NULL;
    }

    if (qctx->resume.posted) {
        ngx_delete_posted_event(&qctx->resume);
    }
}


static ngx_int_t
ngx_http_lgsp_quota_decide(ngx_http_request_t *r,
    ngx_http_lgsp_quota_ctx_t *qctx)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i, fallback;
    lgsp_quota_counter_t              unused;
    ngx_http_lgsp_quota_loc_conf_t   *qlcf;
    ngx_http_lgsp_quota_main_conf_t  *qmcf;

    ngx_memzero(&unused, sizeof(lgsp_quota_counter_t));

    qmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_quota_module);
    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_quota_module);

    qctx->decided = 1;

    fallback = qctx->redis_failed ? qlcf->fallback
                                  : NGX_HTTP_LGSP_QUOTA_LOCAL;

    if (qctx->counted) {
        /* Redis counted */

    } else if (fallback == NGX_HTTP_LGSP_QUOTA_LOCAL) {
        rc = ngx_http_lgsp_quota_take_local(r, qmcf->zone->data, qctx);
        if (rc != NGX_OK) {
            return rc;
        }

    } else if (fallback == NGX_HTTP_LGSP_QUOTA_DENY) {
        return ngx_http_lgsp_quota_unavailable(r);

    } else {
        /* allow: uncounted, but a suspended agency stays suspended */
        for (i = 0; i < qctx->nlimits; i++) {
            if (qctx->limits[i].limit.quota == 0) {
                qctx->refused = i + 1;
                lgsp_quota_check(&qctx->limits[i].limit, &unused,
                                 ngx_http_lgsp_quota_now(),
                                 &qctx->limits[i].state);
                break;
            }
        }
    }

    if (qctx->refused) {
        return ngx_http_lgsp_quota_refuse(r, qctx);
    }

    return NGX_DECLINED;
}


static uint64_t
ngx_http_lgsp_quota_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


static ngx_int_t
ngx_http_lgsp_quota_take_local(ngx_http_request_t *r,
    ngx_http_lgsp_lru_t *zone, ngx_http_lgsp_quota_ctx_t *qctx)
{
    uint64_t                     now_ms;
    ngx_uint_t                   i, n;
    lgsp_quota_limit_t           limits[NGX_HTTP_LGSP_QUOTA_MAX];
    lgsp_quota_state_t           states[NGX_HTTP_LGSP_QUOTA_MAX];
    lgsp_quota_counter_t        *counters[NGX_HTTP_LGSP_QUOTA_MAX];
    ngx_http_lgsp_quota_node_t  *node;

    now_ms = ngx_http_lgsp_quota_now();
    n = qctx->nlimits;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < n; i++) {
        node = ngx_http_lgsp_quota_node(zone, &qctx->limits[i].key, now_ms,
                                        counters, i);
        if (node == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);

            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "lgsp: lgsp_quota_zone is too small for the"
                          " quotas of one request");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        node->period = qctx->limits[i].limit.period;
        counters[i] = &node->counter;
        limits[i] = qctx->limits[i].limit;
    }

    qctx->refused = lgsp_quota_take(limits, counters, states, n, now_ms);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    for (i = 0; i < n; i++) {
        qctx->limits[i].state = states[i];
    }

    qctx->counted = 1;

    return NGX_OK;
}


/*
 * The counter of a key, made when missing; the zone makes room by
 * dropping counters whose windows are over, then the least recently used
 * ones, but never one this request holds (keep).  Called locked.
 */
static ngx_http_lgsp_quota_node_t *
ngx_http_lgsp_quota_node(ngx_http_lgsp_lru_t *zone, ngx_str_t *key,
    uint64_t now_ms, lgsp_quota_counter_t **keep, ngx_uint_t nkeep)
{
    uint32_t                     hash;
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_str_node_t              *sn;
    ngx_http_lgsp_quota_node_t  *node, *old;

    hash = ngx_crc32_short(key->data, key->len);

    sn = ngx_str_rbtree_lookup(&zone->sh->rbtree, key, hash);

    if (sn) {
        node = (ngx_http_lgsp_quota_node_t *) sn;
        ngx_queue_remove(&node->queue);
        ngx_queue_insert_head(&zone->sh->queue, &node->queue);
        return node;
    }

    /* two expired counters per new one keep the zone clean */
    for (n = 0; n < 2 && !ngx_queue_empty(&zone->sh->queue); n++) {
        q = ngx_queue_last(&zone->sh->queue);
        old = ngx_queue_data(q, ngx_http_lgsp_quota_node_t, queue);

        if (ngx_http_lgsp_quota_kept(old, keep, nkeep)
            || old->counter.window + 1
               >= (int64_t) (now_ms / (old->period * 1000)))
        {
            break;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&zone->sh->rbtree, &old->sn.node);
        ngx_slab_free_locked(zone->shpool, old);
    }

    for ( ;; ) {
        node = ngx_slab_alloc_locked(zone->shpool,
                                     offsetof(ngx_http_lgsp_quota_node_t,
                                              data)
                                     + key->len);
        if (node) {
            break;
        }

        if (ngx_queue_empty(&zone->sh->queue)) {
            return NULL;
        }

        q = ngx_queue_last(&zone->sh->queue);
        old = ngx_queue_data(q, ngx_http_lgsp_quota_node_t, queue);

        if (ngx_http_lgsp_quota_kept(old, keep, nkeep)) {
            return NULL;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&zone->sh->rbtree, &old->sn.node);
        ngx_slab_free_locked(zone->shpool, old);
    }

    ngx_memzero(node, offsetof(ngx_http_lgsp_quota_node_t, data));
    ngx_memcpy(node->data, key->data, key->len);

    node->sn.node.key = hash;
    node->sn.str.len = key->len;
    node->sn.str.data = node->data;

    ngx_rbtree_insert(&zone->sh->rbtree, &node->sn.node);
    ngx_queue_insert_head(&zone->sh->queue, &node->queue);

    return node;
}


static ngx_uint_t
ngx_http_lgsp_quota_kept(ngx_http_lgsp_quota_node_t *node,
    lgsp_quota_counter_t **keep, ngx_uint_t nkeep)
{
    ngx_uint_t  i;

    for (i = 0; i < nkeep; i++) {
        if (keep[i] == &node->counter) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_lgsp_quota_refuse(ngx_http_request_t *r,
    ngx_http_lgsp_quota_ctx_t *qctx)
{
    u_char                       *p;
    uint64_t                      retry;
    ngx_http_lgsp_ctx_t          *ctx;
    ngx_http_lgsp_problem_t       problem;
    ngx_http_lgsp_quota_limit_t  *limit;

    limit = &qctx->limits[qctx->refused - 1];
    retry = lgsp_quota_seconds(limit->state.reset_ms);

    if (ngx_http_lgsp_quota_retry_after(r, retry) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    ctx->reason = limit->name;

    p = ngx_pnalloc(r->pool, 256 + 2 * NGX_HTTP_LGSP_QUOTA_NAME_MAX
                             + 4 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    problem.status = NGX_HTTP_TOO_MANY_REQUESTS;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_QUOTA;
    ngx_str_set(&problem.type, "quota-exceeded");
    ngx_str_set(&problem.title, "Too Many Requests");

    problem.detail.data = p;

    if (limit->limit.quota == 0) {
        p = ngx_sprintf(p, "quota \"%V\" allows no requests", &limit->name);

    } else {
        p = ngx_sprintf(p, "quota \"%V\" of %uL requests per %s is used up",
                        &limit->name, limit->limit.quota,
                        lgsp_quota_window_name(limit->limit.period));
    }

    problem.detail.len = p - problem.detail.data;

    problem.members.data = p;
    p = ngx_sprintf(p, "\"limit\":\"%V\",\"quota\":%uL,\"window\":%uL,"
                    "\"retry_after\":%uL", &limit->name, limit->limit.quota,
                    limit->limit.period, retry);
    problem.members.len = p - problem.members.data;

    ngx_http_finalize_request(r, ngx_http_lgsp_send_problem(r, &problem));

    return NGX_DONE;
}


/* lgsp_quota_fallback deny while Redis is down */
static ngx_int_t
ngx_http_lgsp_quota_unavailable(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t      *ctx;
    ngx_http_lgsp_problem_t   problem;

    if (ngx_http_lgsp_quota_retry_after(r, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    ngx_str_set(&ctx->reason, "quota unavailable");

    problem.status = NGX_HTTP_TOO_MANY_REQUESTS;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_QUOTA;
    ngx_str_set(&problem.type, "quota-unavailable");
    ngx_str_set(&problem.title, "Too Many Requests");
    ngx_str_set(&problem.detail, "quotas cannot be counted now and are"
                " configured to refuse then; retry shortly");
    ngx_str_null(&problem.members);

    ngx_http_finalize_request(r, ngx_http_lgsp_send_problem(r, &problem));

    return NGX_DONE;
}


/* a rate from a variable that is no rate: the operator's error */
static ngx_int_t
ngx_http_lgsp_quota_misconfigured(ngx_http_request_t *r, ngx_str_t *rate)
{
    u_char                   *p;
    ngx_http_lgsp_problem_t   problem;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "lgsp: invalid quota rate \"%V\": use NUMBERr/s, r/m, r/h"
                  " or r/d, or an empty value for no limit", rate);

    p = ngx_pnalloc(r->pool, 64);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    problem.status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_ERROR;
    ngx_str_set(&problem.type, "quota-misconfigured");
    ngx_str_set(&problem.title, "Internal Server Error");
    problem.detail.data = p;
    problem.detail.len = ngx_sprintf(p, "the quota rate \"%*s\" is invalid",
                                     ngx_min(rate->len, 32), rate->data)
                         - p;
    ngx_str_null(&problem.members);

    ngx_http_finalize_request(r, ngx_http_lgsp_send_problem(r, &problem));

    return NGX_DONE;
}


static ngx_int_t
ngx_http_lgsp_quota_retry_after(ngx_http_request_t *r, uint64_t seconds)
{
    ngx_table_elt_t  *h;

    h = ngx_http_lgsp_push_header(&r->headers_out.headers,
                                  &ngx_http_lgsp_quota_retry_after_header);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "%uL", seconds)
                   - h->value.data;

    return NGX_OK;
}


/* RateLimit-Policy and RateLimit on every answer under a quota */
static ngx_int_t
ngx_http_lgsp_quota_header_filter(ngx_http_request_t *r)
{
    u_char                       *policy, *status;
    ngx_uint_t                    i;
    ngx_table_elt_t              *h;
    ngx_http_lgsp_ctx_t          *ctx;
    ngx_http_lgsp_quota_ctx_t    *qctx;
    ngx_http_lgsp_quota_limit_t  *l;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_lgsp_find_ctx(r);
    qctx = ctx ? ctx->quota : NULL;

    if (qctx == NULL || !qctx->decided || qctx->nlimits == 0) {
        return ngx_http_next_header_filter(r);
    }

    policy = ngx_pnalloc(r->pool, 2 * qctx->nlimits
                                  * (LGSP_QUOTA_ITEM_LEN + 2));
    if (policy == NULL) {
        return NGX_ERROR;
    }

    status = policy + qctx->nlimits * (LGSP_QUOTA_ITEM_LEN + 2);

    h = ngx_http_lgsp_push_header(&r->headers_out.headers,
                                  &ngx_http_lgsp_quota_policy_header);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = policy;

    for (i = 0; i < qctx->nlimits; i++) {
        l = &qctx->limits[i];

        if (i) {
            *policy++ = ',';
            *policy++ = ' ';
        }

        policy = l->policy.len
                 ? ngx_cpymem(policy, l->policy.data, l->policy.len)
                 : policy + lgsp_quota_policy_item((char *) policy,
                                                   LGSP_QUOTA_ITEM_LEN,
                                                   (char *) l->name.data,
                                                   l->name.len, &l->limit);
    }

    h->value.len = policy - h->value.data;

    /* uncounted (Redis down, lgsp_quota_fallback allow): no state known */
    if (!qctx->counted) {
        return ngx_http_next_header_filter(r);
    }

    h = ngx_http_lgsp_push_header(&r->headers_out.headers,
                                  &ngx_http_lgsp_quota_status_header);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = status;

    for (i = 0; i < qctx->nlimits; i++) {
        l = &qctx->limits[i];

        if (i) {
            *status++ = ',';
            *status++ = ' ';
        }

        status += lgsp_quota_status_item((char *) status,
                                         LGSP_QUOTA_ITEM_LEN,
                                         (char *) l->name.data, l->name.len,
                                         &l->state);
    }

    h->value.len = status - h->value.data;

    return ngx_http_next_header_filter(r);
}


/* the fewest requests any limit of the request has left */
static ngx_int_t
ngx_http_lgsp_quota_remaining_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    uint64_t                    left, min;
    ngx_uint_t                  i;
    ngx_http_lgsp_ctx_t        *ctx;
    ngx_http_lgsp_quota_ctx_t  *qctx;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    qctx = ctx->quota;

    if (qctx == NULL || !qctx->counted || qctx->nlimits == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    min = (uint64_t) -1;

    for (i = 0; i < qctx->nlimits; i++) {
        left = lgsp_quota_remaining(&qctx->limits[i].state);
        min = ngx_min(min, left);
    }

    v->data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(v->data, "%uL", min) - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static char *
ngx_http_lgsp_quota_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_quota_main_conf_t *qmcf = conf;

    if (qmcf->redis == NULL) {
        qmcf->redis = ngx_http_lgsp_redis_create(cf,
                                                 &ngx_http_lgsp_quota_module);
        if (qmcf->redis == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_set(&qmcf->script.text, ngx_http_lgsp_quota_lua);

        if (ngx_http_lgsp_redis_add_script(cf, qmcf->redis, &qmcf->script)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_lgsp_redis_add_server(cf, qmcf->redis);
}


static char *
ngx_http_lgsp_quota_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_quota_main_conf_t *qmcf = conf;

    u_char     *p;
    ngx_str_t  *value, name, size;

    if (qmcf->zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\": use NAME:SIZE", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - name.data;
    size.data = p + 1;
    size.len = value[1].data + value[1].len - size.data;

    qmcf->zone = ngx_http_lgsp_lru_add_zone(cf, &value[1], &name, &size,
                                            &ngx_http_lgsp_quota_module,
                                            ngx_str_rbtree_insert_value,
                                            "lgsp_quota_zone");

    return qmcf->zone ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static char *
ngx_http_lgsp_quota(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_quota_loc_conf_t *qlcf = conf;

    int                                rc;
    u_char                            *p;
    ngx_int_t                          n;
    ngx_str_t                         *value, s;
    ngx_uint_t                         i, j;
    ngx_http_lgsp_quota_rule_t        *rule, *rules;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (qlcf->rules == NGX_CONF_UNSET_PTR) {
        qlcf->rules = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_lgsp_quota_rule_t));
        if (qlcf->rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (qlcf->rules->nelts == NGX_HTTP_LGSP_QUOTA_MAX) {
        return "is given more than 16 times here";
    }

    rule = ngx_array_push(qlcf->rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(rule, sizeof(ngx_http_lgsp_quota_rule_t));

    rule->file = cf->conf_file->file.name;
    rule->line = cf->conf_file->line;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &rule->rate;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rule->dynamic = (rule->rate.lengths != NULL);

    if (!rule->dynamic) {
        rc = lgsp_quota_parse_rate((char *) value[1].data, value[1].len,
                                   &rule->limit);

        if (rc == LGSP_QUOTA_BAD_WINDOW) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown window in rate \"%V\": use r/s, r/m,"
                               " r/h or r/d", &value[1]);
            return NGX_CONF_ERROR;
        }

        if (rc != LGSP_QUOTA_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid rate \"%V\": use NUMBERr/s, r/m, r/h"
                               " or r/d, e.g. 100r/m", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            rule->burst = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0 && value[i].len > 4) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            rule->key = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
            if (rule->key == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = rule->key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "per=agency") == 0) {
            rule->per_key = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "per=key") == 0) {
            rule->per_key = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            rule->name.data = value[i].data + 5;
            rule->name.len = value[i].len - 5;

            /* it goes into header fields and JSON as it is */
            if (rule->name.len == 0
                || rule->name.len > NGX_HTTP_LGSP_QUOTA_NAME_MAX)
            {
                goto invalid;
            }

            for (j = 0; j < rule->name.len; j++) {
                if (!(isalnum(rule->name.data[j]) || rule->name.data[j] == '.'
                      || rule->name.data[j] == '_'
                      || rule->name.data[j] == '-'))
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid quota name \"%V\": use"
                                       " letters, digits, \".\", \"_\" and"
                                       " \"-\"", &rule->name);
                    return NGX_CONF_ERROR;
                }
            }

            continue;
        }

        goto invalid;
    }

    if (rule->name.len == 0) {
        if (rule->dynamic) {
            ngx_str_set(&rule->name, "plan");

        } else {
            rule->name.data = (u_char *)
                              lgsp_quota_window_name(rule->limit.period);
            rule->name.len = ngx_strlen(rule->name.data);
        }
    }

    /*
     * a fixed rate's policy item and script arguments are made once, not
     * for every request
     */
    if (!rule->dynamic) {
        rule->policy.data = ngx_pnalloc(cf->pool, LGSP_QUOTA_ITEM_LEN);
        p = ngx_pnalloc(cf->pool, 3 * NGX_INT64_LEN);
        if (rule->policy.data == NULL || p == NULL) {
            return NGX_CONF_ERROR;
        }

        rule->limit.burst = rule->burst;
        (void) ngx_http_lgsp_quota_args(p, &rule->limit, rule->args);

        rule->policy.len = lgsp_quota_policy_item((char *) rule->policy.data,
                                                  LGSP_QUOTA_ITEM_LEN,
                                                  (char *) rule->name.data,
                                                  rule->name.len,
                                                  &rule->limit);
    }

    rules = qlcf->rules->elts;

    for (i = 0; i + 1 < qlcf->rules->nelts; i++) {
        if (rules[i].name.len == rule->name.len
            && ngx_strncmp(rules[i].name.data, rule->name.data,
                           rule->name.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate quota name \"%V\": give each"
                               " lgsp_quota here its own name=", &rule->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


ngx_http_lgsp_redis_t *
ngx_http_lgsp_quota_redis_get(ngx_conf_t *cf)
{
    ngx_http_lgsp_quota_main_conf_t  *qmcf;

    qmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_quota_module);

    return qmcf->redis;
}


/*
 * The Redis link and the batches kept for reuse are not nginx's memory: a
 * worker that exits frees them, the batches last, as closing the link
 * answers those still in flight and so keeps some
 */
static void
ngx_http_lgsp_quota_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t                      *q;
    ngx_http_lgsp_quota_main_conf_t  *qmcf;

    qmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_lgsp_quota_module);

    if (qmcf == NULL) {
        return;
    }

    if (qmcf->redis) {
        ngx_http_lgsp_redis_close(qmcf->redis);
    }

    while (!ngx_queue_empty(&qmcf->spare)) {
        q = ngx_queue_head(&qmcf->spare);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_lgsp_quota_batch_t, queue));
    }

    qmcf->nspare = 0;
}


/* the catalogue lists a location's quotas as written: "100r/m burst=10" */
static ngx_int_t
ngx_http_lgsp_quota_describe(ngx_conf_t *cf, void **loc_conf,
    ngx_http_lgsp_service_info_t *info)
{
    u_char                          *p;
    ngx_str_t                       *s;
    ngx_uint_t                       i;
    ngx_http_lgsp_quota_rule_t      *rules;
    ngx_http_lgsp_quota_loc_conf_t  *qlcf;

    qlcf = loc_conf[ngx_http_lgsp_quota_module.ctx_index];

    if (qlcf->rules == NULL) {
        return NGX_OK;
    }

    info->quotas = ngx_array_create(cf->pool, qlcf->rules->nelts,
                                    sizeof(ngx_str_t));
    if (info->quotas == NULL) {
        return NGX_ERROR;
    }

    rules = qlcf->rules->elts;

    for (i = 0; i < qlcf->rules->nelts; i++) {
        s = ngx_array_push(info->quotas);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->data = ngx_pnalloc(cf->pool, rules[i].rate.value.len
                                        + sizeof(" burst= per=key") - 1
                                        + NGX_INT64_LEN);
        if (s->data == NULL) {
            return NGX_ERROR;
        }

        p = (rules[i].burst
             ? ngx_sprintf(s->data, "%V burst=%uL", &rules[i].rate.value,
                           rules[i].burst)
             : ngx_sprintf(s->data, "%V", &rules[i].rate.value));

        if (rules[i].per_key) {
            p = ngx_cpymem(p, " per=key", sizeof(" per=key") - 1);
        }

        s->len = p - s->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_quota_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_lgsp_quota_remaining_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_lgsp_quota_remaining_variable;

    return ngx_http_lgsp_catalog_describer_add(cf,
                                               ngx_http_lgsp_quota_describe);
}


static void *
ngx_http_lgsp_quota_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_quota_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_quota_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->redis = NULL;
     *     conf->zone = NULL;
     *     conf->script = { 0 };
     *     conf->flush = { 0 };
     *     conf->nspare = 0;
     */

    ngx_queue_init(&conf->batches);
    ngx_queue_init(&conf->spare);

    conf->flush.handler = ngx_http_lgsp_quota_flush;
    conf->flush.data = conf;
    conf->flush.log = &cf->cycle->new_log;

    return conf;
}


static void *
ngx_http_lgsp_quota_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_quota_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_quota_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->rules = NGX_CONF_UNSET_PTR;
    conf->fallback = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_lgsp_quota_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lgsp_quota_loc_conf_t *prev = parent;
    ngx_http_lgsp_quota_loc_conf_t *conf = child;

    ngx_http_lgsp_quota_rule_t       *rule;
    ngx_http_lgsp_quota_main_conf_t  *qmcf;

    ngx_conf_merge_ptr_value(conf->rules, prev->rules, NULL);
    ngx_conf_merge_uint_value(conf->fallback, prev->fallback,
                              NGX_HTTP_LGSP_QUOTA_LOCAL);

    if (conf->rules == NULL) {
        return NGX_CONF_OK;
    }

    qmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_quota_module);
    rule = conf->rules->elts;

    if (qmcf->zone == NULL && qmcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"lgsp_quota\" needs \"lgsp_quota_zone\" or"
                      " \"lgsp_redis\" at http level to count in, in %V:%ui",
                      &rule->file, rule->line);
        return NGX_CONF_ERROR;
    }

    if (qmcf->zone == NULL && conf->fallback == NGX_HTTP_LGSP_QUOTA_LOCAL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"lgsp_quota_fallback local\" (the default) needs"
                      " \"lgsp_quota_zone\" to count in while redis is down;"
                      " add one or choose allow or deny, in %V:%ui",
                      &rule->file, rule->line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_quota_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_lgsp_module_used(cf, &ngx_http_lgsp_quota_module)) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_quota_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_lgsp_quota_header_filter;

    return NGX_OK;
}
