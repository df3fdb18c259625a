/*
 * OAuth 2.0 client-credentials answers: see lgsp_oauth.h.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lgsp_oauth.h"


/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-._~+/" ) *"=" */
static int
lgsp_oauth_b64token(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len && s[i] != '='; i++) {
        if (!(isalnum((unsigned char) s[i]) || strchr("-._~+/", s[i]))) {
            return 0;
        }
    }

    if (i == 0) {
        return 0;
    }

    for ( /* void */ ; i < len; i++) {
        if (s[i] != '=') {
            return 0;
        }
    }

    return 1;
}


int
lgsp_oauth_token_parse(const char *body, size_t len, lgsp_oauth_token_t *out,
    char *err, size_t errlen)
{
    json_t      *doc, *token, *type, *ttl;
    const char  *reason;

    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(err, errlen, "the answer is not a JSON object");
        return -1;
    }

    token = json_object_get(doc, "access_token");
    type = json_object_get(doc, "token_type");
    ttl = json_object_get(doc, "expires_in");
    reason = NULL;

    if (!json_is_string(token)) {
        reason = "no \"access_token\" string";

    } else if (json_string_length(token) > LGSP_OAUTH_TOKEN_MAX
               || !lgsp_oauth_b64token(json_string_value(token),
                                       json_string_length(token)))
    {
        reason = "\"access_token\" is not a bearer token";

    } else if (type && (!json_is_string(type)
                        || strcasecmp(json_string_value(type), "Bearer")
                           != 0))
    {
        reason = "\"token_type\" is not Bearer";

    } else if (ttl && (!json_is_integer(ttl)
                       || json_integer_value(ttl) <= 0))
    {
        reason = "\"expires_in\" is not a positive integer";
    }

    if (reason) {
        json_decref(doc);
        snprintf(err, errlen, "%s", reason);
        return -1;
    }

    out->token_len = json_string_length(token);
    memcpy(out->token, json_string_value(token), out->token_len);
    out->token[out->token_len] = '\0';
    out->expires_in = ttl ? json_integer_value(ttl) : LGSP_OAUTH_DEFAULT_TTL;

    json_decref(doc);

    return 0;
}


size_t
lgsp_oauth_form_encode(char *dst, const char *src, size_t len)
{
    char                 *p;
    size_t                i;
    unsigned char         c;
    static const char     hex[] = "0123456789ABCDEF";

    p = dst;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        /* bytes, not the locale's letters: UTF-8 is %-encoded too */
        if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            || c == '*' || c == '-' || c == '.' || c == '_')
        {
            *p++ = (char) c;

        } else if (c == ' ') {
            *p++ = '+';

        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0x0f];
        }
    }

    return p - dst;
}


size_t
lgsp_oauth_basic_user_pass(char *dst, const char *line, size_t len,
    const char *colon, int form)
{
    size_t  n;

    if (!form) {
        memcpy(dst, line, len);
        return len;
    }

    n = lgsp_oauth_form_encode(dst, line, colon - line);
    dst[n++] = ':';
    n += lgsp_oauth_form_encode(dst + n, colon + 1, line + len - colon - 1);

    return n;
}
