/*
 * ECMA-262 regular expressions ("pattern", "patternProperties", format
 * "regex") on PCRE2: the pattern is translated to PCRE2 syntax with ECMA
 * meaning, compiled once (JIT when available) and matched under match
 * and depth limits, so a hostile pattern cannot stall the caller.
 */

#ifndef LGSP_REGEX_H
#define LGSP_REGEX_H

#include <stddef.h>


typedef struct lgsp_regex_s  lgsp_regex_t;

/* per-thread matching state: zero-initialize, free with _scratch_free() */
typedef struct {
    void               *match_data;
} lgsp_regex_scratch_t;


lgsp_regex_t *lgsp_regex_compile(const char *src, size_t len, char *err,
    size_t errlen);
/* 1: matches somewhere, 0: does not, -1: match limit hit or no memory */
int lgsp_regex_match(const lgsp_regex_t *re, const char *subject,
    size_t len, lgsp_regex_scratch_t *scratch);
const char *lgsp_regex_source(const lgsp_regex_t *re);
void lgsp_regex_free(lgsp_regex_t *re);
void lgsp_regex_scratch_free(lgsp_regex_scratch_t *scratch);

#endif /* LGSP_REGEX_H */
