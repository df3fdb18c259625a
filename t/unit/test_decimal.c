/*
 * Exact decimal numbers (lgsp_decimal.c): reading, comparing, multipleOf,
 * conversions and hashing, on the values JSON Schema's examples and the
 * issue's attacks use.  t/decimal_oracle.t checks the same functions
 * against Python's fractions on random numbers.
 */

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_decimal.h"
#include "unit.h"


/* a number read from a C string; exits the test on a bad one */
static lgsp_decimal_t
num(const char *text)
{
    lgsp_decimal_t  d;

    if (lgsp_decimal_parse(&d, text, strlen(text)) != 0) {
        printf("not ok - \"%s\" does not parse\n", text);
        exit(1);
    }

    return d;
}


/* a function of two numbers, on two C strings */
static int
two(int (*f)(const lgsp_decimal_t *, const lgsp_decimal_t *), const char *a,
    const char *b)
{
    lgsp_decimal_t  x, y;

    x = num(a);
    y = num(b);

    return f(&x, &y);
}

#define cmp(a, b)       two(lgsp_decimal_cmp, a, b)
#define multiple(a, b)  two(lgsp_decimal_multiple_of, a, b)


/* "7" then zeros then "1": 7e(zeros+1) + 1 written out */
static char *
seven_then(size_t zeros, char last)
{
    char  *s;

    s = malloc(zeros + 3);
    if (s == NULL) {
        exit(1);
    }

    s[0] = '7';
    memset(s + 1, '0', zeros);
    s[zeros + 1] = last;
    s[zeros + 2] = '\0';

    return s;
}


static void
test_reading(void)
{
    size_t          i;
    lgsp_decimal_t  d;
    const char     *bad[] = {
        "", "-", "01", "1.", ".5", "+1", "1e", "1e+", "1.e3", "0x10",
        "1 ", " 1", "--1", "1e1000000000000000000", "Infinity", "NaN",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        UNIT_EQ_INT(lgsp_decimal_parse(&d, bad[i], strlen(bad[i])), -1,
                    "not a JSON number (or its exponent past 18 digits)");
    }

    d = num("-0012.3400e+2" + 3);
    UNIT_OK(d.n == 4 && d.exp == 0 && !d.negative, "12.3400e+2 is 1234");

    d = num("-0.000");
    UNIT_OK(d.n == 0 && !d.negative, "-0.000 is 0, without a sign");

    d = num("1e999999999999999999");
    UNIT_OK(d.n == 1 && d.exp == 999999999999999999LL,
            "an exponent of 18 digits is read");

    d = num("-120.0500e-3");
    UNIT_OK(d.n == 5 && d.exp == -5 && d.negative,
            "-120.0500e-3 is -12005 x 10^-5");
    UNIT_EQ_INT(lgsp_decimal_digit(&d, 0), 1, "first digit");
    UNIT_EQ_INT(lgsp_decimal_digit(&d, 4), 5, "last digit, after '.'");
}


static void
test_comparison(void)
{
    UNIT_EQ_INT(cmp("1.0", "1"), 0, "1.0 equals 1");
    UNIT_EQ_INT(cmp("10e-1", "1"), 0, "10e-1 equals 1");
    UNIT_EQ_INT(cmp("0.001e3", "100e-2"), 0, "0.001e3 equals 100e-2");
    UNIT_EQ_INT(cmp("-0", "0.0e7"), 0, "-0 equals 0");
    UNIT_EQ_INT(cmp("100.000000000000000001", "100"), 1,
                "100.000000000000000001 is more than 100");
    UNIT_EQ_INT(cmp("99.999999999999999999", "100"), -1,
                "99.999999999999999999 is less than 100");
    UNIT_EQ_INT(cmp("1e400", "1e300"), 1, "1e400 is more than 1e300");
    UNIT_EQ_INT(cmp("-1e400", "-1e300"), -1, "-1e400 is less than -1e300");
    UNIT_EQ_INT(cmp("1e-400", "0"), 1, "1e-400 is more than 0");
    UNIT_EQ_INT(cmp("-1e-400", "0"), -1, "-1e-400 is less than 0");
    UNIT_EQ_INT(cmp("1e999999999", "1e999999998"), 1,
                "exponents of 9 digits compare");
    UNIT_EQ_INT(cmp("9.99e999999999", "1e1000000000"), -1,
                "9.99e999999999 is less than 1e1000000000");
    UNIT_EQ_INT(cmp("18446744073709551616", "18446744073709551615"), 1,
                "2^64 is more than 2^64 - 1");
    UNIT_EQ_INT(cmp("12.5", "12.50000000000000000000000000000001"), -1,
                "a trailing 1 far out counts");
    UNIT_EQ_INT(cmp("-12.5", "-12.50000000000000000000000000000001"), 1,
                "and for negative numbers the other way");
    UNIT_EQ_INT(cmp("-1", "1e-400"), -1, "the sign first");
}


