/*
 * LGSP on nginx: transaction records.  After every request one JSON line
 * goes to the transaction log, chained by hash to the line before it
 * across all workers (lgsp_chain.h has the canonical form): the head of
 * the chain lives in shared memory, behind the zone's lock, and lines are
 * written whole with O_APPEND.  With key=, signed checkpoints follow every
 * N records or seconds.  With buffer=, lines gather in shared memory and
 * are written together.  The chain continues across reloads, reopens and
 * restarts; a log that cannot be written loses records, counted and logged
 * once per incident.  With on_error=deny a record is written as its
 * answer's header leaves, and an answer whose record cannot be written is
 * withheld (503); while the log fails, requests are refused before
 * anything goes upstream, and buffered lines are kept, not dropped.  A
 * worker killed while it changes the chain leaves a note of the change in
 * shared memory: the next one to take the lock undoes it, or completes it
 * as far as the file shows it went, so the chain does not fork.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_log.h"
#include "ngx_http_lgsp_metrics.h"
#include "lgsp_chain.h"
#include "lgsp_sha256.h"
#include "lgsp_uint.h"


/* buffer= at most: the zone keeps one size across reloads */
#define NGX_HTTP_LGSP_LOG_BUFFER_MAX (64 * 1024)

/* a restart reads the chain's head from this much of the log's end */
#define NGX_HTTP_LGSP_LOG_TAIL       (256 * 1024)

/* room before a record's members for {"seq":N, */
#define NGX_HTTP_LGSP_LOG_SEQ_ROOM   (sizeof("{\"seq\":,") - 1 + NGX_INT64_LEN)

/* a record line this long or shorter is made on the stack */
#define NGX_HTTP_LGSP_LOG_LINE       4096

#define NGX_HTTP_LGSP_LOG_TIME_LEN   (sizeof("1970-01-01T00:00:00.000Z") - 1)

/* changes of the chain, made under the lock */
#define NGX_HTTP_LGSP_LOG_OP_LINE    1       /* a line written */
#define NGX_HTTP_LGSP_LOG_OP_BUFFER  2       /* a line buffered */
#define NGX_HTTP_LGSP_LOG_OP_FLUSH   3       /* the buffer written */


/* the chain's state as a change begins */
typedef struct {
    uint64_t                     seq;
    uint64_t                     file_seq;
    size_t                       buf_len;
    uint64_t                     buf_lines;
    u_char                       head[LGSP_CHAIN_HASH_HEX];
    u_char                       file_head[LGSP_CHAIN_HASH_HEX];
} ngx_http_lgsp_log_saved_t;


typedef struct {
    uint64_t                     seq;        /* of the chain's last line */
    u_char                       head[LGSP_CHAIN_HASH_HEX];
    uint64_t                     unsigned_lines;  /* since a checkpoint */
    time_t                       checkpoint_time;

    /* the file the last line went to: rotation shows as a new one */
    ngx_file_uniq_t              uniq;
    dev_t                        dev;
    ngx_uint_t                   generation;

    ngx_atomic_t                 broken;     /* read without the lock */
    uint64_t                     lost;       /* in the current incident */

    /* with buffer=: sealed lines not yet written, and the chain's state
       at the file's end, to go back to when they cannot be written */
    u_char                      *buf;
    size_t                       buf_len;
    uint64_t                     buf_lines;
    ngx_msec_t                   buf_since;
    uint64_t                     file_seq;
    u_char                       file_head[LGSP_CHAIN_HASH_HEX];

    /*
     * The change under way, if any: its kind, the state before it, and,
     * once write() may have run, the seq and HASH the file ends with if
     * it ran whole.  A worker killed with the lock leaves op set for the
     * next holder (nginx's master frees the lock, ngx_unlock_mutexes()).
     */
    ngx_uint_t                   op;
    ngx_uint_t                   op_written;
    uint64_t                     op_seq;
    u_char                       op_head[LGSP_CHAIN_HASH_HEX];
    ngx_http_lgsp_log_saved_t    saved;
} ngx_http_lgsp_log_sh_t;


typedef struct {
    ngx_str_t                    path;
    ngx_open_file_t             *file;
    ngx_shm_zone_t              *zone;
    ngx_slab_pool_t             *shpool;
    ngx_http_lgsp_log_sh_t      *sh;

    ngx_str_t                    key_path;
    EVP_PKEY                    *key;
    char                         key_id[LGSP_CHAIN_KEY_ID_HEX + 1];
    ngx_uint_t                   every;      /* checkpoint every N lines */
    time_t                       interval;   /* or every N seconds */
    ngx_flag_t                   deny;
    size_t                       buffer;     /* 0: every line at once */
    ngx_msec_t                   flush;
    ngx_msec_t                   period;     /* of the timer, 0: none */

    /* this worker's view of the file */
    ngx_fd_t                     fd_seen;
    ngx_uint_t                   generation;
    ngx_event_t                  timer;
} ngx_http_lgsp_log_t;


typedef struct {
    ngx_array_t                  logs;       /* of ngx_http_lgsp_log_t * */
} ngx_http_lgsp_log_main_conf_t;


typedef struct {
    ngx_http_lgsp_log_t         *log;        /* NULL: off */
} ngx_http_lgsp_log_srv_conf_t;


static ngx_int_t ngx_http_lgsp_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_log_request(ngx_http_request_t *r,
    ngx_http_lgsp_log_t *log, ngx_uint_t early);
static u_char *ngx_http_lgsp_log_record(ngx_http_request_t *r,
    u_char *p, ngx_str_t *server, ngx_str_t *tenant, ngx_str_t *service,
    ngx_str_t *path, ngx_str_t *upstream_addr, u_char *body_hash,
    ngx_uint_t early);
static ngx_int_t ngx_http_lgsp_log_body_hash(ngx_http_request_t *r,
    u_char *hex);
static ngx_int_t ngx_http_lgsp_log_append(ngx_http_lgsp_log_t *log,
    u_char *members, size_t len, ngx_uint_t last_try, ngx_log_t *elog);
