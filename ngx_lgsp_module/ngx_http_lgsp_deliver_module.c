/*
 * LGSP on nginx: guaranteed delivery (store-and-forward).  A request to a
 * location with lgsp_deliver is queued in Redis: its order in a Stream,
 * one per service, read by the consumer group "lgsp", and the request
 * itself with its state in a hash per transaction id.  The caller gets
 * 202 and a status URL (lgsp_delivery_status).
 *
 * The workers drain the streams from timers.  A delivery is a subrequest
 * to the request's own URI, made by a request this module creates with no
 * client behind it: the location's proxy_pass (TLS, keepalive, timeouts,
 * upstream failover) does the work, and filters of this module keep the
 * provider's answer instead of writing it anywhere.  An entry is
 * acknowledged only once that answer is stored.  Each service is
 * delivered in order of arrival: only its oldest unacknowledged entry is
 * ever in flight, in the whole cluster; the worker that has it touches it
 * while the provider works, and an entry left by a dead worker is claimed
 * by another after the visibility timeout.  At least once; providers
 * discard duplicates by Idempotency-Key, which is the transaction id.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_redis.h"
#include "ngx_http_lgsp_quota.h"
#include "ngx_http_lgsp_metrics.h"
#include "ngx_http_lgsp_convert.h"
#include "lgsp_deliver.h"


#define NGX_HTTP_LGSP_DELIVER_OFF        0
#define NGX_HTTP_LGSP_DELIVER_FALLBACK   1
#define NGX_HTTP_LGSP_DELIVER_ALWAYS     2

/* a client request's way through this module */
#define NGX_HTTP_LGSP_DELIVER_READING    0   /* its body is being read */
#define NGX_HTTP_LGSP_DELIVER_READ       1   /* fallback: to the provider */
#define NGX_HTTP_LGSP_DELIVER_PROXIED    2   /* fallback: it went there */
#define NGX_HTTP_LGSP_DELIVER_WAITING    3   /* Redis answers */
#define NGX_HTTP_LGSP_DELIVER_PASS       4   /* nothing more to do here */

/* what the caller is answered once Redis has */
#define NGX_HTTP_LGSP_DELIVER_ACCEPTED   0
#define NGX_HTTP_LGSP_DELIVER_REFUSED    1
#define NGX_HTTP_LGSP_DELIVER_STATUS     2

/* the "next" script's answers */
#define NGX_HTTP_LGSP_DELIVER_EMPTY      0
#define NGX_HTTP_LGSP_DELIVER_WAIT       1
#define NGX_HTTP_LGSP_DELIVER_ENTRY      2

#define NGX_HTTP_LGSP_DELIVER_STREAM     "lgsp:deliver:"
#define NGX_HTTP_LGSP_DELIVER_HASH       "lgsp:delivery:"


typedef struct ngx_http_lgsp_deliver_main_conf_s
    ngx_http_lgsp_deliver_main_conf_t;
typedef struct ngx_http_lgsp_deliver_flight_s  ngx_http_lgsp_deliver_flight_t;


/* a service's queue and this worker's drainer of it */
typedef struct {
    ngx_str_t                          name;
    ngx_str_t                          labels[2];  /* tenant, service */
    ngx_str_t                          stream;
    ngx_http_conf_ctx_t               *conf_ctx;   /* a delivering location */
    ngx_http_lgsp_deliver_main_conf_t *dmcf;
    ngx_event_t                        poll;
    ngx_http_lgsp_deliver_flight_t    *flight;
    unsigned                           busy:1;     /* Redis or a delivery */
    unsigned                           kicked:1;   /* queued to meanwhile */
} ngx_http_lgsp_deliver_service_t;


struct ngx_http_lgsp_deliver_main_conf_s {
    ngx_http_lgsp_redis_t             *redis;
    ngx_http_lgsp_redis_script_t       enqueue;
    ngx_http_lgsp_redis_script_t       next;
    ngx_http_lgsp_redis_script_t       done;
    ngx_http_lgsp_redis_script_t       touch;
    ngx_http_lgsp_redis_script_t       status;
    ngx_http_lgsp_redis_script_t       persistence;

    ngx_array_t                        services;
    ngx_str_t                          status_prefix;

    ngx_msec_t                         poll;
    ngx_msec_t                         visibility;
    ngx_uint_t                         concurrency;

    /* this worker */
    ngx_str_t                          consumer;
    ngx_str_t                          visibility_text;
    ngx_uint_t                         flights;
    ngx_event_t                        check;       /* of persistence */
};


typedef struct {
    ngx_uint_t                         mode;
    ngx_uint_t                         attempts;
    ngx_msec_t                         expire;
    ngx_msec_t                         backoff;
    size_t                             max_body;
    ngx_uint_t                         service;     /* index + 1 */
    ngx_flag_t                         status;      /* lgsp_delivery_status */
    ngx_str_t                          file;        /* for checks at merge */
    ngx_uint_t                         line;
} ngx_http_lgsp_deliver_loc_conf_t;


typedef struct ngx_http_lgsp_deliver_call_s  ngx_http_lgsp_deliver_call_t;


/* a client request's state: in the LGSP context, redirects keep it */
typedef struct {
    ngx_http_request_t                *request;
    ngx_uint_t                         stage;
    ngx_uint_t                         answer;
    ngx_uint_t                         failure;     /* fallback's status */
    ngx_str_t                          method;
    ngx_str_t                          uri;
    ngx_str_t                          args;
    ngx_str_t                          content_type;
    ngx_str_t                          json;        /* a status answer */
    ngx_http_lgsp_deliver_call_t      *call;
    ngx_event_t                        resume;
} ngx_http_lgsp_deliver_ctx_t;


/* a script call for a client request, which may go away before Redis
 * answers: the call then outlives it and is freed by the answer */
struct ngx_http_lgsp_deliver_call_s {
    ngx_http_lgsp_deliver_ctx_t       *ctx;
    ngx_http_lgsp_deliver_service_t   *service;
};


/* a delivery in flight: lives in the pool of the request made for it */
struct ngx_http_lgsp_deliver_flight_s {
    ngx_http_lgsp_deliver_service_t   *service;
    ngx_http_request_t                *request;
    ngx_str_t                          id;          /* the stream entry */
    ngx_str_t                          txid;
    ngx_str_t                          method;
    ngx_str_t                          uri;
    ngx_str_t                          args;
    ngx_str_t                          content_type;
    ngx_str_t                          agency;
    ngx_str_t                          body;
    lgsp_deliver_policy_t              policy;
    uint64_t                           attempts;    /* made before this */
    uint64_t                           created;
    uint64_t                           now;         /* Redis's, at start */
    ngx_msec_t                         started;
    size_t                             max_body;

    /* the provider's answer */
    ngx_int_t                          rc;
    ngx_uint_t                         status;
    ngx_str_t                          answer_type;
    int64_t                            retry_after;
    u_char                            *answer;
    size_t                             answer_len;
    size_t                             answer_cap;

    ngx_event_t                        start;
    ngx_event_t                        touch;
    unsigned                           ended:1;     /* rc is known */
    unsigned                           headed:1;    /* status is known */
    unsigned                           answered:1;  /* by the provider */
    unsigned                           truncated:1;
};


static ngx_int_t ngx_http_lgsp_deliver_handler(ngx_http_request_t *r);
static ngx_http_lgsp_deliver_ctx_t *ngx_http_lgsp_deliver_ctx(
    ngx_http_request_t *r);
static void ngx_http_lgsp_deliver_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_deliver_queue(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx);
static ngx_int_t ngx_http_lgsp_deliver_call(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx, ngx_http_lgsp_redis_script_t *script,
    ngx_str_t *keys, ngx_uint_t nkeys, ngx_str_t *args, ngx_uint_t nargs,
    ngx_http_lgsp_redis_handler_pt handler,
    ngx_http_lgsp_deliver_service_t *service);
static void ngx_http_lgsp_deliver_queued(void *data, redisReply *reply);
static void ngx_http_lgsp_deliver_resume(ngx_event_t *ev);
static ngx_int_t ngx_http_lgsp_deliver_answer(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx);
static ngx_int_t ngx_http_lgsp_deliver_accepted(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_deliver_refuse(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx);
static ngx_int_t ngx_http_lgsp_deliver_problem(ngx_http_request_t *r,
    ngx_uint_t status, char *type, char *title, char *detail);
static void ngx_http_lgsp_deliver_ctx_cleanup(void *data);
static ngx_int_t ngx_http_lgsp_status_handler(ngx_http_request_t *r);
static void ngx_http_lgsp_status_reply(void *data, redisReply *reply);
static ngx_int_t ngx_http_lgsp_status_json(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx, redisReply *reply);
static ngx_int_t ngx_http_lgsp_deliver_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, ngx_str_t *body);
static ngx_http_lgsp_deliver_service_t *ngx_http_lgsp_deliver_service(
    ngx_http_request_t *r);
static void ngx_http_lgsp_deliver_schedule(
    ngx_http_lgsp_deliver_service_t *svc, ngx_msec_t delay);
static void ngx_http_lgsp_deliver_poll(ngx_event_t *ev);
static void ngx_http_lgsp_deliver_next(void *data, redisReply *reply);
static ngx_int_t ngx_http_lgsp_deliver_take(
    ngx_http_lgsp_deliver_service_t *svc, redisReply *reply);
static ngx_http_request_t *ngx_http_lgsp_deliver_request(
    ngx_http_lgsp_deliver_service_t *svc);
