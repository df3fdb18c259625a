/*
 * LGSP on nginx: the Redis adapter (see ngx_http_lgsp_redis.h).  hiredis
 * owns the socket and the protocol; nginx owns the events: the hooks below
 * put hiredis's fd into nginx's event loop as an ngx_connection_t, and
 * nginx timers bound the connect and every command.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include <hiredis/async.h>

#include "ngx_http_lgsp_metrics.h"
#include "ngx_http_lgsp_redis.h"
#include "lgsp_quota_reply.h"


#define NGX_HTTP_LGSP_REDIS_PORT         6379
#define NGX_HTTP_LGSP_REDIS_TIMEOUT      100
#define NGX_HTTP_LGSP_REDIS_BACKOFF      100     /* ms, doubled per round */
#define NGX_HTTP_LGSP_REDIS_BACKOFF_MAX  3000


typedef struct {
    ngx_str_t                       name;       /* as written, for logs */
    u_char                          host[NGX_SOCKADDR_STRLEN + 1];
    int                             port;
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
    redisAsyncContext              *ac;
    ngx_http_lgsp_redis_server_t   *server;     /* connected or tried */
    ngx_uint_t                      current;
    ngx_uint_t                      failures;   /* servers failed in a row */
    ngx_uint_t                      rounds;     /* whole lists failed */
    ngx_msec_t                      retry_at;   /* backoff: no link before */
    ngx_event_t                     connect_timer;
    unsigned                        refused:1;  /* the connect failed */
};


typedef struct {
    ngx_http_lgsp_redis_t          *redis;
    ngx_http_lgsp_redis_script_t   *script;
    ngx_http_lgsp_redis_handler_pt  handler;
    void                           *data;
    ngx_event_t                     timer;
    ngx_event_t                     failover;   /* resends it elsewhere */
    int                             argc;
    const char                    **argv;
    size_t                         *argvlen;
    unsigned                        retried:1;
    unsigned                        moved:1;
} ngx_http_lgsp_redis_cmd_t;


static ngx_int_t ngx_http_lgsp_redis_connect(ngx_http_lgsp_redis_t *rd);
static void ngx_http_lgsp_redis_failover(ngx_event_t *ev);
static ngx_int_t ngx_http_lgsp_redis_setup(ngx_http_lgsp_redis_t *rd);
static void ngx_http_lgsp_redis_failed(ngx_http_lgsp_redis_t *rd,
    const char *kind,
    const char *reason);
