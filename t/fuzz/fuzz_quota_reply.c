/*
 * libFuzzer target for the Redis quota reply: the input is what a Redis
 * server (or something in its place) sends on the wire; the connection's
 * reader (lgsp_redis.c) reads it as the worker does, and
 * lgsp_quota_reply() interprets each reply as a batch of requests of 1 to
 * 4 limits each (the first byte says how many), read at offsets up to
 * past one request.  An accepted request's refusing index is never beyond
 * its limits, and no number beyond what its limit makes possible.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_quota_reply.h"
#include "lgsp_redis.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* as the worker's connection: no reply may claim a huge array */
static const lgsp_redis_limits_t  reader_limits = {
    1 << 20, LGSP_QUOTA_REPLY_MAX_ELEMENTS, 6
};

/* 10r/s burst=20, 100r/m, 0r/h (suspended), 1000r/d burst=5 */
static const lgsp_quota_limit_t  limits[4] = {
    { 10, 1, 20 }, { 100, 60, 0 }, { 0, 3600, 0 }, { 1000, 86400, 5 }
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long                  refused;
    size_t                i, n, offset;
    redisReply           *reply;
    lgsp_redis_reader_t  *reader;
    lgsp_quota_state_t    states[4];

    if (size < 1) {
        return 0;
    }

    n = 1 + (data[0] & 3);

    reader = lgsp_redis_reader_create(&reader_limits);
    if (reader == NULL) {
        return 0;
    }

    (void) lgsp_redis_reader_feed(reader, (const char *) data + 1, size - 1);

    while (lgsp_redis_reader_reply(reader, &reply) == 1) {
        for (offset = 0; offset <= 1 + 3 * n + 1; offset++) {
            refused = lgsp_quota_reply(reply, offset, limits, states, n);

            if (refused > (long) n) {
                abort();
            }

            for (i = 0; refused >= 0 && i < n; i++) {
                if (states[i].allowed > 2 * limits[i].quota + limits[i].burst
                    || states[i].used > 2 * limits[i].quota + limits[i].burst
                    || states[i].reset_ms > limits[i].period * 1000)
                {
                    abort();
                }
            }
        }

        freeReplyObject(reply);
    }

    lgsp_redis_reader_free(reader);

    return 0;
}
