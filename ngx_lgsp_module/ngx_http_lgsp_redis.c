/*
 * LGSP on nginx: the Redis adapter (see ngx_http_lgsp_redis.h).  nginx
 * owns the socket and the events: ngx_event_connect_peer() connects,
 * c->send() writes the commands, c->recv() reads the replies, and nginx
 * timers bound the connect and every command.  hiredis only turns bytes
 * into replies, and only bytes that lgsp_redis.c has found well formed
 * and within bounds.  Replies come in the order of the commands: the
 * queue of pending commands says whose each reply is, and a reply when
 * nothing is pending ends the connection.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_lgsp_metrics.h"
#include "ngx_http_lgsp_redis.h"
#include "lgsp_redis.h"
#include "lgsp_uint.h"


#define NGX_HTTP_LGSP_REDIS_PORT         6379
#define NGX_HTTP_LGSP_REDIS_TIMEOUT      100
#define NGX_HTTP_LGSP_REDIS_BACKOFF      100     /* ms, doubled per round */
#define NGX_HTTP_LGSP_REDIS_BACKOFF_MAX  3000
#define NGX_HTTP_LGSP_REDIS_RECV         16384   /* bytes read at once */


/*
 * What one reply may be: far above what the quota script answers (a few
 * thousand bytes, at most 1024 integers, no nesting), far below what
 * hiredis would take (any length, any count a header announces).
 */
static lgsp_redis_limits_t  ngx_http_lgsp_redis_limits = {
    4 * 1024 * 1024,        /* bytes */
    16384,                  /* elements, at every level together */
    6                       /* arrays within arrays */
};


typedef struct {
    ngx_str_t                       name;       /* as written, for logs */
    ngx_addr_t                      addr;
    ngx_int_t                       db;         /* -1: no SELECT */
    ngx_str_t                       password;   /* empty: no AUTH */
    ngx_msec_t                      timeout;
    ngx_msec_t                      connect_timeout;
} ngx_http_lgsp_redis_server_t;


/* shared by the workers, so an outage is logged once, not per worker */
typedef struct {
    ngx_atomic_t                    down;
} ngx_http_lgsp_redis_shared_t;


struct ngx_http_lgsp_redis_s {
    ngx_array_t                     servers;    /* failover order */
    ngx_array_t                     scripts;    /* of script pointers */
    ngx_shm_zone_t                 *zone;
    ngx_http_lgsp_redis_shared_t   *shared;

    /* this worker's link */
    ngx_connection_t               *connection; /* NULL: none */
    lgsp_redis_reader_t            *reader;
    ngx_queue_t                     pending;    /* commands, in send order */
    u_char                         *out;        /* commands not sent yet */
    u_char                         *out_pos;
    u_char                         *out_last;
    u_char                         *out_end;
    u_char                         *in;         /* NGX_HTTP_LGSP_REDIS_RECV */
    ngx_uint_t                      generation; /* of links made */
    ngx_log_t                       log;        /* the cycle's, quieter */
    ngx_http_lgsp_redis_server_t   *server;     /* connected or tried */
    ngx_uint_t                      current;
    ngx_uint_t                      failures;   /* servers failed in a row */
    ngx_uint_t                      rounds;     /* whole lists failed */
    ngx_msec_t                      retry_at;   /* backoff: no link before */
    ngx_event_t                     connect_timer;
    unsigned                        connected:1;
};


/* a command sent or to be sent; AUTH, SELECT, SCRIPT LOAD have no handler */
typedef struct {
    ngx_queue_t                     queue;
    ngx_http_lgsp_redis_t          *redis;
    ngx_http_lgsp_redis_script_t   *script;
    ngx_http_lgsp_redis_handler_pt  handler;
    void                           *data;
    ngx_event_t                     timer;
    int                             argc;
    const char                    **argv;
    size_t                         *argvlen;
    unsigned                        retried:1;
    unsigned                        moved:1;
} ngx_http_lgsp_redis_cmd_t;


static ngx_http_lgsp_redis_cmd_t *ngx_http_lgsp_redis_cmd(
    ngx_http_lgsp_redis_t *rd, ngx_str_t *args, ngx_uint_t nargs,
    size_t extra);