static void ngx_http_lgsp_redis_succeeded(ngx_http_lgsp_redis_t *rd);
static void ngx_http_lgsp_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_lgsp_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_lgsp_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_lgsp_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_lgsp_redis_timeout(ngx_event_t *ev);
static void ngx_http_lgsp_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_lgsp_redis_read_handler(ngx_event_t *rev);
static void ngx_http_lgsp_redis_write_handler(ngx_event_t *wev);
static void ngx_http_lgsp_redis_add_read(void *data);
static void ngx_http_lgsp_redis_del_read(void *data);
static void ngx_http_lgsp_redis_add_write(void *data);
static void ngx_http_lgsp_redis_del_write(void *data);
static void ngx_http_lgsp_redis_cleanup(void *data);
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
    srv->port = ngx_inet_get_port(u.addrs[0].sockaddr);
    ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, srv->host,
                  NGX_SOCKADDR_STRLEN, 0);

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

    size = sizeof(ngx_http_lgsp_redis_cmd_t)
           + (3 + nkeys + nargs) * (sizeof(char *) + sizeof(size_t))
           + NGX_INT_T_LEN;

    for (i = 0; i < nkeys + nargs; i++) {
        size += (i < nkeys) ? keys[i].len : args[i - nkeys].len;
    }

    cmd = ngx_alloc(size, ngx_cycle->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(cmd, sizeof(ngx_http_lgsp_redis_cmd_t));

    cmd->redis = rd;
    cmd->script = script;
    cmd->handler = handler;
    cmd->data = data;
    cmd->argc = 3 + nkeys + nargs;
    cmd->argv = (const char **) (cmd + 1);
    cmd->argvlen = (size_t *) (cmd->argv + cmd->argc);

    cmd->argv[0] = "EVALSHA";
    cmd->argvlen[0] = sizeof("EVALSHA") - 1;
    cmd->argv[1] = (char *) script->sha1;
    cmd->argvlen[1] = sizeof(script->sha1);

    p = (u_char *) (cmd->argvlen + cmd->argc);
    cmd->argv[2] = (char *) p;
    p = ngx_sprintf(p, "%ui", nkeys);
    cmd->argvlen[2] = p - (u_char *) cmd->argv[2];

    for (i = 0; i < nkeys + nargs; i++) {
        s = (i < nkeys) ? &keys[i] : &args[i - nkeys];
        cmd->argv[3 + i] = (char *) p;
        cmd->argvlen[3 + i] = s->len;
        p = ngx_cpymem(p, s->data, s->len);
    }

    if (redisAsyncCommandArgv(rd->ac, ngx_http_lgsp_redis_reply, cmd,
                              cmd->argc, cmd->argv, cmd->argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    cmd->timer.handler = ngx_http_lgsp_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = ngx_cycle->log;
    ngx_add_timer(&cmd->timer, rd->server->timeout);

    return NGX_AGAIN;
}


ngx_int_t
ngx_http_lgsp_redis_link(ngx_http_lgsp_redis_t *rd)
{
    ngx_uint_t  tries;

    /* a connect refused at once moves on to the next server at once */
    for (tries = 0; rd->ac == NULL; tries++) {

        if (ngx_exiting || ngx_terminate || tries == rd->servers.nelts
            || (ngx_msec_int_t) (rd->retry_at - ngx_current_msec) > 0)
        {
            return NGX_DECLINED;
        }

        (void) ngx_http_lgsp_redis_connect(rd);
    }

    return NGX_OK;
}


/*
 * A command whose server refused the connect goes to the next server
 * once, still under its first timer, so a dead first server of the list
 * costs no request a fallback.
 */
static void
ngx_http_lgsp_redis_failover(ngx_event_t *ev)
{
    ngx_http_lgsp_redis_cmd_t *cmd = ev->data;

    ngx_http_lgsp_redis_t  *rd;

    rd = cmd->redis;

    if (ngx_http_lgsp_redis_link(rd) == NGX_OK
        && redisAsyncCommandArgv(rd->ac, ngx_http_lgsp_redis_reply, cmd,
                                 cmd->argc, cmd->argv, cmd->argvlen)
           == REDIS_OK)
    {
        return;
    }

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    cmd->handler(cmd->data, NULL);

    ngx_free(cmd);
}


static ngx_int_t
ngx_http_lgsp_redis_connect(ngx_http_lgsp_redis_t *rd)
{
    redisAsyncContext             *ac;
    ngx_connection_t              *c;
    ngx_http_lgsp_redis_server_t  *srv;

    srv = (ngx_http_lgsp_redis_server_t *) rd->servers.elts + rd->current;
    rd->server = srv;

    /* hiredis connects without blocking: the address is numeric */
    ac = redisAsyncConnect((char *) srv->host, srv->port);
    if (ac == NULL) {
        ngx_http_lgsp_redis_failed(rd, "internal", "out of memory");
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_http_lgsp_redis_failed(rd, "connect", ac->errstr);
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, ngx_cycle->log);
    if (c == NULL) {
        ngx_http_lgsp_redis_failed(rd, "internal", "no free connection");
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    lgsp_quota_reply_limit(ac->c.reader);

    c->data = rd;
    c->idle = 1;        /* closed when the worker shuts down gracefully */
    c->read->handler = ngx_http_lgsp_redis_read_handler;
    c->write->handler = ngx_http_lgsp_redis_write_handler;
    c->read->log = c->log;
    c->write->log = c->log;

    ac->data = rd;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_lgsp_redis_add_read;
    ac->ev.delRead = ngx_http_lgsp_redis_del_read;
    ac->ev.addWrite = ngx_http_lgsp_redis_add_write;
    ac->ev.delWrite = ngx_http_lgsp_redis_del_write;
    ac->ev.cleanup = ngx_http_lgsp_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_lgsp_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_lgsp_redis_disconnected);

    rd->ac = ac;

    rd->connect_timer.handler = ngx_http_lgsp_redis_connect_timeout;
    rd->connect_timer.data = rd;
    rd->connect_timer.log = ngx_cycle->log;
    rd->connect_timer.cancelable = 1;
    ngx_add_timer(&rd->connect_timer, srv->connect_timeout);

    /* the write event tells when the connect is done */
    ngx_http_lgsp_redis_add_write(c);

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
    ngx_uint_t                      i;
    ngx_http_lgsp_redis_server_t   *srv;
    ngx_http_lgsp_redis_script_t  **scripts;

    srv = rd->server;

    if (srv->password.len
        && redisAsyncCommand(rd->ac, ngx_http_lgsp_redis_setup_reply, rd,
                             "AUTH %b", srv->password.data,
                             srv->password.len)
           != REDIS_OK)
    {
        return NGX_ERROR;
    }

    if (srv->db >= 0
        && redisAsyncCommand(rd->ac, ngx_http_lgsp_redis_setup_reply, rd,
                             "SELECT %d", (int) srv->db)
           != REDIS_OK)
    {
        return NGX_ERROR;
    }

    scripts = rd->scripts.elts;

    for (i = 0; i < rd->scripts.nelts; i++) {
        if (redisAsyncCommand(rd->ac, ngx_http_lgsp_redis_setup_reply, rd,
                              "SCRIPT LOAD %b", scripts[i]->text.data,
                              scripts[i]->text.len)
            != REDIS_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A server failed: the outage is logged once across workers and counted
 * by kind (connect, connection, timeout, reply, setup, internal) in the
 * metrics, the next server is tried next, and once every server has
 * failed in a row, none is tried again before a backoff that doubles up
 * to a few seconds.
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


/* every pending command gets a NULL reply; the cleanup hook unlinks */
void
ngx_http_lgsp_redis_close(ngx_http_lgsp_redis_t *rd)
{
    if (rd->ac) {
        redisAsyncFree(rd->ac);
    }
}


static void
ngx_http_lgsp_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_http_lgsp_redis_cmd_t *cmd = privdata;

    redisReply             *reply;
    ngx_http_lgsp_redis_t  *rd;

    reply = r;
    rd = cmd->redis;

    /* the script cache was flushed, or this server came up empty */
    if (reply && reply->type == REDIS_REPLY_ERROR && !cmd->retried
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        cmd->retried = 1;
        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = sizeof("EVAL") - 1;
        cmd->argv[1] = (char *) cmd->script->text.data;
        cmd->argvlen[1] = cmd->script->text.len;

        if (redisAsyncCommandArgv(ac, ngx_http_lgsp_redis_reply, cmd,
                                  cmd->argc, cmd->argv, cmd->argvlen)
            == REDIS_OK)
        {
            return;
        }

        reply = NULL;
    }

    if (reply == NULL && rd->refused && !cmd->moved
        && rd->servers.nelts > 1)
    {
        /* hiredis is freeing the failed link: resend from a clean stack */
        cmd->moved = 1;
        cmd->failover.handler = ngx_http_lgsp_redis_failover;
        cmd->failover.data = cmd;
        cmd->failover.log = ngx_cycle->log;
        ngx_post_event(&cmd->failover, &ngx_posted_events);
        return;
    }

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        /* a replica (READONLY), a busy or broken server: try another */
        ngx_http_lgsp_redis_failed(rd, "reply", reply->str);
        ngx_http_lgsp_redis_close(rd);
        reply = NULL;

    } else if (reply) {
        ngx_http_lgsp_redis_succeeded(rd);
    }

    cmd->handler(cmd->data, reply);

    ngx_free(cmd);
}


static void
ngx_http_lgsp_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    ngx_http_lgsp_redis_t *rd = privdata;

    redisReply  *reply;

    reply = r;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_http_lgsp_redis_failed(rd, "setup", reply->str);
        ngx_http_lgsp_redis_close(rd);
    }
}


static void
ngx_http_lgsp_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_lgsp_redis_t *rd = ac->data;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    /* on an error hiredis frees the context when this returns */
    if (status != REDIS_OK) {
        rd->refused = 1;
        ngx_http_lgsp_redis_failed(rd, "connect", ac->errstr);
    }
}


