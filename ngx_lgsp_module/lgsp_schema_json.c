/*
 * Strict parsing of request bodies (RFC 8259) into jansson values.  One
 * pass, no stream layer: jansson's own reader costs most of a validated
 * request's time.  Nesting is counted as the parser descends, so a body
 * of 100000 "[" is refused at the first bracket past the limit, and the
 * recursion never goes deeper than the limit.  Duplicate keys are
 * refused: agencies' systems would otherwise disagree on which value
 * counts.  Strings must be UTF-8; "\u0000" is kept (jansson holds lengths).
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_schema.h"


typedef struct {
    const unsigned char   *start;
    const unsigned char   *p;
    const unsigned char   *end;
    size_t                 max_depth;
    int                    kind;         /* LGSP_JSON_*, set on error */
    size_t                 at;           /* the error's byte offset */
    const char            *what;         /* the error, for the message */
    char                  *scratch;      /* unescaped strings, numbers */
    size_t                 scratch_cap;
} lgsp_json_parser_t;


static json_t *lgsp_json_value(lgsp_json_parser_t *ps, size_t depth);
static json_t *lgsp_json_object(lgsp_json_parser_t *ps, size_t depth);
static json_t *lgsp_json_array(lgsp_json_parser_t *ps, size_t depth);
static int lgsp_json_string(lgsp_json_parser_t *ps, const char **s,
    size_t *len);
static json_t *lgsp_json_number(lgsp_json_parser_t *ps);
static json_t *lgsp_json_literal(lgsp_json_parser_t *ps, const char *word,
    size_t len, json_t *value);
static size_t lgsp_json_utf8(const unsigned char *p,
    const unsigned char *end);
static int lgsp_json_hex4(const unsigned char *p, unsigned *cp);
static int lgsp_json_reserve(lgsp_json_parser_t *ps, size_t len);
static void *lgsp_json_fail(lgsp_json_parser_t *ps, int kind,
    const unsigned char *at, const char *what);


#define lgsp_json_skip_ws(ps)                                                \
    while ((ps)->p < (ps)->end                                               \
           && (*(ps)->p == ' ' || *(ps)->p == '\n' || *(ps)->p == '\r'       \
               || *(ps)->p == '\t'))                                         \
    {                                                                        \
        (ps)->p++;                                                           \
    }


json_t *
lgsp_json_parse_strict(const char *buf, size_t len, size_t max_depth,
    int *kind, char *err, size_t errlen)
{
    json_t              *json;
    lgsp_json_parser_t   ps;

    memset(&ps, 0, sizeof(lgsp_json_parser_t));
    ps.start = (const unsigned char *) buf;
    ps.p = ps.start;
    ps.end = ps.start + len;
    ps.max_depth = max_depth;

    lgsp_json_skip_ws(&ps);
    json = lgsp_json_value(&ps, 0);

    if (json != NULL) {
        lgsp_json_skip_ws(&ps);

        if (ps.p < ps.end) {
            json_decref(json);
            json = lgsp_json_fail(&ps, LGSP_JSON_SYNTAX, ps.p,
                                  "text after the document");
        }
    }

    free(ps.scratch);

    if (json != NULL) {
        *kind = LGSP_JSON_OK;
        return json;
    }

    *kind = ps.kind;

    switch (ps.kind) {

    case LGSP_JSON_TOO_DEEP:
        snprintf(err, errlen, "JSON nested deeper than %zu levels at byte %zu",
                 max_depth, ps.at);
        break;

    case LGSP_JSON_DUPLICATE_KEY:
        snprintf(err, errlen, "duplicate object key at byte %zu", ps.at);
        break;

    default:
        /* the offset counts the offending byte, as jansson's did */
        snprintf(err, errlen, "malformed JSON at byte %zu: %s",
                 ps.at + (ps.at < len), ps.what);
    }

    return NULL;
}


