/*
 * Exact decimal numbers (lgsp_decimal.h).  A number is its significant
 * digits D (no leading or trailing zero) and a power of ten: D * 10^exp.
 * Two numbers compare by sign, then by the position of their first digit,
 * then digit by digit.  Divisibility is decided on D and exp, never on an
 * expanded value.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_decimal.h"


/* divisors up to this many digits take the machine-word path */
#define LGSP_DECIMAL_WORD_DIGITS  19

/* below 2^53, every integer is a double */
#define LGSP_DECIMAL_2_53         9007199254740992ULL


static int lgsp_decimal_divides_word(const lgsp_decimal_t *a,
    uint64_t divisor, size_t zeros);
static int lgsp_decimal_divides_long(const lgsp_decimal_t *a,
    const lgsp_decimal_t *b, size_t zeros);


static inline int
lgsp_decimal_isdigit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}


static inline char
lgsp_decimal_at(const lgsp_decimal_t *d, size_t i)
{
    return i < d->ip_len ? d->ip[i] : d->fp[i - d->ip_len];
}


int
lgsp_decimal_parse(lgsp_decimal_t *d, const char *text, size_t len)
{
    int          exp_negative;
    size_t       i, total, last;
    int64_t      e;
    const char  *p, *end;

    p = text;
    end = text + len;

    d->negative = (p < end && *p == '-');
    p += d->negative;

    d->ip = p;

    if (p < end && *p == '0') {
        p++;

    } else if (p < end && *p >= '1' && *p <= '9') {
        while (lgsp_decimal_isdigit(p, end)) {
            p++;
        }

    } else {
        return -1;
    }

    d->ip_len = p - d->ip;
    d->fp = p;
    d->fp_len = 0;

    if (p < end && *p == '.') {
        d->fp = ++p;

        while (lgsp_decimal_isdigit(p, end)) {
            p++;
        }

        d->fp_len = p - d->fp;

        if (d->fp_len == 0) {
            return -1;
        }
    }

    e = 0;

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        exp_negative = (p < end && *p == '-');

        if (p < end && (*p == '-' || *p == '+')) {
            p++;
        }

        if (!lgsp_decimal_isdigit(p, end)) {
            return -1;
        }

        while (p < end && *p == '0') {
            p++;
        }

        for (i = 0; lgsp_decimal_isdigit(p, end); i++, p++) {
            if (i == 18) {
                return -1;
            }

            e = e * 10 + (*p - '0');
        }

        if (exp_negative) {
            e = -e;
        }
    }

    if (p != end) {
        return -1;
    }

    total = d->ip_len + d->fp_len;

    for (i = 0; i < total && lgsp_decimal_at(d, i) == '0'; i++) {
        /* void */
    }

    if (i == total) {
        d->first = 0;
        d->n = 0;
        d->exp = 0;
        d->negative = 0;
        return 0;
    }

    for (last = total - 1; lgsp_decimal_at(d, last) == '0'; last--) {
        /* void */
    }

    d->first = i;
    d->n = last - i + 1;
    d->exp = e - (int64_t) d->fp_len + (int64_t) (total - 1 - last);

    return 0;
}


int
lgsp_decimal_cmp(const lgsp_decimal_t *a, const lgsp_decimal_t *b)
{
    int       sa, sb, mag;
    size_t    i, n;
    int64_t   ea, eb;
    unsigned  x, y;

    sa = a->n == 0 ? 0 : (a->negative ? -1 : 1);
    sb = b->n == 0 ? 0 : (b->negative ? -1 : 1);

    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }

    if (sa == 0) {
        return 0;
    }

    /* the power of ten of the first digit */
    ea = a->exp + (int64_t) a->n - 1;
    eb = b->exp + (int64_t) b->n - 1;

    if (ea != eb) {
        mag = ea < eb ? -1 : 1;
        return sa * mag;
    }

    n = a->n < b->n ? a->n : b->n;

    for (i = 0; i < n; i++) {
        x = lgsp_decimal_digit(a, i);
        y = lgsp_decimal_digit(b, i);

        if (x != y) {
            mag = x < y ? -1 : 1;
            return sa * mag;
        }
    }

    /* the same digits so far: more (non-zero) digits weigh more */
    mag = (a->n > b->n) - (a->n < b->n);

    return sa * mag;
}