static ngx_int_t ngx_http_lgsp_redis_connect(ngx_http_lgsp_redis_t *rd);
static ngx_int_t ngx_http_lgsp_redis_setup(ngx_http_lgsp_redis_t *rd);
static ngx_int_t ngx_http_lgsp_redis_setup_command(ngx_http_lgsp_redis_t *rd,
    ngx_str_t *args, ngx_uint_t nargs);
static ngx_int_t ngx_http_lgsp_redis_queue(ngx_http_lgsp_redis_t *rd,
    ngx_http_lgsp_redis_cmd_t *cmd);
static void ngx_http_lgsp_redis_failed(ngx_http_lgsp_redis_t *rd,
    const char *kind, const char *reason);
static void ngx_http_lgsp_redis_succeeded(ngx_http_lgsp_redis_t *rd);
static void ngx_http_lgsp_redis_unlink(ngx_http_lgsp_redis_t *rd,
    ngx_queue_t *pending);
static void ngx_http_lgsp_redis_fail_all(ngx_queue_t *pending);
static void ngx_http_lgsp_redis_connect_failed(ngx_http_lgsp_redis_t *rd,
    ngx_err_t err);
static ngx_int_t ngx_http_lgsp_redis_test_connect(ngx_connection_t *c,
    ngx_http_lgsp_redis_t *rd);
static void ngx_http_lgsp_redis_read_handler(ngx_event_t *rev);
static void ngx_http_lgsp_redis_write_handler(ngx_event_t *wev);
static void ngx_http_lgsp_redis_send(ngx_http_lgsp_redis_t *rd);
static ngx_int_t ngx_http_lgsp_redis_replies(ngx_http_lgsp_redis_t *rd);
static void ngx_http_lgsp_redis_reply(ngx_http_lgsp_redis_t *rd,
    ngx_http_lgsp_redis_cmd_t *cmd, redisReply *reply);
static void ngx_http_lgsp_redis_timeout(ngx_event_t *ev);
static void ngx_http_lgsp_redis_connect_timeout(ngx_event_t *ev);
static char *ngx_http_lgsp_redis_password(ngx_conf_t *cf,
    ngx_http_lgsp_redis_server_t *srv, ngx_str_t *path);
static ngx_int_t ngx_http_lgsp_redis_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


ngx_http_lgsp_redis_t *
ngx_http_lgsp_redis_create(ngx_conf_t *cf, void *tag)
{
    ngx_str_t               name = ngx_string("lgsp_redis");
    ngx_http_lgsp_redis_t  *rd;

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    if (ngx_array_init(&rd->servers, cf->pool, 2,
                       sizeof(ngx_http_lgsp_redis_server_t))
        != NGX_OK
        || ngx_array_init(&rd->scripts, cf->pool, 1,
                          sizeof(ngx_http_lgsp_redis_script_t *))
           != NGX_OK)
    {
        return NULL;
    }

    ngx_queue_init(&rd->pending);

    rd->zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize, tag);
    if (rd->zone == NULL) {
        return NULL;
    }

    rd->zone->init = ngx_http_lgsp_redis_init_zone;
    rd->zone->data = rd;

    return rd;
}