static ngx_int_t ngx_http_lgsp_deliver_headers(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_flight_t *fl);
static void ngx_http_lgsp_deliver_start(ngx_event_t *ev);
static ngx_int_t ngx_http_lgsp_deliver_ended(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_lgsp_deliver_finish(ngx_http_request_t *r);
static void ngx_http_lgsp_deliver_close(ngx_event_t *ev);
static void ngx_http_lgsp_deliver_outcome(void *data);
static void ngx_http_lgsp_deliver_touch(ngx_event_t *ev);
static void ngx_http_lgsp_deliver_ignore(void *data, redisReply *reply);
static void ngx_http_lgsp_deliver_check(ngx_event_t *ev);
static void ngx_http_lgsp_deliver_checked(void *data, redisReply *reply);
static ngx_int_t ngx_http_lgsp_deliver_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_deliver_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_http_lgsp_deliver_flight_t *ngx_http_lgsp_deliver_flight_of(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_deliver_keep(ngx_http_lgsp_deliver_flight_t *fl,
    u_char *data, size_t len);
static ngx_int_t ngx_http_lgsp_reply_str(redisReply *reply, ngx_uint_t i,
    ngx_pool_t *pool, ngx_str_t *s);
static int64_t ngx_http_lgsp_reply_int(redisReply *reply, ngx_uint_t i);
static ngx_str_t *ngx_http_lgsp_deliver_number(ngx_pool_t *pool,
    ngx_str_t *s, uint64_t n);
static char *ngx_http_lgsp_deliver(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lgsp_deliver_drain(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_lgsp_deliver_time(ngx_str_t *arg, char *name,
    ngx_msec_t *ms);
static char *ngx_http_lgsp_delivery_status(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_lgsp_deliver_add_service(ngx_conf_t *cf,
    ngx_http_lgsp_deliver_loc_conf_t *conf);
static ngx_int_t ngx_http_lgsp_deliver_error_pages(ngx_conf_t *cf,
    ngx_http_lgsp_deliver_loc_conf_t *conf);
static void *ngx_http_lgsp_deliver_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_lgsp_deliver_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_deliver_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_lgsp_deliver_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_lgsp_deliver_init_process(ngx_cycle_t *cycle);


/*
 * Queues a request: KEYS the service's stream and the transaction's
 * hash; ARGV txid, service, agency, method, uri, args, content type,
 * body, attempts, expire and backoff (ms), max_body.  The group is made
 * with the stream (an error that it exists is ignored).  The hash lives
 * twice expire while the entry waits, so that it is still there to be
 * marked expired.  Answers {1, now}, or {0, now} when that transaction is
 * queued already.
 */
static char  ngx_http_lgsp_deliver_enqueue_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return {0, now} end\n"
    "redis.pcall('XGROUP', 'CREATE', KEYS[1], 'lgsp', '0', 'MKSTREAM')\n"
    "local id = redis.call('XADD', KEYS[1], '*', 'txid', ARGV[1])\n"
    "redis.call('HSET', KEYS[2], 'transaction', ARGV[1],\n"
    "  'service', ARGV[2], 'agency', ARGV[3], 'method', ARGV[4],\n"
    "  'uri', ARGV[5], 'args', ARGV[6], 'content_type', ARGV[7],\n"
    "  'body', ARGV[8], 'max_attempts', ARGV[9], 'expire', ARGV[10],\n"
    "  'backoff', ARGV[11], 'max_body', ARGV[12], 'state', 'queued',\n"
    "  'attempts', 0, 'created', now, 'next_attempt', now,\n"
    "  'updated', now, 'stream', KEYS[1], 'id', id)\n"
    "redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[10]))\n"
    "redis.call('SADD', 'lgsp:deliver:services', ARGV[2])\n"
    "return {1, now}\n";


/*
 * The next entry of a service's stream s for consumer me, visibility vis
 * ms, common to the "next" and "done" scripts.  The oldest
 * unacknowledged entry comes first, always: when another consumer has it
 * and touched it within the visibility timeout, it is in flight there and
 * this one waits; otherwise it is claimed.  Entries whose hash is gone or
 * ended (dropped, retried as a new entry) are acknowledged and skipped;
 * entries past their expiry become expired dead letters without an
 * attempt.  Answers kind, the number expired here, the stream's length,
 * the age of its oldest entry in ms, then: wait: the ms to wait; entry:
 * id, txid, attempts, created, method, uri, args, content type, agency,
 * body, max_attempts, backoff, expire, max_body, now.
 */
#define NGX_HTTP_LGSP_DELIVER_NEXT_LUA                                        \
    "local t = redis.call('TIME')\n"                                          \
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"                     \
    "local expired = 0\n"                                                     \
    "local function answer(s, kind, ...)\n"                                   \
    "  local n, age = redis.call('XLEN', s), 0\n"                             \
    "  if n > 0 then\n"                                                       \
    "    local f = redis.call('XRANGE', s, '-', '+', 'COUNT', 1)\n"           \
    "    age = now - tonumber(string.match(f[1][1], '^(%d+)'))\n"             \
    "  end\n"                                                                 \
    "  return {kind, expired, n, age, ...}\n"                                 \
    "end\n"                                                                   \
    "local function next_entry(s, me, vis)\n"                                 \
    "  if redis.call('EXISTS', s) == 0 then return {0, 0, 0, 0} end\n"        \
    "  for i = 1, 100 do\n"                                                   \
    "    local id, e\n"                                                       \
    "    local p = redis.call('XPENDING', s, 'lgsp', '-', '+', 1)\n"          \
    "    if #p > 0 then\n"                                                    \
    "      id = p[1][1]\n"                                                    \
    "      if p[1][2] ~= me and p[1][3] < vis then\n"                         \
    "        return answer(s, 1, vis - p[1][3])\n"                            \
    "      end\n"                                                             \
    "      e = redis.call('XCLAIM', s, 'lgsp', me, 0, id)[1]\n"               \
    "    else\n"                                                              \
    "      local r = redis.call('XREADGROUP', 'GROUP', 'lgsp', me,\n"         \
    "                           'COUNT', 1, 'STREAMS', s, '>')\n"             \
    "      if not r then return answer(s, 0) end\n"                           \
    "      e = r[1][2][1]\n"                                                  \
    "      id = e[1]\n"                                                       \
    "    end\n"                                                               \
    "    local txid = e and e[2] and e[2][2]\n"                               \
    "    local h = txid and ('lgsp:delivery:' .. txid)\n"                     \
    "    local f = h and redis.call('HMGET', h, 'state', 'attempts',\n"       \
    "      'next_attempt', 'created', 'expire', 'method', 'uri', 'args',\n"   \
    "      'content_type', 'agency', 'body', 'max_attempts', 'backoff',\n"    \
    "      'max_body', 'id')\n"                                               \
    "    if not f or not f[1] or f[15] ~= id\n"                               \
    "       or (f[1] ~= 'queued' and f[1] ~= 'delivering') then\n"            \
    "      redis.call('XACK', s, 'lgsp', id)\n"                               \
    "      redis.call('XDEL', s, id)\n"                                       \
    "    elseif now >= tonumber(f[4]) + tonumber(f[5]) then\n"                \
    "      redis.call('HSET', h, 'state', 'expired', 'updated', now,\n"       \
    "        'last_error', 'expired before it could be delivered')\n"         \
    "      redis.call('HDEL', h, 'next_attempt')\n"                           \
    "      redis.call('PEXPIRE', h, f[5])\n"                                  \
    "      redis.call('XACK', s, 'lgsp', id)\n"                               \
    "      redis.call('XDEL', s, id)\n"                                       \
    "      expired = expired + 1\n"                                           \
    "    elseif tonumber(f[3]) > now then\n"                                  \
    "      return answer(s, 1, tonumber(f[3]) - now)\n"                       \
    "    else\n"                                                              \
    "      redis.call('HSET', h, 'state', 'delivering', 'updated', now)\n"    \
    "      return answer(s, 2, id, txid, f[2], f[4], f[6], f[7],\n"           \
    "                    f[8] or '', f[9] or '', f[10] or '', f[11] or '',\n" \
    "                    f[12], f[13], f[5], f[14], now)\n"                   \
    "    end\n"                                                               \
    "  end\n"                                                                 \
    "  return answer(s, 1, 0)\n"                                              \
    "end\n"


/* KEYS the stream; ARGV consumer, visibility */
static char  ngx_http_lgsp_deliver_next_lua[] =
    NGX_HTTP_LGSP_DELIVER_NEXT_LUA
    "return next_entry(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n";


/*
 * An attempt's outcome, and the service's next entry in the same round
 * trip: KEYS stream and hash; ARGV consumer, visibility, whether to take
 * the next entry (1) or only count the stream (0), then id, state,
 * attempts, next_attempt, last_error, the answer's status, content type
 * and body, expire.  queued: the entry stays pending for its next
 * attempt (and so is the next entry, waiting); any other state ends it:
 * acknowledged and deleted from the stream, the request's body dropped
 * once delivered, the rest kept for expire.
 */
static char  ngx_http_lgsp_deliver_done_lua[] =
    NGX_HTTP_LGSP_DELIVER_NEXT_LUA
    "local alive = redis.call('EXISTS', KEYS[2]) == 1\n"
    "  and redis.call('HGET', KEYS[2], 'id') == ARGV[4]\n"
    "local ended = ARGV[5] ~= 'queued'\n"
    "if alive then\n"
    "  redis.call('HSET', KEYS[2], 'state', ARGV[5], 'attempts', ARGV[6],\n"
    "             'last_error', ARGV[8], 'updated', now)\n"
    "  if ended then\n"
    "    redis.call('HDEL', KEYS[2], 'next_attempt')\n"
    "    if ARGV[9] ~= '' then\n"
    "      redis.call('HSET', KEYS[2], 'response_status', ARGV[9],\n"
    "                 'response_type', ARGV[10], 'response_body', ARGV[11])\n"
    "    end\n"
    "    if ARGV[5] == 'delivered' then\n"
    "      redis.call('HDEL', KEYS[2], 'body')\n"
    "    end\n"
    "    redis.call('PEXPIRE', KEYS[2], ARGV[12])\n"
    "  else\n"
    "    redis.call('HSET', KEYS[2], 'next_attempt', ARGV[7])\n"
    "    redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[12]))\n"
    "  end\n"
    "end\n"
    "if ended or not alive then\n"
    "  redis.call('XACK', KEYS[1], 'lgsp', ARGV[4])\n"
    "  redis.call('XDEL', KEYS[1], ARGV[4])\n"
    "end\n"
    "if ARGV[3] == '1' then\n"
    "  return next_entry(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
    "end\n"
    "return answer(KEYS[1], 0)\n";


/* keeps an entry in flight this consumer's: its idle time starts anew */
static char  ngx_http_lgsp_deliver_touch_lua[] =
    "local p = redis.call('XPENDING', KEYS[1], 'lgsp', ARGV[2], ARGV[2], 1)\n"
    "if #p == 1 and p[1][2] == ARGV[1] then\n"
    "  redis.call('XCLAIM', KEYS[1], 'lgsp', ARGV[1], 0, ARGV[2], 'JUSTID')\n"
    "  return 1\n"
    "end\n"
    "return 0\n";


/* what a status request may see of a delivery, in this order */
static char  ngx_http_lgsp_deliver_status_lua[] =
    "return redis.call('HMGET', KEYS[1], 'transaction', 'service',\n"
    "  'agency', 'state', 'attempts', 'created', 'next_attempt',\n"
    "  'last_error', 'response_status', 'response_type', 'response_body',\n"
    "  'method', 'uri', 'updated')\n";

#define NGX_HTTP_LGSP_STATUS_FIELDS  14


static char  ngx_http_lgsp_deliver_persistence_lua[] =
    "return redis.call('INFO', 'persistence')\n";


static ngx_conf_enum_t  ngx_http_lgsp_deliver_modes[] = {
    { ngx_string("off"), NGX_HTTP_LGSP_DELIVER_OFF },
    { ngx_string("fallback"), NGX_HTTP_LGSP_DELIVER_FALLBACK },
    { ngx_string("always"), NGX_HTTP_LGSP_DELIVER_ALWAYS },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_lgsp_deliver_commands[] = {

    { ngx_string("lgsp_deliver"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_deliver,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_deliver_drain"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_deliver_drain,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lgsp_delivery_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_lgsp_delivery_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_deliver_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_lgsp_deliver_init,            /* postconfiguration */

    ngx_http_lgsp_deliver_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_deliver_create_loc_conf, /* create location configuration */
    ngx_http_lgsp_deliver_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_deliver_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_deliver_module_ctx,     /* module context */
    ngx_http_lgsp_deliver_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_lgsp_deliver_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


extern ngx_module_t  ngx_http_proxy_module;


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_str_t  ngx_http_lgsp_deliver_json_type =
    ngx_string("application/json");


/* the address the requests made for deliveries come from */
static struct sockaddr_in  ngx_http_lgsp_deliver_addr;


static ngx_int_t
ngx_http_lgsp_deliver_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_http_upstream_state_t         *state;
    ngx_http_lgsp_deliver_ctx_t       *dctx;
    ngx_http_lgsp_deliver_loc_conf_t  *dlcf;

    /* a delivery's own subrequest goes on to the provider */
    if (r != r->main) {
        return NGX_DECLINED;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_deliver_module);

    if (dlcf->mode == NGX_HTTP_LGSP_DELIVER_OFF) {
        return NGX_DECLINED;
    }

    dctx = ngx_http_lgsp_deliver_ctx(r);
    if (dctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (dctx->stage) {

    case NGX_HTTP_LGSP_DELIVER_READ:
        dctx->stage = NGX_HTTP_LGSP_DELIVER_PROXIED;
        return NGX_DECLINED;

    case NGX_HTTP_LGSP_DELIVER_PROXIED:

        /* back by the error_page of fallback: the provider failed */
        dctx->failure = NGX_HTTP_BAD_GATEWAY;

        if (r->upstream_states && r->upstream_states->nelts) {
            state = r->upstream_states->elts;
            state = &state[r->upstream_states->nelts - 1];

            if (state->status >= NGX_HTTP_SPECIAL_RESPONSE) {
                dctx->failure = state->status;
            }
        }

        rc = ngx_http_lgsp_deliver_queue(r, dctx);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        ngx_http_finalize_request(r, rc);
        return NGX_DONE;

    case NGX_HTTP_LGSP_DELIVER_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_LGSP_DELIVER_PASS:
        return NGX_DECLINED;
    }

    /* the first time here */

    if (r->headers_in.content_length_n > (off_t) dlcf->max_body) {

        if (dlcf->mode == NGX_HTTP_LGSP_DELIVER_FALLBACK) {
            /* too large to queue: proxied as if there were no fallback */
            dctx->stage = NGX_HTTP_LGSP_DELIVER_PASS;
            return NGX_DECLINED;
        }

        ngx_http_finalize_request(r, ngx_http_lgsp_deliver_problem(r,
                                  NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                  "delivery-too-large", "Content Too Large",
                                  "the body is larger than this service"
                                  " queues; nothing was queued"));
        return NGX_DONE;
    }

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_lgsp_deliver_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;
}


/* the request's state, made on its first visit with what it asked for */
static ngx_http_lgsp_deliver_ctx_t *
ngx_http_lgsp_deliver_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_lgsp_ctx_t          *ctx;
    ngx_http_lgsp_deliver_ctx_t  *dctx;

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->deliver) {
        return ctx->deliver;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_lgsp_deliver_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    dctx = cln->data;
    ngx_memzero(dctx, sizeof(ngx_http_lgsp_deliver_ctx_t));

    cln->handler = ngx_http_lgsp_deliver_ctx_cleanup;

    dctx->request = r;
    dctx->stage = NGX_HTTP_LGSP_DELIVER_READING;
    dctx->method = r->method_name;
    dctx->uri = r->uri;
    dctx->args = r->args;

    if (r->headers_in.content_type) {
        dctx->content_type = r->headers_in.content_type->value;
    }

    dctx->resume.handler = ngx_http_lgsp_deliver_resume;
    dctx->resume.data = dctx;
    dctx->resume.log = r->connection->log;

    ctx->deliver = dctx;

    return dctx;
}


static void
ngx_http_lgsp_deliver_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_http_lgsp_ctx_t               *ctx;
    ngx_http_lgsp_deliver_ctx_t       *dctx;
    ngx_http_lgsp_deliver_loc_conf_t  *dlcf;

    ctx = ngx_http_lgsp_get_ctx(r);
    dctx = ctx->deliver;
    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_deliver_module);

    if (dlcf->mode == NGX_HTTP_LGSP_DELIVER_FALLBACK) {
        dctx->stage = NGX_HTTP_LGSP_DELIVER_READ;

        /* the upstream module would close a temporary file of the body */
        r->preserve_body = 1;

        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
        return;
    }

    rc = ngx_http_lgsp_deliver_queue(r, dctx);

    if (rc != NGX_AGAIN) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * Sends the request to the queue.  NGX_AGAIN: Redis will answer, and the
 * caller then; anything else is what to finalize the request with now.
 */
static ngx_int_t
ngx_http_lgsp_deliver_queue(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx)
{
    ngx_int_t                          rc;
    ngx_str_t                          keys[2], args[12], body;
    ngx_http_lgsp_ctx_t               *ctx;
    ngx_http_lgsp_deliver_service_t   *svc;
    ngx_http_lgsp_deliver_loc_conf_t  *dlcf;
    ngx_http_lgsp_deliver_main_conf_t *dmcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_deliver_module);
    dmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_deliver_module);
    ctx = ngx_http_lgsp_get_ctx(r);
    svc = ngx_http_lgsp_deliver_service(r);

    dctx->answer = NGX_HTTP_LGSP_DELIVER_REFUSED;

    if (r->request_body == NULL
        || ngx_http_lgsp_request_body(r, &body) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* fallback: queued as the caller sent it, converted when delivered */
    (void) ngx_http_lgsp_convert_original_body(r, &body);

    if (body.len > dlcf->max_body) {

        if (dlcf->mode == NGX_HTTP_LGSP_DELIVER_FALLBACK) {
            return dctx->failure;
        }

        return ngx_http_lgsp_deliver_problem(r,
                                         NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                         "delivery-too-large",
                                         "Content Too Large",
                                         "the body is larger than this"
                                         " service queues; nothing was"
                                         " queued");
    }

    keys[0] = svc->stream;
    keys[1].len = sizeof(NGX_HTTP_LGSP_DELIVER_HASH) - 1
                  + NGX_HTTP_LGSP_TXID_LEN;
    keys[1].data = ngx_pnalloc(r->pool, keys[1].len);
    if (keys[1].data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(keys[1].data, NGX_HTTP_LGSP_DELIVER_HASH "%*s",
                (size_t) NGX_HTTP_LGSP_TXID_LEN, ctx->txid);

    args[0].len = NGX_HTTP_LGSP_TXID_LEN;
    args[0].data = ctx->txid;
    args[1] = svc->name;
    args[2] = ctx->agency;
    args[3] = dctx->method;
    args[4] = dctx->uri;
    args[5] = dctx->args;
    args[6] = dctx->content_type;
    args[7] = body;

    if (ngx_http_lgsp_deliver_number(r->pool, &args[8], dlcf->attempts)
           == NULL
        || ngx_http_lgsp_deliver_number(r->pool, &args[9], dlcf->expire)
           == NULL
        || ngx_http_lgsp_deliver_number(r->pool, &args[10], dlcf->backoff)
           == NULL
        || ngx_http_lgsp_deliver_number(r->pool, &args[11], dlcf->max_body)
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_lgsp_deliver_call(r, dctx, &dmcf->enqueue, keys, 2, args,
                                    12, ngx_http_lgsp_deliver_queued, svc);

    if (rc == NGX_DECLINED) {
        return ngx_http_lgsp_deliver_refuse(r, dctx);
    }

    return rc;
}


/* NGX_AGAIN: sent; NGX_DECLINED: Redis is down; or an HTTP error */
static ngx_int_t
ngx_http_lgsp_deliver_call(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx, ngx_http_lgsp_redis_script_t *script,
    ngx_str_t *keys, ngx_uint_t nkeys, ngx_str_t *args, ngx_uint_t nargs,
    ngx_http_lgsp_redis_handler_pt handler,
    ngx_http_lgsp_deliver_service_t *service)
{
    ngx_int_t                           rc;
    ngx_http_lgsp_deliver_call_t       *call;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_deliver_module);

    if (dmcf->redis == NULL) {
        return NGX_DECLINED;
    }

    call = ngx_alloc(sizeof(ngx_http_lgsp_deliver_call_t),
                     r->connection->log);
    if (call == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    call->ctx = dctx;
    call->service = service;

    rc = ngx_http_lgsp_redis_eval(dmcf->redis, script, keys, nkeys, args,
                                  nargs, handler, call);

    if (rc != NGX_AGAIN) {
        ngx_free(call);
        return (rc == NGX_DECLINED) ? NGX_DECLINED
                                    : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dctx->call = call;
    dctx->stage = NGX_HTTP_LGSP_DELIVER_WAITING;

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


static void
ngx_http_lgsp_deliver_queued(void *data, redisReply *reply)
{
    ngx_http_lgsp_deliver_call_t *call = data;

    ngx_http_lgsp_deliver_ctx_t      *dctx;
    ngx_http_lgsp_deliver_service_t  *svc;

    dctx = call->ctx;
    svc = call->service;
    ngx_free(call);

    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        /* a worker of this node starts on it at once */
        if (svc->busy) {
            svc->kicked = 1;

        } else {
            ngx_http_lgsp_deliver_schedule(svc, 0);
        }
    }

    if (dctx == NULL) {
        /* the client went away; what was queued is delivered all the same */
        return;
    }

    dctx->call = NULL;

    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        dctx->answer = NGX_HTTP_LGSP_DELIVER_ACCEPTED;
    }

    /* hiredis is in the middle of its loop: answer from a clean stack */
    ngx_post_event(&dctx->resume, &ngx_posted_events);
}


static void
ngx_http_lgsp_deliver_resume(ngx_event_t *ev)
{
    ngx_http_lgsp_deliver_ctx_t *dctx = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = dctx->request;
    c = r->connection;

    dctx->stage = NGX_HTTP_LGSP_DELIVER_PASS;

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_finalize_request(r, ngx_http_lgsp_deliver_answer(r, dctx));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_lgsp_deliver_answer(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx)
{
    switch (dctx->answer) {

    case NGX_HTTP_LGSP_DELIVER_ACCEPTED:
        return ngx_http_lgsp_deliver_accepted(r);

    case NGX_HTTP_LGSP_DELIVER_STATUS:
        return ngx_http_lgsp_deliver_send(r, NGX_HTTP_OK,
                                          &ngx_http_lgsp_deliver_json_type,
                                          &dctx->json);

    default:
        return ngx_http_lgsp_deliver_refuse(r, dctx);
    }
}


/* 202, with the status URL in Location and in the body */
static ngx_int_t
ngx_http_lgsp_deliver_accepted(ngx_http_request_t *r)
{
    u_char                             *p;
    size_t                              len;
    ngx_str_t                           url, body;
    ngx_table_elt_t                    *h;
    ngx_http_lgsp_ctx_t                *ctx;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_deliver_module);
    ctx = ngx_http_lgsp_get_ctx(r);

    len = dmcf->status_prefix.len + 1 + NGX_HTTP_LGSP_TXID_LEN;

    url.data = ngx_pnalloc(r->pool, len);
    body.data = ngx_pnalloc(r->pool, len + NGX_HTTP_LGSP_TXID_LEN
                            + sizeof("{\"transaction\":\"\",\"state\":"
                                     "\"queued\",\"status_url\":\"\"}"));
    h = ngx_list_push(&r->headers_out.headers);

    if (url.data == NULL || body.data == NULL || h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_copy(url.data, dmcf->status_prefix.data, dmcf->status_prefix.len);

    if (p == url.data || p[-1] != '/') {
        *p++ = '/';
    }

    p = ngx_copy(p, ctx->txid, NGX_HTTP_LGSP_TXID_LEN);
    url.len = p - url.data;

    /* both are plain: a service code's path and a txid */
    body.len = ngx_sprintf(body.data, "{\"transaction\":\"%*s\","
                           "\"state\":\"queued\",\"status_url\":\"%V\"}",
                           (size_t) NGX_HTTP_LGSP_TXID_LEN, ctx->txid, &url)
               - body.data;

    /* relative, as given: not r->headers_out.location, made absolute */
    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = url;

    return ngx_http_lgsp_deliver_send(r, NGX_HTTP_ACCEPTED,
                                      &ngx_http_lgsp_deliver_json_type,
                                      &body);
}


/*
 * Redis could not take or tell: always and the status answer 503, never
 * a 202 that promises what is not kept; fallback gives the caller the
 * provider's failure, as without it.
 */
static ngx_int_t
ngx_http_lgsp_deliver_refuse(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx)
{
    if (dctx->failure) {
        return dctx->failure;
    }

    return ngx_http_lgsp_deliver_problem(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "delivery-unavailable",
                                         "Service Unavailable",
                                         "the delivery queue cannot be"
                                         " reached now; nothing was queued:"
                                         " retry shortly");
}


static ngx_int_t
ngx_http_lgsp_deliver_problem(ngx_http_request_t *r, ngx_uint_t status,
    char *type, char *title, char *detail)
{
    ngx_http_lgsp_problem_t  problem;

    problem.status = status;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_ERROR;
    problem.type.data = (u_char *) type;
    problem.type.len = ngx_strlen(type);
    problem.title.data = (u_char *) title;
    problem.title.len = ngx_strlen(title);
    problem.detail.data = (u_char *) detail;
    problem.detail.len = ngx_strlen(detail);
    ngx_str_null(&problem.members);

    return ngx_http_lgsp_send_problem(r, &problem);
}


/* a request that goes away leaves its Redis call, which frees itself */
static void
ngx_http_lgsp_deliver_ctx_cleanup(void *data)
{
    ngx_http_lgsp_deliver_ctx_t *dctx = data;

    if (dctx->call) {
        dctx->call->ctx = NULL;
    }

    if (dctx->resume.posted) {
        ngx_delete_posted_event(&dctx->resume);
    }
}


/* GET <location>/<txid>: the delivery's state, for the agency that sent it */
static ngx_int_t
ngx_http_lgsp_status_handler(ngx_http_request_t *r)
{
    u_char                             *p;
    ngx_int_t                           rc;
    ngx_str_t                           key;
    ngx_uint_t                          i;
    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_lgsp_deliver_ctx_t        *dctx;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    p = r->uri.data + ngx_min(clcf->name.len, r->uri.len);

    if (p < r->uri.data + r->uri.len && *p == '/') {
        p++;
    }

    if ((size_t) (r->uri.data + r->uri.len - p) != NGX_HTTP_LGSP_TXID_LEN) {
        goto not_found;
    }

    for (i = 0; i < NGX_HTTP_LGSP_TXID_LEN; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')
              || p[i] == '-'))
        {
            goto not_found;
        }
    }

    dctx = ngx_http_lgsp_deliver_ctx(r);
    if (dctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key.len = sizeof(NGX_HTTP_LGSP_DELIVER_HASH) - 1 + NGX_HTTP_LGSP_TXID_LEN;
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(key.data, NGX_HTTP_LGSP_DELIVER_HASH "%*s",
                (size_t) NGX_HTTP_LGSP_TXID_LEN, p);

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_deliver_module);

    rc = ngx_http_lgsp_deliver_call(r, dctx, &dmcf->status, &key, 1, NULL, 0,
                                    ngx_http_lgsp_status_reply, NULL);

    if (rc == NGX_DECLINED) {
        return ngx_http_lgsp_deliver_refuse(r, dctx);
    }

    if (rc != NGX_AGAIN) {
        return rc;
    }

    r->main->count++;
    return NGX_DONE;

not_found:

    return ngx_http_lgsp_deliver_problem(r, NGX_HTTP_NOT_FOUND,
                                         "delivery-not-found", "Not Found",
                                         "no delivery of your agency has"
                                         " this transaction id");
}


static void
ngx_http_lgsp_status_reply(void *data, redisReply *reply)
{
    ngx_http_lgsp_deliver_call_t *call = data;

    ngx_http_lgsp_deliver_ctx_t  *dctx;

    dctx = call->ctx;
    ngx_free(call);

    if (dctx == NULL) {
        return;
    }

    dctx->call = NULL;

    if (reply && reply->type == REDIS_REPLY_ARRAY
        && reply->elements == NGX_HTTP_LGSP_STATUS_FIELDS)
    {
        dctx->answer = ngx_http_lgsp_status_json(dctx->request, dctx, reply);
    }

    ngx_post_event(&dctx->resume, &ngx_posted_events);
}


/*
 * The state as JSON, for the same agency only: any other, like an
 * unknown id, gets 404 (STATUS with an empty json), so that ids of other
 * agencies cannot be told from ids that never were.
 */
static ngx_int_t
ngx_http_lgsp_status_json(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_ctx_t *dctx, redisReply *reply)
{
    char                 *text, date[32];
    size_t                i;
    json_t               *o, *resp, *v;
    int64_t               n;
    ngx_tm_t              tm;
    ngx_str_t             s;
    ngx_http_lgsp_ctx_t  *ctx;

    static const char  *names[] = {
        "transaction", "service", "agency", "state", "attempts", "created",
        "next_attempt", "last_error"
    };

    ctx = ngx_http_lgsp_get_ctx(r);

    ngx_str_null(&dctx->json);

    if (ngx_http_lgsp_reply_str(reply, 2, NULL, &s) != NGX_OK
        || s.len != ctx->agency.len
        || ngx_strncmp(s.data, ctx->agency.data, s.len) != 0
        || ngx_http_lgsp_reply_str(reply, 0, NULL, &s) != NGX_OK
        || s.len == 0)
    {
        return NGX_HTTP_LGSP_DELIVER_STATUS;
    }

    o = json_object();
    if (o == NULL) {
        return NGX_HTTP_LGSP_DELIVER_REFUSED;
    }

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {

        if (i == 4) {
            v = json_integer(ngx_http_lgsp_reply_int(reply, i));

        } else if (i == 5 || i == 6) {
            n = ngx_http_lgsp_reply_int(reply, i);

            if (n < 0) {
                v = json_null();

            } else {
                ngx_gmtime(n / 1000, &tm);
                snprintf(date, sizeof(date),
                         "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                         tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                         tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                         (int) (n % 1000));
                v = json_string(date);
            }

        } else if (ngx_http_lgsp_reply_str(reply, i, NULL, &s) == NGX_OK
                   && (i != 7 || s.len))
        {
            v = json_stringn((char *) s.data, s.len);

        } else {
            v = json_null();
        }

        if (v == NULL) {
            /* not UTF-8: a provider's error text, say */
            v = json_string("(not UTF-8)");
        }

        json_object_set_new(o, names[i], v);
    }

    n = ngx_http_lgsp_reply_int(reply, 8);

    if (n > 0) {
        resp = json_object();

        if (resp) {
            json_object_set_new(resp, "status", json_integer(n));

            if (ngx_http_lgsp_reply_str(reply, 9, NULL, &s) == NGX_OK
                && s.len)
            {
                json_object_set_new(resp, "content_type",
                                    json_stringn((char *) s.data, s.len));
            }

            if (ngx_http_lgsp_reply_str(reply, 10, NULL, &s) == NGX_OK) {
                v = json_stringn((char *) s.data, s.len);
                json_object_set_new(resp, "body", v ? v : json_null());
            }

            json_object_set_new(o, "response", resp);
        }
    }

    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    if (text == NULL) {
        return NGX_HTTP_LGSP_DELIVER_REFUSED;
    }

    dctx->json.len = ngx_strlen(text);
    dctx->json.data = ngx_pnalloc(r->pool, dctx->json.len);

    if (dctx->json.data) {
        ngx_memcpy(dctx->json.data, text, dctx->json.len);
    }

    free(text);

    return dctx->json.data ? NGX_HTTP_LGSP_DELIVER_STATUS
                           : NGX_HTTP_LGSP_DELIVER_REFUSED;
}


/* a small whole answer; an empty json status answer is a 404 */
static ngx_int_t
ngx_http_lgsp_deliver_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (body->len == 0) {
        return ngx_http_lgsp_deliver_problem(r, NGX_HTTP_NOT_FOUND,
                                             "delivery-not-found",
                                             "Not Found",
                                             "no delivery of your agency"
                                             " has this transaction id");
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_http_lgsp_deliver_service_t *
ngx_http_lgsp_deliver_service(ngx_http_request_t *r)
{
    ngx_http_lgsp_deliver_loc_conf_t   *dlcf;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_deliver_module);
    dmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_deliver_module);

    return (ngx_http_lgsp_deliver_service_t *) dmcf->services.elts
           + dlcf->service - 1;
}


/* the next look at a service's queue: at once (0, from a clean stack) or
 * after delay; none once the worker is leaving */
static void
ngx_http_lgsp_deliver_schedule(ngx_http_lgsp_deliver_service_t *svc,
    ngx_msec_t delay)
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (delay == 0) {
        if (svc->poll.timer_set) {
            ngx_del_timer(&svc->poll);
        }

        if (!svc->poll.posted) {
            ngx_post_event(&svc->poll, &ngx_posted_events);
        }

        return;
    }

    if (!svc->poll.posted) {
        ngx_add_timer(&svc->poll, delay);
    }
}


static void
ngx_http_lgsp_deliver_poll(ngx_event_t *ev)
{
    ngx_http_lgsp_deliver_service_t *svc = ev->data;

    ngx_int_t                           rc;
    ngx_str_t                           args[2];
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    dmcf = svc->dmcf;

    if (svc->busy || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (dmcf->flights >= dmcf->concurrency) {
        ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
        return;
    }

    args[0] = dmcf->consumer;
    args[1] = dmcf->visibility_text;

    svc->kicked = 0;

    rc = ngx_http_lgsp_redis_eval(dmcf->redis, &dmcf->next, &svc->stream, 1,
                                  args, 2, ngx_http_lgsp_deliver_next, svc);

    if (rc != NGX_AGAIN) {
        ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
        return;
    }

    svc->busy = 1;
}


static void
ngx_http_lgsp_deliver_next(void *data, redisReply *reply)
{
    ngx_http_lgsp_deliver_service_t *svc = data;

    int64_t                             kind, wait, expired;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    dmcf = svc->dmcf;
    svc->busy = 0;

    kind = ngx_http_lgsp_reply_int(reply, 0);

    if (kind < 0 || reply->elements < 4) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "lgsp: unexpected reply of the redis delivery"
                          " script for \"%V\"", &svc->name);
        }

        ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
        return;
    }

    ngx_http_lgsp_metrics_set(ngx_cycle, NGX_HTTP_LGSP_METRIC_DELIVERY_QUEUED,
                              svc->labels, ngx_http_lgsp_reply_int(reply, 2));
    ngx_http_lgsp_metrics_set(ngx_cycle, NGX_HTTP_LGSP_METRIC_DELIVERY_OLDEST,
                              svc->labels,
                              ngx_http_lgsp_reply_int(reply, 3) / 1000);

    expired = ngx_http_lgsp_reply_int(reply, 1);

    if (expired > 0) {
        ngx_http_lgsp_metrics_count(ngx_cycle,
                                    NGX_HTTP_LGSP_METRIC_DELIVERY_DEAD,
                                    svc->labels, expired);
    }

    switch (kind) {

    case NGX_HTTP_LGSP_DELIVER_ENTRY:

        /* until the attempt's outcome is stored */
        svc->busy = 1;

        if (ngx_http_lgsp_deliver_take(svc, reply) != NGX_OK) {
            /* claimed: taken up again at the next poll */
            svc->busy = 0;
            ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
        }

        return;

    case NGX_HTTP_LGSP_DELIVER_WAIT:
        wait = ngx_http_lgsp_reply_int(reply, 4);
        ngx_http_lgsp_deliver_schedule(svc, (wait <= 0) ? 0
                                            : ngx_min((ngx_msec_t) wait,
                                                      dmcf->poll));
        return;

    default:
        ngx_http_lgsp_deliver_schedule(svc, svc->kicked ? 0 : dmcf->poll);
        return;
    }
}


/*
 * An entry to deliver: a request is made for it, with no client, and
 * the subrequest that goes to the provider starts from a clean stack.
 */
static ngx_int_t
ngx_http_lgsp_deliver_take(ngx_http_lgsp_deliver_service_t *svc,
    redisReply *reply)
{
    ngx_http_request_t              *r;
    ngx_http_lgsp_ctx_t             *ctx;
    ngx_http_lgsp_deliver_flight_t  *fl;

    r = ngx_http_lgsp_deliver_request(svc);
    if (r == NULL) {
        return NGX_ERROR;
    }

    fl = ngx_http_get_module_ctx(r, ngx_http_lgsp_deliver_module);

    if (ngx_http_lgsp_reply_str(reply, 4, r->pool, &fl->id) != NGX_OK
        || ngx_http_lgsp_reply_str(reply, 5, r->pool, &fl->txid) != NGX_OK
        || fl->txid.len != NGX_HTTP_LGSP_TXID_LEN
        || ngx_http_lgsp_reply_str(reply, 8, r->pool, &fl->method) != NGX_OK
        || ngx_http_lgsp_reply_str(reply, 9, r->pool, &fl->uri) != NGX_OK
        || fl->uri.len == 0
        || ngx_http_lgsp_reply_str(reply, 10, r->pool, &fl->args) != NGX_OK
        || ngx_http_lgsp_reply_str(reply, 11, r->pool, &fl->content_type)
           != NGX_OK
        || ngx_http_lgsp_reply_str(reply, 12, r->pool, &fl->agency)
           != NGX_OK
        || ngx_http_lgsp_reply_str(reply, 13, r->pool, &fl->body) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "lgsp: unexpected entry in the delivery queue of"
                      " \"%V\"", &svc->name);
        fl->rc = NGX_ERROR;
        ngx_http_lgsp_deliver_finish(r);
        return NGX_OK;
    }

    fl->attempts = ngx_http_lgsp_reply_int(reply, 6);
    fl->created = ngx_http_lgsp_reply_int(reply, 7);
    fl->policy.attempts = ngx_http_lgsp_reply_int(reply, 14);
    fl->policy.backoff_ms = ngx_http_lgsp_reply_int(reply, 15);
    fl->policy.expire_ms = ngx_http_lgsp_reply_int(reply, 16);
    fl->max_body = ngx_http_lgsp_reply_int(reply, 17);
    fl->now = ngx_http_lgsp_reply_int(reply, 18);

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        fl->rc = NGX_ERROR;
        ngx_http_lgsp_deliver_finish(r);
        return NGX_OK;
    }

    /* the variables of the provider's location see the queued request */
    ngx_memcpy(ctx->txid, fl->txid.data, NGX_HTTP_LGSP_TXID_LEN);
    ctx->agency = fl->agency;
    ctx->service = svc->name;

    if (ngx_http_lgsp_deliver_headers(r, fl) != NGX_OK) {
        fl->rc = NGX_ERROR;
        ngx_http_lgsp_deliver_finish(r);
        return NGX_OK;
    }

    /* the attempt's transaction record: the queued request's method and
     * path, the provider's answer, reason "delivery" */
    r->method_name = fl->method;
    r->uri = fl->uri;
    r->unparsed_uri = fl->uri;
    r->args = fl->args;
    r->request_length = fl->body.len;
    ngx_str_set(&ctx->reason, "delivery");
    ctx->delivery_attempt = 1;
    r->logged = 0;

    svc->flight = fl;
    svc->dmcf->flights++;

    ngx_post_event(&fl->start, &ngx_posted_events);

    return NGX_OK;
}


/*
 * A request with no client: its connection has a socket that is never
 * connected nor watched (its events count as active and its write side
 * as ready), so nginx's code for a client's connection runs unchanged,
 * and closing it is nginx's own.
 */
static ngx_http_request_t *
ngx_http_lgsp_deliver_request(ngx_http_lgsp_deliver_service_t *svc)
{
    ngx_log_t                       *log;
    ngx_socket_t                     s;
    ngx_connection_t                *c;
    ngx_pool_cleanup_t              *cln;
    ngx_http_request_t              *r;
    ngx_http_log_ctx_t              *lctx;
    ngx_http_connection_t           *hc;
    ngx_http_core_srv_conf_t        *cscf;
    ngx_http_core_main_conf_t       *cmcf;
    ngx_http_lgsp_deliver_flight_t  *fl;

    s = ngx_socket(AF_INET, SOCK_STREAM, 0);
    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, ngx_socket_errno,
                      ngx_socket_n " failed for a delivery");
        return NULL;
    }

    c = ngx_get_connection(s, ngx_cycle->log);
    if (c == NULL) {
        ngx_close_socket(s);
        return NULL;
    }

#if (NGX_STAT_STUB)
    (void) ngx_atomic_fetch_add(ngx_stat_active, 1);
#endif

    c->pool = ngx_create_pool(1024, ngx_cycle->log);
    if (c->pool == NULL) {
        goto failed;
    }

    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);
    c->start_time = ngx_current_msec;

    log = ngx_palloc(c->pool, sizeof(ngx_log_t));
    lctx = ngx_pcalloc(c->pool, sizeof(ngx_http_log_ctx_t));
    hc = ngx_pcalloc(c->pool, sizeof(ngx_http_connection_t));

    if (log == NULL || lctx == NULL || hc == NULL) {
        goto failed;
    }

    *log = *ngx_cycle->log;
    log->connection = c->number;
    log->handler = NULL;
    log->data = lctx;
    log->action = "delivering a queued request";

    c->log = log;
    c->read->log = log;
    c->write->log = log;
    c->log_error = NGX_ERROR_INFO;

    c->read->active = 1;
    c->write->active = 1;
    c->write->ready = 1;

    c->sockaddr = (struct sockaddr *) &ngx_http_lgsp_deliver_addr;
    c->local_sockaddr = c->sockaddr;
    c->socklen = sizeof(struct sockaddr_in);
    c->local_socklen = c->socklen;
    ngx_str_set(&c->addr_text, "127.0.0.1");

    c->tcp_nodelay = NGX_TCP_NODELAY_DISABLED;
    c->tcp_nopush = NGX_TCP_NOPUSH_DISABLED;

    hc->conf_ctx = svc->conf_ctx;
    c->data = hc;

    cscf = svc->conf_ctx->srv_conf[ngx_http_core_module.ctx_index];
    cmcf = svc->conf_ctx->main_conf[ngx_http_core_module.ctx_index];

    r = NULL;

    {
        ngx_pool_t  *pool;

        pool = ngx_create_pool(cscf->request_pool_size, log);
        if (pool == NULL) {
            goto failed;
        }

        r = ngx_pcalloc(pool, sizeof(ngx_http_request_t));
        if (r == NULL) {
            ngx_destroy_pool(pool);
            goto failed;
        }

        r->pool = pool;
    }

    r->http_connection = hc;
    r->signature = NGX_HTTP_MODULE;
    r->connection = c;
    r->main_conf = svc->conf_ctx->main_conf;
    r->srv_conf = svc->conf_ctx->srv_conf;
    r->loc_conf = svc->conf_ctx->loc_conf;
    r->main = r;
    r->count = 1;
    r->start_sec = ngx_time();
    r->start_msec = ngx_current_msec % 1000;
    r->http_version = NGX_HTTP_VERSION_11;
    ngx_str_set(&r->http_protocol, "HTTP/1.1");
    r->method = NGX_HTTP_POST;
    ngx_str_set(&r->method_name, "POST");
    r->uri_changes = NGX_HTTP_MAX_URI_CHANGES + 1;
    r->subrequests = NGX_HTTP_MAX_SUBREQUESTS + 1;
    r->http_state = NGX_HTTP_PROCESS_REQUEST_STATE;
    r->headers_in.content_length_n = -1;
    r->headers_in.keep_alive_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    /* logged (a transaction record) only once it holds an entry */
    r->logged = 1;

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_lgsp_deliver_finish;

    lctx->connection = c;
    lctx->request = r;
    lctx->current_request = r;

    c->data = r;

    r->ctx = ngx_pcalloc(r->pool, sizeof(void *) * ngx_http_max_module);
    r->variables = ngx_pcalloc(r->pool, cmcf->variables.nelts
                                        * sizeof(ngx_http_variable_value_t));
    fl = ngx_pcalloc(r->pool, sizeof(ngx_http_lgsp_deliver_flight_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (r->ctx == NULL || r->variables == NULL || fl == NULL || cln == NULL
        || ngx_list_init(&r->headers_out.headers, r->pool, 20,
                         sizeof(ngx_table_elt_t)) != NGX_OK
        || ngx_list_init(&r->headers_out.trailers, r->pool, 4,
                         sizeof(ngx_table_elt_t)) != NGX_OK
        || ngx_list_init(&r->headers_in.headers, r->pool, 8,
                         sizeof(ngx_table_elt_t)) != NGX_OK)
    {
        ngx_destroy_pool(r->pool);
        goto failed;
    }

    fl->service = svc;
    fl->request = r;
    fl->rc = NGX_AGAIN;
    fl->retry_after = -1;
    fl->started = ngx_current_msec;

    fl->start.handler = ngx_http_lgsp_deliver_start;
    fl->start.data = fl;
    fl->start.log = log;

    fl->touch.handler = ngx_http_lgsp_deliver_touch;
    fl->touch.data = fl;
    fl->touch.log = log;
    fl->touch.cancelable = 1;

    /* the one place a delivery ends, however nginx frees its request */
    cln->handler = ngx_http_lgsp_deliver_outcome;
    cln->data = fl;

    ngx_http_set_ctx(r, fl, ngx_http_lgsp_deliver_module);

    return r;

failed:

    ngx_http_close_connection(c);
    return NULL;
}


/* the queued request's headers: the LGSP's own, and Idempotency-Key */
static ngx_int_t
ngx_http_lgsp_deliver_headers(ngx_http_request_t *r,
    ngx_http_lgsp_deliver_flight_t *fl)
{
    ngx_buf_t        *b;
    ngx_uint_t        i;
    ngx_chain_t      *cl;
    ngx_table_elt_t  *h;

    ngx_str_t  names[] = {
        ngx_string("X-LGSP-Transaction-ID"),
        ngx_string("Idempotency-Key"),
        ngx_string("X-LGSP-Service"),
        ngx_string("X-LGSP-Agency")
    };

    ngx_str_t  values[] = {
        fl->txid, fl->txid, fl->service->name, fl->agency
    };

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (values[i].len
            && ngx_http_lgsp_set_upstream_header(r, &names[i], &values[i])
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (fl->content_type.len) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&h->key, "Content-Type");
        h->value = fl->content_type;
        h->lowcase_key = (u_char *) "content-type";
        h->hash = ngx_hash_key(h->lowcase_key, h->key.len);

        r->headers_in.content_type = h;
    }

    r->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (r->request_body == NULL) {
        return NGX_ERROR;
    }

    if (fl->body.len == 0) {
        /* a bodiless GET or DELETE says nothing of a length */
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    b->pos = fl->body.data;
    b->last = fl->body.data + fl->body.len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;

    cl->buf = b;
    cl->next = NULL;

    r->request_body->bufs = cl;
    r->headers_in.content_length_n = fl->body.len;

    return NGX_OK;
}


static void
ngx_http_lgsp_deliver_start(ngx_event_t *ev)
{
    ngx_http_lgsp_deliver_flight_t *fl = ev->data;

    ngx_uint_t                          i;
    ngx_connection_t                   *c;
    ngx_http_request_t                 *r, *sr;
    ngx_http_post_subrequest_t         *ps;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    static struct {
        ngx_str_t   name;
        ngx_uint_t  method;
    } methods[] = {
        { ngx_string("GET"), NGX_HTTP_GET },
        { ngx_string("HEAD"), NGX_HTTP_HEAD },
        { ngx_string("POST"), NGX_HTTP_POST },
        { ngx_string("PUT"), NGX_HTTP_PUT },
        { ngx_string("DELETE"), NGX_HTTP_DELETE },
        { ngx_string("PATCH"), NGX_HTTP_PATCH },
        { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS }
    };

    r = fl->request;
    c = r->connection;
    dmcf = fl->service->dmcf;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        goto failed;
    }

    ps->handler = ngx_http_lgsp_deliver_ended;
    ps->data = fl;

    if (ngx_http_subrequest(r, &fl->uri, fl->args.len ? &fl->args : NULL,
                            &sr, ps, 0)
        != NGX_OK)
    {
        goto failed;
    }

    sr->method = NGX_HTTP_UNKNOWN;
    sr->method_name = fl->method;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (methods[i].name.len == fl->method.len
            && ngx_strncmp(methods[i].name.data, fl->method.data,
                           fl->method.len) == 0)
        {
            sr->method = methods[i].method;
            break;
        }
    }

    sr->header_only = (sr->method == NGX_HTTP_HEAD);

    /* one attempt, one try: fallback's error pages are for callers */
    sr->error_page = 1;

    ngx_add_timer(&fl->touch, ngx_max(dmcf->visibility / 3, 1));

    ngx_http_run_posted_requests(c);
    return;

