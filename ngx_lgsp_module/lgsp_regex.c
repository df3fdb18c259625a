/*
 * ECMA-262 patterns on PCRE2.
 *
 * PCRE2 runs in UTF mode without UCP, so \d, \w and \b keep their ASCII
 * ECMA meaning.  What differs is rewritten: \s and \S (ECMA counts the
 * Unicode spaces and U+FEFF), "." (never matches a line terminator), \v,
 * \u escapes and surrogate pairs, long Unicode property names, "[]" and
 * "[^]".  Escapes ECMA forbids in unicode mode (\a, \z, \Q...) are refused
 * rather than given their different PCRE meaning.  "$" matches only at the
 * very end (PCRE2_DOLLAR_ENDONLY).
 */

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lgsp_regex.h"
#include "lgsp_sbuf.h"


#define LGSP_ECMA_SPACE  "\\p{Xsp}\\x{feff}"

/* nesting deeper than this is not looked at for nested quantifiers */
#define LGSP_REGEX_GROUPS_MAX  64

/*
 * A match is tried with a limit of 2^k steps, the least k with 2^k >= len
 * + 16 for a subject of len bytes (linear patterns need fewer), then with
 * twice as many, again and again, each try spent from the budget: a match
 * costs at most about four times its steps.  Each regex keeps a read-only
 * match context for each limit.
 */
#define LGSP_REGEX_LIMITS  32

/* a subject this short is scanned free of charge: the caller's cost of
 * asking (lgsp_validate() charges a node) covers it */
#define LGSP_REGEX_FREE_BYTES  16

/* the JIT stack of long subjects; past it the match is "too complex" */
#define LGSP_REGEX_JIT_STACK_MIN  (32 * 1024)
#define LGSP_REGEX_JIT_STACK_MAX  (64 * 1024 * 1024)


/*
 * The common anchored patterns of agency schemas ("^\\d{12}$",
 * "^[A-Z]{2}$", "^[^<>]+$") are sequences of character sets with counts.
 * They are matched directly, without PCRE2's per-call cost, when each
 * variable count is followed by a disjoint set (and so is every step it
 * reaches past steps that may match nothing), so that greedy matching
 * is exact and never backtracks.
 */
typedef struct lgsp_regex_step_s  lgsp_regex_step_t;

struct lgsp_regex_step_s {
    uint32_t              ascii[4];     /* bitmap of the ASCII members */
    int                   non_ascii;    /* every other code point is in */
    uint32_t              min;
    uint32_t              max;
    /* by a code point's first byte, the bytes a member takes, 0 if none:
     * one load per code point where the sets above would take several */
    uint8_t               advance[256];
    /*
     * A group, "(0[1-9]|1[0-2])": alternatives of alt_len ASCII sets each,
     * one after another.  Taken once and all of one length, whichever
     * alternative matches leaves the same rest, so none is retried; the
     * bitmap above then holds the sets that can start it.
     */
    const lgsp_regex_step_t *alts;
    uint32_t              n_alts;
    uint32_t              alt_len;
};


struct lgsp_regex_s {
    pcre2_code           *code;
    pcre2_match_context  *limits[LGSP_REGEX_LIMITS];   /* 2^k steps */
    int                   jit;
    int                   nested;       /* nested unbounded quantifiers */
    char                 *source;
    lgsp_regex_step_t    *steps;        /* NULL: not a simple pattern */
    size_t                n_steps;
    size_t                min_bytes;    /* no shorter subject can match */
};


#define LGSP_REGEX_STEPS_MAX  32
#define LGSP_REGEX_ELTS_MAX   64        /* the sets of all groups */
#define lgsp_step_add(st, c)  ((st)->ascii[(c) >> 5] |= 1u << ((c) & 31))
#define lgsp_step_has(st, c)  ((st)->ascii[(c) >> 5] & (1u << ((c) & 31)))


typedef struct {
    const char           *ecma;
    const char           *pcre;
} lgsp_regex_property_t;


