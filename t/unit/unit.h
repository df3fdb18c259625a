/*
 * A tiny unit-test harness for the nginx-free cores: TAP-like output and
 * a closing "N passed, N failed" line; the exit status is the failures.
 */

#ifndef LGSP_UNIT_H
#define LGSP_UNIT_H

#include <stdio.h>
#include <string.h>


static int unit_passed;
static int unit_failed;


#define UNIT_OK(cond, name)                                                  \
    do {                                                                     \
        if (cond) {                                                          \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            printf("not ok - %s (%s:%d)\n", name, __FILE__, __LINE__);       \
        }                                                                    \
    } while (0)

#define UNIT_EQ_INT(got, want, name)                                         \
    do {                                                                     \
        long long unit_g = (long long) (got), unit_w = (long long) (want);   \
        UNIT_OK(unit_g == unit_w, name);                                     \
        if (unit_g != unit_w) {                                              \
            printf("#   got %lld, want %lld\n", unit_g, unit_w);             \
        }                                                                    \
    } while (0)

#define UNIT_EQ_STR(got, want, name)                                         \
    do {                                                                     \
        const char *unit_g = (got), *unit_w = (want);                        \
        int unit_same = (unit_g && unit_w) ? strcmp(unit_g, unit_w) == 0     \
                                           : unit_g == unit_w;               \
        UNIT_OK(unit_same, name);                                            \
        if (!unit_same) {                                                    \
            printf("#   got \"%s\", want \"%s\"\n",                          \
                   unit_g ? unit_g : "(null)", unit_w ? unit_w : "(null)");  \
        }                                                                    \
    } while (0)

#define UNIT_DONE(suite)                                                     \
    (printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed),  \
     unit_failed != 0)

#endif /* LGSP_UNIT_H */
