/*
 * Request bodies, the parts that need no nginx: the Content-Type checks
 * (RFC 9110 media types) and the "errors" list of a 422 answer.
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lgsp_body.h"


static int lgsp_body_is_type(const char *value, size_t len,
    const char *suffix, int text);
static size_t lgsp_body_token(const char *p, const char *end);
static const char *lgsp_body_skip_ows(const char *p, const char *end);
static int lgsp_body_is_utf8_label(const char *p, const char *end);


int
lgsp_body_is_json_type(const char *value, size_t len)
{
    return lgsp_body_is_type(value, len, "json", 0);
}


int
lgsp_body_is_xml_type(const char *value, size_t len)
{
    return lgsp_body_is_type(value, len, "xml", 1);
}


/*
 * application/SUFFIX or application/<anything>+SUFFIX (RFC 6839), and
 * text/ too when text is set; a charset parameter must say UTF-8.
 */
static int
lgsp_body_is_type(const char *value, size_t len, const char *suffix,
    int text)
{
    size_t       n, sn;
    const char  *p, *end, *name, *param;

    p = value;
    end = value + len;
    sn = strlen(suffix);

    p = lgsp_body_skip_ows(p, end);

    n = lgsp_body_token(p, end);
    if (!(n == sizeof("application") - 1
          && strncasecmp(p, "application", n) == 0)
        && !(text && n == sizeof("text") - 1 && strncasecmp(p, "text", n) == 0))
    {
        return 0;
    }

    p += n;

    if (p == end || *p++ != '/') {
        return 0;
    }

    n = lgsp_body_token(p, end);
    p += n;

    /* the suffix itself, or a name with the +suffix structured syntax */
    if (!(n == sn && strncasecmp(p - sn, suffix, sn) == 0)
        && !(n > sn + 1 && p[-(ptrdiff_t) sn - 1] == '+'
             && strncasecmp(p - sn, suffix, sn) == 0))
    {
        return 0;
    }

    for ( ;; ) {
        p = lgsp_body_skip_ows(p, end);

        if (p == end) {
            return 1;
        }

        if (*p++ != ';') {
            return 0;
        }

        p = lgsp_body_skip_ows(p, end);

        /* "application/json;" and "; ;" carry no parameter: allowed */
        if (p == end || *p == ';') {
            continue;
        }

        name = p;
        n = lgsp_body_token(p, end);
        if (n == 0) {
            return 0;
        }

        p += n;

        if (p == end || *p++ != '=') {
            return 0;
        }

        param = p;

        if (p < end && *p == '"') {
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\' && ++p == end) {
                    return 0;
                }
            }

            if (p == end) {
                return 0;
            }

            p++;

            if (n == sizeof("charset") - 1
                && strncasecmp(name, "charset", n) == 0
                && !lgsp_body_is_utf8_label(param + 1, p - 1))
            {
                return 0;
            }

            continue;
        }

        p += lgsp_body_token(p, end);

        if (p == param) {
            return 0;
        }

        if (n == sizeof("charset") - 1
            && strncasecmp(name, "charset", n) == 0
            && !lgsp_body_is_utf8_label(param, p))
        {
            return 0;
        }
    }
}


char *
lgsp_body_errors_json(const lgsp_schema_errors_t *errors)
{
    char                 *text;
    size_t                i;
    json_t               *list, *item;
    lgsp_schema_error_t  *e;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < errors->n; i++) {
        e = &errors->errors[i];

        item = json_pack("{s:s, s:s, s:s, s:s}",
                         "instancePath", e->instance_path,
                         "schemaPath", e->schema_path,
                         "keyword", e->keyword,
                         "message", e->message);

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    text = json_dumps(list, JSON_COMPACT);
    json_decref(list);

    return text;
}


/* the length of an RFC 9110 token at p */
static size_t
lgsp_body_token(const char *p, const char *end)
{
    const char  *start;

    for (start = p; p < end; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || (*p != '\0' && strchr("!#$%&'*+-.^_`|~", *p) != NULL)))
        {
            break;
        }
    }

    return p - start;
}


static const char *
lgsp_body_skip_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p;
}


static int
lgsp_body_is_utf8_label(const char *p, const char *end)
{
    return end - p == sizeof("utf-8") - 1
           && strncasecmp(p, "utf-8", end - p) == 0;
}