failed:

    fl->rc = NGX_ERROR;
    ngx_http_lgsp_deliver_finish(r);
}


/* the subrequest's first end says how it went; its error page does not */
static ngx_int_t
ngx_http_lgsp_deliver_ended(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_lgsp_deliver_flight_t *fl = data;

    if (fl->ended || rc == NGX_AGAIN) {
        return rc;
    }

    fl->ended = 1;
    fl->rc = rc;
    fl->answered = (rc == NGX_OK && fl->headed);

    /* an answer intercepted for an error_page (fallback's) is one too */
    if (!fl->headed && r->upstream && r->upstream->headers_in.status_n) {
        fl->status = r->upstream->headers_in.status_n;
        fl->answered = 1;
    }

    /* for the attempt's record: the provider's answer, or nginx's */
    r->main->upstream_states = r->upstream_states;
    r->main->headers_out.status = fl->answered
                                  ? fl->status
                                  : (rc >= NGX_HTTP_SPECIAL_RESPONSE)
                                    ? (ngx_uint_t) rc
                                    : NGX_HTTP_INTERNAL_SERVER_ERROR;

    return rc;
}


/* the made request's turn after its subrequest: it ends, as does its
 * connection, once the event loop has left it */
static void
ngx_http_lgsp_deliver_finish(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_free_request(r, 0);

    c->write->handler = ngx_http_lgsp_deliver_close;
    ngx_post_event(c->write, &ngx_posted_events);
}


