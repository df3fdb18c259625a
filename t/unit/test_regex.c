/*
 * The pattern matcher against PCRE2 itself: anchored patterns of
 * character sets, counts and groups (the shapes lgsp_regex matches
 * without PCRE2) and a few that only look like them, each run on every
 * short string of an alphabet chosen to hit their edges and on random
 * longer ones.  The answers must be PCRE2's, always.
 */

#include <stdint.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lgsp_regex.h"
#include "unit.h"


/* each with a subject near the edge: it and its one-letter edits are run */
static const char  *patterns[][2] = {
    { "^\\d{12}$", "001234567890" },
    { "^[A-Z]{2}$", "VN" },
    { "^[^<>]+$", "a<b" },
    { "^[0-9]{3,5}-?[a-z]*$", "1234-ab" },
    { "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$", "2024-02-29" },
    { "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$", "1999-10-31" },
    { "^(?:0[1-9]|1[0-2])/\\d{2}$", "12/99" },
    { "^\\w+(a|b)$", "x_9b" },
    { "^[ab]*(a|b)$", "abba" },
    { "^(ab|a)b$", "abb" },
    { "^(a|b)+$", "abab" },
    { "^(a|b)*c$", "abc" },
    { "^a(|b)c$", "abc" },
    { "^(a(b|c))$", "ac" },
    { "^(\\d\\d|[^0-9]a)$", "xa" },
    { "^(\\D|x)$", "x" },
    { "^[^a]{1,3}(a|Z)$", "bbZ" },
    { "^\\d+?$", "12" },
    { "^x\\.(a|\\-)$", "x.-" },
    /* a variable count competes past a step that may match nothing */
    { "^\\d{1,3}-?\\d$", "12" },
    { "^\\d{3,4}-?\\d{6,7}$", "091234567" },
    { "^[a-c]*\\.{0}x?(a|b)$", "ab" },
    { "^[^a]+a?b*-$", "x--" },
    { NULL, NULL }
};

/* "ắ" and "😀": code points of 3 and 4 bytes */
static const char  *alphabet[] = {
    "0", "1", "2", "3", "9", "-", "/", ".", "a", "b", "c", "x", "Z", "_",
    " ", "<", "\xe1\xba\xaf", "\xf0\x9f\x98\x80", NULL
};


static int
same(lgsp_regex_t *re, pcre2_code *code, pcre2_match_data *md,
    lgsp_regex_scratch_t *scratch, const char *s, size_t len)
{
    int       mine, theirs;
    uint64_t  budget;

    budget = UINT64_MAX;
    mine = lgsp_regex_match(re, s, len, scratch, &budget);
    theirs = pcre2_match(code, (PCRE2_SPTR) s, len, 0, 0, md, NULL) >= 0;

    if (mine != theirs) {
        printf("#   \"%.*s\": lgsp %d, pcre2 %d\n", (int) len, s, mine,
               theirs);
    }

    return mine == theirs;
}


/* the sample, and every string one letter away from it */
static unsigned long
edits(lgsp_regex_t *re, pcre2_code *code, pcre2_match_data *md,
    lgsp_regex_scratch_t *scratch, const char *sample, size_t n, int *agree)
{
    char           s[128];
    size_t         at, len, l, a;
    unsigned long  total;

    len = strlen(sample);
    total = 1;
    *agree = *agree && same(re, code, md, scratch, sample, len);

    for (at = 0; at <= len; at++) {
        /* deleted */
        if (at < len) {
            memcpy(s, sample, at);
            memcpy(s + at, sample + at + 1, len - at - 1);
            *agree = *agree && same(re, code, md, scratch, s, len - 1);
            total++;
        }

        for (a = 0; a < n; a++) {
            l = strlen(alphabet[a]);

            /* inserted */
            memcpy(s, sample, at);
            memcpy(s + at, alphabet[a], l);
            memcpy(s + at + l, sample + at, len - at);
            *agree = *agree && same(re, code, md, scratch, s, len + l);

            /* replaced */
            if (at < len) {
                memcpy(s + at + l, sample + at + 1, len - at - 1);
                *agree = *agree && same(re, code, md, scratch, s,
                                        len + l - 1);
                total++;
            }

            total++;
        }
    }

    return total;
}


static size_t
alphabet_size(void)
{
    size_t  n;

    for (n = 0; alphabet[n]; n++) {
        /* void */
    }

    return n;
}


/* the string numbered k: digits of k in base n, 1 to 4 letters long */
static size_t
spell(unsigned long k, size_t n, size_t letters, char *out)
{
    size_t       len, l;
    const char  *a;

    len = 0;

    while (letters--) {
        a = alphabet[k % n];
        k /= n;
        l = strlen(a);
        memcpy(out + len, a, l);
        len += l;
    }

    return len;
}


int
main(void)
{
    int                    i, error, agree;
    char                   err[256], s[128], name[256];
    size_t                 n, len, letters, j;
    PCRE2_SIZE             offset;
    pcre2_code            *code;
    lgsp_regex_t          *re;
    unsigned long          k, total, seed;
    pcre2_match_data      *md;
    lgsp_regex_scratch_t   scratch;

    memset(&scratch, 0, sizeof(scratch));
    n = alphabet_size();
    md = pcre2_match_data_create(1, NULL);
    seed = 12345;

    for (i = 0; patterns[i][0]; i++) {
        re = lgsp_regex_compile(patterns[i][0], strlen(patterns[i][0]), err,
                                sizeof(err));
        code = pcre2_compile((PCRE2_SPTR) patterns[i][0], PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &error,
                             &offset, NULL);

        snprintf(name, sizeof(name), "%s compiles", patterns[i][0]);
        UNIT_OK(re != NULL && code != NULL, name);
        if (re == NULL || code == NULL) {
            continue;
        }

        agree = 1;
        total = 0;

        /* every string of 0 to 4 letters, then random ones of 5 to 16 */
        for (letters = 0; letters <= 16 && agree; letters++) {
            for (k = 0, j = 1; letters <= 4 && k < letters; k++) {
                j *= n;
            }

            for (k = 0; k < (letters <= 4 ? j : 20000) && agree; k++) {
                if (letters <= 4) {
                    len = spell(k, n, letters, s);
                } else {
                    seed = seed * 6364136223846793005ULL + 1442695040888963407;
                    len = spell(seed >> 11, n, 1, s);
                    while (len + 4 < letters) {
                        seed = seed * 6364136223846793005ULL
                               + 1442695040888963407;
                        len += spell(seed >> 33, n, 1, s + len);
                    }
                }

                agree = same(re, code, md, &scratch, s, len);
                total++;
            }
        }

        total += edits(re, code, md, &scratch, patterns[i][1], n, &agree);

        snprintf(name, sizeof(name), "%s: %lu subjects as PCRE2 answers",
                 patterns[i][0], total);
        UNIT_OK(agree, name);

        lgsp_regex_free(re);
        pcre2_code_free(code);
    }

    lgsp_regex_scratch_free(&scratch);
    pcre2_match_data_free(md);

    return UNIT_DONE("regex");
}