/*
 * a = Da * 10^ea and b = Db * 10^eb: a / b = Da * 10^(ea - eb) / Db.
 * When ea < eb that needs 10 to divide Da, whose last digit is not 0.
 * Otherwise Db = 2^x * 5^y * r (r prime to 10) divides Da * 10^e when r
 * divides Da and e covers x and y; x and y are below 4 per digit of Db,
 * so any e past that answers as that does: the zeros appended are at
 * most 4 * (digits of Db) + 4, whatever the exponent says.  The cost is
 * (digits of a + zeros) steps, each a word division for divisors of up to
 * 19 digits (every divisor a schema has), else (digits of b) * 10.
 */
int
lgsp_decimal_multiple_of(const lgsp_decimal_t *a, const lgsp_decimal_t *b)
{
    size_t    i, zeros;
    int64_t   e;
    uint64_t  divisor;

    if (b->n == 0) {
        return 0;
    }

    if (a->n == 0) {
        return 1;
    }

    e = a->exp - b->exp;

    if (e < 0) {
        return 0;
    }

    zeros = 4 * b->n + 4;

    if ((uint64_t) e < zeros) {
        zeros = (size_t) e;
    }

    if (b->n > LGSP_DECIMAL_WORD_DIGITS) {
        return lgsp_decimal_divides_long(a, b, zeros);
    }

    divisor = 0;

    for (i = 0; i < b->n; i++) {
        divisor = divisor * 10 + lgsp_decimal_digit(b, i);
    }

    return lgsp_decimal_divides_word(a, divisor, zeros);
}


/* Da * 10^zeros mod divisor, a digit at a time */
static int
lgsp_decimal_divides_word(const lgsp_decimal_t *a, uint64_t divisor,
    size_t zeros)
{
    size_t    i, n;
    uint64_t  r, digit;

    if (divisor == 1) {
        return 1;
    }

    r = 0;
    n = a->n + zeros;

    for (i = 0; i < n; i++) {
        digit = i < a->n ? lgsp_decimal_digit(a, i) : 0;

        /* r * 10 + 9 fits 64 bits while r < 10^18 */
        if (divisor <= 1000000000000000000ULL) {
            r = (r * 10 + digit) % divisor;

        } else {
            r = (uint64_t) (((unsigned __int128) r * 10 + digit) % divisor);
        }
    }

    return r == 0;
}


/* as lgsp_decimal_divides_word(), the remainder as decimal digits */
static int
lgsp_decimal_divides_long(const lgsp_decimal_t *a, const lgsp_decimal_t *b,
    size_t zeros)
{
    int             rest;
    size_t          i, k, n, len;
    unsigned char  *m, *r, borrow, x;

    /* little-endian digits; one more than b's: r * 10 + 9 < 10 * b */
    len = b->n + 1;

    m = calloc(2, len);
    if (m == NULL) {
        return -1;
    }

    r = m + len;

    for (i = 0; i < b->n; i++) {
        m[i] = (unsigned char) lgsp_decimal_digit(b, b->n - 1 - i);
    }

    n = a->n + zeros;

    for (i = 0; i < n; i++) {
        memmove(r + 1, r, len - 1);
        r[0] = (unsigned char) (i < a->n ? lgsp_decimal_digit(a, i) : 0);

        /* at most 9 subtractions bring r below b again */
        for ( ;; ) {
            for (k = len; k > 0 && r[k - 1] == m[k - 1]; k--) {
                /* void */
            }

            if (k > 0 && r[k - 1] < m[k - 1]) {
                break;
            }

            borrow = 0;

            for (k = 0; k < len; k++) {
                x = (unsigned char) (m[k] + borrow);
                borrow = r[k] < x;
                r[k] = (unsigned char) (r[k] + (borrow ? 10 : 0) - x);
            }
        }
    }

    rest = 0;

    for (k = 0; k < len; k++) {
        rest |= r[k];
    }

    free(m);

    return rest == 0;
}


int
lgsp_decimal_is_integer(const lgsp_decimal_t *d)
{
    return d->n == 0 || d->exp >= 0;
}


int
lgsp_decimal_to_int64(const lgsp_decimal_t *d, int64_t *out)
{
    size_t    i;
    int64_t   e;
    uint64_t  m;

    if (d->n == 0) {
        *out = 0;
        return 1;
    }

    /* at most 19 digits in all: below 10^19, which fits 64 bits */
    if (d->exp < 0 || d->exp + (int64_t) d->n > 19) {
        return 0;
    }

    m = 0;

    for (i = 0; i < d->n; i++) {
        m = m * 10 + lgsp_decimal_digit(d, i);
    }

    for (e = 0; e < d->exp; e++) {
        m *= 10;
    }

    if (m > (uint64_t) INT64_MAX + d->negative) {
        return 0;
    }

    *out = d->negative ? (int64_t) (0 - m) : (int64_t) m;

    return 1;
}


