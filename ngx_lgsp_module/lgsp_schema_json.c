/*
 * Strict parsing of request bodies.  The nesting depth is measured by a
 * flat scan before jansson (which recurses) sees the text, so a body of
 * 100000 "[" costs one pass and no stack.  Duplicate keys are refused:
 * agencies' systems would otherwise disagree on which value counts.
 */

#include <stdio.h>
#include <string.h>

#include "lgsp_schema.h"


/* the offset of the first bracket past max_depth, or len if none */
static size_t
lgsp_json_depth_scan(const char *buf, size_t len, size_t max_depth)
{
    size_t  i, depth;
    int     in_string;

    depth = 0;
    in_string = 0;

    for (i = 0; i < len; i++) {

        if (in_string) {
            if (buf[i] == '\\') {
                i++;
            } else if (buf[i] == '"') {
                in_string = 0;
            }
            continue;
        }

        switch (buf[i]) {
        case '"':
            in_string = 1;
            break;
        case '[':
        case '{':
            if (++depth > max_depth) {
                return i;
            }
            break;
        case ']':
        case '}':
            /* unbalanced closers are the parser's to report */
            if (depth > 0) {
                depth--;
            }
            break;
        default:
            break;
        }
    }

    return len;
}


json_t *
lgsp_json_parse_strict(const char *buf, size_t len, size_t max_depth,
    int *kind, char *err, size_t errlen)
{
    size_t        at;
    json_t       *json;
    json_error_t  error;

    at = lgsp_json_depth_scan(buf, len, max_depth);
    if (at < len) {
        *kind = LGSP_JSON_TOO_DEEP;
        snprintf(err, errlen, "JSON nested deeper than %zu levels at byte %zu",
                 max_depth, at);
        return NULL;
    }

    json = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY
                                | JSON_ALLOW_NUL, &error);

    if (json == NULL && strstr(error.text, "too big") != NULL) {
        /* integers past 64 bits: as reals, like JavaScript */
        json = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY
                                    | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                          &error);
    }

    if (json != NULL) {
        *kind = LGSP_JSON_OK;
        return json;
    }

    if (strncmp(error.text, "duplicate object key", 20) == 0) {
        *kind = LGSP_JSON_DUPLICATE_KEY;
        snprintf(err, errlen, "duplicate object key at byte %d",
                 error.position);

    } else if (strstr(error.text, "depth") != NULL) {
        *kind = LGSP_JSON_TOO_DEEP;
        snprintf(err, errlen, "JSON nested too deeply at byte %d",
                 error.position);

    } else {
        *kind = LGSP_JSON_SYNTAX;
        snprintf(err, errlen, "malformed JSON at byte %d: %s",
                 error.position, error.text);
    }

    return NULL;
}
