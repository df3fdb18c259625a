/*
 * Runs lgsp_decimal.c on number pairs for t/decimal/oracle.py: reads
 * lines "A B", writes for each
 *
 *   cmp(A,B) multipleOf(A,B) integer(A) int64(A) double(A) hash(A)==hash(B)
 *
 * with "-" for an int64 or a double that A is not, multipleOf -2 when B is
 * 0 (-1: out of memory), and "error" for a number that does not parse.
 */

#include <stdio.h>
#include <string.h>

#include "lgsp_decimal.h"


int
main(void)
{
    char            line[16384], *sp, *nl, i64[32], dbl[40];
    double          x;
    int64_t         n;
    lgsp_decimal_t  a, b;

    while (fgets(line, sizeof(line), stdin) != NULL) {
        nl = strchr(line, '\n');
        sp = strchr(line, ' ');

        if (nl == NULL || sp == NULL) {
            printf("error\n");
            continue;
        }

        if (lgsp_decimal_parse(&a, line, sp - line) != 0
            || lgsp_decimal_parse(&b, sp + 1, nl - sp - 1) != 0)
        {
            printf("error\n");
            continue;
        }

        if (lgsp_decimal_to_int64(&a, &n)) {
            snprintf(i64, sizeof(i64), "%lld", (long long) n);
        } else {
            strcpy(i64, "-");
        }

        if (lgsp_decimal_to_double(&a, &x)) {
            snprintf(dbl, sizeof(dbl), "%.17g", x);
        } else {
            strcpy(dbl, "-");
        }

        printf("%d %d %d %s %s %d\n", lgsp_decimal_cmp(&a, &b),
               b.n == 0 ? -2 : lgsp_decimal_multiple_of(&a, &b),
               lgsp_decimal_is_integer(&a), i64, dbl,
               lgsp_decimal_hash(&a, 42) == lgsp_decimal_hash(&b, 42));
    }

    return 0;
}