static ngx_int_t ngx_http_lgsp_log_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_log_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_lgsp_log_gate(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_log_refuse(ngx_http_request_t *r,
    ngx_http_lgsp_ctx_t *ctx, ngx_uint_t withheld);
static void ngx_http_lgsp_log_lock(ngx_http_lgsp_log_t *log,
    ngx_log_t *elog);
static void ngx_http_lgsp_log_begin(ngx_http_lgsp_log_sh_t *sh,
    ngx_uint_t op);
static void ngx_http_lgsp_log_end(ngx_http_lgsp_log_sh_t *sh);
static void ngx_http_lgsp_log_recover(ngx_http_lgsp_log_t *log,
    ngx_log_t *elog);
static ngx_int_t ngx_http_lgsp_log_file_end(ngx_http_lgsp_log_t *log,
    uint64_t *seq, u_char *head, ngx_log_t *elog);
static ngx_int_t ngx_http_lgsp_log_tail(ngx_http_lgsp_log_t *log,
    ngx_fd_t fd, ngx_fd_t wfd, uint64_t *seq, u_char *head,
    ngx_log_t *elog);
static ngx_int_t ngx_http_lgsp_log_drop(ngx_http_lgsp_log_sh_t *sh,
    uint64_t lines, u_char *head);
static void ngx_http_lgsp_log_checkpoint(ngx_http_lgsp_log_t *log,
    ngx_log_t *elog);
static ngx_int_t ngx_http_lgsp_log_write(ngx_http_lgsp_log_t *log,
    u_char *members, size_t len, ngx_log_t *elog);
static ngx_int_t ngx_http_lgsp_log_flush(ngx_http_lgsp_log_t *log,
    ngx_log_t *elog);
static ngx_int_t ngx_http_lgsp_log_out(ngx_http_lgsp_log_t *log,
    u_char *data, size_t len, ngx_log_t *elog);
static void ngx_http_lgsp_log_lost(ngx_http_lgsp_log_t *log,
    uint64_t lines);
static void ngx_http_lgsp_log_follow(ngx_http_lgsp_log_t *log,
    ngx_log_t *elog);
static u_char *ngx_http_lgsp_log_time(u_char *p, time_t sec,
    ngx_msec_t msec);
static u_char *ngx_http_lgsp_log_uint(u_char *p, uint64_t n);
static u_char *ngx_http_lgsp_log_int(u_char *p, int64_t n);
static u_char *ngx_http_lgsp_log_millis(u_char *p, ngx_msec_t ms);
static u_char *ngx_http_lgsp_log_seq(u_char *p, uint64_t seq);
static u_char *ngx_http_lgsp_log_msec(u_char *p, ngx_msec_t ms);
static u_char *ngx_http_lgsp_log_string(u_char *p, ngx_str_t *s);
static size_t ngx_http_lgsp_log_string_len(ngx_str_t *s);
static void ngx_http_lgsp_log_timer(ngx_event_t *ev);
static ngx_int_t ngx_http_lgsp_log_preaccess(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_log_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_lgsp_log_read_head(ngx_http_lgsp_log_t *log,
    ngx_log_t *elog);
static char *ngx_http_lgsp_transaction_log(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_lgsp_log_free_key(void *data);
static void *ngx_http_lgsp_log_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_lgsp_log_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_log_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_lgsp_log_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_lgsp_log_init_process(ngx_cycle_t *cycle);
static void ngx_http_lgsp_log_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_lgsp_log_commands[] = {

    { ngx_string("lgsp_transaction_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_lgsp_transaction_log,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_log_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_lgsp_log_init,                /* postconfiguration */

    ngx_http_lgsp_log_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_lgsp_log_create_srv_conf,     /* create server configuration */
    ngx_http_lgsp_log_merge_srv_conf,      /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_log_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_log_module_ctx,         /* module context */
    ngx_http_lgsp_log_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_lgsp_log_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_lgsp_log_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_lgsp_log_null = ngx_string("null");


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_lgsp_record_service(ngx_http_request_t *r, ngx_str_t *service)
{
    ngx_http_lgsp_ctx_t       *ctx;
    ngx_http_lgsp_loc_conf_t  *llcf;

    ctx = ngx_http_lgsp_get_ctx(r);

    if (ctx && ctx->service.len) {
        *service = ctx->service;
        return NGX_OK;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);

    ngx_http_lgsp_service_name(r, service);

    return llcf->service.len ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_lgsp_log_handler(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t           *ctx;
    ngx_http_lgsp_log_srv_conf_t  *lscf;

    lscf = ngx_http_get_module_srv_conf(r, ngx_http_lgsp_log_module);

    if (lscf->log == NULL || r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->record == NGX_HTTP_LGSP_RECORD_WRITTEN) {
        return NGX_OK;
    }

    return ngx_http_lgsp_log_request(r, lscf->log, 0);
}


/*
 * Writes the record of a request: after it (the log phase), or early, as
 * its answer's header leaves (on_error=deny), when bytes_out is not known.
 */
static ngx_int_t
ngx_http_lgsp_log_request(ngx_http_request_t *r, ngx_http_lgsp_log_t *log,
    ngx_uint_t early)
{
    u_char                        *buf, *p;
    size_t                         len, size;
    ngx_str_t                      service, tenant, path, addr, *server;
    ngx_str_t                     *strings[8];
    ngx_uint_t                     i;
    ngx_http_lgsp_ctx_t           *ctx;
    ngx_http_upstream_state_t     *state;
    ngx_http_core_srv_conf_t      *cscf;
    u_char                         body_hash[LGSP_CHAIN_HASH_HEX];
    u_char                         line[NGX_HTTP_LGSP_LOG_LINE];

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    server = &cscf->server_name;

    (void) ngx_http_lgsp_record_service(r, &service);
    ngx_http_lgsp_tenant_name(r, &tenant);

    /* the path as sent, without the query: arguments may be personal */
    path = r->unparsed_uri;
    p = ngx_strlchr(path.data, path.data + path.len, '?');
    if (p) {
        path.len = p - path.data;
    }

    addr = ngx_http_lgsp_log_null;

    if (r->upstream_states && r->upstream_states->nelts) {
        state = r->upstream_states->elts;
        state = &state[r->upstream_states->nelts - 1];

        if (state->peer) {
            addr = *state->peer;
        }
    }

    len = NGX_HTTP_LGSP_LOG_SEQ_ROOM
          + sizeof("\"time\":\"\",\"txid\":\"\",\"server\":,\"tenant\":,"
                   "\"agency\":,"
                   "\"service\":,\"method\":,\"path\":,\"status\":,"
                   "\"upstream_status\":,\"upstream_addr\":,\"bytes_in\":,"
                   "\"bytes_out\":,\"request_time\":,\"upstream_time\":,"
                   "\"body_sha256\":,\"outcome\":\"\",\"reason\":") - 1
          + NGX_HTTP_LGSP_LOG_TIME_LEN + NGX_HTTP_LGSP_TXID_LEN
          + 2 * NGX_INT_T_LEN + 2 * NGX_OFF_T_LEN + 2 * (NGX_TIME_T_LEN + 4)
          + LGSP_CHAIN_HASH_HEX + 2 + sizeof("upstream") - 1
          + LGSP_CHAIN_SEAL_LEN;

    strings[0] = server;
    strings[1] = &tenant;
    strings[2] = &ctx->agency;
    strings[3] = &service;
    strings[4] = &r->method_name;
    strings[5] = &path;
    strings[6] = &addr;
    strings[7] = &ctx->reason;

    /*
     * A line is copied out under the lock: it needs no room in the pool,
     * whose growth (a new block) cost more than the line's formatting.
     * It fits on the stack when it would with every byte of its strings
     * escaped (\u00XX); only a longer one has them measured.
     */
    size = len;

    for (i = 0; i < 8; i++) {
        size += 4 + 6 * strings[i]->len;
    }

    if (size <= sizeof(line)) {
        buf = line;

    } else {
        for (i = 0; i < 8; i++) {
            len += ngx_http_lgsp_log_string_len(strings[i]);
        }

        buf = ngx_pnalloc(r->pool, len);
        if (buf == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_lgsp_log_body_hash(r, body_hash) != NGX_OK) {
        body_hash[0] = '\0';
    }

    p = ngx_http_lgsp_log_record(r, buf + NGX_HTTP_LGSP_LOG_SEQ_ROOM, server,
                                 &tenant, &service, &path, &addr, body_hash,
                                 early);

    /* an early record that fails is tried again, as the refusal's */
    return ngx_http_lgsp_log_append(log, buf + NGX_HTTP_LGSP_LOG_SEQ_ROOM,
                                    p - buf - NGX_HTTP_LGSP_LOG_SEQ_ROOM,
                                    !early, r->connection->log);
}


/* the members of a record after "seq", in the order of the README */
static u_char *
ngx_http_lgsp_log_record(ngx_http_request_t *r, u_char *p, ngx_str_t *server,
    ngx_str_t *tenant, ngx_str_t *service, ngx_str_t *path,
    ngx_str_t *upstream_addr, u_char *body_hash, ngx_uint_t early)
{
    ngx_str_t                  *outcome;
    ngx_uint_t                  i, status;
    ngx_msec_t                  ms, ums;
    ngx_time_t                 *tp;
    ngx_http_lgsp_ctx_t        *ctx;
    ngx_http_upstream_state_t  *state;

    ctx = ngx_http_lgsp_get_ctx(r);

    p = ngx_cpymem(p, "\"time\":\"", sizeof("\"time\":\"") - 1);
    p = ngx_http_lgsp_log_time(p, r->start_sec, r->start_msec);
    p = ngx_cpymem(p, "\",\"txid\":\"", sizeof("\",\"txid\":\"") - 1);
    p = ngx_cpymem(p, ctx->txid, NGX_HTTP_LGSP_TXID_LEN);
    p = ngx_cpymem(p, "\",\"server\":", sizeof("\",\"server\":") - 1);
    p = ngx_http_lgsp_log_string(p, server);
    p = ngx_cpymem(p, ",\"tenant\":", sizeof(",\"tenant\":") - 1);
    p = ngx_http_lgsp_log_string(p, tenant);
    p = ngx_cpymem(p, ",\"agency\":", sizeof(",\"agency\":") - 1);
    p = ngx_http_lgsp_log_string(p, &ctx->agency);
    p = ngx_cpymem(p, ",\"service\":", sizeof(",\"service\":") - 1);
    p = ngx_http_lgsp_log_string(p, service);
    p = ngx_cpymem(p, ",\"method\":", sizeof(",\"method\":") - 1);
    p = ngx_http_lgsp_log_string(p, &r->method_name);
    p = ngx_cpymem(p, ",\"path\":", sizeof(",\"path\":") - 1);
    p = ngx_http_lgsp_log_string(p, path);

    status = r->err_status ? r->err_status : r->headers_out.status;
    p = ngx_cpymem(p, ",\"status\":", sizeof(",\"status\":") - 1);
    p = ngx_http_lgsp_log_uint(p, status);
    p = ngx_cpymem(p, ",\"upstream_status\":",
                   sizeof(",\"upstream_status\":") - 1);

    ums = 0;
    state = NULL;

    if (r->upstream_states && r->upstream_states->nelts) {
        state = r->upstream_states->elts;

        for (i = 0; i < r->upstream_states->nelts; i++) {
            if (state[i].status) {
                /* as the answer leaves, the provider's is under way */
                ums += (state[i].response_time != (ngx_msec_t) -1)
                       ? state[i].response_time : state[i].header_time;
            }
        }

        state = &state[r->upstream_states->nelts - 1];
    }

    if (state && state->status) {
        p = ngx_http_lgsp_log_uint(p, state->status);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_cpymem(p, ",\"upstream_addr\":",
                   sizeof(",\"upstream_addr\":") - 1);
    p = (upstream_addr->data == ngx_http_lgsp_log_null.data)
        ? ngx_cpymem(p, "null", 4)
        : ngx_http_lgsp_log_string(p, upstream_addr);

    tp = ngx_timeofday();
    ms = (ngx_msec_t) ((tp->sec - r->start_sec) * 1000
                       + (tp->msec - r->start_msec));
    ms = ngx_max((ngx_msec_int_t) ms, 0);

    p = ngx_cpymem(p, ",\"bytes_in\":", sizeof(",\"bytes_in\":") - 1);
    p = ngx_http_lgsp_log_int(p, r->request_length);
    p = ngx_cpymem(p, ",\"bytes_out\":", sizeof(",\"bytes_out\":") - 1);

    if (early) {
        p = ngx_cpymem(p, "null", 4);

    } else {
        p = ngx_http_lgsp_log_int(p, r->connection->sent);
    }

    p = ngx_cpymem(p, ",\"request_time\":", sizeof(",\"request_time\":") - 1);
    p = ngx_http_lgsp_log_msec(p, ms);
    p = ngx_cpymem(p, ",\"upstream_time\":",
                   sizeof(",\"upstream_time\":") - 1);

    if (state) {
        p = ngx_http_lgsp_log_msec(p, ums);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_cpymem(p, ",\"body_sha256\":", sizeof(",\"body_sha256\":") - 1);

    if (body_hash[0]) {
        *p++ = '"';
        p = ngx_cpymem(p, body_hash, LGSP_CHAIN_HASH_HEX);
        *p++ = '"';

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    outcome = ngx_http_lgsp_outcome_name(r);
    p = ngx_cpymem(p, ",\"outcome\":\"", sizeof(",\"outcome\":\"") - 1);
    p = ngx_cpymem(p, outcome->data, outcome->len);
    p = ngx_cpymem(p, "\",\"reason\":", sizeof("\",\"reason\":") - 1);

    return ngx_http_lgsp_log_string(p, &ctx->reason);
}


/*
 * The SHA-256 of the request body as received, when it was read whole
 * (in memory or in a temporary file); NGX_DECLINED when there was none.
 */
static ngx_int_t
ngx_http_lgsp_log_body_hash(ngx_http_request_t *r, u_char *hex)
{
    off_t                       off;
    ssize_t                     n;
    ngx_buf_t                  *b;
    ngx_chain_t                *cl;
    ngx_http_request_body_t    *rb;
    u_char                      md[32], chunk[4096];
    EVP_MD_CTX                 *ctx;

    rb = r->request_body;

    if (rb == NULL || rb->bufs == NULL || rb->rest || r->discard_body
        || r->request_body_no_buffering)
    {
        return NGX_DECLINED;
    }

    ctx = lgsp_sha256_start();
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    for (cl = rb->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            EVP_DigestUpdate(ctx, b->pos, b->last - b->pos);
            continue;
        }

        for (off = b->file_pos; off < b->file_last; off += n) {
            n = ngx_read_file(b->file, chunk,
                              ngx_min((off_t) sizeof(chunk),
                                      b->file_last - off),
                              off);
            if (n <= 0) {
                return NGX_ERROR;
            }

            EVP_DigestUpdate(ctx, chunk, n);
        }
    }

    if (EVP_DigestFinal_ex(ctx, md, NULL) != 1) {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, md, sizeof(md));

    return NGX_OK;
}


/*
 * Appends a line to the chain; members are what follows {"seq":N, and
 * NGX_HTTP_LGSP_LOG_SEQ_ROOM bytes before them are free for that.  A line
 * that fails on its last try is lost.
 */
static ngx_int_t
ngx_http_lgsp_log_append(ngx_http_lgsp_log_t *log, u_char *members,
    size_t len, ngx_uint_t last_try, ngx_log_t *elog)
{
    ngx_int_t                rc;
    ngx_http_lgsp_log_sh_t  *sh;

    sh = log->sh;

    ngx_http_lgsp_log_lock(log, elog);

    rc = ngx_http_lgsp_log_write(log, members, len, elog);

    if (rc != NGX_OK && last_try) {
        ngx_http_lgsp_log_lost(log, 1);
    }

    if (rc == NGX_OK
        && log->key
        && ((log->every && sh->unsigned_lines >= log->every)
            || (log->interval
                && ngx_time() - sh->checkpoint_time >= log->interval)))
    {
        ngx_http_lgsp_log_checkpoint(log, elog);
    }

    ngx_shmtx_unlock(&log->shpool->mutex);

    return rc;
}


/*
 * on_error=deny: the record is written as the answer's header leaves, so
 * no answer goes out without its record.  When it cannot be written, the
 * answer is withheld: 503 records-unavailable goes out instead, from the
 * top of the filters, and the body filter drops the answer's body.
 */
static ngx_int_t
ngx_http_lgsp_log_header_filter(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_lgsp_ctx_t           *ctx;
    ngx_http_lgsp_log_srv_conf_t  *lscf;

    lscf = ngx_http_get_module_srv_conf(r, ngx_http_lgsp_log_module);

    if (r != r->main || lscf->log == NULL || !lscf->log->deny) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->record != NGX_HTTP_LGSP_RECORD_PENDING) {
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_lgsp_log_request(r, lscf->log, 1) == NGX_OK) {
        ctx->record = NGX_HTTP_LGSP_RECORD_WRITTEN;
        return ngx_http_next_header_filter(r);
    }

    ngx_http_clean_header(r);
    r->err_status = 0;

    rc = ngx_http_lgsp_log_refuse(r, ctx, 1);

    ctx->record = NGX_HTTP_LGSP_RECORD_WITHHELD;

    return (rc > NGX_OK) ? NGX_ERROR : rc;
}


/* the body of a withheld answer is dropped, as if sent */
static ngx_int_t
ngx_http_lgsp_log_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                   *cl;
    ngx_http_lgsp_ctx_t           *ctx;
    ngx_http_lgsp_log_srv_conf_t  *lscf;

    lscf = ngx_http_get_module_srv_conf(r, ngx_http_lgsp_log_module);

    if (r != r->main || lscf->log == NULL || !lscf->log->deny) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_lgsp_get_ctx(r);

    if (ctx == NULL || ctx->record != NGX_HTTP_LGSP_RECORD_WITHHELD) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    /* what of the problem is still to be sent goes on */
    if (r->out == NULL
        && !(r->connection->buffered & NGX_LOWLEVEL_BUFFERED))
    {
        return NGX_OK;
    }

    return ngx_http_next_body_filter(r, NULL);
}


/*
 * on_error=deny: while the log cannot be written, requests are refused
 * before anything goes upstream, in the preaccess phase and again as the
 * last step before content (for requests on their way, waiting for a
 * quota or a body, when the log failed).  The refusal's own record,
 * written after it, probes the log.
 */
static ngx_int_t
ngx_http_lgsp_log_gate(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t           *ctx;
    ngx_http_lgsp_log_srv_conf_t  *lscf;

    lscf = ngx_http_get_module_srv_conf(r, ngx_http_lgsp_log_module);

    if (r != r->main || lscf->log == NULL || !lscf->log->deny
        || !lscf->log->sh->broken)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_finalize_request(r, ngx_http_lgsp_log_refuse(r, ctx, 0));

    return NGX_DONE;
}


/*
 * 503 records-unavailable: before the exchange, or, withheld, after it,
 * when the provider may have acted on the request.  The refusal's record
 * is left to the log phase.
 */
static ngx_int_t
ngx_http_lgsp_log_refuse(ngx_http_request_t *r, ngx_http_lgsp_ctx_t *ctx,
    ngx_uint_t withheld)
{
    ngx_http_lgsp_problem_t  problem;

    problem.status = NGX_HTTP_SERVICE_UNAVAILABLE;
    problem.outcome = NGX_HTTP_LGSP_OUTCOME_ERROR;
    ngx_str_set(&problem.type, "records-unavailable");
    ngx_str_set(&problem.title, "Service Unavailable");
    ngx_str_null(&problem.members);

    if (withheld) {
        ngx_str_set(&problem.detail, "the record of this exchange cannot be"
                    " written, so its answer is withheld; the provider may"
                    " have acted on the request");
        ngx_str_set(&ctx->reason, "answer withheld");

    } else {
        ngx_str_set(&problem.detail, "transaction records cannot be written;"
                    " no exchange is made without its record");
        ngx_str_set(&ctx->reason, "log unwritable");
    }

    ctx->record = NGX_HTTP_LGSP_RECORD_REFUSED;

    return ngx_http_lgsp_send_problem(r, &problem);
}


/*
 * Takes the zone's lock; a change of the chain its last holder was killed
 * in the middle of is settled first.
 */
static void
ngx_http_lgsp_log_lock(ngx_http_lgsp_log_t *log, ngx_log_t *elog)
{
    ngx_shmtx_lock(&log->shpool->mutex);

    if (log->sh->op) {
        ngx_http_lgsp_log_recover(log, elog);
    }
}


/* a change of the chain begins, the state before it saved; under the lock */
static void
ngx_http_lgsp_log_begin(ngx_http_lgsp_log_sh_t *sh, ngx_uint_t op)
{
    sh->saved.seq = sh->seq;
    sh->saved.file_seq = sh->file_seq;
    sh->saved.buf_len = sh->buf_len;
    sh->saved.buf_lines = sh->buf_lines;
    ngx_memcpy(sh->saved.head, sh->head, LGSP_CHAIN_HASH_HEX);
    ngx_memcpy(sh->saved.file_head, sh->file_head, LGSP_CHAIN_HASH_HEX);
    sh->op_written = 0;

    /* stores of a process killed meanwhile are seen in this order */
    ngx_memory_barrier();
    sh->op = op;
    ngx_memory_barrier();
}


static void
ngx_http_lgsp_log_end(ngx_http_lgsp_log_sh_t *sh)
{
    ngx_memory_barrier();
    sh->op = 0;
}


/*
 * The last holder of the lock was killed in the middle of a change: the
 * state goes back to what it was before, then forward as far as the file
 * shows the change went (a line written, a partial line cut off, the
 * buffer written in whole or in part).  The chain so neither forks nor
 * repeats lines.  Under the lock.
 */
static void
ngx_http_lgsp_log_recover(ngx_http_lgsp_log_t *log, ngx_log_t *elog)
{
    uint64_t                 seq;
    ngx_int_t                rc;
    ngx_http_lgsp_log_sh_t  *sh;
    u_char                   head[LGSP_CHAIN_HASH_HEX];

    sh = log->sh;

    sh->seq = sh->saved.seq;
    sh->file_seq = sh->saved.file_seq;
    sh->buf_len = sh->saved.buf_len;
    sh->buf_lines = sh->saved.buf_lines;
    ngx_memcpy(sh->head, sh->saved.head, LGSP_CHAIN_HASH_HEX);
    ngx_memcpy(sh->file_head, sh->saved.file_head, LGSP_CHAIN_HASH_HEX);

    /* the file's end: read only when the change reached the file */
    rc = NGX_DECLINED;
    seq = 0;

    if (sh->op_written) {
        rc = ngx_http_lgsp_log_file_end(log, &seq, head, elog);
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, elog, 0,
                      "lgsp: a worker was killed writing to transaction log"
                      " \"%V\", whose end cannot be read: the chain goes on"
                      " from seq %uL and may break there",
                      &log->path, sh->seq);

    } else if (rc == NGX_OK
               && (seq != sh->file_seq
                   || ngx_memcmp(head, sh->file_head, LGSP_CHAIN_HASH_HEX)
                      != 0))
    {
        /* the file holds lines of the change: it goes on from there */

        if (sh->op == NGX_HTTP_LGSP_LOG_OP_FLUSH) {
            if (seq <= sh->file_seq || seq > sh->seq
                || ngx_http_lgsp_log_drop(sh, seq - sh->file_seq, head)
                   != NGX_OK)
            {
                ngx_log_error(NGX_LOG_ALERT, elog, 0,
                              "lgsp: transaction log \"%V\" does not end"
                              " with a buffered line: %uL buffered lines"
                              " are lost", &log->path, sh->buf_lines);

                ngx_http_lgsp_metrics_count(ngx_cycle,
                                            NGX_HTTP_LGSP_METRIC_RECORDS_LOST,
                                            &log->path, sh->buf_lines);
                sh->buf_len = 0;
                sh->buf_lines = 0;
                sh->seq = seq;
                ngx_memcpy(sh->head, head, LGSP_CHAIN_HASH_HEX);
            }

        } else {
            sh->seq = seq;
            ngx_memcpy(sh->head, head, LGSP_CHAIN_HASH_HEX);
        }

        sh->file_seq = seq;
        ngx_memcpy(sh->file_head, head, LGSP_CHAIN_HASH_HEX);
    }

    ngx_log_error(NGX_LOG_WARN, elog, 0,
                  "lgsp: a worker was killed while it changed the chain of"
                  " transaction log \"%V\"; it goes on from seq %uL",
                  &log->path, sh->seq);

    ngx_http_lgsp_log_end(sh);
}


/*
 * The seq and HASH of the last line of the file the chain's lines went to
 * (sh->uniq, sh->dev), reached through this worker's descriptor or the
 * path.  NGX_DECLINED: the file is empty; NGX_ERROR: it cannot be read or
 * does not end with a record.
 */
static ngx_int_t
ngx_http_lgsp_log_file_end(ngx_http_lgsp_log_t *log, uint64_t *seq,
    u_char *head, ngx_log_t *elog)
{
    ngx_fd_t                 fd, wfd;
    ngx_int_t                rc;
    ngx_uint_t               own;
    ngx_file_info_t          fi;
    ngx_http_lgsp_log_sh_t  *sh;
    u_char                   name[sizeof("/proc/self/fd/") + NGX_INT_T_LEN];

    sh = log->sh;
    wfd = log->file->fd;
    fd = NGX_INVALID_FILE;

    own = ngx_fd_info(wfd, &fi) != NGX_FILE_ERROR
          && ngx_file_uniq(&fi) == sh->uniq && fi.st_dev == sh->dev;

    if (own) {
        /* the descriptor is write-only: read the file through /proc */
        ngx_sprintf(name, "/proc/self/fd/%d%Z", wfd);
        fd = ngx_open_file(name, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    }

    if (fd == NGX_INVALID_FILE) {
        /* or this worker has not followed a reopen: the path's file */
        fd = ngx_open_file(log->path.data, NGX_FILE_RDWR, NGX_FILE_OPEN, 0);

        if (fd == NGX_INVALID_FILE) {
            fd = ngx_open_file(log->path.data, NGX_FILE_RDONLY,
                               NGX_FILE_OPEN, 0);
        }

        if (fd != NGX_INVALID_FILE
            && (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
                || ngx_file_uniq(&fi) != sh->uniq || fi.st_dev != sh->dev))
        {
            ngx_close_file(fd);
            fd = NGX_INVALID_FILE;
        }

        if (!own) {
            wfd = fd;
        }
    }

    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    rc = ngx_http_lgsp_log_tail(log, fd, wfd, seq, head, elog);

    ngx_close_file(fd);

    return rc;
}


/*
 * The seq and HASH of the last line of a log open on fd.  A partial line
 * after it, the start of a record a crash cut short, is cut off through
 * wfd first.  NGX_DECLINED: the file is empty; NGX_ERROR: its end cannot
 * be read or is not a record.
 */
static ngx_int_t
ngx_http_lgsp_log_tail(ngx_http_lgsp_log_t *log, ngx_fd_t fd, ngx_fd_t wfd,
    uint64_t *seq, u_char *head, ngx_log_t *elog)
{
    u_char           *buf, *p;
    off_t             size, len, n;
    ngx_int_t         rc;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        return NGX_ERROR;
    }

    size = ngx_file_size(&fi);

    if (size == 0) {
        return NGX_DECLINED;
    }

    len = ngx_min(size, NGX_HTTP_LGSP_LOG_TAIL);

    buf = ngx_alloc(len, elog);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = log->path;
    file.log = elog;

    rc = NGX_ERROR;

    if (ngx_read_file(&file, buf, len, size - len) != len) {
        goto done;
    }

    for (p = buf + len; p > buf && p[-1] != '\n'; p--) {
        /* void */
    }

    if (p < buf + len) {
        if (p == buf && len < size) {
            /* a last line longer than the tail read */
            goto done;
        }

        /* the start of one of ours, {"seq":N, cut short, is cut off */
        n = ngx_min(buf + len - p, (off_t) sizeof("{\"seq\":") - 1);

        if (ngx_strncmp(p, "{\"seq\":", n) == 0) {
            if (ftruncate(wfd, size - (buf + len - p)) == -1) {
                ngx_log_error(NGX_LOG_ALERT, elog, ngx_errno,
                              "lgsp: a partial line remains at the end of"
                              " \"%V\"", &log->path);

            } else {
                ngx_log_error(NGX_LOG_WARN, elog, 0,
                              "lgsp: the partial line a crash left at the"
                              " end of \"%V\" was cut off", &log->path);
                size -= buf + len - p;
            }
        }

        len = p - buf;

        if (size == 0) {
            rc = NGX_DECLINED;
            goto done;
        }
    }

    if (lgsp_chain_tail((char *) buf, len, seq, (char *) head) == 0) {
        rc = NGX_OK;
    }

done:

    ngx_free(buf);

    return rc;
}


/*
 * Drops the first lines of the buffer, the file has them; the last of
 * them must be hashed head.  Under the lock.
 */
static ngx_int_t
ngx_http_lgsp_log_drop(ngx_http_lgsp_log_sh_t *sh, uint64_t lines,
    u_char *head)
{
    u_char    *p, *end;
    uint64_t   i;

    p = sh->buf;
    end = sh->buf + sh->buf_len;

    for (i = 0; i < lines; i++) {
        p = ngx_strlchr(p, end, '\n');
        if (p == NULL) {
            return NGX_ERROR;
        }

        p++;
    }

    /* a line ends with "hash":"HASH"}\n */
    if (p - sh->buf < LGSP_CHAIN_HASH_HEX + 3
        || ngx_memcmp(p - 3 - LGSP_CHAIN_HASH_HEX, head, LGSP_CHAIN_HASH_HEX)
           != 0)
    {
        return NGX_ERROR;
    }

    sh->buf_len = end - p;
    sh->buf_lines -= lines;
    ngx_memmove(sh->buf, p, sh->buf_len);

    return NGX_OK;
}


/* a signed checkpoint of the chain's head; under the lock */
static void
ngx_http_lgsp_log_checkpoint(ngx_http_lgsp_log_t *log, ngx_log_t *elog)
{
    u_char                  *p;
    size_t                   n;
    ngx_time_t              *tp;
    ngx_http_lgsp_log_sh_t  *sh;
    u_char                   line[NGX_HTTP_LGSP_LOG_SEQ_ROOM
                                  + sizeof("\"time\":\"\",") - 1
                                  + NGX_HTTP_LGSP_LOG_TIME_LEN
                                  + LGSP_CHAIN_CHECKPOINT_LEN + 1
                                  + LGSP_CHAIN_SEAL_LEN];
    char                     head[LGSP_CHAIN_HASH_HEX + 1];

    sh = log->sh;
    tp = ngx_timeofday();

    p = line + NGX_HTTP_LGSP_LOG_SEQ_ROOM;
    p = ngx_cpymem(p, "\"time\":\"", sizeof("\"time\":\"") - 1);
    p = ngx_http_lgsp_log_time(p, tp->sec, tp->msec);
    *p++ = '"';
    *p++ = ',';

    ngx_memcpy(head, sh->head, LGSP_CHAIN_HASH_HEX);
    head[LGSP_CHAIN_HASH_HEX] = '\0';

    n = lgsp_chain_checkpoint(log->key, log->key_id, sh->seq, head,
                              (char *) p);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, elog, 0,
                      "lgsp: signing a checkpoint of \"%V\" failed",
                      &log->path);
        return;
    }

    p += n;

    if (ngx_http_lgsp_log_write(log, line + NGX_HTTP_LGSP_LOG_SEQ_ROOM,
                                p - line - NGX_HTTP_LGSP_LOG_SEQ_ROOM, elog)
        == NGX_OK)
    {
        sh->unsigned_lines = 0;
        sh->checkpoint_time = tp->sec;

    } else {
        ngx_http_lgsp_log_lost(log, 1);
    }
}


/*
 * Seals one line onto the chain, and writes it, or with buffer= puts it
 * into the shared buffer; under the lock.  A line that cannot be written
 * whole leaves no trace: the chain's head stays (or goes back to the
 * file's last line, for a buffer that could not be written and is not
 * kept).
 */
static ngx_int_t
ngx_http_lgsp_log_write(ngx_http_lgsp_log_t *log, u_char *members,
    size_t len, ngx_log_t *elog)
{
    u_char                  *start;
    size_t                   prefix, n;
    ngx_http_lgsp_log_sh_t  *sh;
    u_char                   seq[NGX_HTTP_LGSP_LOG_SEQ_ROOM];
    char                     head[LGSP_CHAIN_HASH_HEX];

    sh = log->sh;

    prefix = ngx_http_lgsp_log_seq(seq, sh->seq + 1) - seq;
    n = prefix + len + LGSP_CHAIN_SEAL_LEN;

    /*
     * a line goes on top of what the file will hold: flush first (also
     * lines a previous configuration buffered, when this one does not)
     */
    if (sh->buf_len && (log->buffer == 0 || sh->buf_len + n > log->buffer))
    {
        (void) ngx_http_lgsp_log_flush(log, elog);

        if (sh->buf_len) {
            /* on_error=deny kept them: this line cannot go after them */
            return NGX_ERROR;
        }

        prefix = ngx_http_lgsp_log_seq(seq, sh->seq + 1) - seq;
    }

    start = ngx_cpymem(members - prefix, seq, prefix) - prefix;

    ngx_memcpy(head, sh->head, LGSP_CHAIN_HASH_HEX);

    n = lgsp_chain_seal((char *) start, prefix + len, head);
    if (n == 0) {
        return NGX_ERROR;
    }

    if (log->buffer && n <= log->buffer) {
        ngx_http_lgsp_log_begin(sh, NGX_HTTP_LGSP_LOG_OP_BUFFER);

        if (sh->buf_len == 0) {
            sh->buf_since = ngx_current_msec;
        }

        ngx_memcpy(sh->buf + sh->buf_len, start, n);
        sh->buf_len += n;
        sh->buf_lines++;

    } else {
        /* the buffer is empty here: the line follows the file's end */
        ngx_http_lgsp_log_begin(sh, NGX_HTTP_LGSP_LOG_OP_LINE);

        sh->op_seq = sh->seq + 1;
        ngx_memcpy(sh->op_head, head, LGSP_CHAIN_HASH_HEX);

        if (ngx_http_lgsp_log_out(log, start, n, elog) != NGX_OK) {
            ngx_http_lgsp_log_end(sh);
            return NGX_ERROR;
        }

        sh->file_seq = sh->seq + 1;
        ngx_memcpy(sh->file_head, head, LGSP_CHAIN_HASH_HEX);
    }

    sh->seq++;
    sh->unsigned_lines++;
    ngx_memcpy(sh->head, head, LGSP_CHAIN_HASH_HEX);

    ngx_http_lgsp_log_end(sh);

    return NGX_OK;
}


/*
 * Writes the buffered lines; under the lock.  Lines that cannot be
 * written are lost, or, with on_error=deny, kept for the next try.
 */
static ngx_int_t
ngx_http_lgsp_log_flush(ngx_http_lgsp_log_t *log, ngx_log_t *elog)
{
    ngx_int_t                rc;
    ngx_http_lgsp_log_sh_t  *sh;

    sh = log->sh;

    if (sh->buf_len == 0) {
        return NGX_OK;
    }

    ngx_http_lgsp_log_begin(sh, NGX_HTTP_LGSP_LOG_OP_FLUSH);

    sh->op_seq = sh->seq;
    ngx_memcpy(sh->op_head, sh->head, LGSP_CHAIN_HASH_HEX);

    rc = ngx_http_lgsp_log_out(log, sh->buf, sh->buf_len, elog);

    if (rc == NGX_OK) {
        sh->file_seq = sh->seq;
        ngx_memcpy(sh->file_head, sh->head, LGSP_CHAIN_HASH_HEX);
        sh->buf_len = 0;
        sh->buf_lines = 0;

    } else if (!log->deny) {
        /* the lost lines never were: the chain goes on from the file */
        ngx_http_lgsp_log_lost(log, sh->buf_lines);
        sh->seq = sh->file_seq;
        ngx_memcpy(sh->head, sh->file_head, LGSP_CHAIN_HASH_HEX);
        sh->buf_len = 0;
        sh->buf_lines = 0;
    }

    ngx_http_lgsp_log_end(sh);

    return rc;
}


/*
 * Writes whole lines with one write() to the end of the file; a partial
 * write is taken back.  The first failure of an incident is logged, and
 * the first success after it logs its end with the records lost.
 */
static ngx_int_t
ngx_http_lgsp_log_out(ngx_http_lgsp_log_t *log, u_char *data, size_t len,
    ngx_log_t *elog)
{
    off_t                    end;
    ssize_t                  written;
    ngx_err_t                err;
    ngx_http_lgsp_log_sh_t  *sh;

    sh = log->sh;

    ngx_http_lgsp_log_follow(log, elog);

    /* from here on the file may hold the change */
    ngx_memory_barrier();
    sh->op_written = 1;
    ngx_memory_barrier();

    written = write(log->file->fd, data, len);
    err = ngx_errno;

    if (written == (ssize_t) len) {
        if (sh->broken) {
            ngx_log_error(NGX_LOG_WARN, elog, 0,
                          "lgsp: transaction log \"%V\" is written again;"
                          " %uL records were lost", &log->path, sh->lost);
            sh->broken = 0;
            sh->lost = 0;
        }

        return NGX_OK;
    }

    if (written > 0) {
        /* a partial line would break the chain: take it back */
        end = lseek(log->file->fd, 0, SEEK_END);

        if (end == -1 || ftruncate(log->file->fd, end - written) == -1) {
            ngx_log_error(NGX_LOG_ALERT, elog, ngx_errno,
                          "lgsp: a partial line remains in \"%V\"",
                          &log->path);
        }

        err = NGX_ENOSPC;
    }

    if (!sh->broken) {
        ngx_log_error(NGX_LOG_CRIT, elog, err,
                      log->deny ? "lgsp: transaction log \"%V\" cannot be"
                                  " written: requests are refused until it"
                                  " can"
                                : "lgsp: transaction log \"%V\" cannot be"
                                  " written: records are lost until it can",
                      &log->path);
        sh->broken = 1;
    }

    return NGX_ERROR;
}


/* records that will never be written: counted, and told at the end */
static void
ngx_http_lgsp_log_lost(ngx_http_lgsp_log_t *log, uint64_t lines)
{
    log->sh->lost += lines;

    ngx_http_lgsp_metrics_count(ngx_cycle, NGX_HTTP_LGSP_METRIC_RECORDS_LOST,
                                &log->path, lines);
}


/*
 * After "nginx -s reopen" workers reopen the log one by one; a worker that
 * has not yet must not write behind the others into the old file.  Every
 * worker that sees a new file descriptor or a new generation compares its
 * file with the path's, and moves to the path's file if its own is old.
 */
static void
ngx_http_lgsp_log_follow(ngx_http_lgsp_log_t *log, ngx_log_t *elog)
{
    ngx_fd_t                 fd;
    ngx_file_info_t          fi, pi;
    ngx_http_lgsp_log_sh_t  *sh;

    sh = log->sh;

    if (log->file->fd == log->fd_seen && log->generation == sh->generation) {
        return;
    }

    /* whatever comes of it, look again only at the next change */
    log->generation = sh->generation;
    log->fd_seen = log->file->fd;

    if (ngx_fd_info(log->file->fd, &fi) == NGX_FILE_ERROR) {
        return;
    }

    /* a path out of reach or not (yet) there: stay with this file */
    if (ngx_file_info(log->path.data, &pi) != NGX_FILE_ERROR
        && (ngx_file_uniq(&pi) != ngx_file_uniq(&fi)
            || pi.st_dev != fi.st_dev))
    {
        fd = ngx_open_file(log->path.data, NGX_FILE_APPEND,
                           NGX_FILE_CREATE_OR_OPEN, NGX_FILE_DEFAULT_ACCESS);

        if (fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_ERR, elog, ngx_errno,
                          ngx_open_file_n " \"%V\" failed", &log->path);
            return;
        }

        if (dup2(fd, log->file->fd) == -1
            || ngx_fd_info(log->file->fd, &fi) == NGX_FILE_ERROR)
        {
            ngx_log_error(NGX_LOG_ERR, elog, ngx_errno,
                          "dup2() to \"%V\" failed", &log->path);
        }

        ngx_close_file(fd);
    }

    if (ngx_file_uniq(&fi) != sh->uniq || fi.st_dev != sh->dev) {
        sh->uniq = ngx_file_uniq(&fi);
        sh->dev = fi.st_dev;
        sh->generation++;
        log->generation = sh->generation;
    }
}


/* RFC 3339 in UTC with milliseconds */
static u_char *
ngx_http_lgsp_log_time(u_char *p, time_t sec, ngx_msec_t msec)
{
    ngx_tm_t       tm;
    static time_t  last = -1;
    static u_char  second[sizeof("1970-01-01T00:00:00") - 1];

    /* a worker's records come seconds at a time: each second printed once */
    if (sec != last) {
        ngx_gmtime(sec, &tm);

        (void) ngx_sprintf(second, "%4d-%02d-%02dT%02d:%02d:%02d",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
        last = sec;
    }

    p = ngx_cpymem(p, second, sizeof(second));
    p = ngx_http_lgsp_log_millis(p, msec);
    *p++ = 'Z';

    return p;
}


/*
 * The numbers of a record, without ngx_sprintf(): its format string,
 * parsed for every number, cost more than the rest of the line.
 */
static u_char *
ngx_http_lgsp_log_uint(u_char *p, uint64_t n)
{
    return (u_char *) lgsp_uint((char *) p, n);
}


static u_char *
ngx_http_lgsp_log_int(u_char *p, int64_t n)
{
    return (u_char *) lgsp_int((char *) p, n);
}


/* {"seq":N, */
static u_char *
ngx_http_lgsp_log_seq(u_char *p, uint64_t seq)
{
    p = ngx_cpymem(p, "{\"seq\":", sizeof("{\"seq\":") - 1);
    p = ngx_http_lgsp_log_uint(p, seq);
    *p++ = ',';

    return p;
}


/*
 * milliseconds as seconds with three decimals, 1.005; the seconds signed,
 * as "%T.%03M" printed them (a sum of unknown upstream times wraps)
 */
static u_char *
ngx_http_lgsp_log_msec(u_char *p, ngx_msec_t ms)
{
    p = ngx_http_lgsp_log_int(p, (time_t) ms / 1000);

    return ngx_http_lgsp_log_millis(p, ms);
}


/* .MMM: the milliseconds of ms */
static u_char *
ngx_http_lgsp_log_millis(u_char *p, ngx_msec_t ms)
{
    *p++ = '.';
    *p++ = (u_char) ('0' + ms / 100 % 10);
    *p++ = (u_char) ('0' + ms / 10 % 10);
    *p++ = (u_char) ('0' + ms % 10);

    return p;
}


/* a JSON string, or null when empty */
static u_char *
ngx_http_lgsp_log_string(u_char *p, ngx_str_t *s)
{
    if (s->len == 0) {
        return ngx_cpymem(p, "null", 4);
    }

    *p++ = '"';
    p = lgsp_json_escape(p, s->data, s->len);
    *p++ = '"';

    return p;
}


static size_t
ngx_http_lgsp_log_string_len(ngx_str_t *s)
{
    return 4 + lgsp_json_escape_len(s->data, s->len);
}


/*
 * Every worker looks at the log now and then: a checkpoint every N
 * seconds also when no request comes, and buffered lines no older than
 * flush=.
 */
static void
ngx_http_lgsp_log_timer(ngx_event_t *ev)
{
    ngx_http_lgsp_log_t     *log;
    ngx_http_lgsp_log_sh_t  *sh;

    log = ev->data;
    sh = log->sh;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_lgsp_log_lock(log, ev->log);

    if (log->interval && log->key && sh->unsigned_lines
        && ngx_time() - sh->checkpoint_time >= log->interval)
    {
        ngx_http_lgsp_log_checkpoint(log, ev->log);
    }

    if (sh->buf_len
        && (ngx_msec_int_t) (ngx_current_msec - sh->buf_since)
           >= (ngx_msec_int_t) log->flush)
    {
        (void) ngx_http_lgsp_log_flush(log, ev->log);
    }

    ngx_shmtx_unlock(&log->shpool->mutex);

    ngx_add_timer(ev, log->period);
}


/*
 * Notes the request's service before an error_page may move it; with
 * on_error=deny, refuses requests while the log cannot be written.
 */
static ngx_int_t
ngx_http_lgsp_log_preaccess(ngx_http_request_t *r)
{
    ngx_http_lgsp_ctx_t       *ctx;
    ngx_http_lgsp_loc_conf_t  *llcf;

    if (r != r->main || !ngx_http_lgsp_applies(r)) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_lgsp_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_module);

    if (ctx->service.len == 0) {
        ctx->service = llcf->service;
        ctx->tenant = llcf->tenant;
    }

    return ngx_http_lgsp_log_gate(r);
}


static ngx_int_t
ngx_http_lgsp_log_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_lgsp_log_t  *olog = data;

    ngx_http_lgsp_log_t  *log;

    log = shm_zone->data;
    log->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (olog) {
        /* a reload: the chain goes on from the old configuration's head */
        log->sh = olog->sh;
        return NGX_OK;
    }

    log->sh = ngx_slab_calloc(log->shpool, sizeof(ngx_http_lgsp_log_sh_t));
    if (log->sh == NULL) {
        return NGX_ERROR;
    }

    /* of the largest size, so that a reload may change buffer= */
    log->sh->buf = ngx_slab_alloc(log->shpool, NGX_HTTP_LGSP_LOG_BUFFER_MAX);
    if (log->sh->buf == NULL) {
        return NGX_ERROR;
    }

    log->shpool->data = log->sh;

    ngx_http_lgsp_log_read_head(log, shm_zone->shm.log);

    log->sh->file_seq = log->sh->seq;
    ngx_memcpy(log->sh->file_head, log->sh->head, LGSP_CHAIN_HASH_HEX);

    log->sh->checkpoint_time = ngx_time();

    return NGX_OK;
}


/* a start continues the chain from the log's last line */
static void
ngx_http_lgsp_log_read_head(ngx_http_lgsp_log_t *log, ngx_log_t *elog)
{
    ngx_fd_t   fd, wfd;
    ngx_int_t  rc;

    lgsp_chain_genesis((char *) log->sh->head);

    /* read and write: a partial line a crash left is cut off */
    fd = ngx_open_file(log->path.data, NGX_FILE_RDWR, NGX_FILE_OPEN, 0);
    wfd = fd;

    if (fd == NGX_INVALID_FILE) {
        fd = ngx_open_file(log->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                           0);
        if (fd == NGX_INVALID_FILE) {
            return;
        }
    }

    rc = ngx_http_lgsp_log_tail(log, fd, wfd, &log->sh->seq, log->sh->head,
                                elog);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_WARN, elog, 0,
                      "lgsp: the last line of \"%V\" is not a record:"
                      " a new chain begins after it", &log->path);
        log->sh->seq = 0;
        lgsp_chain_genesis((char *) log->sh->head);
    }

    ngx_close_file(fd);
}


/*
 * lgsp_transaction_log path [key=path] [checkpoint=N|time]
 *     [buffer=size [flush=time]] [on_error=deny|pass];
 * lgsp_transaction_log off;
 */
static char *
ngx_http_lgsp_transaction_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_log_srv_conf_t *lscf = conf;

    char                            err[256];
    u_char                         *p;
    ngx_int_t                       n;
    ssize_t                         buffer;
    ngx_str_t                      *value, path, name, key_path, s;
    ngx_msec_t                      flush;
    ngx_uint_t                      i, every;
    time_t                          interval;
    ngx_flag_t                      deny;
    ngx_pool_cleanup_t             *cln;
    ngx_http_lgsp_log_t            *log, **logp;
    ngx_http_lgsp_log_main_conf_t  *lmcf;

    if (lscf->log != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        lscf->log = NULL;
        return NGX_CONF_OK;
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&key_path);
    every = 0;
    interval = 0;
    deny = 0;
    buffer = 0;
    flush = NGX_CONF_UNSET_MSEC;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0 && value[i].len > 4) {
            key_path.data = value[i].data + 4;
            key_path.len = value[i].len - 4;

            if (ngx_conf_full_name(cf->cycle, &key_path, 1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "checkpoint=", 11) == 0) {
            s.data = value[i].data + 11;
            s.len = value[i].len - 11;

            n = ngx_atoi(s.data, s.len);

            if (n > 0) {
                every = n;
                continue;
            }

            interval = ngx_parse_time(&s, 1);

            if (interval != (time_t) NGX_ERROR && interval > 0) {
                continue;
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid checkpoint \"%V\": a count of"
                               " records or a time such as 60s", &s);
            return NGX_CONF_ERROR;
        }

        if (ngx_strncmp(value[i].data, "buffer=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            buffer = ngx_parse_size(&s);

            if (buffer <= 0 || buffer > NGX_HTTP_LGSP_LOG_BUFFER_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid buffer \"%V\": a size up to"
                                   " 64k", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            flush = ngx_parse_time(&s, 0);

            if (flush == (ngx_msec_t) NGX_ERROR || flush == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid flush time \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "on_error=deny") == 0) {
            deny = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "on_error=pass") == 0) {
            deny = 0;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if ((every || interval) && key_path.len == 0) {
        return "needs key= for checkpoint=: a checkpoint is signed";
    }

    if (flush != NGX_CONF_UNSET_MSEC && buffer == 0) {
        return "needs buffer= for flush=";
    }

    if (flush == NGX_CONF_UNSET_MSEC) {
        flush = 1000;
    }

    if (key_path.len && every == 0 && interval == 0) {
        every = 1000;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_log_module);

    /* one chain per file: servers that name the same file share it */
    logp = lmcf->logs.elts;

    for (i = 0; i < lmcf->logs.nelts; i++) {
        log = logp[i];

        if (log->path.len == path.len
            && ngx_strncmp(log->path.data, path.data, path.len) == 0)
        {
            if (log->every != every || log->interval != interval
                || log->deny != deny || log->buffer != (size_t) buffer
                || log->flush != flush || log->key_path.len != key_path.len
                || ngx_strncmp(log->key_path.data, key_path.data,
                               key_path.len)
                   != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" is already a transaction log with"
                                   " other parameters", &path);
                return NGX_CONF_ERROR;
            }

            lscf->log = log;
            return NGX_CONF_OK;
        }
    }

    log = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_log_t));
    if (log == NULL) {
        return NGX_CONF_ERROR;
    }

    log->path = path;
    log->key_path = key_path;
    log->every = every;
    log->interval = interval;
    log->deny = deny;
    log->buffer = buffer;
    log->flush = flush;
    log->fd_seen = NGX_INVALID_FILE;

    if (interval) {
        log->period = (ngx_msec_t) interval * 1000;
    }

    if (buffer && (log->period == 0 || flush < log->period)) {
        log->period = flush;
    }

    if (key_path.len) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        log->key = lgsp_chain_load_key((char *) key_path.data, 1, err,
                                       sizeof(err));
        if (log->key == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid checkpoint key: %s", err);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_lgsp_log_free_key;
        cln->data = log->key;

        if (lgsp_chain_key_id(log->key, log->key_id) != 0) {
            return "cannot read the public half of the key";
        }
    }

    log->file = ngx_conf_open_file(cf->cycle, &path);
    if (log->file == NULL) {
        return NGX_CONF_ERROR;
    }

    name.len = sizeof("lgsp_transaction_log:") - 1 + path.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(name.data, "lgsp_transaction_log:",
                   sizeof("lgsp_transaction_log:") - 1);
    ngx_memcpy(p, path.data, path.len);

    log->zone = ngx_shared_memory_add(cf, &name,
                                      8 * ngx_pagesize
                                      + 2 * NGX_HTTP_LGSP_LOG_BUFFER_MAX,
                                      &ngx_http_lgsp_log_module);
    if (log->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    log->zone->init = ngx_http_lgsp_log_init_zone;
    log->zone->data = log;

    logp = ngx_array_push(&lmcf->logs);
    if (logp == NULL) {
        return NGX_CONF_ERROR;
    }

    *logp = log;
    lscf->log = log;

    return NGX_CONF_OK;
}