/* General_Category long names (and aliases) PCRE2 10.42 does not know */
static const lgsp_regex_property_t  lgsp_regex_properties[] = {
    { "Letter", "L" }, { "Cased_Letter", "LC" },
    { "Uppercase_Letter", "Lu" }, { "Lowercase_Letter", "Ll" },
    { "Titlecase_Letter", "Lt" }, { "Modifier_Letter", "Lm" },
    { "Other_Letter", "Lo" }, { "Mark", "M" }, { "Combining_Mark", "M" },
    { "Nonspacing_Mark", "Mn" }, { "Spacing_Mark", "Mc" },
    { "Enclosing_Mark", "Me" }, { "Number", "N" },
    { "Decimal_Number", "Nd" }, { "digit", "Nd" },
    { "Letter_Number", "Nl" }, { "Other_Number", "No" },
    { "Punctuation", "P" }, { "punct", "P" },
    { "Connector_Punctuation", "Pc" }, { "Dash_Punctuation", "Pd" },
    { "Open_Punctuation", "Ps" }, { "Close_Punctuation", "Pe" },
    { "Initial_Punctuation", "Pi" }, { "Final_Punctuation", "Pf" },
    { "Other_Punctuation", "Po" }, { "Symbol", "S" },
    { "Math_Symbol", "Sm" }, { "Currency_Symbol", "Sc" },
    { "Modifier_Symbol", "Sk" }, { "Other_Symbol", "So" },
    { "Separator", "Z" }, { "Space_Separator", "Zs" },
    { "Line_Separator", "Zl" }, { "Paragraph_Separator", "Zp" },
    { "Other", "C" }, { "Control", "Cc" }, { "cntrl", "Cc" },
    { "Format", "Cf" }, { "Surrogate", "Cs" }, { "Private_Use", "Co" },
    { "Unassigned", "Cn" },
    { NULL, NULL }
};


static void
lgsp_regex_put_code_point(lgsp_sbuf_t *b, unsigned long cp)
{
    char  hex[24];

    snprintf(hex, sizeof(hex), "\\x{%lx}", cp);
    lgsp_sbuf_puts(b, hex);
}


static int
lgsp_regex_hex(const char *s, size_t n, unsigned long *value)
{
    size_t  i;
    int     c;

    *value = 0;

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (c >= '0' && c <= '9') {
            c -= '0';
        } else if (c >= 'a' && c <= 'f') {
            c -= 'a' - 10;
        } else if (c >= 'A' && c <= 'F') {
            c -= 'A' - 10;
        } else {
            return -1;
        }

        *value = *value * 16 + c;
    }

    return 0;
}


/*
 * \uXXXX, a surrogate pair \uD83D\uDE00 or \u{X...}: returns the bytes
 * consumed after the "u", or 0 on a malformed escape.
 */
static size_t
lgsp_regex_unicode_escape(const char *p, const char *end, unsigned long *cp)
{
    const char     *close;
    unsigned long   low;

    if (p < end && *p == '{') {
        close = memchr(p, '}', end - p);
        if (close == NULL || close == p + 1 || close - p > 9
            || lgsp_regex_hex(p + 1, close - p - 1, cp) != 0
            || *cp > 0x10ffff)
        {
            return 0;
        }
        return close - p + 1;
    }

    if (end - p < 4 || lgsp_regex_hex(p, 4, cp) != 0) {
        return 0;
    }

    if (*cp >= 0xd800 && *cp <= 0xdbff && end - p >= 10
        && p[4] == '\\' && p[5] == 'u'
        && lgsp_regex_hex(p + 6, 4, &low) == 0
        && low >= 0xdc00 && low <= 0xdfff)
    {
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
        return 10;
    }

    if (*cp >= 0xd800 && *cp <= 0xdfff) {
        /* a lone surrogate cannot occur in a UTF-8 subject */
        return 0;
    }

    return 4;
}


/* \p{...} or \P{...}: returns the bytes consumed after the letter, 0 on
 * a malformed property */
static size_t
lgsp_regex_property(lgsp_sbuf_t *b, int negated, const char *p,
    const char *end)
{
    const char                   *close, *name, *eq;
    size_t                        len;
    const lgsp_regex_property_t  *prop;

    if (p >= end || *p != '{') {
        return 0;
    }

    close = memchr(p, '}', end - p);
    if (close == NULL || close == p + 1) {
        return 0;
    }

    name = p + 1;
    len = close - name;

    eq = memchr(name, '=', len);
    if (eq != NULL) {
        if ((eq - name == 16 && memcmp(name, "General_Category", 16) == 0)
            || (eq - name == 2 && memcmp(name, "gc", 2) == 0))
        {
            len -= eq + 1 - name;
            name = eq + 1;
        }
    }

    lgsp_sbuf_puts(b, negated ? "\\P{" : "\\p{");

    for (prop = lgsp_regex_properties; prop->ecma; prop++) {
        if (strlen(prop->ecma) == len && memcmp(prop->ecma, name, len) == 0) {
            lgsp_sbuf_puts(b, prop->pcre);
            lgsp_sbuf_puts(b, "}");
            return close - p + 1;
        }
    }

    /* short names and Script=... PCRE2 spells as ECMA does */
    lgsp_sbuf_put(b, p + 1, close - p - 1);
    lgsp_sbuf_puts(b, "}");

    return close - p + 1;
}


