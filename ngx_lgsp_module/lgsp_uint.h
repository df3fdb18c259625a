/*
 * An unsigned number in decimal, for what the module writes on every
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


#endif /* LGSP_UINT_H */
