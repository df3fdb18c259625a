/*
 * "format" checks.  Each checker takes the string and its byte length
 * (strings may hold NUL) and answers 1 when the string is in the format.
 * Only ASCII digits and letters count where the RFCs say DIGIT or ALPHA.
 */

#include <stdlib.h>
#include <string.h>

#include "lgsp_format.h"
#include "lgsp_regex.h"


typedef struct {
    const char  *name;
    int          id;
} lgsp_format_name_t;


static const lgsp_format_name_t  lgsp_format_names[] = {
    { "date-time", LGSP_FORMAT_DATE_TIME },
    { "date", LGSP_FORMAT_DATE },
    { "time", LGSP_FORMAT_TIME },
    { "duration", LGSP_FORMAT_DURATION },
    { "email", LGSP_FORMAT_EMAIL },
    { "hostname", LGSP_FORMAT_HOSTNAME },
    { "ipv4", LGSP_FORMAT_IPV4 },
    { "ipv6", LGSP_FORMAT_IPV6 },
    { "uri", LGSP_FORMAT_URI },
    { "uri-reference", LGSP_FORMAT_URI_REFERENCE },
    { "iri", LGSP_FORMAT_IRI },
    { "iri-reference", LGSP_FORMAT_IRI_REFERENCE },
    { "uuid", LGSP_FORMAT_UUID },
    { "regex", LGSP_FORMAT_REGEX },
    { "json-pointer", LGSP_FORMAT_JSON_POINTER },
    { "relative-json-pointer", LGSP_FORMAT_RELATIVE_JSON_POINTER },
    { "uri-template", LGSP_FORMAT_URI_TEMPLATE },
    { NULL, 0 }
};


#define lgsp_is_digit(c)  ((c) >= '0' && (c) <= '9')
#define lgsp_is_alpha(c)  (((c) >= 'a' && (c) <= 'z')                        \
                           || ((c) >= 'A' && (c) <= 'Z'))
#define lgsp_is_hex(c)    (lgsp_is_digit(c) || ((c) >= 'a' && (c) <= 'f')    \
                           || ((c) >= 'A' && (c) <= 'F'))


int
lgsp_format_id(const char *name)
{
    const lgsp_format_name_t  *f;

    for (f = lgsp_format_names; f->name; f++) {
        if (strcmp(f->name, name) == 0) {
            return f->id;
        }
    }

    return LGSP_FORMAT_NONE;
}


/* exactly n ASCII digits at s, as a number; -1 otherwise */
static int
lgsp_format_digits(const char *s, size_t n)
{
    size_t  i;
    int     v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (!lgsp_is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }

    return v;
}


/* RFC 3339 full-date: YYYY-MM-DD, the day must exist */
static int
lgsp_format_date(const char *s, size_t len)
{
    int                     year, month, day, leap;
    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };

    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }

    year = lgsp_format_digits(s, 4);
    month = lgsp_format_digits(s + 5, 2);
    day = lgsp_format_digits(s + 8, 2);

    if (year < 0 || month < 1 || month > 12 || day < 1) {
        return 0;
    }

    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return day <= days[month - 1] + (month == 2 && leap);
}


/*
 * RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM).  A leap second
 * (:60) is only valid at 23:59 UTC, after the offset is taken off.
 */
static int
lgsp_format_time(const char *s, size_t len)
{
    int      hour, minute, second, oh, om, sign, utc;
    size_t   i;

    if (len < 9 || s[2] != ':' || s[5] != ':') {
        return 0;
    }

    hour = lgsp_format_digits(s, 2);
    minute = lgsp_format_digits(s + 3, 2);
    second = lgsp_format_digits(s + 6, 2);

    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
        || second > 60)
    {
        return 0;
    }

    i = 8;

    if (s[i] == '.') {
        i++;
        if (i >= len || !lgsp_is_digit(s[i])) {
            return 0;
        }
        while (i < len && lgsp_is_digit(s[i])) {
            i++;
        }
    }

    if (i >= len) {
        return 0;
    }

    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        oh = 0;
        om = 0;
        sign = 1;

    } else if ((s[i] == '+' || s[i] == '-') && len - i == 6
               && s[i + 3] == ':')
    {
        sign = s[i] == '+' ? 1 : -1;
        oh = lgsp_format_digits(s + i + 1, 2);
        om = lgsp_format_digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) {
            return 0;
        }

    } else {
        return 0;
    }

    if (second == 60) {
        utc = hour * 60 + minute - sign * (oh * 60 + om);
        utc = (utc % 1440 + 1440) % 1440;
        return utc == 23 * 60 + 59;
    }

    return 1;
}