int
lgsp_decimal_to_double(const lgsp_decimal_t *d, double *out)
{
    size_t           i;
    double           x;
    uint64_t         m;
    static const double    pow10[] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
    };
    static const uint64_t  pow5[] = {
        1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL,
        390625ULL, 1953125ULL, 9765625ULL, 48828125ULL, 244140625ULL,
        1220703125ULL, 6103515625ULL, 30517578125ULL, 152587890625ULL,
        762939453125ULL, 3814697265625ULL, 19073486328125ULL,
        95367431640625ULL, 476837158203125ULL, 2384185791015625ULL
    };

    if (d->n == 0) {
        *out = 0.0;
        return 1;
    }

    if (d->n > 16 || d->exp < -22 || d->exp > 22) {
        return 0;
    }

    m = 0;

    for (i = 0; i < d->n; i++) {
        m = m * 10 + lgsp_decimal_digit(d, i);
    }

    if (m >= LGSP_DECIMAL_2_53) {
        return 0;
    }

    /* m and 10^|exp| are doubles and so is the exact result, which the
     * multiplication or division, correctly rounded, therefore gives */
    if (d->exp >= 0) {
        if (m > (LGSP_DECIMAL_2_53 - 1) / pow5[d->exp]) {
            return 0;
        }

        x = (double) m * pow10[d->exp];

    } else {
        if (m % pow5[-d->exp] != 0) {
            return 0;
        }

        x = (double) m / pow10[-d->exp];
    }

    *out = d->negative ? -x : x;

    return 1;
}


int
lgsp_decimal_approx(const char *text, size_t len, long double *x)
{
    int                        negative, exp_negative;
    size_t                     digits;
    int64_t                    k, e;
    uint64_t                   m;
    long double                v;
    const char                *p, *end;
    static const long double   pow10[] = {
        1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L,
        1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
        1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L
    };

    p = text;
    end = text + len;
    negative = (p < end && *p == '-');
    p += negative;

    m = 0;
    digits = 0;
    k = 0;

    for ( /* void */ ; lgsp_decimal_isdigit(p, end); p++) {
        if (digits == 19) {
            return 0;
        }

        m = m * 10 + (*p - '0');
        digits += (m != 0);
    }

    if (p < end && *p == '.') {
        for (p++; lgsp_decimal_isdigit(p, end); p++) {
            if (digits == 19) {
                return 0;
            }

            m = m * 10 + (*p - '0');
            digits += (m != 0);
            k--;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        exp_negative = (p < end && *p == '-');
        p += (p < end && (*p == '-' || *p == '+'));

        for (e = 0; lgsp_decimal_isdigit(p, end); p++) {
            if (e > 100000) {
                return 0;
            }

            e = e * 10 + (*p - '0');
        }

        k += exp_negative ? -e : e;
    }

    if (k < -27 || k > 27) {
        return 0;
    }

    /* m and 10^|k| are exact (64-bit mantissas): one rounding */
    v = k >= 0 ? (long double) m * pow10[k] : (long double) m / pow10[-k];

    *x = negative ? -v : v;

    return 1;
}


size_t
lgsp_decimal_shortest(double d, char *buf, size_t size)
{
    int  prec, len;

    len = 0;

    for (prec = 1; prec <= 17; prec++) {
        len = snprintf(buf, size, "%.*g", prec, d);

        if (strtod(buf, NULL) == d) {
            break;
        }
    }

    return len < 0 ? 0 : (size_t) len;
}


uint64_t
lgsp_decimal_hash(const lgsp_decimal_t *d, uint64_t seed)
{
    size_t    i;
    uint64_t  h, w;

    h = lgsp_hash_mix(seed ^ (uint64_t) d->negative, (uint64_t) d->exp);

    /* 16 digits of 4 bits a word */
    w = 0;

    for (i = 0; i < d->n; i++) {
        w = (w << 4) | lgsp_decimal_digit(d, i);

        if (i % 16 == 15) {
            h = lgsp_hash_mix(h, w);
            w = 0;
        }
    }

    h = lgsp_hash_mix(h, w ^ ((uint64_t) d->n << 40));

    return h;
}