static void
ngx_http_lgsp_deliver_close(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    ngx_http_close_connection(c);
}


/*
 * The attempt's outcome, stored by the "done" script, when nginx frees
 * the request made for the delivery (normally after its subrequest, or
 * when nginx terminated it).
 */
static void
ngx_http_lgsp_deliver_outcome(void *data)
{
    ngx_http_lgsp_deliver_flight_t *fl = data;

    u_char                             *p;
    uint64_t                            next, now;
    ngx_int_t                           rc;
    ngx_str_t                           keys[2], args[12], error;
    ngx_str_t                           labels[3];
    ngx_uint_t                          status;
    ngx_pool_t                         *pool;
    lgsp_deliver_state_e                state;
    ngx_http_lgsp_deliver_service_t    *svc;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    svc = fl->service;
    dmcf = svc->dmcf;

    /* the request's pool is being destroyed; its memory is still there */
    pool = fl->request->connection->pool;

    if (fl->touch.timer_set) {
        ngx_del_timer(&fl->touch);
    }

    if (fl->start.posted) {
        ngx_delete_posted_event(&fl->start);
    }

    if (svc->flight == fl) {
        svc->flight = NULL;
        dmcf->flights--;
    }

    if (fl->id.len == 0) {
        /* the entry could not be read: it is claimed again later */
        svc->busy = 0;
        ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
        return;
    }

    status = 0;

    if (fl->answered) {
        status = fl->status;
        error.data = ngx_pnalloc(pool, sizeof("HTTP 999"));
        if (error.data) {
            error.len = ngx_sprintf(error.data, "HTTP %03ui", status)
                        - error.data;
        }

    } else if (fl->rc == NGX_HTTP_GATEWAY_TIME_OUT) {
        ngx_str_set(&error, "the provider timed out");

    } else if (fl->rc == NGX_HTTP_BAD_GATEWAY) {
        ngx_str_set(&error, "the provider could not be reached");

    } else {
        ngx_str_set(&error, "the delivery failed in nginx");
    }

    if (error.data == NULL) {
        ngx_str_null(&error);
    }

    now = fl->now + (ngx_current_msec - fl->started);

    state = lgsp_deliver_after(&fl->policy, fl->attempts + 1, fl->created,
                               now, status, fl->retry_after,
                               (uint32_t) ngx_random(), &next);

    labels[0] = svc->labels[0];
    labels[1] = svc->labels[1];
    labels[2].data = (u_char *) ((state == LGSP_DELIVER_QUEUED)
                                 ? "retry" : lgsp_deliver_state_name(state));
    labels[2].len = ngx_strlen(labels[2].data);

    ngx_http_lgsp_metrics_count(ngx_cycle,
                                NGX_HTTP_LGSP_METRIC_DELIVERY_ATTEMPTS,
                                labels, 1);

    if (state == LGSP_DELIVER_FAILED || state == LGSP_DELIVER_EXPIRED) {
        ngx_http_lgsp_metrics_count(ngx_cycle,
                                    NGX_HTTP_LGSP_METRIC_DELIVERY_DEAD,
                                    svc->labels, 1);

        ngx_log_error(NGX_LOG_WARN, fl->request->connection->log, 0,
                      "lgsp: delivery %V of \"%V\" %s after %uL attempts:"
                      " %V", &fl->txid, &svc->name,
                      lgsp_deliver_state_name(state), fl->attempts + 1,
                      &error);
    }

    keys[0] = svc->stream;
    keys[1].len = sizeof(NGX_HTTP_LGSP_DELIVER_HASH) - 1 + fl->txid.len;
    keys[1].data = ngx_pnalloc(pool, keys[1].len);
    p = ngx_pnalloc(pool, 3 * NGX_INT64_LEN);

    if (keys[1].data == NULL || p == NULL) {
        svc->busy = 0;
        ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
        return;
    }

    ngx_sprintf(keys[1].data, NGX_HTTP_LGSP_DELIVER_HASH "%V", &fl->txid);

    args[0] = dmcf->consumer;
    args[2].data = (u_char *) ((ngx_exiting || ngx_terminate || ngx_quit
                                || dmcf->flights >= dmcf->concurrency)
                               ? "0" : "1");
    args[2].len = 1;
    args[3] = fl->id;
    args[4].data = (u_char *) lgsp_deliver_state_name(state);
    args[4].len = ngx_strlen(args[4].data);

    args[5].data = p;
    p = ngx_sprintf(p, "%uL", fl->attempts + 1);
    args[5].len = p - args[5].data;

    args[6].data = p;
    p = ngx_sprintf(p, "%uL", (state == LGSP_DELIVER_QUEUED) ? next : 0);
    args[6].len = p - args[6].data;

    args[7] = error;
    ngx_str_null(&args[8]);

    if (status) {
        args[8].data = p;
        p = ngx_sprintf(p, "%ui", status);
        args[8].len = p - args[8].data;
    }

    args[9] = fl->answer_type;
    args[10].data = fl->answer;
    args[10].len = fl->answer_len;

    args[1] = dmcf->visibility_text;

    if (ngx_http_lgsp_deliver_number(pool, &args[11], fl->policy.expire_ms)
        == NULL)
    {
        svc->busy = 0;
        ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
        return;
    }

    /* the answer is the next entry's, as the "next" script's */
    rc = ngx_http_lgsp_redis_eval(dmcf->redis, &dmcf->done, keys, 2, args,
                                  12, ngx_http_lgsp_deliver_next, svc);

    if (rc != NGX_AGAIN) {
        /* still pending here: delivered again, with the same key */
        svc->busy = 0;
        ngx_http_lgsp_deliver_schedule(svc, dmcf->poll);
    }
}