static void
ngx_http_lgsp_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_lgsp_redis_t *rd = ac->data;

    /* REDIS_OK: we dropped it ourselves, after saying why */
    if (status != REDIS_OK) {
        ngx_http_lgsp_redis_failed(rd, "connection", ac->errstr);
    }
}


static void
ngx_http_lgsp_redis_timeout(ngx_event_t *ev)
{
    ngx_http_lgsp_redis_cmd_t *cmd = ev->data;

    ngx_http_lgsp_redis_t  *rd;

    rd = cmd->redis;

    /* timed out between two servers: on no link, just the answer */
    if (cmd->failover.posted) {
        ngx_delete_posted_event(&cmd->failover);

        cmd->handler(cmd->data, NULL);

        ngx_free(cmd);
        return;
    }

    /* a hung server: its link is useless, whatever else waits on it */
    ngx_http_lgsp_redis_failed(rd, "timeout", "command timed out");
    ngx_http_lgsp_redis_close(rd);
}


static void
ngx_http_lgsp_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_lgsp_redis_t *rd = ev->data;

    ngx_http_lgsp_redis_failed(rd, "connect", "connect timed out");
    ngx_http_lgsp_redis_close(rd);
}


static void
ngx_http_lgsp_redis_read_handler(ngx_event_t *rev)
{
    ngx_connection_t       *c;
    ngx_http_lgsp_redis_t  *rd;

    c = rev->data;
    rd = c->data;

    if (c->close) {
        ngx_http_lgsp_redis_close(rd);
        return;
    }

    redisAsyncHandleRead(rd->ac);
}


static void
ngx_http_lgsp_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t       *c;
    ngx_http_lgsp_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    redisAsyncHandleWrite(rd->ac);
}


/*
 * hiredis reads once per call and writes what it can: level-triggered
 * events keep it called while anything is left, which edge-triggered
 * epoll would not.
 */
static void
ngx_http_lgsp_redis_add_read(void *data)
{
    ngx_connection_t *c = data;

    if (!c->read->active
        && ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "lgsp: redis: cannot add a read event");
    }
}


static void
ngx_http_lgsp_redis_del_read(void *data)
{
    ngx_connection_t *c = data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_lgsp_redis_add_write(void *data)
{
    ngx_connection_t *c = data;

    if (!c->write->active
        && ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "lgsp: redis: cannot add a write event");
    }
}


static void
ngx_http_lgsp_redis_del_write(void *data)
{
    ngx_connection_t *c = data;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis frees the context and closes the fd: let nginx forget both */
static void
ngx_http_lgsp_redis_cleanup(void *data)
{
    ngx_connection_t *c = data;

    ngx_http_lgsp_redis_t  *rd;

    rd = c->data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    rd->ac = NULL;
    rd->refused = 0;
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
