/*
 * Unit tests of the Redis protocol core (lgsp_redis.c): what a server may
 * send, fed as it may come (whole, byte by byte, several replies at once),
 * and what the reader makes of it; and commands as RESP writes them.
 */

#include <stdlib.h>

#include "unit.h"
#include "lgsp_redis.h"


static const lgsp_redis_limits_t  limits = { 4096, 64, 3 };


/*
 * Feeds resp (a NUL-terminated text, in pieces of step bytes) and takes
 * the replies: their number, or -1 when the reader refused (*error then
 * says why).  The first reply's type and integer go to *type and *integer.
 */
static int
read_all(const lgsp_redis_limits_t *l, const char *resp, size_t len,
    size_t step, int *type, long long *integer, const char **error)
{
    int                   n, rc;
    size_t                i, k;
    redisReply           *reply;
    lgsp_redis_reader_t  *rr;
    static char           why[128];

    rr = lgsp_redis_reader_create(l);
    n = 0;
    *error = NULL;
    *type = 0;

    for (i = 0; i < len; i += step) {
        k = (len - i < step) ? len - i : step;

        if (lgsp_redis_reader_feed(rr, resp + i, k) != 0) {
            n = -1;
            break;
        }

        while ((rc = lgsp_redis_reader_reply(rr, &reply)) == 1) {
            if (n++ == 0) {
                *type = reply->type;
                *integer = reply->integer;
            }

            freeReplyObject(reply);
        }

        if (rc < 0) {
            n = -1;
            break;
        }
    }

    if (n < 0) {
        snprintf(why, sizeof(why), "%s", lgsp_redis_reader_error(rr));
        *error = why;
    }

    lgsp_redis_reader_free(rr);

    return n;
}


/* the number of replies, fed whole and byte by byte: both must agree */
static int
replies(const char *resp, int *type, long long *integer, const char **error)
{
    int          n, t;
    long long    v;
    const char  *e;

    n = read_all(&limits, resp, strlen(resp), 1, &t, &v, &e);
    *error = e;

    if (read_all(&limits, resp, strlen(resp), strlen(resp) + 1, type,
                 integer, error) != n)
    {
        return -2;
    }

    return n;
}


static void
test_reader_replies(void)
{
    int          type, i;
    char         bound[512], *p;
    long long    v;
    const char  *e;

    UNIT_EQ_INT(replies(":42\r\n", &type, &v, &e), 1, "an integer");
    UNIT_EQ_INT(type, REDIS_REPLY_INTEGER, "its type");
    UNIT_EQ_INT(v, 42, "its value");

    UNIT_EQ_INT(replies(":9223372036854775807\r\n", &type, &v, &e), 1,
                "INT64_MAX");
    UNIT_EQ_INT(v, 9223372036854775807LL, "read exactly");
    UNIT_EQ_INT(replies(":-9223372036854775807\r\n", &type, &v, &e), 1,
                "-INT64_MAX");
    UNIT_EQ_INT(v, -9223372036854775807LL, "read exactly too");
    UNIT_EQ_INT(replies(":0\r\n", &type, &v, &e), 1, "zero");

    /* an array of exactly the elements allowed */
    p = bound;
    p += sprintf(p, "*64\r\n");

    for (i = 0; i < 64; i++) {
        p += sprintf(p, ":%d\r\n", i);
    }

    UNIT_EQ_INT(replies(bound, &type, &v, &e), 1,
                "64 elements, the bound");
    UNIT_EQ_INT(type, REDIS_REPLY_ARRAY, "an array");

    UNIT_EQ_INT(replies("+OK\r\n-ERR no\r\n$3\r\nabc\r\n$0\r\n\r\n", &type,
                        &v, &e), 4, "status, error, bulk, empty bulk");
    UNIT_EQ_INT(type, REDIS_REPLY_STATUS, "the first one's type");

    UNIT_EQ_INT(replies("$-1\r\n*-1\r\n", &type, &v, &e), 2, "nil twice");
    UNIT_EQ_INT(type, REDIS_REPLY_NIL, "nil");

    UNIT_EQ_INT(replies("*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n:3\r\n:4\r\n",
                        &type, &v, &e), 2, "an array within an array");
    UNIT_EQ_INT(type, REDIS_REPLY_ARRAY, "the first one's type");

    UNIT_EQ_INT(replies("*1\r\n*1\r\n*1\r\n:1\r\n", &type, &v, &e), 1,
                "nested as deep as allowed");
    UNIT_EQ_INT(replies("$4\r\na\r\nb\r\n", &type, &v, &e), 1,
                "a bulk string holds any byte");
}


/* each refused, with its reason, fed whole or byte by byte */
static void
refused(const char *resp, const char *why, const char *name)
{
    int          type;
    long long    v;
    const char  *e;

    UNIT_EQ_INT(replies(resp, &type, &v, &e), -1, name);
    UNIT_EQ_STR(e, why, name);
}