static json_t *
lgsp_json_value(lgsp_json_parser_t *ps, size_t depth)
{
    size_t       len;
    json_t      *json;
    const char  *s;

    if (ps->p >= ps->end) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                              "unexpected end of input");
    }

    switch (*ps->p) {

    case '{':
        return lgsp_json_object(ps, depth + 1);

    case '[':
        return lgsp_json_array(ps, depth + 1);

    case '"':
        if (lgsp_json_string(ps, &s, &len) != 0) {
            return NULL;
        }

        json = json_stringn_nocheck(s, len);
        return json ? json : lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                                            "out of memory");

    case 't':
        return lgsp_json_literal(ps, "true", 4, json_true());

    case 'f':
        return lgsp_json_literal(ps, "false", 5, json_false());

    case 'n':
        return lgsp_json_literal(ps, "null", 4, json_null());

    default:
        return lgsp_json_number(ps);
    }
}


static json_t *
lgsp_json_object(lgsp_json_parser_t *ps, size_t depth)
{
    char                 *copy;
    size_t                len;
    json_t               *object, *value;
    const char           *key;
    const unsigned char  *at;

    if (depth > ps->max_depth) {
        return lgsp_json_fail(ps, LGSP_JSON_TOO_DEEP, ps->p, "too deep");
    }

    ps->p++;

    object = json_object();
    if (object == NULL) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
    }

    lgsp_json_skip_ws(ps);

    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return object;
    }

    for ( ;; ) {
        if (ps->p >= ps->end || *ps->p != '"') {
            goto expected;
        }

        at = ps->p;

        if (lgsp_json_string(ps, &key, &len) != 0) {
            goto failed;
        }

        /* a key is a C string to the validator: "a\u0000" would be "a" */
        if (memchr(key, '\0', len) != NULL) {
            lgsp_json_fail(ps, LGSP_JSON_SYNTAX, at, "NUL in an object key");
            goto failed;
        }

        /* the key may live in the scratch buffer: check before reusing it */
        if (json_object_getn(object, key, len) != NULL) {
            lgsp_json_fail(ps, LGSP_JSON_DUPLICATE_KEY, at, "duplicate key");
            goto failed;
        }

        lgsp_json_skip_ws(ps);

        if (ps->p >= ps->end || *ps->p != ':') {
            lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "':' expected");
            goto failed;
        }

        ps->p++;
        lgsp_json_skip_ws(ps);

        /* a value's string would overwrite a scratch key: keep a copy */
        if (key == ps->scratch) {
            copy = malloc(len + 1);
            if (copy == NULL) {
                lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
                goto failed;
            }

            key = memcpy(copy, key, len);
            value = lgsp_json_value(ps, depth);

            if (value != NULL
                && json_object_setn_new_nocheck(object, key, len, value) != 0)
            {
                value = lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                                       "out of memory");
            }

            free(copy);

        } else {
            value = lgsp_json_value(ps, depth);

            if (value != NULL
                && json_object_setn_new_nocheck(object, key, len, value) != 0)
            {
                value = lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                                       "out of memory");
            }
        }

        if (value == NULL) {
            goto failed;
        }

        lgsp_json_skip_ws(ps);

        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            lgsp_json_skip_ws(ps);
            continue;
        }

        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return object;
        }

        lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "',' or '}' expected");
        goto failed;
    }

expected:

    lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "a string key expected");

failed:

    json_decref(object);
    return NULL;
}


static json_t *
lgsp_json_array(lgsp_json_parser_t *ps, size_t depth)
{
    json_t  *array, *value;

    if (depth > ps->max_depth) {
        return lgsp_json_fail(ps, LGSP_JSON_TOO_DEEP, ps->p, "too deep");
    }

    ps->p++;

    array = json_array();
    if (array == NULL) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
    }

    lgsp_json_skip_ws(ps);

    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return array;
    }

    for ( ;; ) {
        value = lgsp_json_value(ps, depth);
        if (value == NULL) {
            break;
        }

        if (json_array_append_new(array, value) != 0) {
            lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
            break;
        }

        lgsp_json_skip_ws(ps);

        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            lgsp_json_skip_ws(ps);
            continue;
        }

        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return array;
        }

        lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "',' or ']' expected");
        break;
    }

    json_decref(array);
    return NULL;
}