char *
ngx_http_lgsp_redis_add_server(ngx_conf_t *cf, ngx_http_lgsp_redis_t *rd)
{
    ngx_int_t                      n;
    ngx_str_t                     *value, s;
    ngx_url_t                      u;
    ngx_uint_t                     i;
    ngx_http_lgsp_redis_server_t  *srv;

    value = cf->args->elts;

    srv = ngx_array_push(&rd->servers);
    if (srv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(srv, sizeof(ngx_http_lgsp_redis_server_t));
    srv->db = -1;
    srv->timeout = NGX_CONF_UNSET_MSEC;
    srv->connect_timeout = NGX_CONF_UNSET_MSEC;

    /* resolved here, once: a worker never waits for DNS */
    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = NGX_HTTP_LGSP_REDIS_PORT;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in redis \"%V\"",
                           u.err ? u.err : "invalid address", &u.url);
        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0 || u.family == AF_UNIX || u.uri.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis address \"%V\": use HOST:PORT",
                           &u.url);
        return NGX_CONF_ERROR;
    }

    srv->name = value[1];
    srv->addr = u.addrs[0];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            srv->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            if (ngx_http_lgsp_redis_password(cf, srv, &s) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            srv->timeout = ngx_parse_time(&s, 0);
            if (srv->timeout == (ngx_msec_t) NGX_ERROR || srv->timeout == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;

            srv->connect_timeout = ngx_parse_time(&s, 0);
            if (srv->connect_timeout == (ngx_msec_t) NGX_ERROR
                || srv->connect_timeout == 0)
            {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (srv->timeout == NGX_CONF_UNSET_MSEC) {
        srv->timeout = NGX_HTTP_LGSP_REDIS_TIMEOUT;
    }

    if (srv->connect_timeout == NGX_CONF_UNSET_MSEC) {
        srv->connect_timeout = srv->timeout;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_lgsp_redis_add_script(ngx_conf_t *cf, ngx_http_lgsp_redis_t *rd,
    ngx_http_lgsp_redis_script_t *script)
{
    u_char                          digest[20];
    ngx_sha1_t                      sha1;
    ngx_http_lgsp_redis_script_t  **s;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, script->text.data, script->text.len);
    ngx_sha1_final(digest, &sha1);
    ngx_hex_dump(script->sha1, digest, sizeof(digest));

    s = ngx_array_push(&rd->scripts);
    if (s == NULL) {
        return NGX_ERROR;
    }

    *s = script;

    return NGX_OK;
}


ngx_int_t
ngx_http_lgsp_redis_eval(ngx_http_lgsp_redis_t *rd,
    ngx_http_lgsp_redis_script_t *script, ngx_str_t *keys, ngx_uint_t nkeys,
    ngx_str_t *args, ngx_uint_t nargs, ngx_http_lgsp_redis_handler_pt handler,
    void *data)
{
    u_char                     *p;
    size_t                      size;
    ngx_uint_t                  i;
    ngx_str_t                  *s;
    ngx_http_lgsp_redis_cmd_t  *cmd;

    if (ngx_http_lgsp_redis_link(rd) != NGX_OK) {
        return NGX_DECLINED;
    }

    size = NGX_INT_T_LEN;

    for (i = 0; i < nkeys + nargs; i++) {
        size += (i < nkeys) ? keys[i].len : args[i - nkeys].len;
    }

    cmd = ngx_http_lgsp_redis_cmd(rd, NULL, 3 + nkeys + nargs, size);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->script = script;
    cmd->handler = handler;
    cmd->data = data;

    cmd->argv[0] = "EVALSHA";
    cmd->argvlen[0] = sizeof("EVALSHA") - 1;
    cmd->argv[1] = (char *) script->sha1;
    cmd->argvlen[1] = sizeof(script->sha1);

    p = (u_char *) (cmd->argvlen + cmd->argc);
    cmd->argv[2] = (char *) p;
    p = (u_char *) lgsp_uint((char *) p, nkeys);
    cmd->argvlen[2] = p - (u_char *) cmd->argv[2];

    for (i = 0; i < nkeys + nargs; i++) {
        s = (i < nkeys) ? &keys[i] : &args[i - nkeys];
        cmd->argv[3 + i] = (char *) p;
        cmd->argvlen[3 + i] = s->len;
        p = ngx_cpymem(p, s->data, s->len);
    }

    if (ngx_http_lgsp_redis_queue(rd, cmd) != NGX_OK) {
        ngx_free(cmd);
        return NGX_ERROR;
    }

    cmd->timer.handler = ngx_http_lgsp_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = ngx_cycle->log;
    ngx_add_timer(&cmd->timer, rd->server->timeout);

    return NGX_AGAIN;
}


/*
 * A command of nargs strings, room for them after it: copied from args
 * when given, else the caller fills them in (extra bytes more for that).
 */
static ngx_http_lgsp_redis_cmd_t *
ngx_http_lgsp_redis_cmd(ngx_http_lgsp_redis_t *rd, ngx_str_t *args,
    ngx_uint_t nargs, size_t extra)
{
    u_char                     *p;
    size_t                      size;
    ngx_uint_t                  i;
    ngx_http_lgsp_redis_cmd_t  *cmd;

    size = sizeof(ngx_http_lgsp_redis_cmd_t)
           + nargs * (sizeof(char *) + sizeof(size_t)) + extra;

    for (i = 0; args && i < nargs; i++) {
        size += args[i].len;
    }

    cmd = ngx_alloc(size, ngx_cycle->log);
    if (cmd == NULL) {
        return NULL;
    }

    ngx_memzero(cmd, sizeof(ngx_http_lgsp_redis_cmd_t));

    cmd->redis = rd;
    cmd->argc = nargs;
    cmd->argv = (const char **) (cmd + 1);
    cmd->argvlen = (size_t *) (cmd->argv + nargs);

    p = (u_char *) (cmd->argvlen + nargs);

    for (i = 0; args && i < nargs; i++) {
        cmd->argv[i] = (char *) p;
        cmd->argvlen[i] = args[i].len;
        p = ngx_cpymem(p, args[i].data, args[i].len);
    }

    return cmd;
}


ngx_int_t
ngx_http_lgsp_redis_link(ngx_http_lgsp_redis_t *rd)
{
    ngx_uint_t  tries;

    /* a connect refused at once moves on to the next server at once */
    for (tries = 0; rd->connection == NULL; tries++) {

        if (ngx_exiting || ngx_terminate || tries == rd->servers.nelts
            || (ngx_msec_int_t) (rd->retry_at - ngx_current_msec) > 0)
        {
            return NGX_DECLINED;
        }

        (void) ngx_http_lgsp_redis_connect(rd);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_redis_connect(ngx_http_lgsp_redis_t *rd)
{
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_peer_connection_t          pc;
    ngx_http_lgsp_redis_server_t  *srv;

    srv = (ngx_http_lgsp_redis_server_t *) rd->servers.elts + rd->current;
    rd->server = srv;

    /*
     * the adapter says itself, once across workers, when a server fails:
     * nginx's own "connect() failed" and "recv() failed" lines would say
     * it again for every try
     */
    rd->log = *ngx_cycle->log;
    rd->log.log_level = ngx_min(rd->log.log_level, NGX_LOG_CRIT);

    rd->reader = lgsp_redis_reader_create(&ngx_http_lgsp_redis_limits);

    if (rd->in == NULL) {
        rd->in = ngx_alloc(NGX_HTTP_LGSP_REDIS_RECV, ngx_cycle->log);
    }

    if (rd->reader == NULL || rd->in == NULL) {
        lgsp_redis_reader_free(rd->reader);
        rd->reader = NULL;
        ngx_http_lgsp_redis_failed(rd, "internal", "out of memory");
        return NGX_ERROR;
    }

    ngx_memzero(&pc, sizeof(ngx_peer_connection_t));
    pc.sockaddr = srv->addr.sockaddr;
    pc.socklen = srv->addr.socklen;
    pc.name = &srv->name;
    pc.get = ngx_event_get_peer;
    pc.log = &rd->log;
    pc.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&pc);

    if (rc != NGX_OK && rc != NGX_AGAIN) {
        /* refused at once, or no socket: nginx closed what it made */
        lgsp_redis_reader_free(rd->reader);
        rd->reader = NULL;
        ngx_http_lgsp_redis_failed(rd, "connect", "connect failed");
        return NGX_ERROR;
    }

    c = pc.connection;
    c->data = rd;
    c->idle = 1;        /* closed when the worker shuts down gracefully */
    c->read->handler = ngx_http_lgsp_redis_read_handler;
    c->write->handler = ngx_http_lgsp_redis_write_handler;

    rd->connection = c;
    rd->connected = (rc == NGX_OK);
    rd->generation++;

    if (rc == NGX_AGAIN) {
        /* the write event tells when the connect is done */
        rd->connect_timer.handler = ngx_http_lgsp_redis_connect_timeout;
        rd->connect_timer.data = rd;
        rd->connect_timer.log = ngx_cycle->log;
        rd->connect_timer.cancelable = 1;
        ngx_add_timer(&rd->connect_timer, srv->connect_timeout);
    }

    if (ngx_http_lgsp_redis_setup(rd) != NGX_OK) {
        ngx_http_lgsp_redis_failed(rd, "internal",
                                   "cannot queue setup commands");
        ngx_http_lgsp_redis_close(rd);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* AUTH, SELECT and SCRIPT LOAD, pipelined ahead of the first command */
static ngx_int_t
ngx_http_lgsp_redis_setup(ngx_http_lgsp_redis_t *rd)
{
    u_char                          db[NGX_INT_T_LEN];
    ngx_str_t                       args[3];
    ngx_uint_t                      i;
    ngx_http_lgsp_redis_server_t   *srv;
    ngx_http_lgsp_redis_script_t  **scripts;

    srv = rd->server;

    if (srv->password.len) {
        ngx_str_set(&args[0], "AUTH");
        args[1] = srv->password;

        if (ngx_http_lgsp_redis_setup_command(rd, args, 2) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (srv->db >= 0) {
        ngx_str_set(&args[0], "SELECT");
        args[1].data = db;
        args[1].len = ngx_sprintf(db, "%i", srv->db) - db;

        if (ngx_http_lgsp_redis_setup_command(rd, args, 2) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    ngx_str_set(&args[0], "SCRIPT");
    ngx_str_set(&args[1], "LOAD");
    scripts = rd->scripts.elts;

    for (i = 0; i < rd->scripts.nelts; i++) {
        args[2] = scripts[i]->text;

        if (ngx_http_lgsp_redis_setup_command(rd, args, 3) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_redis_setup_command(ngx_http_lgsp_redis_t *rd,
    ngx_str_t *args, ngx_uint_t nargs)
{
    ngx_http_lgsp_redis_cmd_t  *cmd;

    cmd = ngx_http_lgsp_redis_cmd(rd, args, nargs, 0);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_lgsp_redis_queue(rd, cmd) != NGX_OK) {
        ngx_free(cmd);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the command goes into the output and the queue; sent once connected */
static ngx_int_t
ngx_http_lgsp_redis_queue(ngx_http_lgsp_redis_t *rd,
    ngx_http_lgsp_redis_cmd_t *cmd)
{
    u_char            *out;
    size_t             size, used, room;
    ngx_connection_t  *c;

    size = lgsp_redis_command_size(cmd->argc, cmd->argvlen);

    if ((size_t) (rd->out_end - rd->out_last) < size) {
        used = rd->out_last - rd->out_pos;
        room = rd->out_end - rd->out;

        if (room < used + size) {
            room = ngx_max(2 * room, used + size + 4096);

            out = ngx_alloc(room, ngx_cycle->log);
            if (out == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(out, rd->out_pos, used);
            ngx_free(rd->out);
            rd->out = out;
            rd->out_end = out + room;

        } else {
            ngx_memmove(rd->out, rd->out_pos, used);
        }

        rd->out_pos = rd->out;
        rd->out_last = rd->out + used;
    }

    rd->out_last = (u_char *) lgsp_redis_command_write((char *) rd->out_last,
                                                       cmd->argc, cmd->argv,
                                                       cmd->argvlen);

    ngx_queue_insert_tail(&rd->pending, &cmd->queue);

    /* commands of this turn of the event loop leave in one write */
    c = rd->connection;

    if (rd->connected && !c->write->posted) {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    return NGX_OK;
}


/*
 * A server failed: the outage is logged once across workers and counted
 * by kind (connect, connection, timeout, reply, protocol, setup,
 * internal) in the metrics, the next server is tried next, and once every
 * server has failed in a row, none is tried again before a backoff that
 * doubles up to a few seconds.
 */
static void
ngx_http_lgsp_redis_failed(ngx_http_lgsp_redis_t *rd, const char *kind,
    const char *reason)
{
    ngx_str_t   label;
    ngx_msec_t  delay;

    label.data = (u_char *) kind;
    label.len = ngx_strlen(kind);

    ngx_http_lgsp_metrics_count(ngx_cycle, NGX_HTTP_LGSP_METRIC_REDIS_ERRORS,
                                &label, 1);
    ngx_http_lgsp_metrics_set(ngx_cycle, NGX_HTTP_LGSP_METRIC_REDIS_UP,
                              NULL, 0);

    if (ngx_atomic_cmp_set(&rd->shared->down, 0, 1)) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "lgsp: redis %V failed: %s; quotas follow"
                      " lgsp_quota_fallback until redis answers again",
                      &rd->server->name, reason);

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "lgsp: redis %V failed: %s", &rd->server->name,
                       reason);
    }

    rd->current = (rd->current + 1) % rd->servers.nelts;

    if (++rd->failures < rd->servers.nelts) {
        return;
    }

    rd->failures = 0;
    delay = NGX_HTTP_LGSP_REDIS_BACKOFF << ngx_min(rd->rounds, 5);
    rd->rounds++;
    rd->retry_at = ngx_current_msec
                   + ngx_min(delay, NGX_HTTP_LGSP_REDIS_BACKOFF_MAX);
}


static void
ngx_http_lgsp_redis_succeeded(ngx_http_lgsp_redis_t *rd)
{
    rd->failures = 0;
    rd->rounds = 0;

    ngx_http_lgsp_metrics_set(ngx_cycle, NGX_HTTP_LGSP_METRIC_REDIS_UP,
                              NULL, 1);

    if (ngx_atomic_cmp_set(&rd->shared->down, 1, 0)) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "lgsp: redis %V answers again; quotas are counted"
                      " in redis again", &rd->server->name);
    }
}


/* every pending command gets its failure, after the link is gone */
void
ngx_http_lgsp_redis_close(ngx_http_lgsp_redis_t *rd)
{
    ngx_queue_t  pending;

    ngx_http_lgsp_redis_unlink(rd, &pending);
    ngx_http_lgsp_redis_fail_all(&pending);
}


/*
 * Drops the link and hands its pending commands over, so that their
 * handlers, which may send anew, find the adapter with no link.
 */
static void
ngx_http_lgsp_redis_unlink(ngx_http_lgsp_redis_t *rd, ngx_queue_t *pending)
{
    ngx_queue_init(pending);

    if (!ngx_queue_empty(&rd->pending)) {
        ngx_queue_add(pending, &rd->pending);
        ngx_queue_init(&rd->pending);
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (rd->connection) {
        ngx_close_connection(rd->connection);
        rd->connection = NULL;
        rd->connected = 0;
    }

    lgsp_redis_reader_free(rd->reader);
    rd->reader = NULL;

    ngx_free(rd->out);
    ngx_free(rd->in);
    rd->out = NULL;
    rd->out_pos = NULL;
    rd->out_last = NULL;
    rd->out_end = NULL;
    rd->in = NULL;
}


static void
ngx_http_lgsp_redis_fail_all(ngx_queue_t *pending)
{
    ngx_queue_t                *q;
    ngx_http_lgsp_redis_cmd_t  *cmd;

    while (!ngx_queue_empty(pending)) {
        q = ngx_queue_head(pending);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_lgsp_redis_cmd_t, queue);

        if (cmd->timer.timer_set) {
            ngx_del_timer(&cmd->timer);
        }

        if (cmd->handler) {
            cmd->handler(cmd->data, NULL);
        }

        ngx_free(cmd);
    }
}


/*
 * The connect was refused: commands waiting for it go to the next server
 * once, still under their first timers, so a dead first server of the
 * list costs no request a fallback.
 */
static void
ngx_http_lgsp_redis_connect_failed(ngx_http_lgsp_redis_t *rd, ngx_err_t err)
{
    u_char                      reason[NGX_MAX_ERROR_STR];
    ngx_queue_t                 pending, failed, *q;
    ngx_http_lgsp_redis_cmd_t  *cmd;

    *ngx_strerror(err, reason, sizeof(reason) - 1) = '\0';

    ngx_http_lgsp_redis_failed(rd, "connect", (char *) reason);
    ngx_http_lgsp_redis_unlink(rd, &pending);

    ngx_queue_init(&failed);

    while (!ngx_queue_empty(&pending)) {
        q = ngx_queue_head(&pending);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_lgsp_redis_cmd_t, queue);

        if (cmd->handler == NULL) {
            ngx_free(cmd);      /* set up again on the next link */
            continue;
        }

        if (cmd->moved || ngx_http_lgsp_redis_link(rd) != NGX_OK
            || ngx_http_lgsp_redis_queue(rd, cmd) != NGX_OK)
        {
            ngx_queue_insert_tail(&failed, q);
            continue;
        }

        cmd->moved = 1;
    }

    ngx_http_lgsp_redis_fail_all(&failed);
}


/* NGX_OK once connected; else the failure is dealt with */
static ngx_int_t
ngx_http_lgsp_redis_test_connect(ngx_connection_t *c,
    ngx_http_lgsp_redis_t *rd)
{
    int        err;
    socklen_t  len;

    if (rd->connected) {
        return NGX_OK;
    }

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_lgsp_redis_connect_failed(rd, err);
        return NGX_ERROR;
    }

    rd->connected = 1;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    return NGX_OK;
}


static void
ngx_http_lgsp_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t       *c;
    ngx_http_lgsp_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (ngx_http_lgsp_redis_test_connect(c, rd) == NGX_OK) {
        ngx_http_lgsp_redis_send(rd);
    }
}


static void
ngx_http_lgsp_redis_send(ngx_http_lgsp_redis_t *rd)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = rd->connection;

    while (rd->out_pos < rd->out_last) {
        n = c->send(c, rd->out_pos, rd->out_last - rd->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_lgsp_redis_failed(rd, "connection", "send failed");
            ngx_http_lgsp_redis_close(rd);
            return;
        }

        rd->out_pos += n;
    }

    if (rd->out_pos == rd->out_last) {
        rd->out_pos = rd->out;
        rd->out_last = rd->out;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_lgsp_redis_failed(rd, "internal", "write event failed");
        ngx_http_lgsp_redis_close(rd);
    }
}


static void
ngx_http_lgsp_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                 n;
    ngx_connection_t       *c;
    ngx_http_lgsp_redis_t  *rd;

    c = rev->data;
    rd = c->data;

    if (c->close) {
        ngx_http_lgsp_redis_close(rd);
        return;
    }

    if (ngx_http_lgsp_redis_test_connect(c, rd) != NGX_OK) {
        return;
    }

    for ( ;; ) {
        n = c->recv(c, rd->in, NGX_HTTP_LGSP_REDIS_RECV);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_lgsp_redis_failed(rd, "connection",
                                       n ? "read failed"
                                         : "connection closed by redis");
            ngx_http_lgsp_redis_close(rd);
            return;
        }

        if (lgsp_redis_reader_feed(rd->reader, (char *) rd->in, n) != 0) {
            ngx_http_lgsp_redis_failed(rd, "protocol",
                                     lgsp_redis_reader_error(rd->reader));
            ngx_http_lgsp_redis_close(rd);
            return;
        }

        if (ngx_http_lgsp_redis_replies(rd) != NGX_OK) {
            return;
        }

        if (!rev->ready) {
            break;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_lgsp_redis_failed(rd, "internal", "read event failed");
        ngx_http_lgsp_redis_close(rd);
    }
}


/*
 * Each complete reply to the command it answers.  NGX_OK: the link is
 * still the one read from; else it is gone (a reply broke it, or a
 * handler's own doing) and nothing of it may be touched.
 */
static ngx_int_t
ngx_http_lgsp_redis_replies(ngx_http_lgsp_redis_t *rd)
{
    ngx_int_t                   rc;
    ngx_uint_t                  generation;
    ngx_queue_t                *q;
    redisReply                 *reply;
    ngx_http_lgsp_redis_cmd_t  *cmd;

    generation = rd->generation;

    for ( ;; ) {
        rc = lgsp_redis_reader_reply(rd->reader, &reply);

        if (rc == 0) {
            return NGX_OK;
        }

        if (rc < 0) {
            ngx_http_lgsp_redis_failed(rd, "protocol",
                                     lgsp_redis_reader_error(rd->reader));
            ngx_http_lgsp_redis_close(rd);
            return NGX_ERROR;
        }

        if (ngx_queue_empty(&rd->pending)) {
            /* what hiredis's own loop would assert on */
            freeReplyObject(reply);
            ngx_http_lgsp_redis_failed(rd, "protocol",
                                       "a reply no command asked for");
            ngx_http_lgsp_redis_close(rd);
            return NGX_ERROR;
        }

        q = ngx_queue_head(&rd->pending);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_lgsp_redis_cmd_t, queue);

        ngx_http_lgsp_redis_reply(rd, cmd, reply);

        freeReplyObject(reply);

        if (rd->connection == NULL || rd->generation != generation) {
            return NGX_ERROR;
        }
    }
}


static void
ngx_http_lgsp_redis_reply(ngx_http_lgsp_redis_t *rd,
    ngx_http_lgsp_redis_cmd_t *cmd, redisReply *reply)
{
    if (cmd->handler == NULL) {
        ngx_free(cmd);

        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_http_lgsp_redis_failed(rd, "setup", reply->str);
            ngx_http_lgsp_redis_close(rd);
        }

        return;
    }

    /* the script cache was flushed, or this server came up empty */
    if (reply->type == REDIS_REPLY_ERROR && !cmd->retried
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        cmd->retried = 1;
        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = sizeof("EVAL") - 1;
        cmd->argv[1] = (char *) cmd->script->text.data;
        cmd->argvlen[1] = cmd->script->text.len;

        if (ngx_http_lgsp_redis_queue(rd, cmd) == NGX_OK) {
            return;
        }
    }

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /* a replica (READONLY), a busy or broken server: try another */
        ngx_http_lgsp_redis_failed(rd, "reply", reply->str);
        ngx_http_lgsp_redis_close(rd);
        reply = NULL;

    } else {
        ngx_http_lgsp_redis_succeeded(rd);
    }

    cmd->handler(cmd->data, reply);

    ngx_free(cmd);
}


static void
ngx_http_lgsp_redis_timeout(ngx_event_t *ev)
{
    ngx_http_lgsp_redis_cmd_t *cmd = ev->data;

    /* a hung server: its link is useless, whatever else waits on it */
    ngx_http_lgsp_redis_failed(cmd->redis, "timeout", "command timed out");
    ngx_http_lgsp_redis_close(cmd->redis);
}


static void
ngx_http_lgsp_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_lgsp_redis_t *rd = ev->data;

    ngx_http_lgsp_redis_failed(rd, "connect", "connect timed out");
    ngx_http_lgsp_redis_close(rd);
}


static char *
ngx_http_lgsp_redis_password(ngx_conf_t *cf, ngx_http_lgsp_redis_server_t *srv,
    ngx_str_t *path)
{
    u_char           *p;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;

    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 4096)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis password file \"%V\" is not a small"
                           " readable file", path);
        return NGX_CONF_ERROR;
    }

    len = ngx_file_size(&fi);

    p = ngx_pnalloc(cf->pool, len + 1);
    if (p == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, p, len);
    ngx_close_file(fd);

    if (n != (ssize_t) len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read redis password file \"%V\"", path);
        return NGX_CONF_ERROR;
    }

    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r')) {
        len--;
    }

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis password file \"%V\" is empty", path);
        return NGX_CONF_ERROR;
    }

    srv->password.data = p;
    srv->password.len = len;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_redis_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_lgsp_redis_t *ord = data;

    ngx_slab_pool_t        *shpool;
    ngx_http_lgsp_redis_t  *rd;

    rd = shm_zone->data;

    if (ord) {
        rd->shared = ord->shared;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        rd->shared = shpool->data;
        return NGX_OK;
    }

    rd->shared = ngx_slab_alloc(shpool,
                                sizeof(ngx_http_lgsp_redis_shared_t));
    if (rd->shared == NULL) {
        return NGX_ERROR;
    }

    rd->shared->down = 0;
    shpool->data = rd->shared;

    return NGX_OK;
}