static void
ngx_http_lgsp_log_free_key(void *data)
{
    EVP_PKEY_free(data);
}


static void *
ngx_http_lgsp_log_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_log_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_log_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&conf->logs, cf->pool, 2,
                       sizeof(ngx_http_lgsp_log_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return conf;
}


static void *
ngx_http_lgsp_log_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_log_srv_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_lgsp_log_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->log = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_lgsp_log_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lgsp_log_srv_conf_t *prev = parent;
    ngx_http_lgsp_log_srv_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->log, prev->log, NULL);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_log_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_lgsp_configured(cf)) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_log_preaccess;

    /* the rest serves lgsp_transaction_log alone: nothing to run without */
    if (!ngx_http_lgsp_module_used(cf, &ngx_http_lgsp_log_module)) {
        return NGX_OK;
    }

    /* registered before the other modules': it runs after their steps */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_log_gate;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_lgsp_log_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_lgsp_log_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_lgsp_log_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_log_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_lgsp_log_t           **logp, *log;
    ngx_http_lgsp_log_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_lgsp_log_module);
    if (lmcf == NULL) {
        return NGX_OK;
    }

    logp = lmcf->logs.elts;

    for (i = 0; i < lmcf->logs.nelts; i++) {
        log = logp[i];

        if (log->period == 0) {
            continue;
        }

        log->timer.handler = ngx_http_lgsp_log_timer;
        log->timer.data = log;
        log->timer.log = cycle->log;
        log->timer.cancelable = 1;

        ngx_add_timer(&log->timer, log->period);
    }

    return NGX_OK;
}


/* a worker that stops writes what it buffered */
static void
ngx_http_lgsp_log_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_lgsp_log_t           **logp;
    ngx_http_lgsp_log_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_lgsp_log_module);
    if (lmcf == NULL) {
        return;
    }

    logp = lmcf->logs.elts;

    for (i = 0; i < lmcf->logs.nelts; i++) {
        if (logp[i]->buffer) {
            ngx_http_lgsp_log_lock(logp[i], cycle->log);
            (void) ngx_http_lgsp_log_flush(logp[i], cycle->log);

            if (logp[i]->sh->buf_lines) {
                ngx_log_error(NGX_LOG_CRIT, cycle->log, 0,
                              "lgsp: %uL buffered records of \"%V\" cannot"
                              " be written: they stay in shared memory for"
                              " the next workers, a stop loses them",
                              logp[i]->sh->buf_lines, &logp[i]->path);
            }

            ngx_shmtx_unlock(&logp[i]->shpool->mutex);
        }
    }
}