static int
lgsp_format_date_time(const char *s, size_t len)
{
    if (len < 11 || (s[10] != 'T' && s[10] != 't')) {
        return 0;
    }

    return lgsp_format_date(s, 10) && lgsp_format_time(s + 11, len - 11);
}


/* ISO 8601 duration as RFC 3339 appendix A gives it */
static int
lgsp_format_duration(const char *s, size_t len)
{
    const char  *p, *end, *units;
    int          any, in_time, first;

    if (len < 2 || s[0] != 'P') {
        return 0;
    }

    first = 1;

    p = s + 1;
    end = s + len;
    units = "YMD";
    any = 0;
    in_time = 0;

    while (p < end) {

        if (*p == 'T') {
            if (in_time || p + 1 == end) {
                return 0;
            }
            in_time = 1;
            units = "HMS";
            first = 1;
            p++;
            continue;
        }

        if (!lgsp_is_digit(*p)) {
            return 0;
        }

        while (p < end && lgsp_is_digit(*p)) {
            p++;
        }

        if (p == end) {
            return 0;
        }

        if (*p == 'W' && !in_time && !any && p + 1 == end) {
            return 1;
        }

        /* in order, and after the first, none skipped: P1Y2D is not
         * a duration, P1Y2M3D is */
        if (first) {
            while (*units && *units != *p) {
                units++;
            }
        }

        if (*units == '\0' || *units != *p) {
            return 0;
        }

        units++;
        any = 1;
        first = 0;
        p++;
    }

    return any;
}


static int
lgsp_format_ipv4(const char *s, size_t len)
{
    size_t  i, part, digits;
    int     value;

    part = 0;
    i = 0;

    for ( ;; ) {
        digits = 0;
        value = 0;

        while (i < len && lgsp_is_digit(s[i]) && digits < 4) {
            value = value * 10 + (s[i] - '0');
            digits++;
            i++;
        }

        if (digits == 0 || digits > 3 || value > 255
            || (digits > 1 && s[i - digits] == '0'))
        {
            return 0;
        }

        if (++part == 4) {
            return i == len;
        }

        if (i >= len || s[i] != '.') {
            return 0;
        }

        i++;
    }
}


static int
lgsp_format_ipv6(const char *s, size_t len)
{
    size_t  i, j, groups, digits;
    int     compressed;

    i = 0;
    groups = 0;
    compressed = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = 1;
        i = 2;
        if (i == len) {
            return 1;
        }
    }

    while (i < len) {

        /* an embedded IPv4 address ends the address */
        for (j = i; j < len && lgsp_is_hex(s[j]); j++) { /* void */ }

        if (j < len && s[j] == '.') {
            if (!lgsp_format_ipv4(s + i, len - i)) {
                return 0;
            }
            groups += 2;
            break;
        }

        digits = j - i;
        if (digits == 0 || digits > 4) {
            return 0;
        }

        groups++;
        i = j;

        if (i == len) {
            break;
        }

        if (s[i] != ':') {
            return 0;
        }

        if (i + 1 < len && s[i + 1] == ':') {
            if (compressed) {
                return 0;
            }
            compressed = 1;
            i += 2;
            continue;
        }

        i++;
        if (i == len) {
            return 0;
        }
    }

    return compressed ? groups <= 7 : groups == 8;
}