static void
test_multiple_of(void)
{
    char  *a;

    a = seven_then(298, '1');
    UNIT_EQ_INT(multiple(a, "7"), 0, "7e299+1 written out is not a multiple "
                "of 7");
    free(a);

    a = seven_then(298, '0');
    UNIT_EQ_INT(multiple(a, "7"), 1, "7e299 written out is");
    free(a);

    UNIT_EQ_INT(multiple("0.3", "0.1"), 1, "0.3 is 3 x 0.1");
    UNIT_EQ_INT(multiple("0.35", "0.1"), 0, "0.35 is not");
    UNIT_EQ_INT(multiple("19.99", "0.01"), 1, "19.99 is 1999 x 0.01");
    UNIT_EQ_INT(multiple("19.995", "0.01"), 0, "19.995 is not");
    UNIT_EQ_INT(multiple("-4.5", "1.5"), 1, "the sign does not count");
    UNIT_EQ_INT(multiple("0", "0.7"), 1, "0 is a multiple of anything");
    UNIT_EQ_INT(multiple("1e308", "0.5"), 1, "1e308 is a multiple of 0.5");
    UNIT_EQ_INT(multiple("1.5e-7", "5e-8"), 1, "1.5e-7 = 3 x 5e-8");
    UNIT_EQ_INT(multiple("1e-7", "3e-8"), 0, "1e-7 is not a multiple of "
                "3e-8");

    /* the power of ten is never expanded: these are instant */
    UNIT_EQ_INT(multiple("1e999999999", "7"), 0, "1e999999999 is not a "
                "multiple of 7");
    UNIT_EQ_INT(multiple("1e999999999999999999", "1.024e-3"), 1,
                "1e999999999999999999 is a multiple of 0.001024");
    UNIT_EQ_INT(multiple("3e999999999999999999", "625"), 1,
                "and 3e999999999999999999 of 625");
    UNIT_EQ_INT(multiple("1e999999999999999999", "3"), 0, "but not of 3");
    UNIT_EQ_INT(multiple("1e-999999999999999999", "1e-999999999999999998"),
                0, "a tiny number is no multiple of a bigger one");

    /* divisors past 19 digits take the long path */
    UNIT_EQ_INT(multiple("1219326311370217952261842249299264898618"
                         "6782045407430", "98765432109876543210987"), 1,
                "a 53-digit product is a multiple of its 23-digit factor");
    UNIT_EQ_INT(multiple("1219326311370217952261842249299264898618"
                         "6782045407431", "98765432109876543210987"), 0,
                "the next integer is not");
    UNIT_EQ_INT(multiple("1219326311370217952261842249299264898618"
                         ".6782045407430", "9876543210.9876543210987"), 1,
                "nor is the decimal point in the way");
    UNIT_EQ_INT(multiple("1.219326311370217952261842249299264898618"
                         "6782045407430e10", "9876543210.9876543210987"), 0,
                "but the same digits 10^-29 times that are not");
    UNIT_EQ_INT(multiple("98765432109876543210987", "98765432109876543210987"),
                1, "a number is a multiple of itself");
    UNIT_EQ_INT(multiple("9999999999999999999", "9999999999999999999"), 1,
                "a 19-digit divisor: the 128-bit path");
    UNIT_EQ_INT(multiple("19999999999999999998", "9999999999999999999"), 1,
                "twice it");
    UNIT_EQ_INT(multiple("19999999999999999999", "9999999999999999999"), 0,
                "and one more is not");
}


