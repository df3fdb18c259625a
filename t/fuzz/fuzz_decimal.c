/*
 * libFuzzer target for exact decimal numbers (lgsp_decimal.c): the input
 * is up to three JSON numbers separated by spaces.  Checks what holds for
 * any numbers: comparison is an order (reflexive, antisymmetric,
 * transitive) that agrees with long double wherever the two long doubles
 * differ (rounding keeps order) and with doubles where those are exact,
 * and lgsp_decimal_approx() stays within its bound;
 * equal numbers hash alike; multipleOf agrees with fmod() on exact
 * doubles, holds for a number and itself, is transitive, and by 1 says
 * whether a number is an integer; an int64 read back is the same number.
 */

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_decimal.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
lgsp_sign(long double x)
{
    return (x > 0) - (x < 0);
}


static void
lgsp_check_one(const lgsp_decimal_t *a)
{
    char            buf[LGSP_DECIMAL_BUF];
    int64_t         n;
    lgsp_decimal_t  one, back;

    if (lgsp_decimal_cmp(a, a) != 0) {
        abort();
    }

    if (a->n != 0 && lgsp_decimal_multiple_of(a, a) != 1) {
        abort();
    }

    lgsp_decimal_parse(&one, "1", 1);

    if (lgsp_decimal_multiple_of(a, &one) != lgsp_decimal_is_integer(a)) {
        abort();
    }

    if (lgsp_decimal_to_int64(a, &n)) {
        lgsp_decimal_parse(&back, buf,
                           snprintf(buf, sizeof(buf), "%lld", (long long) n));

        if (lgsp_decimal_cmp(a, &back) != 0
            || lgsp_decimal_hash(a, 1) != lgsp_decimal_hash(&back, 1))
        {
            abort();
        }
    }
}


static void
lgsp_check_two(const lgsp_decimal_t *a, const lgsp_decimal_t *b,
    const char *ta, const char *tb)
{
    int          c;
    double       x, y;
    long double  lx, ly, ax;

    c = lgsp_decimal_cmp(a, b);

    if (c != -lgsp_decimal_cmp(b, a) || c < -1 || c > 1) {
        abort();
    }

    if (c == 0 && lgsp_decimal_hash(a, 7) != lgsp_decimal_hash(b, 7)) {
        abort();
    }

    /* correctly rounded: different roundings keep the numbers' order */
    lx = strtold(ta, NULL);
    ly = strtold(tb, NULL);

    /* and the one-pass approximation is as near as it says */
    if (lgsp_decimal_approx(ta, strlen(ta), &ax)
        && fabsl(ax - lx) > fabsl(ax) * 4 * LDBL_EPSILON)
    {
        abort();
    }

    if (lx != ly && lgsp_sign(lx - ly) != c) {
        abort();
    }

    if (lgsp_decimal_to_double(a, &x) && lgsp_decimal_to_double(b, &y)) {
        if (lgsp_sign((long double) x - y) != c) {
            abort();
        }

        if (y != 0 && (fmod(x, y) == 0) != lgsp_decimal_multiple_of(a, b)) {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             k, ok[3];
    char           *text, *t[3], *save;
    size_t          i;
    lgsp_decimal_t  d[3];

    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }

    memcpy(text, data, size);
    text[size] = '\0';

    for (i = 0; i < 3; i++) {
        t[i] = strtok_r(i == 0 ? text : NULL, " ", &save);
        ok[i] = t[i] != NULL
                && lgsp_decimal_parse(&d[i], t[i], strlen(t[i])) == 0;

        if (ok[i]) {
            lgsp_check_one(&d[i]);
        }
    }

    for (i = 0; i < 3; i++) {
        for (k = 0; k < 3; k++) {
            if (ok[i] && ok[k]) {
                lgsp_check_two(&d[i], &d[k], t[i], t[k]);
            }
        }
    }

    if (ok[0] && ok[1] && ok[2]) {
        /* transitive: a <= b <= c gives a <= c */
        if (lgsp_decimal_cmp(&d[0], &d[1]) <= 0
            && lgsp_decimal_cmp(&d[1], &d[2]) <= 0
            && lgsp_decimal_cmp(&d[0], &d[2]) > 0)
        {
            abort();
        }

        /* c | b and b | a give c | a */
        if (d[1].n != 0 && d[2].n != 0
            && lgsp_decimal_multiple_of(&d[0], &d[1]) == 1
            && lgsp_decimal_multiple_of(&d[1], &d[2]) == 1
            && lgsp_decimal_multiple_of(&d[0], &d[2]) != 1)
        {
            abort();
        }
    }

    free(text);

    return 0;
}