/* RFC 1123 host name: dot-separated labels of letters, digits, hyphens */
static int
lgsp_format_hostname(const char *s, size_t len)
{
    size_t  i, label;

    if (len == 0 || len > 253) {
        return 0;
    }

    label = 0;

    for (i = 0; i < len; i++) {

        if (s[i] == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }
            label = 0;
            continue;
        }

        if (!lgsp_is_alpha(s[i]) && !lgsp_is_digit(s[i]) && s[i] != '-') {
            return 0;
        }

        if (s[i] == '-' && label == 0) {
            return 0;
        }

        if (++label > 63) {
            return 0;
        }
    }

    return label > 0 && s[len - 1] != '-';
}


static int
lgsp_format_email(const char *s, size_t len)
{
    const char  *at, *p, *domain;
    size_t       local, dlen;
    int          prev_dot;

    at = NULL;
    for (p = s + len; p > s; p--) {
        if (p[-1] == '@') {
            at = p - 1;
            break;
        }
    }

    if (at == NULL || at == s || at + 1 == s + len) {
        return 0;
    }

    local = at - s;

    if (s[0] == '"') {
        if (local < 2 || s[local - 1] != '"') {
            return 0;
        }
        for (p = s + 1; p < at - 1; p++) {
            if (*p == '\\') {
                p++;
                continue;
            }
            if (*p == '"' || (unsigned char) *p < 0x20) {
                return 0;
            }
        }
        if (p != at - 1) {
            return 0;
        }

    } else {
        prev_dot = 1;
        for (p = s; p < at; p++) {
            if (*p == '.') {
                if (prev_dot) {
                    return 0;
                }
                prev_dot = 1;
                continue;
            }
            if (!lgsp_is_alpha(*p) && !lgsp_is_digit(*p)
                && strchr("!#$%&'*+-/=?^_`{|}~", *p) == NULL)
            {
                return 0;
            }
            prev_dot = 0;
        }
        if (prev_dot) {
            return 0;
        }
    }

    domain = at + 1;
    dlen = s + len - domain;

    if (domain[0] == '[') {
        if (domain[dlen - 1] != ']') {
            return 0;
        }
        if (dlen > 7 && memcmp(domain + 1, "IPv6:", 5) == 0) {
            return lgsp_format_ipv6(domain + 6, dlen - 7);
        }
        return lgsp_format_ipv4(domain + 1, dlen - 2);
    }

    return lgsp_format_hostname(domain, dlen);
}


static int
lgsp_format_uuid(const char *s, size_t len)
{
    size_t  i;

    if (len != 36) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (!lgsp_is_hex(s[i])) {
            return 0;
        }
    }

    return 1;
}


/*
 * RFC 3986 character classes.  "extra" lists further allowed ASCII
 * characters; iri allows every non-ASCII byte (RFC 3987 ucschar).
 */
static int
lgsp_uri_chars(const char *s, size_t len, const char *extra, int iri)
{
    size_t  i;
    int     c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c == '%') {
            if (i + 2 >= len || !lgsp_is_hex(s[i + 1])
                || !lgsp_is_hex(s[i + 2]))
            {
                return 0;
            }
            i += 2;
            continue;
        }

        if (c >= 0x80) {
            if (!iri) {
                return 0;
            }
            continue;
        }

        if (lgsp_is_alpha(c) || lgsp_is_digit(c)
            || strchr("-._~!$&'()*+,;=", c) != NULL
            || (c != '\0' && strchr(extra, c) != NULL))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