static void
test_conversions(void)
{
    double          x;
    int64_t         n;
    long double     lx;
    lgsp_decimal_t  d;

    d = num("9223372036854775807");
    UNIT_OK(lgsp_decimal_to_int64(&d, &n) && n == INT64_MAX, "int64 max");
    d = num("-9223372036854775808");
    UNIT_OK(lgsp_decimal_to_int64(&d, &n) && n == INT64_MIN, "int64 min");
    d = num("9223372036854775808");
    UNIT_OK(!lgsp_decimal_to_int64(&d, &n), "2^63 does not fit");
    d = num("92233720368547758.07e2");
    UNIT_OK(lgsp_decimal_to_int64(&d, &n) && n == INT64_MAX,
            "int64 max written with a point and an exponent");
    d = num("1.5");
    UNIT_OK(!lgsp_decimal_to_int64(&d, &n), "1.5 is no integer");
    UNIT_OK(!lgsp_decimal_is_integer(&d), "1.5 is not an integer");
    d = num("1e400");
    UNIT_OK(lgsp_decimal_is_integer(&d), "1e400 is an integer");
    d = num("100e-2");
    UNIT_OK(lgsp_decimal_is_integer(&d), "100e-2 is an integer");

    d = num("0.5");
    UNIT_OK(lgsp_decimal_to_double(&d, &x) && x == 0.5, "0.5 is a double");
    d = num("-1.0");
    UNIT_OK(lgsp_decimal_to_double(&d, &x) && x == -1.0, "so is -1.0");
    d = num("1e22");
    UNIT_OK(lgsp_decimal_to_double(&d, &x) && x == 1e22, "and 1e22");
    d = num("0.1");
    UNIT_OK(!lgsp_decimal_to_double(&d, &x), "0.1 is no double");
    d = num("1e23");
    UNIT_OK(!lgsp_decimal_to_double(&d, &x), "nor is 1e23");
    d = num("9007199254740993");
    UNIT_OK(!lgsp_decimal_to_double(&d, &x), "nor 2^53 + 1");
    d = num("1e400");
    UNIT_OK(!lgsp_decimal_to_double(&d, &x), "nor 1e400");

    UNIT_OK(lgsp_decimal_approx("-0003.20e-1", 11, &lx)
            && fabsl(lx + 0.32L) <= 0.32L * 4 * LDBL_EPSILON,
            "-0003.20e-1 is near -0.32");
    UNIT_OK(lgsp_decimal_approx("1234567890123456789", 19, &lx)
            && lx == 1234567890123456789.0L, "19 digits are exact");
    UNIT_OK(!lgsp_decimal_approx("12345678901234567890", 20, &lx),
            "20 digits are not approximated");
    UNIT_OK(!lgsp_decimal_approx("1e28", 4, &lx), "nor is 1e28");
}


static void
test_shortest_and_hash(void)
{
    char            buf[LGSP_DECIMAL_BUF];
    size_t          len;
    lgsp_decimal_t  a, b;

    len = lgsp_decimal_shortest(0.1, buf, sizeof(buf));
    UNIT_OK(len == 3 && memcmp(buf, "0.1", 3) == 0, "0.1 is written 0.1");
    len = lgsp_decimal_shortest(1e300, buf, sizeof(buf));
    UNIT_OK(len == 6 && memcmp(buf, "1e+300", 6) == 0, "1e300 is 1e+300");

    a = num("0.1");
    b = num("100e-3");
    UNIT_OK(lgsp_decimal_hash(&a, 5) == lgsp_decimal_hash(&b, 5),
            "0.1 and 100e-3 hash alike");
    b = num("0.10000000000000000000000000000001");
    UNIT_OK(lgsp_decimal_hash(&a, 5) != lgsp_decimal_hash(&b, 5),
            "0.1 and 0.1...01 do not");
    a = num("-123456789012345678901234567890e10");
    b = num("-1234567890123456789012345678900000000000.0");
    UNIT_OK(lgsp_decimal_hash(&a, 5) == lgsp_decimal_hash(&b, 5),
            "long digits hash alike in both spellings");
    UNIT_OK(lgsp_decimal_hash(&a, 5) != lgsp_decimal_hash(&a, 6),
            "the seed counts");
}


int
main(void)
{
    test_reading();
    test_comparison();
    test_multiple_of();
    test_conversions();
    test_shortest_and_hash();

    return UNIT_DONE("decimal");
}