/* while the provider works, the entry stays this consumer's */
static void
ngx_http_lgsp_deliver_touch(ngx_event_t *ev)
{
    ngx_http_lgsp_deliver_flight_t *fl = ev->data;

    ngx_str_t                           args[2];
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    dmcf = fl->service->dmcf;

    args[0] = dmcf->consumer;
    args[1] = fl->id;

    (void) ngx_http_lgsp_redis_eval(dmcf->redis, &dmcf->touch,
                                    &fl->service->stream, 1, args, 2,
                                    ngx_http_lgsp_deliver_ignore, NULL);

    ngx_add_timer(&fl->touch, ngx_max(dmcf->visibility / 3, 1));
}


static void
ngx_http_lgsp_deliver_ignore(void *data, redisReply *reply)
{
    /* a touch that failed is made again; a claim by another is rare */
}


/* a warning, once per start, when Redis would lose the queue on restart */
static void
ngx_http_lgsp_deliver_check(ngx_event_t *ev)
{
    ngx_http_lgsp_deliver_main_conf_t *dmcf = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (ngx_http_lgsp_redis_eval(dmcf->redis, &dmcf->persistence, NULL, 0,
                                 NULL, 0, ngx_http_lgsp_deliver_checked,
                                 dmcf)
        != NGX_AGAIN)
    {
        ngx_add_timer(ev, 10 * dmcf->poll);
    }
}


