/*
 * ECMA-262 regular expressions ("pattern", "patternProperties", format
 * "regex") on PCRE2: the pattern is translated to PCRE2 syntax with ECMA
 * meaning, compiled once (JIT when available) and matched within a
 * budget of steps that the caller gives and that each match spends, so a
 * hostile pattern or subject cannot stall the caller.
 */

#ifndef LGSP_REGEX_H
#define LGSP_REGEX_H

#include <stddef.h>
#include <stdint.h>


typedef struct lgsp_regex_s  lgsp_regex_t;

/* lgsp_regex_match(): the budget ran out before the answer was known */
#define LGSP_REGEX_OVER_BUDGET  (-2)


/* per-thread matching state: zero-initialize, free with _scratch_free() */
typedef struct {
    void               *match_data;
    /* made only for long subjects, with a JIT stack of their own */
    void               *match_context;
    void               *jit_stack;
} lgsp_regex_scratch_t;


lgsp_regex_t *lgsp_regex_compile(const char *src, size_t len, char *err,
    size_t errlen);
/*
 * 1: matches somewhere, 0: does not, -1: no memory (or a subject too long
 * for the stack limit), LGSP_REGEX_OVER_BUDGET: *budget ran out.  The
 * steps spent are taken from *budget: the same subject always costs the
 * same, whatever else runs on the machine.
 */
int lgsp_regex_match(const lgsp_regex_t *re, const char *subject,
    size_t len, lgsp_regex_scratch_t *scratch, uint64_t *budget);
/* 1: a group with an unbounded quantifier is itself repeated without
 * bound, as in "^(a+)+$": backtracking takes exponential time on it */
int lgsp_regex_nested_unbounded(const lgsp_regex_t *re);
const char *lgsp_regex_source(const lgsp_regex_t *re);
void lgsp_regex_free(lgsp_regex_t *re);
void lgsp_regex_scratch_free(lgsp_regex_scratch_t *scratch);

#endif /* LGSP_REGEX_H */