/*
 * One escape sequence at p (just after the backslash).  Returns the
 * bytes consumed, or 0 when ECMA-262 (unicode mode) does not allow it.
 */
static size_t
lgsp_regex_escape(lgsp_sbuf_t *b, const char *p, const char *end,
    int in_class)
{
    size_t          n;
    unsigned long   cp;
    int             c;

    if (p >= end) {
        return 0;
    }

    c = (unsigned char) *p;

    switch (c) {

    case 'd': case 'D': case 'w': case 'W':
    case 'f': case 'n': case 'r': case 't':
        lgsp_sbuf_put(b, p - 1, 2);
        return 1;

    case 'b':
        lgsp_sbuf_puts(b, in_class ? "\\x{8}" : "\\b");
        return 1;

    case 'B':
        if (in_class) {
            return 0;
        }
        lgsp_sbuf_puts(b, "\\B");
        return 1;

    case 'v':
        lgsp_sbuf_puts(b, "\\x{b}");
        return 1;

    case 's':
        lgsp_sbuf_puts(b, in_class ? LGSP_ECMA_SPACE
                                    : "[" LGSP_ECMA_SPACE "]");
        return 1;

    case 'S':
        /* inside a class, U+FEFF cannot be subtracted: close enough */
        lgsp_sbuf_puts(b, in_class ? "\\P{Xsp}"
                                    : "[^" LGSP_ECMA_SPACE "]");
        return 1;

    case 'c':
        if (end - p < 2
            || !((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z')))
        {
            return 0;
        }
        lgsp_regex_put_code_point(b, (unsigned long) (p[1] & 0x1f));
        return 2;

    case 'x':
        if (end - p < 3 || lgsp_regex_hex(p + 1, 2, &cp) != 0) {
            return 0;
        }
        lgsp_regex_put_code_point(b, cp);
        return 3;

    case 'u':
        n = lgsp_regex_unicode_escape(p + 1, end, &cp);
        if (n == 0) {
            return 0;
        }
        lgsp_regex_put_code_point(b, cp);
        return n + 1;

    case 'p': case 'P':
        n = lgsp_regex_property(b, c == 'P', p + 1, end);
        return n ? n + 1 : 0;

    case 'k':
        if (in_class || end - p < 2 || p[1] != '<') {
            return 0;
        }
        lgsp_sbuf_puts(b, "\\k");
        return 1;

    case '0':
        if (end - p > 1 && p[1] >= '0' && p[1] <= '9') {
            return 0;
        }
        lgsp_sbuf_puts(b, "\\x{0}");
        return 1;

    default:
        break;
    }

    if (c >= '1' && c <= '9') {
        if (in_class) {
            return 0;
        }
        n = 0;
        while (p + n < end && p[n] >= '0' && p[n] <= '9') {
            n++;
        }
        lgsp_sbuf_puts(b, "\\g{");
        lgsp_sbuf_put(b, p, n);
        lgsp_sbuf_puts(b, "}");
        return n;
    }

    /* identity escapes of ASCII punctuation, as browsers accept them;
     * those of letters and digits are errors in ECMA-262 */
    if (c < 0x80 && c > 0x20 && !isalnum(c)) {
        lgsp_sbuf_put(b, p - 1, 2);
        return 1;
    }

    return 0;
}


/* "*", "+" or "{n,}" at p */
static int
lgsp_regex_unbounded_at(const char *p, const char *end)
{
    if (p >= end) {
        return 0;
    }

    if (*p == '*' || *p == '+') {
        return 1;
    }

    if (*p != '{') {
        return 0;
    }

    for (p++; p < end && isdigit((unsigned char) *p); p++) {
        /* void */
    }

    return end - p >= 2 && p[0] == ',' && p[1] == '}';
}


/*
 * Whether the group between open and close (its parentheses excluded)
 * starts with a delimiter: a punctuation or space character that nothing
 * else in the group can match, as " " in "( \\p{L}+)*".  Repeating such a
 * group cannot split a string in more than one way.
 */
static int
lgsp_regex_delimited(const char *open, const char *close)
{
    int          c;
    const char  *p, *q;

    p = open;

    if (close - p >= 2 && p[0] == '?' && p[1] == ':') {
        p += 2;
    } else if (close - p >= 2 && p[0] == '?' && p[1] == '<'
               && (close - p < 3 || (p[2] != '=' && p[2] != '!')))
    {
        q = memchr(p, '>', close - p);
        if (q == NULL) {
            return 0;
        }
        p = q + 1;
    }

    if (p < close && *p == '\\') {
        p++;
    }

    if (p >= close) {
        return 0;
    }

    c = (unsigned char) *p++;

    if (c >= 0x80 || isalnum(c) || c == '_' || strchr("^$.*+?()[]{}|", c)
        || (p < close && strchr("*+?{", *p)))
    {
        return 0;
    }

    for (q = p; q < close; q++) {
        if (*q == c || *q == '.' || (q[0] == '[' && q + 1 < close
                                     && q[1] == '^'))
        {
            return 0;
        }
        if (*q == '\\' && q + 1 < close
            && (strchr("SWDP", q[1]) || (q[1] == 's' && isspace(c))))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Translates to PCRE2 syntax, and notes in *nested whether a group that
 * holds an unbounded quantifier is itself repeated without bound, unless
 * a delimiter starts it.  unbounded[d] says whether the group open at
 * depth d holds one, open[d] where it starts.
 */
static int
lgsp_regex_translate(const char *src, size_t len, lgsp_sbuf_t *b,
    const char **bad, int *nested)
{
    const char     *p, *end;
    size_t          n, depth, deeper;
    int             in_class;
    const char     *open[LGSP_REGEX_GROUPS_MAX];
    unsigned char   unbounded[LGSP_REGEX_GROUPS_MAX];

    p = src;
    end = src + len;
    in_class = 0;
    depth = 0;
    deeper = 0;
    unbounded[0] = 0;
    *nested = 0;

    while (p < end) {

        switch (*p) {

        case '\\':
            n = lgsp_regex_escape(b, p + 1, end, in_class);
            if (n == 0) {
                *bad = "invalid escape";
                return -1;
            }
            p += n + 1;
            continue;

        case '[':
            if (in_class) {
                lgsp_sbuf_puts(b, "\\[");
                break;
            }

            if (end - p >= 2 && p[1] == ']') {
                lgsp_sbuf_puts(b, "(?!)");
                p += 2;
                continue;
            }

            if (end - p >= 3 && p[1] == '^' && p[2] == ']') {
                lgsp_sbuf_puts(b, "(?s:.)");
                p += 3;
                continue;
            }

            in_class = 1;
            lgsp_sbuf_puts(b, "[");
            if (end - p >= 2 && p[1] == '^') {
                lgsp_sbuf_puts(b, "^");
                p++;
            }
            break;

        case ']':
            lgsp_sbuf_puts(b, in_class ? "]" : "\\]");
            in_class = 0;
            break;

        case '.':
            lgsp_sbuf_puts(b, in_class ? "." : "[^\\n\\r\\x{2028}\\x{2029}]");
            break;

        case '(':
            if (!in_class && end - p >= 2 && p[1] == '?'
                && (end - p < 3 || strchr(":=!<", p[2]) == NULL))
            {
                *bad = "invalid group";
                return -1;
            }
            lgsp_sbuf_puts(b, "(");
            if (in_class) {
                break;
            }
            if (depth + 1 < LGSP_REGEX_GROUPS_MAX) {
                unbounded[++depth] = 0;
                open[depth] = p + 1;
            } else {
                deeper++;
            }
            break;

        case ')':
            lgsp_sbuf_puts(b, ")");
            if (!in_class && deeper > 0) {
                deeper--;
            } else if (!in_class && depth > 0) {
                if (unbounded[depth] && lgsp_regex_unbounded_at(p + 1, end)
                    && !lgsp_regex_delimited(open[depth], p))
                {
                    *nested = 1;
                }
                unbounded[depth - 1] |= unbounded[depth];
                depth--;
            }
            break;

        default:
            if (!in_class && lgsp_regex_unbounded_at(p, end)) {
                unbounded[depth] = 1;
            }
            lgsp_sbuf_put(b, p, 1);
            break;
        }

        p++;
    }

    if (in_class) {
        *bad = "unterminated character class";
        return -1;
    }

    return b->nomem ? -1 : 0;
}


static void
lgsp_step_range(lgsp_regex_step_t *st, int from, int to)
{
    int  c;

    for (c = from; c <= to; c++) {
        lgsp_step_add(st, c);
    }
}


/* \d \w \D \W or an escaped punctuation character; 0: not simple */
static int
lgsp_step_escape(lgsp_regex_step_t *st, int c)
{
    lgsp_regex_step_t  set;
    int                 i;

    memset(&set, 0, sizeof(set));

    switch (c) {
    case 'd': case 'D':
        lgsp_step_range(&set, '0', '9');
        break;
    case 'w': case 'W':
        lgsp_step_range(&set, '0', '9');
        lgsp_step_range(&set, 'a', 'z');
        lgsp_step_range(&set, 'A', 'Z');
        lgsp_step_add(&set, '_');
        break;
    default:
        if (c < 0x80 && c > 0x20 && !isalnum(c)) {
            lgsp_step_add(st, c);
            return 1;
        }
        return 0;
    }

    if (c == 'D' || c == 'W') {
        for (i = 0; i < 4; i++) {
            set.ascii[i] = ~set.ascii[i];
        }
        st->non_ascii = 1;
    }

    for (i = 0; i < 4; i++) {
        st->ascii[i] |= set.ascii[i];
    }

    return 1;
}


/* a bracket class of ASCII members: returns the bytes used, 0 if not */
static size_t
lgsp_step_class(lgsp_regex_step_t *st, const char *p, const char *end)
{
    int          c, prev, negated, i;
    const char  *start;

    start = p;
    p++;
    negated = 0;
    prev = -1;

    if (p < end && *p == '^') {
        negated = 1;
        p++;
    }

    if (p < end && *p == ']') {
        return 0;
    }

    while (p < end && *p != ']') {
        c = (unsigned char) *p++;

        if (c >= 0x80 || c == '[') {
            return 0;
        }

        if (c == '\\') {
            if (p >= end || *p == 'b' || *p == '-' || *p == 's'
                || *p == 'S')
            {
                return 0;
            }
            if (!lgsp_step_escape(st, (unsigned char) *p++)) {
                return 0;
            }
            prev = -1;
            continue;
        }

        if (c == '-' && prev >= 0 && p < end && *p != ']') {
            c = (unsigned char) *p++;
            if (c >= 0x80 || c == '\\' || c == '[' || c < prev) {
                return 0;
            }
            lgsp_step_range(st, prev, c);
            prev = -1;
            continue;
        }

        lgsp_step_add(st, c);
        prev = c;
    }

    if (p >= end) {
        return 0;
    }

    if (negated) {
        for (i = 0; i < 4; i++) {
            st->ascii[i] = ~st->ascii[i];
        }
        st->non_ascii = !st->non_ascii;
    }

    return p + 1 - start;
}


static size_t
lgsp_step_count(lgsp_regex_step_t *st, const char *p, const char *end)
{
    char           *next;
    const char     *start;
    unsigned long   min, max;

    start = p;

    switch (p < end ? *p : '\0') {
    case '?':
        st->min = 0;
        st->max = 1;
        return 1;
    case '*':
        st->min = 0;
        st->max = UINT32_MAX;
        return 1;
    case '+':
        st->min = 1;
        st->max = UINT32_MAX;
        return 1;
    case '{':
        break;
    default:
        st->min = 1;
        st->max = 1;
        return 0;
    }

    if (end - p < 3 || !isdigit((unsigned char) p[1])) {
        return (size_t) -1;
    }

    min = strtoul(p + 1, &next, 10);
    max = min;

    if (*next == ',') {
        if (isdigit((unsigned char) next[1])) {
            max = strtoul(next + 1, &next, 10);
        } else {
            max = UINT32_MAX;
            next++;
        }
    }

    if (next >= end || *next != '}' || min > max || min > 100000
        || (max != UINT32_MAX && max > 100000))
    {
        return (size_t) -1;
    }

    st->min = min;
    st->max = max;

    return next + 1 - start;
}


/* a set, an escape or a literal: the bytes used, 0 if not one of them */
static size_t
lgsp_step_atom(lgsp_regex_step_t *st, const char *p, const char *end)
{
    int  c;

    memset(st, 0, sizeof(lgsp_regex_step_t));
    c = (unsigned char) *p;

    if (c == '[') {
        return lgsp_step_class(st, p, end);
    }

    if (c == '\\') {
        return (p + 1 < end && lgsp_step_escape(st, (unsigned char) p[1]))
               ? 2 : 0;
    }

    if (c >= 0x80 || strchr("^$.*+?()[]{}|", c) != NULL) {
        return 0;
    }

    lgsp_step_add(st, c);

    return 1;
}


/* one ASCII character set, taken once: a group's element; 0: not one */
static size_t
lgsp_step_element(lgsp_regex_step_t *st, const char *p, const char *end)
{
    size_t  used;

    used = lgsp_step_atom(st, p, end);

    if (used == 0 || st->non_ascii
        || (p + used < end && strchr("?*+{", p[used]) != NULL))
    {
        return 0;
    }

    st->min = 1;
    st->max = 1;

    return used;
}


/*
 * "(a|b)" or "(?:a|b)" of alternatives of one length, their elements
 * appended to elts: returns the bytes used, 0 if not such a group
 */
static size_t
lgsp_step_group(lgsp_regex_step_t *st, const char *p, const char *end,
    lgsp_regex_step_t *elts, size_t *n_elts)
{
    int          i;
    size_t       first, len, used, k;
    const char  *start;

    start = p++;
    first = *n_elts;
    len = 0;

    if (end - p >= 2 && p[0] == '?' && p[1] == ':') {
        p += 2;
    }

    for ( ;; ) {
        if (p >= end) {
            return 0;
        }

        if (*p == '|' || *p == ')') {
            if (len == 0 || (st->alt_len != 0 && len != st->alt_len)) {
                return 0;
            }

            st->alt_len = len;
            len = 0;

            if (*p++ == ')') {
                break;
            }

            continue;
        }

        if (*n_elts == LGSP_REGEX_ELTS_MAX) {
            return 0;
        }

        used = lgsp_step_element(&elts[*n_elts], p, end);
        if (used == 0) {
            return 0;
        }

        p += used;
        (*n_elts)++;
        len++;
    }

    st->n_alts = (*n_elts - first) / st->alt_len;
    /* until the pattern is copied: where its elements start in elts */
    st->alts = elts + first;

    for (k = first; k < *n_elts; k += st->alt_len) {
        for (i = 0; i < 4; i++) {
            st->ascii[i] |= elts[k].ascii[i];
        }
    }

    return p - start;
}


static void
lgsp_step_advance(lgsp_regex_step_t *st)
{
    int  c;

    for (c = 0; c < 0x80; c++) {
        st->advance[c] = lgsp_step_has(st, c) ? 1 : 0;
    }

    /* a UTF-8 lead byte tells the length of its code point */
    for (c = 0x80; c < 0x100; c++) {
        st->advance[c] = !st->non_ascii ? 0 : c >= 0xf0 ? 4
                         : c >= 0xe0 ? 3 : 2;
    }
}


static lgsp_regex_step_t *
lgsp_regex_simple(const char *src, size_t len, size_t *n_steps)
{
    int                  i;
    size_t               n, used, k, j, n_elts;
    const char          *p, *end;
    lgsp_regex_step_t    steps[LGSP_REGEX_STEPS_MAX], *st, *copy;
    lgsp_regex_step_t    elts[LGSP_REGEX_ELTS_MAX];

    if (len < 2 || src[0] != '^' || src[len - 1] != '$'
        || (len >= 3 && src[len - 2] == '\\'))
    {
        return NULL;
    }

    p = src + 1;
    end = src + len - 1;
    n = 0;
    n_elts = 0;

    while (p < end) {
        if (n == LGSP_REGEX_STEPS_MAX) {
            return NULL;
        }

        st = &steps[n];

        if (*p == '(') {
            memset(st, 0, sizeof(lgsp_regex_step_t));
            used = lgsp_step_group(st, p, end, elts, &n_elts);
        } else {
            used = lgsp_step_atom(st, p, end);
        }

        if (used == 0) {
            return NULL;
        }

        p += used;

        used = lgsp_step_count(st, p, end);
        if (used == (size_t) -1) {
            return NULL;
        }
        p += used;

        if (st->alts != NULL && used != 0) {
            /* a group repeated would retry its alternatives */
            return NULL;
        }

        if (p < end && *p == '?') {
            /* lazy quantifiers need backtracking */
            return NULL;
        }

        n++;
    }

    /*
     * greedy is exact only if a variable count never competes: with the
     * next step, and past that one with every step after it while the
     * steps between may match nothing ("^\d{1,3}-?\d$" on "12")
     */
    for (k = 0; k + 1 < n; k++) {
        if (steps[k].min == steps[k].max) {
            continue;
        }

        for (j = k + 1; j < n; j++) {
            if (steps[k].non_ascii && steps[j].non_ascii) {
                return NULL;
            }
            for (i = 0; i < 4; i++) {
                if (steps[k].ascii[i] & steps[j].ascii[i]) {
                    return NULL;
                }
            }
            if (steps[j].min > 0) {
                break;
            }
        }
    }

    /* the steps, then the elements of their groups */
    copy = malloc((n + n_elts + 1) * sizeof(lgsp_regex_step_t));
    if (copy == NULL) {
        return NULL;
    }

    memcpy(copy, steps, n * sizeof(lgsp_regex_step_t));
    memcpy(copy + n, elts, n_elts * sizeof(lgsp_regex_step_t));

    for (k = 0; k < n + n_elts; k++) {
        lgsp_step_advance(&copy[k]);

        if (copy[k].alts != NULL) {
            copy[k].alts = copy + n + (copy[k].alts - elts);
        }
    }

    *n_steps = n;

    return copy;
}


static int
lgsp_step_group_match(const lgsp_regex_step_t *st, const unsigned char *s,
    size_t len)
{
    size_t                    j;
    const lgsp_regex_step_t  *alt, *last;

    if (len < st->alt_len) {
        return 0;
    }

    last = st->alts + st->n_alts * st->alt_len;

    for (alt = st->alts; alt < last; alt += st->alt_len) {
        for (j = 0; j < st->alt_len && alt[j].advance[s[j]]; j++) {
            /* void */
        }

        if (j == st->alt_len) {
            return 1;
        }
    }

    return 0;
}


static int
lgsp_regex_simple_match(const lgsp_regex_t *re, const unsigned char *s,
    size_t len)
{
    size_t                    k, i, step;
    uint32_t                  count;
    const lgsp_regex_step_t  *st;

    if (len < re->min_bytes) {
        return 0;
    }

    i = 0;

    for (k = 0; k < re->n_steps; k++) {
        st = &re->steps[k];

        if (st->alts != NULL) {
            if (!lgsp_step_group_match(st, s + i, len - i)) {
                return 0;
            }
            i += st->alt_len;
            continue;
        }

        for (count = 0; count < st->max && i < len; count++) {
            step = st->advance[s[i]];
            if (step == 0) {
                break;
            }
            i += step;
        }

        /* a code point cut short by the end of the subject ends it */
        if (i > len) {
            i = len;
        }

        if (count < st->min) {
            return 0;
        }
    }

    return i == len;
}


lgsp_regex_t *
lgsp_regex_compile(const char *src, size_t len, char *err, size_t errlen)
{
    int                error, nested, k;
    PCRE2_SIZE         offset;
    PCRE2_UCHAR        msg[128];
    size_t             i;
    const char        *bad;
    lgsp_regex_t      *re;
    lgsp_sbuf_t   buf;

    memset(&buf, 0, sizeof(buf));
    bad = "out of memory";

    if (lgsp_regex_translate(src, len, &buf, &bad, &nested) != 0) {
        snprintf(err, errlen, "invalid regular expression: %s", bad);
        free(buf.data);
        return NULL;
    }

    re = calloc(1, sizeof(lgsp_regex_t));
    if (re == NULL) {
        snprintf(err, errlen, "out of memory");
        free(buf.data);
        return NULL;
    }

    re->nested = nested;

    re->code = pcre2_compile((PCRE2_SPTR) (buf.data ? buf.data : ""),
                             buf.len, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY,
                             &error, &offset, NULL);
    free(buf.data);

    if (re->code == NULL) {
        pcre2_get_error_message(error, msg, sizeof(msg));
        snprintf(err, errlen, "invalid regular expression: %s", msg);
        free(re);
        return NULL;
    }

    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;

    for (k = 0; k < LGSP_REGEX_LIMITS; k++) {
        re->limits[k] = pcre2_match_context_create(NULL);
        if (re->limits[k] == NULL) {
            break;
        }
        pcre2_set_match_limit(re->limits[k], (uint32_t) 1 << k);
        pcre2_set_depth_limit(re->limits[k], (uint32_t) 1 << k);
    }

    re->source = malloc(len + 1);

    if (re->source == NULL || k < LGSP_REGEX_LIMITS) {
        snprintf(err, errlen, "out of memory");
        lgsp_regex_free(re);
        return NULL;
    }

    memcpy(re->source, src, len);
    re->source[len] = '\0';

    re->steps = lgsp_regex_simple(src, len, &re->n_steps);

    for (i = 0; i < re->n_steps; i++) {
        re->min_bytes += re->steps[i].alts ? re->steps[i].alt_len
                                           : re->steps[i].min;
    }

    return re;
}


/* takes n steps from the budget; 0: not that many left */
static int
lgsp_regex_spend(uint64_t *budget, uint64_t n)
{
    if (*budget < n) {
        *budget = 0;
        return 0;
    }

    *budget -= n;

    return 1;
}


/*
 * A long subject can need more JIT stack than the machine stack PCRE2
 * lends by default: it gets its own, with a match context to carry it,
 * made once per scratch.
 */
static int
lgsp_regex_grow_jit_stack(lgsp_regex_scratch_t *scratch)
{
    if (scratch->jit_stack != NULL) {
        return -1;
    }

    scratch->match_context = pcre2_match_context_create(NULL);
    scratch->jit_stack = pcre2_jit_stack_create(LGSP_REGEX_JIT_STACK_MIN,
                                                LGSP_REGEX_JIT_STACK_MAX,
                                                NULL);

    if (scratch->match_context == NULL || scratch->jit_stack == NULL) {
        return -1;
    }

    pcre2_jit_stack_assign(scratch->match_context, NULL, scratch->jit_stack);

    return 0;
}


int
lgsp_regex_match(const lgsp_regex_t *re, const char *subject, size_t len,
    lgsp_regex_scratch_t *scratch, uint64_t *budget)
{
    int                   rc, k;
    uint64_t              scan;
    pcre2_match_context  *mctx;

    /* any matcher may look at every byte of the subject once */
    scan = (len > LGSP_REGEX_FREE_BYTES) ? (uint64_t) len + 1 : 0;

    if (re->steps != NULL) {
        if (scan && !lgsp_regex_spend(budget, scan)) {
            return LGSP_REGEX_OVER_BUDGET;
        }

        return lgsp_regex_simple_match(re, (const unsigned char *) subject,
                                       len);
    }

    if (scratch->match_data == NULL) {
        /* one pair is enough: only whether it matches matters */
        scratch->match_data = pcre2_match_data_create(1, NULL);
        if (scratch->match_data == NULL) {
            return -1;
        }
    }

    /* the least k with 2^k >= len + 16 */
    k = (len + 15 < ((size_t) 1 << (LGSP_REGEX_LIMITS - 1)))
        ? 64 - __builtin_clzll((unsigned long long) len + 15)
        : LGSP_REGEX_LIMITS - 1;

    for ( ;; ) {
        /* a try costs what it may take, whatever it takes */
        if (!lgsp_regex_spend(budget, scan + ((uint64_t) 1 << k))) {
            return LGSP_REGEX_OVER_BUDGET;
        }

        scan = 0;
        mctx = re->limits[k];

        if (scratch->match_context != NULL) {
            mctx = scratch->match_context;
            pcre2_set_match_limit(mctx, (uint32_t) 1 << k);
        }

        if (re->jit) {
            rc = pcre2_jit_match(re->code, (PCRE2_SPTR) subject, len, 0, 0,
                                 scratch->match_data, mctx);
        } else {
            rc = pcre2_match(re->code, (PCRE2_SPTR) subject, len, 0,
                             PCRE2_NO_UTF_CHECK, scratch->match_data, mctx);
        }

        if (rc >= 0) {
            return 1;
        }

        if (rc == PCRE2_ERROR_NOMATCH) {
            return 0;
        }

        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
            if (lgsp_regex_grow_jit_stack(scratch) != 0) {
                return -1;
            }
            continue;
        }

        if ((rc != PCRE2_ERROR_MATCHLIMIT && rc != PCRE2_ERROR_DEPTHLIMIT)
            || k == LGSP_REGEX_LIMITS - 1)
        {
            return -1;
        }

        k++;
    }
}


int
lgsp_regex_nested_unbounded(const lgsp_regex_t *re)
{
    return re->nested;
}


const char *
lgsp_regex_source(const lgsp_regex_t *re)
{
    return re->source;
}


void
lgsp_regex_free(lgsp_regex_t *re)
{
    int  k;

    if (re == NULL) {
        return;
    }

    for (k = 0; k < LGSP_REGEX_LIMITS; k++) {
        pcre2_match_context_free(re->limits[k]);
    }

    pcre2_code_free(re->code);
    free(re->source);
    free(re->steps);
    free(re);
}


void
lgsp_regex_scratch_free(lgsp_regex_scratch_t *scratch)
{
    pcre2_match_data_free(scratch->match_data);
    pcre2_match_context_free(scratch->match_context);
    pcre2_jit_stack_free(scratch->jit_stack);
    scratch->match_data = NULL;
    scratch->match_context = NULL;
    scratch->jit_stack = NULL;
}
