/*
 * Unit tests of the Redis quota script's reply (lgsp_quota_reply.c): the
 * replies are real RESP bytes read by the connection's reader
 * (lgsp_redis.c), as the worker reads them.
 */

#include "unit.h"
#include "lgsp_quota_reply.h"
#include "lgsp_redis.h"


/* every limit of these tests: 100r/m burst=50 */
static const lgsp_quota_limit_t  limits[3] = {
    { 100, 60, 50 }, { 100, 60, 50 }, { 100, 60, 50 }
};

static const lgsp_redis_limits_t  reader_limits = { 65536, 1024, 2 };


/*
 * The script's answer for the request at element offset of the RESP
 * text, or -2 if the reader refuses the text.
 */
static long
answer(const char *resp, size_t offset, lgsp_quota_state_t *states,
    size_t n)
{
    long                  refused;
    redisReply           *reply;
    lgsp_redis_reader_t  *reader;

    reader = lgsp_redis_reader_create(&reader_limits);

    if (lgsp_redis_reader_feed(reader, resp, strlen(resp)) != 0
        || lgsp_redis_reader_reply(reader, &reply) != 1)
    {
        lgsp_redis_reader_free(reader);
        return -2;
    }

    refused = lgsp_quota_reply(reply, offset, limits, states, n);

    freeReplyObject(reply);
    lgsp_redis_reader_free(reader);

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
    UNIT_EQ_INT(answer("*4\r\n:-1\r\n:5\r\n:5\r\n:100\r\n", 0, s, 1), -1,
                "a negative index");
    UNIT_EQ_INT(s[0].allowed, 77, "a refused reply leaves states alone");
    UNIT_EQ_INT(lgsp_quota_reply(NULL, 0, limits, s, 1), -1,
                "no reply at all");

    /* found by fuzz_quota_reply: hiredis allocated what "*N" claimed */
    UNIT_EQ_INT(answer("*1111111111\r\n:0\r\n", 0, s, 1), -2,
                "a huge array count is a protocol error, not an allocation");
}


/* a server may say anything: no number leaves its limit's range */
static void
test_reply_clamped(void)
{
    lgsp_quota_state_t  s[1];

    UNIT_EQ_INT(answer("*4\r\n:1\r\n:100\r\n:100\r\n"
                       ":9223372036854775807\r\n", 0, s, 1), 1,
                "a reset of INT64_MAX: still refused");
    UNIT_EQ_INT(s[0].reset_ms, 60000, "reset_ms: at most the window");
    UNIT_EQ_INT(lgsp_quota_seconds(s[0].reset_ms), 60,
                "so Retry-After is at most the window");

    UNIT_EQ_INT(answer("*4\r\n:0\r\n:-5\r\n:-9223372036854775807\r\n"
                       ":-1\r\n", 0, s, 1), 0, "negative numbers");
    UNIT_EQ_INT(s[0].allowed, 0, "a negative allowance is 0");
    UNIT_EQ_INT(s[0].used, 0, "a negative count is 0");
    UNIT_EQ_INT(s[0].reset_ms, 0, "a negative reset is 0");

    UNIT_EQ_INT(answer("*4\r\n:0\r\n:9223372036854775807\r\n"
                       ":1000000000000000\r\n:60000\r\n", 0, s, 1), 0,
                "huge counts");
    UNIT_EQ_INT(s[0].allowed, 150, "allowed: at most quota + burst");
    UNIT_EQ_INT(s[0].used, 150, "used: at most quota + burst");
    UNIT_EQ_INT(s[0].reset_ms, 60000, "a reset of the whole window stays");
    UNIT_EQ_INT(lgsp_quota_remaining(&s[0]), 0, "nothing remains");

    UNIT_EQ_INT(answer("*4\r\n:9223372036854775807\r\n:0\r\n:0\r\n"
                       ":0\r\n", 0, s, 1), -1,
                "a huge index is no index");
}


int
main(void)
{
    test_reply_allowed();
    test_reply_batch();
    test_reply_refused_shapes();
    test_reply_clamped();

    return UNIT_DONE("quota_reply");
}