static void
ngx_http_lgsp_deliver_checked(void *data, redisReply *reply)
{
    ngx_http_lgsp_deliver_main_conf_t *dmcf = data;

    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        if (!(ngx_exiting || ngx_terminate || ngx_quit)) {
            ngx_add_timer(&dmcf->check, 10 * dmcf->poll);
        }

        return;
    }

    if (ngx_strstr(reply->str, "aof_enabled:0") != NULL) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "lgsp: the redis of lgsp_deliver runs without AOF"
                      " (appendonly no): queued requests written after its"
                      " last snapshot are lost if it stops; run it with"
                      " appendonly yes and appendfsync everysec");
    }
}


/* a delivery's subrequest: its answer is kept, not sent anywhere */
static ngx_int_t
ngx_http_lgsp_deliver_header_filter(ngx_http_request_t *r)
{
    time_t                           date;
    ngx_uint_t                       i;
    ngx_list_part_t                 *part;
    ngx_table_elt_t                 *h;
    ngx_http_lgsp_deliver_flight_t  *fl;

    fl = ngx_http_lgsp_deliver_flight_of(r);

    if (fl == NULL) {
        return ngx_http_next_header_filter(r);
    }

    if (fl->headed || fl->ended) {
        return NGX_OK;
    }

    fl->headed = 1;
    fl->status = r->headers_out.status;

    if (r->headers_out.content_type.len) {
        fl->answer_type.data = ngx_pstrdup(fl->request->pool,
                                           &r->headers_out.content_type);
        if (fl->answer_type.data) {
            fl->answer_type.len = r->headers_out.content_type.len;
        }
    }

    for (part = &r->headers_out.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash == 0 || h[i].key.len != sizeof("Retry-After") - 1
                || ngx_strncasecmp(h[i].key.data, (u_char *) "Retry-After",
                                   sizeof("Retry-After") - 1) != 0)
            {
                continue;
            }

            fl->retry_after = lgsp_deliver_retry_after(
                                  (char *) h[i].value.data, h[i].value.len);

            if (fl->retry_after < 0) {
                date = ngx_parse_http_time(h[i].value.data, h[i].value.len);

                if (date != NGX_ERROR) {
                    fl->retry_after = (date > ngx_time())
                                      ? (int64_t) (date - ngx_time()) * 1000
                                      : 0;
                }
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_deliver_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    u_char                          *p;
    off_t                            size;
    ssize_t                          n;
    ngx_buf_t                       *b;
    ngx_chain_t                     *cl;
    ngx_http_lgsp_deliver_flight_t  *fl;

    fl = ngx_http_lgsp_deliver_flight_of(r);

    if (fl == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_size(b);

        if (size && !fl->ended && !fl->truncated) {

            if (ngx_buf_in_memory(b)) {
                if (ngx_http_lgsp_deliver_keep(fl, b->pos, size) != NGX_OK) {
                    return NGX_ERROR;
                }

            } else {
                size = ngx_min(size, (off_t) (fl->max_body + 1));
                p = ngx_pnalloc(fl->request->pool, size);
                if (p == NULL) {
                    return NGX_ERROR;
                }

                n = ngx_read_file(b->file, p, size, b->file_pos);
                if (n == NGX_ERROR) {
                    return NGX_ERROR;
                }

                if (ngx_http_lgsp_deliver_keep(fl, p, n) != NGX_OK) {
                    return NGX_ERROR;
                }
            }
        }

        if (ngx_buf_in_memory(b)) {
            b->pos = b->last;
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}


/* the flight of a delivery's subrequest; NULL for any other request */
static ngx_http_lgsp_deliver_flight_t *
ngx_http_lgsp_deliver_flight_of(ngx_http_request_t *r)
{
    if (r == r->main) {
        return NULL;
    }

    return ngx_http_get_module_ctx(r->main, ngx_http_lgsp_deliver_module);
}


/* the answer's body, up to max_body; what is beyond is dropped */
static ngx_int_t
ngx_http_lgsp_deliver_keep(ngx_http_lgsp_deliver_flight_t *fl, u_char *data,
    size_t len)
{
    u_char  *p;
    size_t   cap;

    if (fl->answer_len + len > fl->max_body) {
        len = fl->max_body - fl->answer_len;
        fl->truncated = 1;
    }

    if (fl->answer_len + len > fl->answer_cap) {
        cap = ngx_max(fl->answer_cap * 2, ngx_max(len, 4096));
        cap = ngx_min(cap, ngx_max(fl->max_body, fl->answer_len + len));

        p = ngx_pnalloc(fl->request->pool, cap);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (fl->answer_len) {
            ngx_memcpy(p, fl->answer, fl->answer_len);
        }

        fl->answer = p;
        fl->answer_cap = cap;
    }

    if (len) {
        ngx_memcpy(fl->answer + fl->answer_len, data, len);
        fl->answer_len += len;
    }

    return NGX_OK;
}


/* element i of a script's array reply as a string (copied when pool) */
static ngx_int_t
ngx_http_lgsp_reply_str(redisReply *reply, ngx_uint_t i, ngx_pool_t *pool,
    ngx_str_t *s)
{
    redisReply  *e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || i >= reply->elements)
    {
        return NGX_ERROR;
    }

    e = reply->element[i];

    if (e->type == REDIS_REPLY_NIL) {
        ngx_str_null(s);
        return NGX_OK;
    }

    if (e->type != REDIS_REPLY_STRING) {
        return NGX_ERROR;
    }

    s->len = e->len;

    if (pool == NULL || e->len == 0) {
        s->data = (u_char *) e->str;
        return NGX_OK;
    }

    s->data = ngx_pnalloc(pool, e->len);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, e->str, e->len);

    return NGX_OK;
}


/* element i as a non-negative number (integer or digits), or -1 */
static int64_t
ngx_http_lgsp_reply_int(redisReply *reply, ngx_uint_t i)
{
    ngx_int_t    n;
    redisReply  *e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || i >= reply->elements)
    {
        return -1;
    }

    e = reply->element[i];

    if (e->type == REDIS_REPLY_INTEGER) {
        return (e->integer >= 0) ? e->integer : -1;
    }

    if (e->type != REDIS_REPLY_STRING) {
        return -1;
    }

    n = ngx_atoi((u_char *) e->str, e->len);

    return (n == NGX_ERROR) ? -1 : n;
}


