/*
 * libFuzzer target for the Redis reader (lgsp_redis.c): the input is what
 * a Redis server, or anything in its place, sends on a worker's
 * connection; the first byte says in what pieces it arrives.  The same
 * bytes, fed whole or in pieces, must give the same replies and the same
 * refusal, and no reply may break the reader's bounds.  hiredis, behind
 * the scan, must never fail on what the scan passed.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_redis.h"


#define MAX_REPLIES  64


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const lgsp_redis_limits_t  limits = { 4096, 64, 4 };


/* the reply's elements, all levels, and its bytes of strings; or abort */
static void
check(const redisReply *r, size_t depth, size_t *elements, size_t *bytes)
{
    size_t  i;

    if (depth > limits.max_depth + 1) {
        abort();
    }

    if (r->type == REDIS_REPLY_ARRAY) {
        *elements += r->elements;

        for (i = 0; i < r->elements; i++) {
            check(r->element[i], depth + 1, elements, bytes);
        }

    } else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
               || r->type == REDIS_REPLY_ERROR)
    {
        *bytes += r->len;
    }
}


static int
same(const redisReply *a, const redisReply *b)
{
    size_t  i;

    if (a->type != b->type || a->integer != b->integer || a->len != b->len
        || a->elements != b->elements
        || (a->len && memcmp(a->str, b->str, a->len) != 0))
    {
        return 0;
    }

    for (i = 0; i < a->elements; i++) {
        if (!same(a->element[i], b->element[i])) {
            return 0;
        }
    }

    return 1;
}


/*
 * The replies of data fed in pieces of step bytes, at most MAX_REPLIES;
 * *refused says whether the reader refused the bytes at some point.
 */
static int
read_replies(const uint8_t *data, size_t size, size_t step,
    redisReply **replies, int *refused)
{
    int                   n, rc;
    size_t                i, k, elements, bytes;
    lgsp_redis_reader_t  *rr;

    rr = lgsp_redis_reader_create(&limits);
    if (rr == NULL) {
        abort();
    }

    n = 0;
    *refused = 0;

    for (i = 0; i < size && !*refused && n < MAX_REPLIES; i += step) {
        k = (size - i < step) ? size - i : step;

        if (lgsp_redis_reader_feed(rr, (const char *) data + i, k) != 0) {
            *refused = 1;
            break;
        }

        while (n < MAX_REPLIES) {
            rc = lgsp_redis_reader_reply(rr, &replies[n]);

            if (rc == 0) {
                break;
            }

            /* the scan passed it: hiredis must read it */
            if (rc < 0) {
                abort();
            }

            elements = 0;
            bytes = 0;
            check(replies[n], 1, &elements, &bytes);

            if (elements > limits.max_elements || bytes > limits.max_size) {
                abort();
            }

            n++;
        }
    }

    if (*refused && lgsp_redis_reader_error(rr) == NULL) {
        abort();
    }

    lgsp_redis_reader_free(rr);

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          n, m, i, refused_whole, refused_pieces;
    size_t       step;
    redisReply  *whole[MAX_REPLIES], *pieces[MAX_REPLIES];

    if (size < 1) {
        return 0;
    }

    step = 1 + data[0] % 16;

    n = read_replies(data + 1, size - 1, size, whole, &refused_whole);
    m = read_replies(data + 1, size - 1, step, pieces, &refused_pieces);

    /* fed whole, a refusal may come before replies fed in pieces gave */
    if (n == m && n < MAX_REPLIES && refused_whole != refused_pieces) {
        abort();
    }

    for (i = 0; i < n && i < m; i++) {
        if (!same(whole[i], pieces[i])) {
            abort();
        }
    }

    for (i = 0; i < n; i++) {
        freeReplyObject(whole[i]);
    }

    for (i = 0; i < m; i++) {
        freeReplyObject(pieces[i]);
    }

    return 0;
}
