/*
 * libFuzzer target for the Redis quota reply: the input is what a Redis
 * server (or something in its place) sends on the wire; hiredis reads it
 * as the worker's connection does, and lgsp_quota_reply() interprets each
 * reply as a batch of requests of 1 to 4 limits each (the first byte says
 * how many), read at offsets up to past one request.  An accepted
 * request's refusing index is never beyond its limits.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_quota_reply.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long                 refused;
    void                *reply;
    size_t               n, offset;
    redisReader         *reader;
    lgsp_quota_state_t   states[4];

    if (size < 1) {
        return 0;
    }

    n = 1 + (data[0] & 3);

    reader = redisReaderCreate();
    if (reader == NULL) {
        return 0;
    }

    /* as the worker's connection: no reply may claim a huge array */
    lgsp_quota_reply_limit(reader);

    redisReaderFeed(reader, (const char *) data + 1, size - 1);

    while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply != NULL) {
        for (offset = 0; offset <= 1 + 3 * n + 1; offset++) {
            refused = lgsp_quota_reply(reply, offset, states, n);

            if (refused > (long) n) {
                abort();
            }
        }

        freeReplyObject(reply);
    }

    redisReaderFree(reader);

    return 0;
}