/*
 * A string at ps->p ('"'): *s points into the body when it has no escape,
 * else into the scratch buffer, valid until the next string.
 */
static int
lgsp_json_string(lgsp_json_parser_t *ps, const char **s, size_t *len)
{
    char                 *out;
    size_t                n;
    unsigned              cp, lo;
    const unsigned char  *p, *q, *end;

    p = ps->p + 1;
    end = ps->end;

    /* the common case: plain text up to the closing quote */
    for (q = p; q < end; q++) {
        if (*q == '"' || *q == '\\' || *q < 0x20) {
            break;
        }

        if (*q >= 0x80) {
            n = lgsp_json_utf8(q, end);
            if (n == 0) {
                lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q, "invalid UTF-8");
                return -1;
            }

            q += n - 1;
        }
    }

    if (q < end && *q == '"') {
        *s = (const char *) p;
        *len = q - p;
        ps->p = q + 1;
        return 0;
    }

    /* escapes: unescaped into the scratch buffer; never longer than this */
    if (lgsp_json_reserve(ps, end - p + 1) != 0) {
        return -1;
    }

    out = ps->scratch;
    memcpy(out, p, q - p);
    out += q - p;

    while (q < end && *q != '"') {

        if (*q < 0x20) {
            lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q,
                           "control character in a string");
            return -1;
        }

        if (*q >= 0x80) {
            n = lgsp_json_utf8(q, end);
            if (n == 0) {
                lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q, "invalid UTF-8");
                return -1;
            }

            memcpy(out, q, n);
            out += n;
            q += n;
            continue;
        }

        if (*q != '\\') {
            *out++ = *q++;
            continue;
        }

        if (q + 1 >= end) {
            lgsp_json_fail(ps, LGSP_JSON_SYNTAX, end, "unterminated string");
            return -1;
        }

        switch (q[1]) {
        case '"':  *out++ = '"';  break;
        case '\\': *out++ = '\\'; break;
        case '/':  *out++ = '/';  break;
        case 'b':  *out++ = '\b'; break;
        case 'f':  *out++ = '\f'; break;
        case 'n':  *out++ = '\n'; break;
        case 'r':  *out++ = '\r'; break;
        case 't':  *out++ = '\t'; break;

        case 'u':
            if (q + 6 > end || lgsp_json_hex4(q + 2, &cp) != 0) {
                lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q, "invalid \\u escape");
                return -1;
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q, "lone low surrogate");
                return -1;
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (q + 12 > end || q[6] != '\\' || q[7] != 'u'
                    || lgsp_json_hex4(q + 8, &lo) != 0
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q,
                                   "lone high surrogate");
                    return -1;
                }

                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                q += 6;
            }

            /* 6 or 12 escaped bytes become at most 4 */
            if (cp < 0x80) {
                *out++ = (char) cp;

            } else if (cp < 0x800) {
                *out++ = (char) (0xc0 | (cp >> 6));
                *out++ = (char) (0x80 | (cp & 0x3f));

            } else if (cp < 0x10000) {
                *out++ = (char) (0xe0 | (cp >> 12));
                *out++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *out++ = (char) (0x80 | (cp & 0x3f));

            } else {
                *out++ = (char) (0xf0 | (cp >> 18));
                *out++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                *out++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *out++ = (char) (0x80 | (cp & 0x3f));
            }

            q += 4;
            break;

        default:
            lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q, "invalid escape");
            return -1;
        }

        q += 2;
    }

    if (q >= end) {
        lgsp_json_fail(ps, LGSP_JSON_SYNTAX, end, "unterminated string");
        return -1;
    }

    *s = ps->scratch;
    *len = out - ps->scratch;
    ps->p = q + 1;

    return 0;
}