static void
test_reader_refuses(void)
{
    refused("*2147483647\r\n", "too many elements", "a huge array header");
    refused("$999999999\r\n", "bulk string too long", "a huge bulk header");
    refused("$4090\r\n", "reply too large", "a bulk past the reply's size");
    refused("*40\r\n*40\r\n", "too many elements",
            "elements counted at every level");
    refused("*65\r\n", "too many elements", "one element over the bound");
    refused("$4097\r\n", "bulk string too long", "one byte over the bound");
    refused("$-2\r\n", "not a nil length", "a length below -1");
    refused("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "arrays nested too deep",
            "nested too deep");
    refused(":9223372036854775808\r\n", "integer out of range",
            "INT64_MAX + 1");
    refused(":99999999999999999999999\r\n", "integer out of range",
            "an integer of 23 digits");
    refused(":-9223372036854775808\r\n", "integer out of range",
            "INT64_MIN, which hiredis cannot negate");
    refused(":12a\r\n", "not a number", "letters in an integer");
    refused(":\r\n", "not a number", "no digits");
    refused(":-\r\n", "not a number", "a sign alone");
    refused(":+1\r\n", "not a number", "a plus sign");
    refused(":007\r\n", "a number with a leading zero", "leading zeros");
    refused("$-2\r\n", "not a nil length", "a negative length");
    refused("$-0\r\n", "a number with a leading zero", "minus zero");
    refused(":-0\r\n", "a number with a leading zero",
            "minus zero, which hiredis refuses");
    refused("$3\r\nabcd\r\n", "bulk string longer than said",
            "a bulk string longer than its header");
    refused("$3\r\nabc\n", "bulk string longer than said",
            "a bulk string without its CR");
    refused("+OK\n", "LF without CR", "a bare LF");
    refused("+O\rK\r\n", "CR without LF", "a bare CR");
    refused("HTTP/1.1 200 OK\r\n", "not a reply type", "not Redis at all");
    refused(":1\r\n\r\n", "not a reply type", "an empty line after");
    refused("%1\r\n", "not a reply type", "RESP3's map");
}


/* a reply in halves is no reply until its last byte */
static void
test_reader_halves(void)
{
    redisReply           *reply;
    lgsp_redis_reader_t  *rr;
    lgsp_redis_limits_t   big = { 1 << 20, 16, LGSP_REDIS_DEPTH_MAX };
    lgsp_redis_limits_t   deep = { 64, 4, LGSP_REDIS_DEPTH_MAX + 1 };

    UNIT_OK(lgsp_redis_reader_create(&deep) == NULL,
            "a depth past hiredis's own is refused");

    rr = lgsp_redis_reader_create(&limits);

    UNIT_EQ_INT(lgsp_redis_reader_feed(rr, "*2\r\n:1\r", 7), 0, "a half");
    UNIT_EQ_INT(lgsp_redis_reader_reply(rr, &reply), 0, "no reply yet");
    UNIT_EQ_INT(lgsp_redis_reader_feed(rr, "\n:2\r\n:3", 7), 0,
                "the rest and a half of the next");
    UNIT_EQ_INT(lgsp_redis_reader_reply(rr, &reply), 1, "a reply");
    UNIT_EQ_INT(reply->elements, 2, "of both elements");
    freeReplyObject(reply);
    UNIT_EQ_INT(lgsp_redis_reader_reply(rr, &reply), 0, "the next: not yet");
    UNIT_EQ_INT(lgsp_redis_reader_feed(rr, "x", 1), -1, "garbage after");
    UNIT_EQ_INT(lgsp_redis_reader_reply(rr, &reply), -1,
                "then the reader stays refused");
    UNIT_EQ_INT(lgsp_redis_reader_feed(rr, "\r\n", 2), -1,
                "whatever comes after");

    lgsp_redis_reader_free(rr);

    /* hiredis 0.14 reads what the scan passes at its deepest */
    rr = lgsp_redis_reader_create(&big);
    UNIT_EQ_INT(lgsp_redis_reader_feed(rr, "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
                                       "*1\r\n*1\r\n:7\r\n", 32), 0,
                "seven arrays deep");
    UNIT_EQ_INT(lgsp_redis_reader_reply(rr, &reply), 1, "read by hiredis");
    freeReplyObject(reply);
    lgsp_redis_reader_free(rr);
}


static void
test_command(void)
{
    char         buf[128], *end;
    const char  *argv[3] = { "EVALSHA", "", "0123456789" };
    size_t       argvlen[3] = { 7, 0, 10 };
    const char  *want = "*3\r\n$7\r\nEVALSHA\r\n$0\r\n\r\n"
                        "$10\r\n0123456789\r\n";

    end = lgsp_redis_command_write(buf, 3, argv, argvlen);

    UNIT_EQ_INT(end - buf, strlen(want), "the command's length");
    UNIT_OK(memcmp(buf, want, strlen(want)) == 0, "the command as RESP");
    UNIT_OK(lgsp_redis_command_size(3, argvlen) >= (size_t) (end - buf),
            "within the size said");
}


int
main(void)
{
    test_reader_replies();
    test_reader_refuses();
    test_reader_halves();
    test_command();

    return UNIT_DONE("redis");
}
