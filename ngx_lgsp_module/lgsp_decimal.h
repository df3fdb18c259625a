/*
 * Exact decimal numbers, as JSON writes them: what JSON Schema compares
 * (the mathematical value, never a binary approximation).  A number is
 * read in place from its text, without copying or allocating: its
 * significant digits (leading and trailing zeros dropped) and a power of
 * ten.  nginx-free.
 *
 * Bounds: the exponent as written may have up to 18 digits (|e| below
 * 10^18); a longer one is refused by lgsp_decimal_parse().  Comparison is
 * linear in the digits.  lgsp_decimal_multiple_of() never expands the
 * power of ten: 1e999999999 costs what 1e8 does (see lgsp_decimal.c).
 */

#ifndef LGSP_DECIMAL_H
#define LGSP_DECIMAL_H

#include <stddef.h>
#include <stdint.h>


/* the largest |exponent| a number may be written with */
#define LGSP_DECIMAL_MAX_EXP  999999999999999999LL

/* room for the text of any int64 or of a double's exact "%.17e" */
#define LGSP_DECIMAL_BUF      32


typedef struct {
    const char   *ip;           /* the digits before '.' */
    const char   *fp;           /* the digits after '.' */
    size_t        ip_len;
    size_t        fp_len;
    size_t        first;        /* the first significant digit in ip + fp */
    size_t        n;            /* significant digits; 0: the number is 0 */
    int64_t       exp;          /* value = digits (as an integer) * 10^exp */
    int           negative;     /* never for 0 */
} lgsp_decimal_t;


/* the i-th significant digit, 0 <= i < d->n, as a number 0..9 */
static inline unsigned
lgsp_decimal_digit(const lgsp_decimal_t *d, size_t i)
{
    i += d->first;

    return (unsigned) ((i < d->ip_len ? d->ip[i] : d->fp[i - d->ip_len])
                       - '0');
}


/* 0, or -1 when text is not a JSON number or its exponent is too long */
int lgsp_decimal_parse(lgsp_decimal_t *d, const char *text, size_t len);

/* -1, 0 or 1 as a is less than, equal to or greater than b */
int lgsp_decimal_cmp(const lgsp_decimal_t *a, const lgsp_decimal_t *b);

/* 1 when a is an integer multiple of b, else 0; -1 out of memory (only
 * for a b of more than 19 digits); b must not be 0 */
int lgsp_decimal_multiple_of(const lgsp_decimal_t *a, const lgsp_decimal_t *b);

int lgsp_decimal_is_integer(const lgsp_decimal_t *d);

/* 1 and *out when d is an integer in int64_t's range, else 0 */
int lgsp_decimal_to_int64(const lgsp_decimal_t *d, int64_t *out);

/*
 * 1 and *out when d is exactly the double *out by a rule of its value
 * alone (|exp| <= 22, and its digits times 5^exp, or divided by 5^-exp,
 * an integer below 2^53), so every
 * spelling of a value gets the same answer; else 0 (some doubles, like
 * 2^-30 written out, get 0: they stay decimals).
 */
int lgsp_decimal_to_double(const lgsp_decimal_t *d, double *out);

/*
 * 1 and *x when the JSON number text has at most 19 digits (leading zeros
 * aside) and a power of ten within 27 of them: *x is then the number
 * within a relative 4 * LDBL_EPSILON (one rounding on x86-64), enough to
 * order it against any number farther away than that; else 0.  One pass
 * over the text, for the common comparison of a short decimal (3.2) with
 * a schema's limit.
 */
int lgsp_decimal_approx(const char *text, size_t len, long double *x);

/* the shortest text that reads back as the double d (finite); its length */
size_t lgsp_decimal_shortest(double d, char *buf, size_t size);

/* equal values hash equal, whatever their spelling */
uint64_t lgsp_decimal_hash(const lgsp_decimal_t *d, uint64_t seed);


/* two words into one, every bit of each reaching every bit of the result
 * (a 64x64->128 multiply folded) */
static inline uint64_t
lgsp_hash_mix(uint64_t a, uint64_t b)
{
    unsigned __int128  r;

    r = (unsigned __int128) (a ^ 0x2d358dccaa6c78a5ULL)
        * (b ^ 0x8bb84b93962eacc9ULL);

    return (uint64_t) (r >> 64) ^ (uint64_t) r;
}

#endif /* LGSP_DECIMAL_H */
