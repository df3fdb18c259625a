/*
 * Unit tests of the Redis quota script's reply (lgsp_quota_reply.c): the
 * replies are real RESP bytes read by hiredis, as the worker reads them.
 */

#include "unit.h"
#include "lgsp_quota_reply.h"


/*
 * The script's answer for the request at element offset of the RESP
 * text, or -2 if hiredis refuses the text.
 */
static long
answer(const char *resp, size_t offset, lgsp_quota_state_t *states,
    size_t n)
{
    long          refused;
    void         *reply;
    redisReader  *reader;

    reader = redisReaderCreate();
    lgsp_quota_reply_limit(reader);
    redisReaderFeed(reader, resp, strlen(resp));

    if (redisReaderGetReply(reader, &reply) != REDIS_OK || reply == NULL) {
        redisReaderFree(reader);
        return -2;
    }

    refused = lgsp_quota_reply(reply, offset, states, n);

    freeReplyObject(reply);
    redisReaderFree(reader);

    return refused;
}


static void
test_reply_allowed(void)
{
    lgsp_quota_state_t  s[2];

    UNIT_EQ_INT(answer("*7\r\n:0\r\n:100\r\n:3\r\n:5000\r\n:10\r\n:1\r\n"
                       ":900\r\n", 0, s, 2), 0, "two limits, none refuses");
    UNIT_EQ_INT(s[0].allowed, 100, "first limit: allowed");
    UNIT_EQ_INT(s[0].used, 3, "first limit: used");
    UNIT_EQ_INT(s[0].reset_ms, 5000, "first limit: reset");
    UNIT_EQ_INT(s[1].allowed, 10, "second limit: allowed");
    UNIT_EQ_INT(s[1].reset_ms, 900, "second limit: reset");

    UNIT_EQ_INT(answer("*4\r\n:1\r\n:5\r\n:5\r\n:100\r\n", 0, s, 1), 1,
                "the refusing limit's 1-based index");
}


/* a batch: a request of one limit, then one of two */
#define BATCH  "*11\r\n:1\r\n:5\r\n:5\r\n:100\r\n" \
               ":0\r\n:100\r\n:3\r\n:5000\r\n:10\r\n:1\r\n:900\r\n"

static void
test_reply_batch(void)
{
    lgsp_quota_state_t  s[2];

    UNIT_EQ_INT(answer(BATCH, 0, s, 1), 1, "first request: refused");
    UNIT_EQ_INT(s[0].used, 5, "first request: used");
    UNIT_EQ_INT(answer(BATCH, 4, s, 2), 0, "second request: taken");
    UNIT_EQ_INT(s[0].allowed, 100, "second request, first limit");
    UNIT_EQ_INT(s[1].reset_ms, 900, "second request, second limit");
    UNIT_EQ_INT(answer(BATCH, 4, s, 3), -1, "a request past the end");
    UNIT_EQ_INT(answer(BATCH, 12, s, 1), -1, "an offset past the end");
    UNIT_EQ_INT(answer(BATCH, 8, s, 1), -1,
                "an index beyond the limits, read mid-batch");
}


static void
test_reply_refused_shapes(void)
{
    lgsp_quota_state_t  s[2];

    s[0].allowed = 77;

    UNIT_EQ_INT(answer("*4\r\n:2\r\n:5\r\n:5\r\n:100\r\n", 0, s, 1), -1,
                "an index beyond the limits");
    UNIT_EQ_INT(answer("*4\r\n:0\r\n:-5\r\n:5\r\n:100\r\n", 0, s, 1), -1,
                "a negative count");
    UNIT_EQ_INT(answer("*3\r\n:0\r\n:5\r\n:5\r\n", 0, s, 1), -1,
                "too few elements");
    UNIT_EQ_INT(answer("*4\r\n:0\r\n$1\r\n5\r\n:5\r\n:100\r\n", 0, s, 1), -1,
                "a string among the integers");
    UNIT_EQ_INT(answer("*4\r\n:0\r\n*0\r\n:5\r\n:100\r\n", 0, s, 1), -1,
                "a nested array");
    UNIT_EQ_INT(answer("-NOSCRIPT No matching script\r\n", 0, s, 1), -1,
                "an error reply");
    UNIT_EQ_INT(answer("$-1\r\n", 0, s, 1), -1, "a nil reply");
    UNIT_EQ_INT(answer(":0\r\n", 0, s, 1), -1, "a bare integer");
    UNIT_EQ_INT(answer("*-1\r\n", 0, s, 1), -1, "a nil array");
    UNIT_EQ_INT(s[0].allowed, 77, "a refused reply leaves states alone");
    UNIT_EQ_INT(lgsp_quota_reply(NULL, 0, s, 1), -1, "no reply at all");

    /* found by fuzz_quota_reply: hiredis allocated what "*N" claimed */
    UNIT_EQ_INT(answer("*1111111111\r\n:0\r\n", 0, s, 1), -2,
                "a huge array count is a protocol error, not an allocation");
}


int
main(void)
{
    test_reply_allowed();
    test_reply_batch();
    test_reply_refused_shapes();

    return UNIT_DONE("quota_reply");
}