static int
lgsp_uri_authority(const char *s, size_t len, int iri)
{
    const char  *at, *host, *colon, *close;
    size_t       hlen, i;

    at = memchr(s, '@', len);
    host = s;

    if (at != NULL) {
        if (!lgsp_uri_chars(s, at - s, ":", iri)) {
            return 0;
        }
        host = at + 1;
    }

    hlen = s + len - host;

    if (hlen > 0 && host[0] == '[') {
        close = memchr(host, ']', hlen);
        if (close == NULL) {
            return 0;
        }
        if (host[1] == 'v' || host[1] == 'V') {
            /* IPvFuture: "v" 1*HEXDIG "." 1*(unreserved / sub-delims / ":") */
            for (i = 2; host + i < close && lgsp_is_hex(host[i]); i++) {
                /* void */
            }
            if (i == 2 || host + i >= close || host[i] != '.'
                || host + i + 1 == close
                || !lgsp_uri_chars(host + i + 1, close - host - i - 1, ":",
                                   0))
            {
                return 0;
            }
        } else if (!lgsp_format_ipv6(host + 1, close - host - 1)) {
            return 0;
        }
        colon = close + 1;
        if (colon == s + len) {
            return 1;
        }
        if (*colon != ':') {
            return 0;
        }

    } else {
        colon = memchr(host, ':', hlen);
        if (!lgsp_uri_chars(host, (colon ? colon : s + len) - host, "",
                            iri))
        {
            return 0;
        }
        if (colon == NULL) {
            return 1;
        }
    }

    for (colon++; colon < s + len; colon++) {
        if (!lgsp_is_digit(*colon)) {
            return 0;
        }
    }

    return 1;
}


/* RFC 3986 URI (absolute = 1) or URI-reference; RFC 3987 when iri = 1 */
static int
lgsp_format_uri(const char *s, size_t len, int absolute, int iri)
{
    const char  *p, *end, *hier, *q, *auth_end;
    size_t       i;

    end = s + len;
    hier = s;

    if (len > 0 && lgsp_is_alpha(s[0])) {
        for (i = 1; i < len; i++) {
            if (!lgsp_is_alpha(s[i]) && !lgsp_is_digit(s[i])
                && s[i] != '+' && s[i] != '-' && s[i] != '.')
            {
                break;
            }
        }
        if (i < len && s[i] == ':') {
            hier = s + i + 1;
        }
    }

    if (hier == s) {
        if (absolute) {
            return 0;
        }

        /* relative-ref: no ":" in the first path segment */
        for (p = s; p < end && *p != '/' && *p != '?' && *p != '#'; p++) {
            if (*p == ':') {
                return 0;
            }
        }
    }

    p = hier;

    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        p += 2;
        for (auth_end = p;
             auth_end < end && *auth_end != '/' && *auth_end != '?'
             && *auth_end != '#';
             auth_end++)
        {
            /* void */
        }
        if (!lgsp_uri_authority(p, auth_end - p, iri)) {
            return 0;
        }
        p = auth_end;
    }

    for (q = p; q < end && *q != '?' && *q != '#'; q++) { /* void */ }

    if (!lgsp_uri_chars(p, q - p, ":@/", iri)) {
        return 0;
    }

    p = q;

    if (p < end && *p == '?') {
        for (q = p + 1; q < end && *q != '#'; q++) { /* void */ }
        if (!lgsp_uri_chars(p + 1, q - p - 1, ":@/?", iri)) {
            return 0;
        }
        p = q;
    }

    if (p < end && *p == '#') {
        return lgsp_uri_chars(p + 1, end - p - 1, ":@/?", iri);
    }

    return 1;
}


static int
lgsp_format_json_pointer(const char *s, size_t len)
{
    size_t  i;

    if (len > 0 && s[0] != '/') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '~' && (i + 1 == len || (s[i + 1] != '0'
                                              && s[i + 1] != '1')))
        {
            return 0;
        }
    }

    return 1;
}


static int
lgsp_format_relative_json_pointer(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len && lgsp_is_digit(s[i]); i++) { /* void */ }

    if (i == 0 || (i > 1 && s[0] == '0')) {
        return 0;
    }

    if (i < len && s[i] == '#') {
        return i + 1 == len;
    }

    return lgsp_format_json_pointer(s + i, len - i);
}


