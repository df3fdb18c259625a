/*
 * The "format" checks of JSON Schema: RFC 3339 dates and times, ISO 8601
 * durations, e-mail addresses, host names, IP addresses, URIs, UUIDs,
 * JSON Pointers and ECMA-262 regular expressions.
 */

#ifndef LGSP_FORMAT_H
#define LGSP_FORMAT_H

#include <stddef.h>


enum {
    LGSP_FORMAT_NONE = 0,
    LGSP_FORMAT_DATE_TIME,
    LGSP_FORMAT_DATE,
    LGSP_FORMAT_TIME,
    LGSP_FORMAT_DURATION,
    LGSP_FORMAT_EMAIL,
    LGSP_FORMAT_HOSTNAME,
    LGSP_FORMAT_IPV4,
    LGSP_FORMAT_IPV6,
    LGSP_FORMAT_URI,
    LGSP_FORMAT_URI_REFERENCE,
    LGSP_FORMAT_IRI,
    LGSP_FORMAT_IRI_REFERENCE,
    LGSP_FORMAT_UUID,
    LGSP_FORMAT_REGEX,
    LGSP_FORMAT_JSON_POINTER,
    LGSP_FORMAT_RELATIVE_JSON_POINTER,
    LGSP_FORMAT_URI_TEMPLATE
};


/* LGSP_FORMAT_NONE for a format this validator does not check */
int lgsp_format_id(const char *name);
/* 1: the string s of len bytes (UTF-8) is in the format, 0: it is not */
int lgsp_format_check(int id, const char *s, size_t len);

#endif /* LGSP_FORMAT_H */
