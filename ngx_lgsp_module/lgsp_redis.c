/*
 * LGSP on nginx: the Redis protocol without nginx (lgsp_redis.h).
 *
 * The scan walks the bytes once, as they come, keeping only where it
 * stands: the type of the line being read, the number on it, the bytes of
 * a bulk string still to come, and per open array its elements still to
 * come.  A reply it has seen complete is one hiredis reads complete too:
 * the scan accepts a strict part of what hiredis reads (lines end in CRLF
 * and hold no other CR or LF, numbers are plain decimals that fit, with
 * no leading zero and no "-0", nil is only -1, a bulk string is followed
 * by CRLF), so the two never disagree: fuzz_redis_reader checks it.
 */

#include <stdlib.h>
#include <string.h>

#include "lgsp_redis.h"
#include "lgsp_uint.h"


typedef enum {
    LGSP_REDIS_TYPE = 0,        /* a reply or element starts */
    LGSP_REDIS_LINE,            /* the rest of its first line */
    LGSP_REDIS_LF,              /* the LF after a line's CR */
    LGSP_REDIS_BULK,            /* a bulk string's bytes, then its CR */
    LGSP_REDIS_BULK_LF,
    LGSP_REDIS_FAILED
} lgsp_redis_state_e;


struct lgsp_redis_reader_s {
    lgsp_redis_limits_t   limits;
    redisReader          *reader;

    lgsp_redis_state_e    state;
    char                  type;         /* + - : $ * */
    unsigned              negative:1;
    unsigned              digits;
    uint64_t              value;        /* of the line's number so far */
    uint64_t              max_tens;     /* its bound: value * 10 + d may */
    uint64_t              max_units;    /* not pass max_tens * 10 + units */
    uint64_t              bulk;         /* a bulk string's bytes to come */
    size_t                size;         /* bytes of this reply so far */
    size_t                elements;     /* elements of this reply so far */
    size_t                depth;        /* arrays open */
    uint64_t              left[LGSP_REDIS_DEPTH_MAX];
    size_t                complete;     /* replies scanned, not yet taken */
    const char           *error;
};


static int lgsp_redis_scan(lgsp_redis_reader_t *rr, const char *p,
    size_t len);
static int lgsp_redis_line(lgsp_redis_reader_t *rr);
static int lgsp_redis_digit(lgsp_redis_reader_t *rr, char c);
static void lgsp_redis_item(lgsp_redis_reader_t *rr);
static int lgsp_redis_fail(lgsp_redis_reader_t *rr, const char *error);
static char *lgsp_redis_decimal(char *p, size_t n);
static redisReply *lgsp_redis_object(const redisReadTask *task, int type);
static void *lgsp_redis_string(const redisReadTask *task, char *str,
    size_t len);
static void *lgsp_redis_array(const redisReadTask *task, int elements);
static void *lgsp_redis_integer(const redisReadTask *task, long long value);
static void *lgsp_redis_nil(const redisReadTask *task);


/*
 * hiredis's reply objects as its own make them, for freeReplyObject(), but
 * by malloc(): glibc's calloc() bypasses the thread cache that malloc()
 * takes small blocks from, and a quota reply is five such objects.  An
 * array's elements stay a calloc(): gcc makes one of malloc() and
 * memset() anyway.
 */
static redisReplyObjectFunctions  lgsp_redis_objects = {
    lgsp_redis_string,
    lgsp_redis_array,
    lgsp_redis_integer,
    lgsp_redis_nil,
    freeReplyObject
};


lgsp_redis_reader_t *
lgsp_redis_reader_create(const lgsp_redis_limits_t *limits)
{
    lgsp_redis_reader_t  *rr;

    if (limits->max_depth > LGSP_REDIS_DEPTH_MAX) {
        return NULL;
    }

    rr = calloc(1, sizeof(lgsp_redis_reader_t));
    if (rr == NULL) {
        return NULL;
    }

    rr->reader = redisReaderCreateWithFunctions(&lgsp_redis_objects);
    if (rr->reader == NULL) {
        free(rr);
        return NULL;
    }

    rr->limits = *limits;

    return rr;
}


void
lgsp_redis_reader_free(lgsp_redis_reader_t *rr)
{
    if (rr) {
        redisReaderFree(rr->reader);
        free(rr);
    }
}


int
lgsp_redis_reader_feed(lgsp_redis_reader_t *rr, const char *buf, size_t len)
{
    if (lgsp_redis_scan(rr, buf, len) != 0) {
        return -1;
    }

    if (redisReaderFeed(rr->reader, buf, len) != REDIS_OK) {
        return lgsp_redis_fail(rr, "out of memory");
    }

    return 0;
}