/* integers that fit 64 bits stay integers; the rest become reals */
static json_t *
lgsp_json_number(lgsp_json_parser_t *ps)
{
    int                   integer, digits;
    double                d;
    json_t               *json;
    unsigned              digit;
    const unsigned char  *p, *q, *start;
    unsigned long long    magnitude;

    start = ps->p;
    p = start;
    integer = 1;

    if (p < ps->end && *p == '-') {
        p++;
    }

    if (p < ps->end && *p == '0') {
        p++;

    } else if (p < ps->end && *p >= '1' && *p <= '9') {
        while (p < ps->end && *p >= '0' && *p <= '9') {
            p++;
        }

    } else {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                              "unexpected character");
    }

    if (p < ps->end && *p == '.') {
        integer = 0;
        p++;

        for (digits = 0; p < ps->end && *p >= '0' && *p <= '9'; digits++) {
            p++;
        }

        if (digits == 0) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                                  "digits expected after '.'");
        }
    }

    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        integer = 0;
        p++;

        if (p < ps->end && (*p == '+' || *p == '-')) {
            p++;
        }

        for (digits = 0; p < ps->end && *p >= '0' && *p <= '9'; digits++) {
            p++;
        }

        if (digits == 0) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                                  "digits expected in the exponent");
        }
    }

    if (integer) {
        magnitude = 0;

        for (q = start + (*start == '-'); q < p; q++) {
            digit = *q - '0';

            if (magnitude > (ULLONG_MAX - digit) / 10) {
                break;
            }

            magnitude = magnitude * 10 + digit;
        }

        /* -2^63 fits as well as 2^63 - 1 */
        if (q == p && magnitude <= (unsigned long long) LLONG_MAX
                                   + (*start == '-'))
        {
            json = json_integer(*start == '-'
                                ? (json_int_t) (0 - magnitude)
                                : (json_int_t) magnitude);
            ps->p = p;

            return json ? json : lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                                                "out of memory");
        }
    }

    /* strtod wants a terminated copy */
    if (lgsp_json_reserve(ps, p - start + 1) != 0) {
        return NULL;
    }

    memcpy(ps->scratch, start, p - start);
    ps->scratch[p - start] = '\0';

    errno = 0;
    d = strtod(ps->scratch, NULL);

    if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, start,
                              "number out of range");
    }

    ps->p = p;

    json = json_real(d);
    return json ? json : lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                                        "out of memory");
}


static json_t *
lgsp_json_literal(lgsp_json_parser_t *ps, const char *word, size_t len,
    json_t *value)
{
    if ((size_t) (ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                              "unexpected character");
    }

    ps->p += len;

    return value;
}


/* the length of a valid UTF-8 sequence at p (RFC 3629), or 0 */
static size_t
lgsp_json_utf8(const unsigned char *p, const unsigned char *end)
{
    size_t    n, i;
    unsigned  cp, min;

    if (*p >= 0xc2 && *p <= 0xdf) {
        n = 2;
        cp = *p & 0x1f;
        min = 0x80;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        n = 3;
        cp = *p & 0x0f;
        min = 0x800;

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        n = 4;
        cp = *p & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n;
}


static int
lgsp_json_hex4(const unsigned char *p, unsigned *cp)
{
    int       i;
    unsigned  v;

    v = 0;

    for (i = 0; i < 4; i++) {
        v <<= 4;

        if (p[i] >= '0' && p[i] <= '9') {
            v |= p[i] - '0';

        } else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f') {
            v |= (p[i] | 0x20) - 'a' + 10;

        } else {
            return -1;
        }
    }

    *cp = v;

    return 0;
}


static int
lgsp_json_reserve(lgsp_json_parser_t *ps, size_t len)
{
    char  *p;

    if (len <= ps->scratch_cap) {
        return 0;
    }

    p = realloc(ps->scratch, len);
    if (p == NULL) {
        lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
        return -1;
    }

    ps->scratch = p;
    ps->scratch_cap = len;

    return 0;
}


/* records the first error; returns NULL for the callers' convenience */
static void *
lgsp_json_fail(lgsp_json_parser_t *ps, int kind, const unsigned char *at,
    const char *what)
{
    if (ps->what == NULL) {
        ps->kind = kind;
        ps->at = at - ps->start;
        ps->what = what;
    }

    return NULL;
}
