/*
 * LGSP on nginx: the Redis protocol (RESP2) without nginx.  Commands are
 * written into the caller's buffer; replies are read by hiredis's reply
 * reader (redisReader), but only bytes that a scan of our own has found
 * well formed and within bounds ever reach it.  hiredis trusts what a
 * header announces: "$999999999" would have it wait for a gigabyte,
 * "*2147483647" allocate for two billion elements, and an integer of 25
 * digits overflow inside it.  Here each of those is an error of the
 * connection, said in words, never an allocation or a crash.
 */

#ifndef LGSP_REDIS_H
#define LGSP_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>


/* arrays within arrays that hiredis 0.14 reads at most (its read stack) */
#define LGSP_REDIS_DEPTH_MAX  7


typedef struct {
    size_t         max_size;      /* bytes of one reply, headers included */
    size_t         max_elements;  /* array elements of one reply, all levels */
    size_t         max_depth;     /* arrays within arrays, at most above */
} lgsp_redis_limits_t;


typedef struct lgsp_redis_reader_s  lgsp_redis_reader_t;


/* NULL: no memory (or limits.max_depth above LGSP_REDIS_DEPTH_MAX) */
lgsp_redis_reader_t *lgsp_redis_reader_create(
    const lgsp_redis_limits_t *limits);

void lgsp_redis_reader_free(lgsp_redis_reader_t *rr);

/*
 * Bytes as they came from the server.  0, or -1 when they break the
 * protocol or a limit (lgsp_redis_reader_error() says how); the reader is
 * then of no further use.
 */
int lgsp_redis_reader_feed(lgsp_redis_reader_t *rr, const char *buf,
    size_t len);

/*
 * The next complete reply: 1 and *reply (freeReplyObject() it), 0 when
 * none is complete yet, -1 on an error (as above).
 */
int lgsp_redis_reader_reply(lgsp_redis_reader_t *rr, redisReply **reply);

/* why the reader refused, or NULL */
const char *lgsp_redis_reader_error(const lgsp_redis_reader_t *rr);


/* at most the bytes of a command of argc strings, as RESP writes it */
size_t lgsp_redis_command_size(int argc, const size_t *argvlen);

/*
 * Writes the command at p, with room for lgsp_redis_command_size() bytes;
 * returns the end.
 */
char *lgsp_redis_command_write(char *p, int argc, const char **argv,
    const size_t *argvlen);

#endif /* LGSP_REDIS_H */