int
lgsp_redis_reader_reply(lgsp_redis_reader_t *rr, redisReply **reply)
{
    void  *r;

    *reply = NULL;

    if (rr->state == LGSP_REDIS_FAILED) {
        return -1;
    }

    if (rr->complete == 0) {
        return 0;
    }

    r = NULL;

    if (redisReaderGetReply(rr->reader, &r) != REDIS_OK || r == NULL) {
        /* out of memory: what the scan passed, hiredis reads */
        return lgsp_redis_fail(rr, rr->reader->err ? rr->reader->errstr
                                                   : "reply not read");
    }

    rr->complete--;
    *reply = r;

    return 1;
}


const char *
lgsp_redis_reader_error(const lgsp_redis_reader_t *rr)
{
    return rr->error;
}


static int
lgsp_redis_scan(lgsp_redis_reader_t *rr, const char *p, size_t len)
{
    char         c;
    size_t       n;
    const char  *end;

    end = p + len;

    while (p < end) {

        if (rr->state == LGSP_REDIS_FAILED) {
            return -1;
        }

        if (rr->state == LGSP_REDIS_BULK && rr->bulk) {
            n = end - p;
            n = (rr->bulk < n) ? (size_t) rr->bulk : n;
            rr->bulk -= n;
            rr->size += n;
            p += n;
            continue;
        }

        c = *p++;

        if (++rr->size > rr->limits.max_size) {
            return lgsp_redis_fail(rr, "reply too large");
        }

        switch (rr->state) {

        case LGSP_REDIS_TYPE:
            if (c != '+' && c != '-' && c != ':' && c != '$' && c != '*') {
                return lgsp_redis_fail(rr, "not a reply type");
            }

            rr->type = c;
            rr->negative = 0;
            rr->digits = 0;
            rr->value = 0;
            rr->state = LGSP_REDIS_LINE;
            break;

        case LGSP_REDIS_LINE:
            if (c == '\r') {
                rr->state = LGSP_REDIS_LF;
                break;
            }

            if (c == '\n') {
                return lgsp_redis_fail(rr, "LF without CR");
            }

            if (rr->type != '+' && rr->type != '-'
                && lgsp_redis_digit(rr, c) != 0)
            {
                return -1;
            }

            break;

        case LGSP_REDIS_LF:
            if (c != '\n') {
                return lgsp_redis_fail(rr, "CR without LF");
            }

            if (lgsp_redis_line(rr) != 0) {
                return -1;
            }

            break;

        case LGSP_REDIS_BULK:
            if (c != '\r') {
                return lgsp_redis_fail(rr, "bulk string longer than said");
            }

            rr->state = LGSP_REDIS_BULK_LF;
            break;

        case LGSP_REDIS_BULK_LF:
            if (c != '\n') {
                return lgsp_redis_fail(rr, "bulk string longer than said");
            }

            lgsp_redis_item(rr);
            break;

        default:
            return lgsp_redis_fail(rr, "reader failed before");
        }
    }

    return (rr->state == LGSP_REDIS_FAILED) ? -1 : 0;
}


/* a digit (or the leading minus) of an integer, length or count */
static int
lgsp_redis_digit(lgsp_redis_reader_t *rr, char c)
{
    uint64_t  max, d;

    if (c == '-' && rr->digits == 0 && !rr->negative) {
        rr->negative = 1;
        return 0;
    }

    if (c < '0' || c > '9') {
        return lgsp_redis_fail(rr, "not a number");
    }

    /* "007" and "-0" are no numbers to hiredis (string2ll) either */
    if ((rr->digits && rr->value == 0)
        || (rr->digits == 0 && rr->negative && c == '0'))
    {
        return lgsp_redis_fail(rr, "a number with a leading zero");
    }

    /* the line's bound, once: no division per digit */
    if (rr->digits++ == 0) {
        /* -INT64_MAX .. INT64_MAX: hiredis's conversion never overflows */
        max = INT64_MAX;

        if (rr->negative && rr->type != ':') {
            max = 1;                        /* nil: -1 */

        } else if (rr->type == '$') {
            max = rr->limits.max_size;

        } else if (rr->type == '*') {
            max = rr->limits.max_elements;
        }

        rr->max_tens = max / 10;
        rr->max_units = max % 10;
    }

    d = c - '0';

    /* value * 10 + d > max, without overflowing */
    if (rr->value > rr->max_tens
        || (rr->value == rr->max_tens && d > rr->max_units))
    {
        return lgsp_redis_fail(rr, (rr->type == ':')
                                   ? "integer out of range"
                                   : rr->negative
                                     ? "not a nil length"
                                     : (rr->type == '$')
                                       ? "bulk string too long"
                                       : "too many elements");
    }

    rr->value = rr->value * 10 + d;

    return 0;
}


