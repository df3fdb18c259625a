/*
 * LGSP on nginx: the Redis adapter.  One connection per worker, made
 * lazily with nginx's own non-blocking connect, to the first server of a
 * failover list that answers; commands written by nginx's send, pipelined,
 * each with its own nginx timer; replies read by nginx's recv and parsed
 * by hiredis's reply reader behind a bounded scan (lgsp_redis.h).  The
 * peer is not trusted: a reply nobody asked for, a malformed one, or one
 * past the bounds (bytes, elements, nesting) is an error of that
 * connection, never an assertion or an allocation it asks for.  On any
 * error the connection is dropped and counted, every pending command gets
 * its failure once, and the link is made again after a backoff, while
 * callers fall back.  A worker never blocks: host names are resolved by
 * nginx -t, never in a worker.
 */

#ifndef _NGX_HTTP_LGSP_REDIS_H_INCLUDED_
#define _NGX_HTTP_LGSP_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>


typedef struct ngx_http_lgsp_redis_s      ngx_http_lgsp_redis_t;


/*
 * A command's answer: the reply, or NULL when Redis failed, timed out or
 * went away.  Called from an event handler, never from inside the call
 * that sent the command.
 */
typedef void (*ngx_http_lgsp_redis_handler_pt)(void *data,
    redisReply *reply);


/* a Lua script, loaded once per connection and run by EVALSHA */
typedef struct {
    ngx_str_t                       text;
    u_char                          sha1[40];
} ngx_http_lgsp_redis_script_t;


/* the set of servers of the lgsp_redis lines, with their per-worker link */
ngx_http_lgsp_redis_t *ngx_http_lgsp_redis_create(ngx_conf_t *cf,
    void *tag);

/* one lgsp_redis line: HOST:PORT [db=] [password_file=] [timeout=] ... */
char *ngx_http_lgsp_redis_add_server(ngx_conf_t *cf,
    ngx_http_lgsp_redis_t *redis);

ngx_int_t ngx_http_lgsp_redis_add_script(ngx_conf_t *cf,
    ngx_http_lgsp_redis_t *redis, ngx_http_lgsp_redis_script_t *script);

/*
 * NGX_OK: this worker has a link to a server, or is making one now;
 * NGX_DECLINED: Redis is unavailable (backing off after failures).
 */
ngx_int_t ngx_http_lgsp_redis_link(ngx_http_lgsp_redis_t *redis);

/*
 * Runs a script with its keys and arguments (nkeys + nargs strings, copied
 * before it returns).  NGX_AGAIN: sent, the handler will be called exactly
 * once; NGX_DECLINED: Redis is unavailable now (the caller falls back at
 * once); NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_lgsp_redis_eval(ngx_http_lgsp_redis_t *redis,
    ngx_http_lgsp_redis_script_t *script, ngx_str_t *keys, ngx_uint_t nkeys,
    ngx_str_t *args, ngx_uint_t nargs, ngx_http_lgsp_redis_handler_pt handler,
    void *data);

/* closes this worker's link: on errors, and when the worker exits */
void ngx_http_lgsp_redis_close(ngx_http_lgsp_redis_t *redis);


#endif /* _NGX_HTTP_LGSP_REDIS_H_INCLUDED_ */