/* RFC 6570 level 4 template syntax */
static int
lgsp_format_uri_template(const char *s, size_t len)
{
    const char  *p, *end, *close;
    int          name_start, max;

    end = s + len;

    for (p = s; p < end; p++) {

        if (*p == '}' || (unsigned char) *p <= 0x20 || *p == 0x7f
            || strchr("\"<>\\^`|", *p) != NULL)
        {
            return 0;
        }

        if (*p == '%') {
            if (end - p < 3 || !lgsp_is_hex(p[1]) || !lgsp_is_hex(p[2])) {
                return 0;
            }
            p += 2;
            continue;
        }

        if (*p != '{') {
            continue;
        }

        close = memchr(p, '}', end - p);
        if (close == NULL) {
            return 0;
        }

        p++;
        if (p < close && strchr("+#./;?&", *p) != NULL) {
            p++;
        }

        /* varspec *( "," varspec ) */
        for ( ;; ) {
            name_start = 1;
            for ( ;; ) {
                if (p < close && (lgsp_is_alpha(*p) || lgsp_is_digit(*p)
                                  || *p == '_'))
                {
                    p++;
                } else if (p + 2 < close && *p == '%' && lgsp_is_hex(p[1])
                           && lgsp_is_hex(p[2]))
                {
                    p += 3;
                } else {
                    break;
                }
                name_start = 0;
                if (p < close && *p == '.' && p + 1 < close && p[1] != '.') {
                    p++;
                    name_start = 1;
                }
            }
            if (name_start) {
                return 0;
            }
            if (p < close && *p == ':') {
                p++;
                if (p >= close || *p < '1' || *p > '9') {
                    return 0;
                }
                for (max = 0; p < close && lgsp_is_digit(*p); p++) {
                    max = max * 10 + (*p - '0');
                    if (max > 9999) {
                        return 0;
                    }
                }
            } else if (p < close && *p == '*') {
                p++;
            }
            if (p == close) {
                break;
            }
            if (*p != ',') {
                return 0;
            }
            p++;
        }
    }

    return 1;
}


static int
lgsp_format_regex(const char *s, size_t len)
{
    char           err[128];
    lgsp_regex_t  *re;

    re = lgsp_regex_compile(s, len, err, sizeof(err));
    if (re == NULL) {
        return 0;
    }

    lgsp_regex_free(re);
    return 1;
}


int
lgsp_format_check(int id, const char *s, size_t len)
{
    switch (id) {
    case LGSP_FORMAT_DATE_TIME:
        return lgsp_format_date_time(s, len);
    case LGSP_FORMAT_DATE:
        return lgsp_format_date(s, len);
    case LGSP_FORMAT_TIME:
        return lgsp_format_time(s, len);
    case LGSP_FORMAT_DURATION:
        return lgsp_format_duration(s, len);
    case LGSP_FORMAT_EMAIL:
        return lgsp_format_email(s, len);
    case LGSP_FORMAT_HOSTNAME:
        return lgsp_format_hostname(s, len);
    case LGSP_FORMAT_IPV4:
        return lgsp_format_ipv4(s, len);
    case LGSP_FORMAT_IPV6:
        return lgsp_format_ipv6(s, len);
    case LGSP_FORMAT_URI:
        return lgsp_format_uri(s, len, 1, 0);
    case LGSP_FORMAT_URI_REFERENCE:
        return lgsp_format_uri(s, len, 0, 0);
    case LGSP_FORMAT_IRI:
        return lgsp_format_uri(s, len, 1, 1);
    case LGSP_FORMAT_IRI_REFERENCE:
        return lgsp_format_uri(s, len, 0, 1);
    case LGSP_FORMAT_UUID:
        return lgsp_format_uuid(s, len);
    case LGSP_FORMAT_REGEX:
        return lgsp_format_regex(s, len);
    case LGSP_FORMAT_JSON_POINTER:
        return lgsp_format_json_pointer(s, len);
    case LGSP_FORMAT_RELATIVE_JSON_POINTER:
        return lgsp_format_relative_json_pointer(s, len);
    case LGSP_FORMAT_URI_TEMPLATE:
        return lgsp_format_uri_template(s, len);
    default:
        return 1;
    }
}