/* a complete first line */
static int
lgsp_redis_line(lgsp_redis_reader_t *rr)
{
    if (rr->type != '+' && rr->type != '-' && rr->digits == 0) {
        return lgsp_redis_fail(rr, "not a number");
    }

    if (rr->type != '$' && rr->type != '*') {
        lgsp_redis_item(rr);
        return 0;
    }

    if (rr->negative) {
        if (rr->value != 1) {
            return lgsp_redis_fail(rr, "not a nil length");
        }

        lgsp_redis_item(rr);                /* nil is an item too */
        return 0;
    }

    if (rr->type == '$') {
        /* the bytes and their CRLF */
        if (rr->size + 2 > rr->limits.max_size
            || rr->value > rr->limits.max_size - rr->size - 2)
        {
            return lgsp_redis_fail(rr, "reply too large");
        }

        rr->bulk = rr->value;
        rr->state = LGSP_REDIS_BULK;
        return 0;
    }

    if (rr->value > rr->limits.max_elements - rr->elements) {
        return lgsp_redis_fail(rr, "too many elements");
    }

    rr->elements += rr->value;

    if (rr->value == 0) {
        lgsp_redis_item(rr);
        return 0;
    }

    if (rr->depth == rr->limits.max_depth) {
        return lgsp_redis_fail(rr, "arrays nested too deep");
    }

    rr->left[rr->depth++] = rr->value;
    rr->state = LGSP_REDIS_TYPE;

    return 0;
}


/* an element is complete: so are the arrays it completes, or the reply */
static void
lgsp_redis_item(lgsp_redis_reader_t *rr)
{
    rr->state = LGSP_REDIS_TYPE;

    while (rr->depth) {
        if (--rr->left[rr->depth - 1]) {
            return;
        }

        rr->depth--;
    }

    rr->complete++;
    rr->size = 0;
    rr->elements = 0;
}


static int
lgsp_redis_fail(lgsp_redis_reader_t *rr, const char *error)
{
    rr->state = LGSP_REDIS_FAILED;
    rr->error = error;

    return -1;
}


size_t
lgsp_redis_command_size(int argc, const size_t *argvlen)
{
    int     i;
    size_t  size, n;

    /* "*N\r\n", then "$LEN\r\nBYTES\r\n" each: at most 20 digits a number */
    size = 1 + 20 + 2;

    for (i = 0; i < argc; i++) {
        size += 1 + 2 + argvlen[i] + 2;

        for (n = argvlen[i]; n >= 10; n /= 10) {
            size++;
        }

        size++;
    }

    return size;
}


char *
lgsp_redis_command_write(char *p, int argc, const char **argv,
    const size_t *argvlen)
{
    int  i;

    /* sprintf() of each length cost more than the rest of a command */
    *p++ = '*';
    p = lgsp_redis_decimal(p, argc);

    for (i = 0; i < argc; i++) {
        *p++ = '$';
        p = lgsp_redis_decimal(p, argvlen[i]);
        memcpy(p, argv[i], argvlen[i]);
        p += argvlen[i];
        *p++ = '\r';
        *p++ = '\n';
    }

    return p;
}


/* n in decimal and "\r\n" */
static char *
lgsp_redis_decimal(char *p, size_t n)
{
    p = lgsp_uint(p, n);
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


/* an object of the reply, in its place in the array it is an element of */
static redisReply *
lgsp_redis_object(const redisReadTask *task, int type)
{
    redisReply  *r, *parent;

    r = malloc(sizeof(redisReply));
    if (r == NULL) {
        return NULL;
    }

    memset(r, 0, sizeof(redisReply));
    r->type = type;

    if (task->parent) {
        parent = task->parent->obj;
        parent->element[task->idx] = r;
    }

    return r;
}


static void *
lgsp_redis_string(const redisReadTask *task, char *str, size_t len)
{
    char        *buf;
    redisReply  *r;

    /* the copy first: an object in its array holds no string yet */
    buf = malloc(len + 1);
    if (buf == NULL) {
        return NULL;
    }

    r = lgsp_redis_object(task, task->type);
    if (r == NULL) {
        free(buf);
        return NULL;
    }

    memcpy(buf, str, len);
    buf[len] = '\0';
    r->str = buf;
    r->len = len;

    return r;
}


static void *
lgsp_redis_array(const redisReadTask *task, int elements)
{
    redisReply  **element;
    redisReply   *r;

    element = NULL;

    if (elements > 0) {
        /* NULLs until read: freeReplyObject() may see it half filled */
        element = calloc(elements, sizeof(redisReply *));
        if (element == NULL) {
            return NULL;
        }
    }

    r = lgsp_redis_object(task, REDIS_REPLY_ARRAY);
    if (r == NULL) {
        free(element);
        return NULL;
    }

    r->element = element;
    r->elements = elements;

    return r;
}


static void *
lgsp_redis_integer(const redisReadTask *task, long long value)
{
    redisReply  *r;

    r = lgsp_redis_object(task, REDIS_REPLY_INTEGER);
    if (r) {
        r->integer = value;
    }

    return r;
}


static void *
lgsp_redis_nil(const redisReadTask *task)
{
    return lgsp_redis_object(task, REDIS_REPLY_NIL);
}