static ngx_str_t *
ngx_http_lgsp_deliver_number(ngx_pool_t *pool, ngx_str_t *s, uint64_t n)
{
    s->data = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (s->data == NULL) {
        return NULL;
    }

    s->len = ngx_sprintf(s->data, "%uL", n) - s->data;

    return s;
}


static char *
ngx_http_lgsp_deliver(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_deliver_loc_conf_t *dlcf = conf;

    ssize_t      size;
    ngx_int_t    n, rc;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (dlcf->mode != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; ngx_http_lgsp_deliver_modes[i].name.len; i++) {
        if (ngx_http_lgsp_deliver_modes[i].name.len == value[1].len
            && ngx_strcmp(ngx_http_lgsp_deliver_modes[i].name.data,
                          value[1].data) == 0)
        {
            dlcf->mode = ngx_http_lgsp_deliver_modes[i].value;
            break;
        }
    }

    if (dlcf->mode == NGX_CONF_UNSET_UINT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid mode \"%V\": use off, fallback or always",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    dlcf->file = cf->conf_file->file.name;
    dlcf->line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "attempts=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);
            if (n == NGX_ERROR || n < 1 || n > 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": attempts are 1 to 1000",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            dlcf->attempts = n;
            continue;
        }

        rc = ngx_http_lgsp_deliver_time(&value[i], "expire=", &dlcf->expire);

        if (rc == NGX_DECLINED) {
            rc = ngx_http_lgsp_deliver_time(&value[i], "backoff=",
                                            &dlcf->backoff);
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (rc == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid time in \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (ngx_strncmp(value[i].data, "max_body=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            /* an entry comes back whole in one reply, which the Redis
             * adapter takes up to 4 MB */
            size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size > 3 * 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size in \"%V\": at most 3m",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            dlcf->max_body = size;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_lgsp_deliver_drain(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_deliver_main_conf_t *dmcf = conf;

    ngx_int_t    n, rc;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (dmcf->poll != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dmcf->poll = 1000;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "concurrency=", 12) == 0) {
            n = ngx_atoi(value[i].data + 12, value[i].len - 12);
            if (n == NGX_ERROR || n < 1 || n > 1024) {
                goto invalid;
            }

            dmcf->concurrency = n;
            continue;
        }

        rc = ngx_http_lgsp_deliver_time(&value[i], "poll=", &dmcf->poll);

        if (rc == NGX_DECLINED) {
            rc = ngx_http_lgsp_deliver_time(&value[i], "visibility=",
                                            &dmcf->visibility);
        }

        if (rc != NGX_OK) {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/* the time of a parameter "name=time": NGX_DECLINED when it is another */
static ngx_int_t
ngx_http_lgsp_deliver_time(ngx_str_t *arg, char *name, ngx_msec_t *ms)
{
    size_t     len;
    ngx_str_t  s;

    len = ngx_strlen(name);

    if (arg->len < len || ngx_strncmp(arg->data, name, len) != 0) {
        return NGX_DECLINED;
    }

    s.data = arg->data + len;
    s.len = arg->len - len;

    *ms = ngx_parse_time(&s, 0);

    return (*ms == (ngx_msec_t) NGX_ERROR || *ms == 0) ? NGX_ERROR : NGX_OK;
}


static char *
ngx_http_lgsp_delivery_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_deliver_loc_conf_t *dlcf = conf;

    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    if (dlcf->status != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    dlcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_lgsp_status_handler;

    if (clcf->regex || clcf->named) {
        return "needs a prefix location: the status URLs are"
               " its name and the transaction id";
    }

    dmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_deliver_module);

    if (dmcf->status_prefix.data == NULL) {
        dmcf->status_prefix = clcf->name;
    }

    return NGX_CONF_OK;
}


/* the queue of the location's service, made once per service */
static ngx_int_t
ngx_http_lgsp_deliver_add_service(ngx_conf_t *cf,
    ngx_http_lgsp_deliver_loc_conf_t *conf)
{
    ngx_uint_t                          i;
    ngx_http_conf_ctx_t                *ctx;
    ngx_http_lgsp_loc_conf_t           *llcf;
    ngx_http_lgsp_deliver_service_t    *svc;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    llcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_lgsp_module);
    dmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_deliver_module);

    if (llcf->service.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"lgsp_deliver\" needs \"lgsp_service\": each service"
                      " has its queue, in %V:%ui", &conf->file, conf->line);
        return NGX_ERROR;
    }

    svc = dmcf->services.elts;

    for (i = 0; i < dmcf->services.nelts; i++) {
        if (svc[i].name.len == llcf->service.len
            && ngx_strncmp(svc[i].name.data, llcf->service.data,
                           llcf->service.len) == 0)
        {
            conf->service = i + 1;
            return NGX_OK;
        }
    }

    svc = ngx_array_push(&dmcf->services);
    ctx = ngx_palloc(cf->pool, sizeof(ngx_http_conf_ctx_t));

    if (svc == NULL || ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(svc, sizeof(ngx_http_lgsp_deliver_service_t));

    *ctx = *(ngx_http_conf_ctx_t *) cf->ctx;

    svc->name = llcf->service;
    svc->labels[0] = llcf->tenant;
    svc->labels[1] = llcf->service;
    svc->conf_ctx = ctx;
    svc->dmcf = dmcf;

    svc->stream.len = sizeof(NGX_HTTP_LGSP_DELIVER_STREAM) - 1 + svc->name.len;
    svc->stream.data = ngx_pnalloc(cf->pool, svc->stream.len);
    if (svc->stream.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(svc->stream.data, NGX_HTTP_LGSP_DELIVER_STREAM "%V",
                &svc->name);

    conf->service = dmcf->services.nelts;

    return NGX_OK;
}


/*
 * fallback: the provider's 502, 503 and 504, and nginx's own when it
 * cannot reach it or it times out, come back to this location, whose
 * handler then queues the request.  The location's own error_page lines
 * follow ours; the provider's answers of those codes are intercepted as
 * proxy_intercept_errors would.
 */
static ngx_int_t
ngx_http_lgsp_deliver_error_pages(ngx_conf_t *cf,
    ngx_http_lgsp_deliver_loc_conf_t *conf)
{
    ngx_uint_t                  i;
    ngx_array_t                *pages;
    ngx_http_err_page_t        *err;
    ngx_http_upstream_conf_t   *ucf;
    ngx_http_core_loc_conf_t   *clcf;

    static ngx_uint_t  codes[] = {
        NGX_HTTP_BAD_GATEWAY,
        NGX_HTTP_SERVICE_UNAVAILABLE,
        NGX_HTTP_GATEWAY_TIME_OUT
    };

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->regex || clcf->name.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"lgsp_deliver fallback\" needs a prefix, exact or"
                      " named location: the request comes back to it by"
                      " name, in %V:%ui", &conf->file, conf->line);
        return NGX_ERROR;
    }

    pages = ngx_array_create(cf->pool, 4, sizeof(ngx_http_err_page_t));
    if (pages == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        err = ngx_array_push(pages);
        if (err == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(err, sizeof(ngx_http_err_page_t));
        err->status = codes[i];
        err->overwrite = 0;
        err->value.value = clcf->name;
    }

    if (clcf->error_pages) {
        err = ngx_array_push_n(pages, clcf->error_pages->nelts);
        if (err == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(err, clcf->error_pages->elts,
                   clcf->error_pages->nelts * sizeof(ngx_http_err_page_t));
    }

    clcf->error_pages = pages;

    /* the proxy module's configuration begins with its upstream's */
    ucf = ((ngx_http_conf_ctx_t *) cf->ctx)
              ->loc_conf[ngx_http_proxy_module.ctx_index];
    ucf->intercept_errors = 1;

    return NGX_OK;
}


static void *
ngx_http_lgsp_deliver_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_deliver_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_deliver_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&conf->services, cf->pool, 4,
                       sizeof(ngx_http_lgsp_deliver_service_t))
        != NGX_OK)
    {
        return NULL;
    }

    conf->poll = NGX_CONF_UNSET_MSEC;
    conf->visibility = 60000;
    conf->concurrency = 16;

    return conf;
}


static void *
ngx_http_lgsp_deliver_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_deliver_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_deliver_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->attempts = 20;
    conf->expire = 24 * 60 * 60 * 1000;
    conf->backoff = 5000;
    conf->max_body = 1024 * 1024;
    conf->status = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_lgsp_deliver_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_lgsp_deliver_loc_conf_t *prev = parent;
    ngx_http_lgsp_deliver_loc_conf_t *conf = child;

    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    if (conf->mode == NGX_CONF_UNSET_UINT) {
        conf->mode = (prev->mode == NGX_CONF_UNSET_UINT)
                     ? NGX_HTTP_LGSP_DELIVER_OFF : prev->mode;
        conf->attempts = prev->attempts;
        conf->expire = prev->expire;
        conf->backoff = prev->backoff;
        conf->max_body = prev->max_body;
        conf->file = prev->file;
        conf->line = prev->line;
    }

    if (conf->mode == NGX_HTTP_LGSP_DELIVER_OFF) {
        return NGX_CONF_OK;
    }

    dmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_deliver_module);

    if (ngx_http_lgsp_quota_redis_get(cf) == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"lgsp_deliver\" needs \"lgsp_redis\" at http level:"
                      " the queue lives there, in %V:%ui",
                      &conf->file, conf->line);
        return NGX_CONF_ERROR;
    }

    if (dmcf->status_prefix.data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"lgsp_deliver\" needs a location with"
                      " \"lgsp_delivery_status\" before it, whose URLs it"
                      " gives callers, in %V:%ui", &conf->file, conf->line);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_lgsp_deliver_add_service(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->mode == NGX_HTTP_LGSP_DELIVER_FALLBACK
        && ngx_http_lgsp_deliver_error_pages(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_deliver_init(ngx_conf_t *cf)
{
    ngx_uint_t                          i;
    ngx_http_handler_pt                *h;
    ngx_http_core_main_conf_t          *cmcf;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    struct {
        ngx_http_lgsp_redis_script_t  *script;
        char                          *text;
    } scripts[6];

    dmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_deliver_module);

    if (dmcf->poll == NGX_CONF_UNSET_MSEC) {
        dmcf->poll = 1000;
    }

    ngx_http_lgsp_deliver_addr.sin_family = AF_INET;
    ngx_http_lgsp_deliver_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (!ngx_http_lgsp_module_used(cf, &ngx_http_lgsp_deliver_module)) {
        return NGX_OK;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_lgsp_deliver_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_lgsp_deliver_body_filter;

    dmcf->redis = ngx_http_lgsp_quota_redis_get(cf);

    if (dmcf->redis == NULL) {
        return NGX_OK;
    }

    scripts[0].script = &dmcf->enqueue;
    scripts[0].text = ngx_http_lgsp_deliver_enqueue_lua;
    scripts[1].script = &dmcf->next;
    scripts[1].text = ngx_http_lgsp_deliver_next_lua;
    scripts[2].script = &dmcf->done;
    scripts[2].text = ngx_http_lgsp_deliver_done_lua;
    scripts[3].script = &dmcf->touch;
    scripts[3].text = ngx_http_lgsp_deliver_touch_lua;
    scripts[4].script = &dmcf->status;
    scripts[4].text = ngx_http_lgsp_deliver_status_lua;
    scripts[5].script = &dmcf->persistence;
    scripts[5].text = ngx_http_lgsp_deliver_persistence_lua;

    for (i = 0; i < 6; i++) {
        scripts[i].script->text.data = (u_char *) scripts[i].text;
        scripts[i].script->text.len = ngx_strlen(scripts[i].text);

        if (ngx_http_lgsp_redis_add_script(cf, dmcf->redis, scripts[i].script)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_deliver_handler;

    return NGX_OK;
}


/* this worker's consumer name, and its first look at each queue */
static ngx_int_t
ngx_http_lgsp_deliver_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                          i;
    ngx_http_lgsp_deliver_service_t    *svc;
    ngx_http_lgsp_deliver_main_conf_t  *dmcf;

    dmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_lgsp_deliver_module);

    if (dmcf == NULL || dmcf->redis == NULL || dmcf->services.nelts == 0) {
        return NGX_OK;
    }

    dmcf->consumer.data = ngx_pnalloc(cycle->pool, cycle->hostname.len
                                                   + 2 * NGX_INT64_LEN + 2);
    if (dmcf->consumer.data == NULL) {
        return NGX_ERROR;
    }

    dmcf->consumer.len = ngx_sprintf(dmcf->consumer.data, "%V:%P:%08xi",
                                     &cycle->hostname, ngx_pid,
                                     (ngx_uint_t) ngx_random())
                         - dmcf->consumer.data;

    if (ngx_http_lgsp_deliver_number(cycle->pool, &dmcf->visibility_text,
                                     dmcf->visibility)
        == NULL)
    {
        return NGX_ERROR;
    }

    svc = dmcf->services.elts;

    for (i = 0; i < dmcf->services.nelts; i++) {
        svc[i].poll.handler = ngx_http_lgsp_deliver_poll;
        svc[i].poll.data = &svc[i];
        svc[i].poll.log = cycle->log;
        svc[i].poll.cancelable = 1;

        /* workers do not all look at once */
        ngx_add_timer(&svc[i].poll, 1 + ngx_random() % 100);
    }

    if (ngx_worker == 0) {
        dmcf->check.handler = ngx_http_lgsp_deliver_check;
        dmcf->check.data = dmcf;
        dmcf->check.log = cycle->log;
        dmcf->check.cancelable = 1;
        ngx_add_timer(&dmcf->check, 1);
    }

    return NGX_OK;
}
