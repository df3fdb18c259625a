/*
 * A number in decimal, for what the module writes on every
 * request (records, RateLimit fields, Redis commands and keys): a format
 * string parsed per call (sprintf(), ngx_sprintf()) cost more there than
 * the rest of the line.  nginx-free.
 */

#ifndef LGSP_UINT_H
#define LGSP_UINT_H

#include <stdint.h>
#include <string.h>


/* the most digits of a uint64_t */
#define LGSP_UINT_LEN  20


/* writes n at p, without a NUL; returns the end */
static inline char *
lgsp_uint(char *p, uint64_t n)
{
    char   digits[LGSP_UINT_LEN], *d;

    d = digits + LGSP_UINT_LEN;

    do {
        *--d = (char) ('0' + n % 10);
        n /= 10;
    } while (n);

    memcpy(p, d, digits + LGSP_UINT_LEN - d);

    return p + (digits + LGSP_UINT_LEN - d);
}


/* writes n at p, a '-' first when it is negative; returns the end */
static inline char *
lgsp_int(char *p, int64_t n)
{
    if (n < 0) {
        *p++ = '-';
        return lgsp_uint(p, 0 - (uint64_t) n);
    }

    return lgsp_uint(p, (uint64_t) n);
}


#endif /* LGSP_UINT_H */
