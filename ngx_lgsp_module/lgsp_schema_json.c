/*
 * Strict parsing of request bodies (RFC 8259) into the compact document of
 * lgsp_json.h, the conversion of jansson values (schema documents) into
 * it, and the arena both live in.  One pass, no stream layer, nothing
 * freed per value: jansson's allocations were most of a validated
 * request's cost.  Nesting is counted as the parser descends, so a body
 * of 100000 "[" is refused at the first bracket past the limit, and the
 * recursion never goes deeper than the limit.  Duplicate keys are
 * refused: agencies' systems would otherwise disagree on which value
 * counts.  Strings must be UTF-8; "\u0000" is kept (lengths are held).
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_schema.h"
#include "lgsp_uint.h"


#define LGSP_ARENA_CHUNK      16384

/* children collected before their container closes, on the C stack
 * first: small bodies never call malloc */
#define LGSP_JSON_STACK       64

/* 16 signed bytes compared at once */
typedef signed char  lgsp_json_v16_t __attribute__((vector_size(16)));

/* objects with more members are checked for duplicates by sorting */
#define LGSP_JSON_LINEAR_KEYS 32


/* bytes that do not end a string's plain text: not '"', '\\' or a control;
 * non-ASCII text is checked as UTF-8 once the plain text's end is known */
static const unsigned char  lgsp_json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};


struct lgsp_arena_chunk_s {
    lgsp_arena_chunk_t   *next;
};


/* a child on the scratch stack; "at" is its key's byte offset */
typedef struct {
    lgsp_json_member_t     m;
    size_t                 at;
} lgsp_json_slot_t;


typedef struct {
    const unsigned char        *start;
    const unsigned char        *p;
    const unsigned char        *end;
    const lgsp_json_options_t  *opts;
    int                         kind;    /* LGSP_JSON_*, set on error */
    size_t                      at;      /* the error's byte offset */
    const char                 *what;    /* the error, for the message */
    lgsp_json_slot_t           *stack;
    size_t                      top;
    size_t                      cap;
    lgsp_json_slot_t            local[LGSP_JSON_STACK];
} lgsp_json_parser_t;


static inline int lgsp_json_value(lgsp_json_parser_t *ps, size_t depth,
    lgsp_json_t *out);
static int lgsp_json_other(lgsp_json_parser_t *ps, size_t depth,
    lgsp_json_t *out);
static int lgsp_json_object(lgsp_json_parser_t *ps, size_t depth,
    lgsp_json_t *out);
static int lgsp_json_array(lgsp_json_parser_t *ps, size_t depth,
    lgsp_json_t *out);
static int lgsp_json_grow(lgsp_json_parser_t *ps);
static int lgsp_json_duplicates(lgsp_json_parser_t *ps, size_t base);
static inline int lgsp_json_string(lgsp_json_parser_t *ps, const char **s,
    size_t *len, int *escaped);
static int lgsp_json_unescape(lgsp_json_parser_t *ps, const unsigned char *q,
    const char **s, size_t *len);
static int lgsp_json_parse_number(lgsp_json_parser_t *ps, lgsp_json_t *out);
static int lgsp_json_number_text(lgsp_json_parser_t *ps, const char *text,
    size_t len, lgsp_json_t *out);
static int lgsp_json_literal(lgsp_json_parser_t *ps, const char *word,
    size_t len, unsigned type, lgsp_json_t *out);
static inline size_t lgsp_json_utf8(const unsigned char *p,
    const unsigned char *end);
static inline int lgsp_json_utf8_common(const unsigned char *start,
    const unsigned char *p, const unsigned char *q);
static const unsigned char *lgsp_json_utf8_check(const unsigned char *p,
    const unsigned char *end);
static int lgsp_json_hex4(const unsigned char *p, unsigned *cp);
static void *lgsp_json_alloc(lgsp_json_parser_t *ps, size_t size);
static int lgsp_json_fail(lgsp_json_parser_t *ps, int kind,
    const unsigned char *at, const char *what);


/* the index of the first byte of a word (as memcpy() read it) not 0 */
static inline size_t
lgsp_json_first_byte(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_ctzll(w) >> 3;
#else
    return __builtin_clzll(w) >> 3;
#endif
}


/* the index of the first byte of the 16 of a comparison that is true,
 * 16 when none is */
static inline size_t
lgsp_json_first16(lgsp_json_v16_t found)
{
    uint64_t  lo, hi;

    memcpy(&lo, &found, 8);
    memcpy(&hi, (char *) &found + 8, 8);

    if (lo) {
        return lgsp_json_first_byte(lo);
    }

    return hi ? 8 + lgsp_json_first_byte(hi) : 16;
}


/* the bytes of a word (as memcpy() read it) up to its first byte not 0,
 * that one included, as bits set; w is not 0 */
static inline uint64_t
lgsp_json_upto_first(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return w ^ (w - 1);
#else
    return ~0ULL << (63 - __builtin_clzll(w));
#endif
}


/*
 * The index of the first of the 16 bytes at p that ends a string's plain
 * text: a quote, a backslash or a control byte; 16 when there is none.
 * The bytes before it are ORed into *seen: whether any is non-ASCII.
 * Vietnamese text has a multi-byte sequence every few characters; checked
 * here, each would end the vector scan.  The vector extension of GCC and
 * clang: a few SSE2 (or NEON) instructions.
 */
static inline size_t
lgsp_json_plain16(const unsigned char *p, uint64_t *seen)
{
    uint64_t         lo, hi, text;
    lgsp_json_v16_t  x, stop;

    memcpy(&x, p, 16);

    /* the controls 0x00-0x1f are the bytes with none of the bits 0xe0 */
    stop = (x == '"') | (x == '\\') | ((x & (signed char) 0xe0) == 0);

    memcpy(&lo, &stop, 8);
    memcpy(&text, p, 8);

    if (lo) {
        *seen |= text & lgsp_json_upto_first(lo);
        return lgsp_json_first_byte(lo);
    }

    *seen |= text;

    memcpy(&hi, (char *) &stop + 8, 8);
    memcpy(&text, p + 8, 8);

    if (hi) {
        *seen |= text & lgsp_json_upto_first(hi);
        return 8 + lgsp_json_first_byte(hi);
    }

    *seen |= text;

    return 16;
}


/* the blanks the 16 bytes at p start with */
static inline size_t
lgsp_json_blanks16(const unsigned char *p)
{
    lgsp_json_v16_t  x;

    memcpy(&x, p, 16);

    return lgsp_json_first16((x != ' ') & (x != '\n') & (x != '\r')
                             & (x != '\t'));
}


/* pretty-printed bodies are a quarter blanks: a line's end and the next
 * one's indentation are mostly skipped at once, a single space (after a
 * colon) byte by byte */
static inline void
lgsp_json_skip_ws(lgsp_json_parser_t *ps)
{
    size_t                n;
    const unsigned char  *p, *end;

    p = ps->p;
    end = ps->end;

    while (p < end && *p <= ' ') {

        if (*p == '\n' && end - p >= 16) {
            n = lgsp_json_blanks16(p);
            p += n;

            if (n < 16) {
                break;
            }

            continue;
        }

        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            break;
        }

        p++;
    }

    ps->p = p;
}


void *
lgsp_arena_alloc(void *ctx, size_t size)
{
    void                *p;
    size_t               chunk;
    lgsp_arena_t        *arena;
    lgsp_arena_chunk_t  *ch;

    arena = ctx;
    size = (size + 15) & ~(size_t) 15;

    if (size > arena->left) {
        chunk = size > LGSP_ARENA_CHUNK / 4 ? size : LGSP_ARENA_CHUNK;
        ch = malloc(sizeof(lgsp_arena_chunk_t) + 16 + chunk);
        if (ch == NULL) {
            return NULL;
        }
        ch->next = arena->chunks;
        arena->chunks = ch;

        p = (char *) ch + 16;
        if (chunk != LGSP_ARENA_CHUNK) {
            /* a big block of its own: keep the current chunk's rest */
            memset(p, 0, size);
            return p;
        }
        arena->pos = p;
        arena->left = chunk;
    }

    p = arena->pos;
    arena->pos += size;
    arena->left -= size;
    memset(p, 0, size);

    return p;
}


void
lgsp_arena_free(lgsp_arena_t *arena)
{
    lgsp_arena_chunk_t  *ch, *next;

    for (ch = arena->chunks; ch; ch = next) {
        next = ch->next;
        free(ch);
    }

    arena->chunks = NULL;
    arena->left = 0;
}


lgsp_json_t *
lgsp_json_parse_strict(const char *buf, size_t len,
    const lgsp_json_options_t *opts, int *kind, char *err, size_t errlen)
{
    int                  rc;
    lgsp_json_t          value, *json;
    lgsp_json_parser_t   ps;

    ps.start = (const unsigned char *) buf;
    ps.p = ps.start;
    ps.end = ps.start + len;
    ps.opts = opts;
    ps.kind = LGSP_JSON_OK;
    ps.at = 0;
    ps.what = NULL;
    ps.stack = ps.local;
    ps.top = 0;
    ps.cap = LGSP_JSON_STACK;

    json = NULL;

    lgsp_json_skip_ws(&ps);
    rc = lgsp_json_value(&ps, 0, &value);

    if (rc == 0) {
        lgsp_json_skip_ws(&ps);

        if (ps.p < ps.end) {
            rc = lgsp_json_fail(&ps, LGSP_JSON_SYNTAX, ps.p,
                                "text after the document");
        }
    }

    if (rc == 0) {
        json = lgsp_json_alloc(&ps, sizeof(lgsp_json_t));
        if (json != NULL) {
            *json = value;
        }
    }

    if (ps.stack != ps.local) {
        free(ps.stack);
    }

    if (json != NULL) {
        *kind = LGSP_JSON_OK;
        return json;
    }

    *kind = ps.kind;

    switch (ps.kind) {

    case LGSP_JSON_TOO_DEEP:
        snprintf(err, errlen, "JSON nested deeper than %zu levels at byte %zu",
                 opts->max_depth, ps.at);
        break;

    case LGSP_JSON_DUPLICATE_KEY:
        snprintf(err, errlen, "duplicate object key at byte %zu", ps.at);
        break;

    default:
        /* the offset counts the offending byte, as jansson's did */
        snprintf(err, errlen, "malformed JSON at byte %zu: %s",
                 ps.at + (ps.at < len), ps.what);
    }

    return NULL;
}


/*
 * Strings, most of a body's values, are read where a value is expected:
 * the call to lgsp_json_other() cost as much as reading a short one
 */
static inline __attribute__((always_inline)) int
lgsp_json_value(lgsp_json_parser_t *ps, size_t depth, lgsp_json_t *out)
{
    size_t  len;

    if (ps->p < ps->end && *ps->p == '"') {
        out->type = LGSP_JSON_STRING;

        if (lgsp_json_string(ps, &out->u.str, &len, NULL) != 0) {
            return -1;
        }

        out->len = (uint32_t) len;
        return 0;
    }

    return lgsp_json_other(ps, depth, out);
}


/* any value but a string */
static int
lgsp_json_other(lgsp_json_parser_t *ps, size_t depth, lgsp_json_t *out)
{
    if (ps->p >= ps->end) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                              "unexpected end of input");
    }

    switch (*ps->p) {

    case '{':
        return lgsp_json_object(ps, depth + 1, out);

    case '[':
        return lgsp_json_array(ps, depth + 1, out);

    case 't':
        return lgsp_json_literal(ps, "true", 4, LGSP_JSON_TRUE, out);

    case 'f':
        return lgsp_json_literal(ps, "false", 5, LGSP_JSON_FALSE, out);

    case 'n':
        return lgsp_json_literal(ps, "null", 4, LGSP_JSON_NULL, out);

    default:
        return lgsp_json_parse_number(ps, out);
    }
}


static int
lgsp_json_object(lgsp_json_parser_t *ps, size_t depth, lgsp_json_t *out)
{
    int                   escaped;
    size_t                i, n, base, len;
    uint32_t              hash;
    uint64_t              hashes, bit;
    const char           *key;
    lgsp_json_t           value;
    lgsp_json_slot_t     *slot;
    lgsp_json_member_t   *members;
    const unsigned char  *at;

    if (depth > ps->opts->max_depth) {
        return lgsp_json_fail(ps, LGSP_JSON_TOO_DEEP, ps->p, "too deep");
    }

    ps->p++;
    base = ps->top;
    hashes = 0;

    out->type = LGSP_JSON_OBJECT;
    out->len = 0;
    out->u.members = NULL;

    lgsp_json_skip_ws(ps);

    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return 0;
    }

    for ( ;; ) {
        if (ps->p >= ps->end || *ps->p != '"') {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                                  "a string key expected");
        }

        at = ps->p;

        if (lgsp_json_string(ps, &key, &len, &escaped) != 0) {
            return -1;
        }

        /* keys are printed into messages as C strings; a raw NUL is a
         * control character, refused already: only "\u0000" gets here */
        if (escaped && memchr(key, '\0', len) != NULL) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, at,
                                  "NUL in an object key");
        }

        hash = lgsp_json_key_hash(key, len);

        /* few keys: refused at once; more are sorted when the object ends;
         * a key whose hash's bit no key before had set has no twin */
        n = ps->top - base;
        bit = (uint64_t) 1 << (hash & 63);

        if (n < LGSP_JSON_LINEAR_KEYS && (hashes & bit)) {
            for (i = base; i < ps->top; i++) {
                slot = &ps->stack[i];

                if (slot->m.key_hash == hash && slot->m.key_len == len
                    && lgsp_json_key_eq(slot->m.key, key, len))
                {
                    return lgsp_json_fail(ps, LGSP_JSON_DUPLICATE_KEY, at,
                                          "duplicate key");
                }
            }
        }

        hashes |= bit;

        lgsp_json_skip_ws(ps);

        if (ps->p >= ps->end || *ps->p != ':') {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                                  "':' expected");
        }

        ps->p++;
        lgsp_json_skip_ws(ps);

        if (lgsp_json_value(ps, depth, &value) != 0) {
            return -1;
        }

        if (ps->top == ps->cap && lgsp_json_grow(ps) != 0) {
            return -1;
        }

        slot = &ps->stack[ps->top++];
        slot->m.key = key;
        slot->m.key_len = (uint32_t) len;
        slot->m.key_hash = hash;
        slot->m.value = value;
        slot->at = at - ps->start;

        lgsp_json_skip_ws(ps);

        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            lgsp_json_skip_ws(ps);
            continue;
        }

        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }

        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                              "',' or '}' expected");
    }

    n = ps->top - base;

    if (n > LGSP_JSON_MAX_LEN) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p - 1,
                              "too many members");
    }

    if (n > LGSP_JSON_LINEAR_KEYS && lgsp_json_duplicates(ps, base) != 0) {
        return -1;
    }

    members = lgsp_json_alloc(ps, n * sizeof(lgsp_json_member_t));
    if (members == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        members[i] = ps->stack[base + i].m;
    }

    ps->top = base;
    out->len = n;
    out->u.members = members;

    return 0;
}


static int
lgsp_json_array(lgsp_json_parser_t *ps, size_t depth, lgsp_json_t *out)
{
    size_t        i, n, base;
    lgsp_json_t   value, *items;

    if (depth > ps->opts->max_depth) {
        return lgsp_json_fail(ps, LGSP_JSON_TOO_DEEP, ps->p, "too deep");
    }

    ps->p++;
    base = ps->top;

    out->type = LGSP_JSON_ARRAY;
    out->len = 0;
    out->u.items = NULL;

    lgsp_json_skip_ws(ps);

    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return 0;
    }

    for ( ;; ) {
        if (lgsp_json_value(ps, depth, &value) != 0) {
            return -1;
        }

        if (ps->top == ps->cap && lgsp_json_grow(ps) != 0) {
            return -1;
        }

        ps->stack[ps->top++].m.value = value;

        lgsp_json_skip_ws(ps);

        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            lgsp_json_skip_ws(ps);
            continue;
        }

        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            break;
        }

        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                              "',' or ']' expected");
    }

    n = ps->top - base;

    if (n > LGSP_JSON_MAX_LEN) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p - 1,
                              "too many items");
    }

    items = lgsp_json_alloc(ps, n * sizeof(lgsp_json_t));
    if (items == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        items[i] = ps->stack[base + i].m.value;
    }

    ps->top = base;
    out->len = n;
    out->u.items = items;

    return 0;
}


/* the scratch stack is full: twice the room, on the heap */
static int
lgsp_json_grow(lgsp_json_parser_t *ps)
{
    size_t             cap;
    lgsp_json_slot_t  *stack;

    cap = ps->cap * 2;

    if (ps->stack == ps->local) {
        stack = malloc(cap * sizeof(lgsp_json_slot_t));
        if (stack != NULL) {
            memcpy(stack, ps->local, sizeof(ps->local));
        }

    } else {
        stack = realloc(ps->stack, cap * sizeof(lgsp_json_slot_t));
    }

    if (stack == NULL) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
    }

    ps->stack = stack;
    ps->cap = cap;

    return 0;
}


static int
lgsp_json_slot_cmp(const void *a, const void *b)
{
    int                      rc;
    const lgsp_json_slot_t  *x, *y;

    x = *(const lgsp_json_slot_t * const *) a;
    y = *(const lgsp_json_slot_t * const *) b;

    if (x->m.key_len != y->m.key_len) {
        return x->m.key_len < y->m.key_len ? -1 : 1;
    }

    rc = memcmp(x->m.key, y->m.key, x->m.key_len);
    if (rc != 0) {
        return rc;
    }

    return (x->at > y->at) - (x->at < y->at);
}


/*
 * The members of the object on the stack from base, sorted: O(n log n)
 * however many keys a hostile body sends.  The error names the key that
 * repeats first in the text, as checking key by key would have.
 */
static int
lgsp_json_duplicates(lgsp_json_parser_t *ps, size_t base)
{
    size_t              i, n, first;
    lgsp_json_slot_t  **sorted;

    n = ps->top - base;

    sorted = malloc(n * sizeof(lgsp_json_slot_t *));
    if (sorted == NULL) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
    }

    for (i = 0; i < n; i++) {
        sorted[i] = &ps->stack[base + i];
    }

    qsort(sorted, n, sizeof(lgsp_json_slot_t *), lgsp_json_slot_cmp);

    first = (size_t) -1;

    for (i = 1; i < n; i++) {
        if (sorted[i]->m.key_len == sorted[i - 1]->m.key_len
            && memcmp(sorted[i]->m.key, sorted[i - 1]->m.key,
                      sorted[i]->m.key_len) == 0
            && sorted[i]->at < first)
        {
            first = sorted[i]->at;
        }
    }

    free(sorted);

    if (first != (size_t) -1) {
        return lgsp_json_fail(ps, LGSP_JSON_DUPLICATE_KEY, ps->start + first,
                              "duplicate key");
    }

    return 0;
}


/*
 * A string at ps->p ('"'): *s points into the text when it has no escape
 * and the caller lends the text, else into memory of the document.
 * Inlined where strings are read: most are short and plain, and the call
 * cost as much as reading them.
 */
static inline __attribute__((always_inline)) int
lgsp_json_string(lgsp_json_parser_t *ps, const char **s, size_t *len,
    int *escaped)
{
    char                 *copy;
    size_t                n;
    uint64_t              seen;
    const unsigned char  *p, *q, *end, *bad;

    p = ps->p + 1;
    end = ps->end;
    seen = 0;

    /* the common case: plain text up to the closing quote */
    q = p;

    for (n = 16; n == 16 && end - q >= 16; q += n) {
        n = lgsp_json_plain16(q, &seen);
    }

    if (n == 16) {
        while (q < end && lgsp_json_plain[*q]) {
            seen |= *q++;
        }
    }

    /* no sequence runs past q: a stop is no continuation byte */
    if ((seen & 0x8080808080808080ULL)
        && !lgsp_json_utf8_common(ps->start, p, q))
    {
        bad = lgsp_json_utf8_check(p, q);
        if (bad != q) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, bad, "invalid UTF-8");
        }
    }

    if (q == end || *q != '"') {
        if (escaped != NULL) {
            *escaped = (q < end && *q == '\\');
        }

        return lgsp_json_unescape(ps, q, s, len);
    }

    if (escaped != NULL) {
        *escaped = 0;
    }

    if ((size_t) (q - p) > LGSP_JSON_MAX_LEN) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "string too long");
    }

    *len = q - p;
    ps->p = q + 1;

    if (ps->opts->borrow) {
        *s = (const char *) p;
        return 0;
    }

    copy = lgsp_json_alloc(ps, *len + 1);
    if (copy == NULL) {
        return -1;
    }

    *s = memcpy(copy, p, *len);
    return 0;
}


/*
 * The rest of the string at ps->p from q, the first byte that is not
 * plain text (a backslash, or a byte refused here), unescaped into
 * memory of the document
 */
static int
lgsp_json_unescape(lgsp_json_parser_t *ps, const unsigned char *q,
    const char **s, size_t *len)
{
    char                 *out, *copy;
    size_t                n;
    unsigned              cp, lo;
    const unsigned char  *p, *r, *end;

    p = ps->p + 1;
    end = ps->end;

    /*
     * escapes: the unescaped text is never longer than the escaped one up
     * to the closing quote; find that quote to size the copy
     */
    for (r = q; r < end && *r != '"'; r += (*r == '\\') ? 2 : 1) {
        /* void */
    }

    copy = lgsp_json_alloc(ps, (r < end ? r : end) - p + 1);
    if (copy == NULL) {
        return -1;
    }

    out = copy;
    memcpy(out, p, q - p);
    out += q - p;

    while (q < end && *q != '"') {

        if (*q < 0x20) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q,
                                  "control character in a string");
        }

        if (*q >= 0x80) {
            n = lgsp_json_utf8(q, end);
            if (n == 0) {
                return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q,
                                      "invalid UTF-8");
            }

            memcpy(out, q, n);
            out += n;
            q += n;
            continue;
        }

        if (*q != '\\') {
            *out++ = *q++;
            continue;
        }

        if (q + 1 >= end) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, end,
                                  "unterminated string");
        }

        switch (q[1]) {
        case '"':  *out++ = '"';  break;
        case '\\': *out++ = '\\'; break;
        case '/':  *out++ = '/';  break;
        case 'b':  *out++ = '\b'; break;
        case 'f':  *out++ = '\f'; break;
        case 'n':  *out++ = '\n'; break;
        case 'r':  *out++ = '\r'; break;
        case 't':  *out++ = '\t'; break;

        case 'u':
            if (q + 6 > end || lgsp_json_hex4(q + 2, &cp) != 0) {
                return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q,
                                      "invalid \\u escape");
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q,
                                      "lone low surrogate");
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (q + 12 > end || q[6] != '\\' || q[7] != 'u'
                    || lgsp_json_hex4(q + 8, &lo) != 0
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q,
                                          "lone high surrogate");
                }

                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                q += 6;
            }

            /* 6 or 12 escaped bytes become at most 4 */
            if (cp < 0x80) {
                *out++ = (char) cp;

            } else if (cp < 0x800) {
                *out++ = (char) (0xc0 | (cp >> 6));
                *out++ = (char) (0x80 | (cp & 0x3f));

            } else if (cp < 0x10000) {
                *out++ = (char) (0xe0 | (cp >> 12));
                *out++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *out++ = (char) (0x80 | (cp & 0x3f));

            } else {
                *out++ = (char) (0xf0 | (cp >> 18));
                *out++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                *out++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *out++ = (char) (0x80 | (cp & 0x3f));
            }

            q += 4;
            break;

        default:
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, q, "invalid escape");
        }

        q += 2;
    }

    if (q >= end) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, end,
                              "unterminated string");
    }

    if ((size_t) (out - copy) > LGSP_JSON_MAX_LEN) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "string too long");
    }

    *s = copy;
    *len = out - copy;
    ps->p = q + 1;

    return 0;
}


/*
 * Integers that fit 64 bits stay integers; the rest become reals when a
 * double is exactly their value, else decimals
 */
static int
lgsp_json_parse_number(lgsp_json_parser_t *ps, lgsp_json_t *out)
{
    int                   integer, digits;
    unsigned              digit;
    lgsp_decimal_t        dec;
    const unsigned char  *p, *q, *start;
    unsigned long long    magnitude;

    start = ps->p;
    p = start;
    integer = 1;

    if (p < ps->end && *p == '-') {
        p++;
    }

    if (p < ps->end && *p == '0') {
        p++;

    } else if (p < ps->end && *p >= '1' && *p <= '9') {
        while (p < ps->end && *p >= '0' && *p <= '9') {
            p++;
        }

    } else {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                              "unexpected character");
    }

    if (p < ps->end && *p == '.') {
        integer = 0;
        p++;

        for (digits = 0; p < ps->end && *p >= '0' && *p <= '9'; digits++) {
            p++;
        }

        if (digits == 0) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                                  "digits expected after '.'");
        }
    }

    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        integer = 0;
        p++;

        if (p < ps->end && (*p == '+' || *p == '-')) {
            p++;
        }

        for (digits = 0; p < ps->end && *p >= '0' && *p <= '9'; digits++) {
            p++;
        }

        if (digits == 0) {
            return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, p,
                                  "digits expected in the exponent");
        }
    }

    if (integer) {
        magnitude = 0;

        for (q = start + (*start == '-'); q < p; q++) {
            digit = *q - '0';

            if (magnitude > (ULLONG_MAX - digit) / 10) {
                break;
            }

            magnitude = magnitude * 10 + digit;
        }

        /* -2^63 fits as well as 2^63 - 1 */
        if (q == p && magnitude <= (unsigned long long) LLONG_MAX
                                   + (*start == '-'))
        {
            out->type = LGSP_JSON_INTEGER;
            out->len = 0;
            out->u.integer = (*start == '-') ? (int64_t) (0 - magnitude)
                                             : (int64_t) magnitude;
            ps->p = p;
            return 0;
        }
    }

    if (lgsp_decimal_parse(&dec, (const char *) start, p - start) != 0) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, start,
                              "exponent of more than 18 digits");
    }

    ps->p = p;
    out->len = 0;

    if (lgsp_decimal_to_double(&dec, &out->u.real)) {
        out->type = LGSP_JSON_REAL;
        return 0;
    }

    return lgsp_json_number_text(ps, (const char *) start, p - start, out);
}


/* a decimal: its text, borrowed from the body or copied */
static int
lgsp_json_number_text(lgsp_json_parser_t *ps, const char *text, size_t len,
    lgsp_json_t *out)
{
    char  *copy;

    if (len > LGSP_JSON_MAX_LEN) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX,
                              (const unsigned char *) text,
                              "number too long");
    }

    out->type = LGSP_JSON_DECIMAL;
    out->len = (uint32_t) len;

    if (ps->opts->borrow) {
        out->u.str = text;
        return 0;
    }

    copy = lgsp_json_alloc(ps, len);
    if (copy == NULL) {
        return -1;
    }

    out->u.str = memcpy(copy, text, len);

    return 0;
}


static int
lgsp_json_literal(lgsp_json_parser_t *ps, const char *word, size_t len,
    unsigned type, lgsp_json_t *out)
{
    if ((size_t) (ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) {
        return lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p,
                              "unexpected character");
    }

    ps->p += len;

    out->type = type;
    out->len = 0;
    out->u.integer = 0;

    return 0;
}


/*
 * The length of a valid UTF-8 sequence at p (RFC 3629), or 0: the
 * well-formed sequences of Unicode's table 3-7, so no overlong form, no
 * surrogate, nothing above U+10FFFF and nothing cut short by end
 */
static inline size_t
lgsp_json_utf8(const unsigned char *p, const unsigned char *end)
{
    if (*p >= 0xc2 && *p <= 0xdf) {
        return (end - p >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
    }

    if (*p >= 0xe0 && *p <= 0xef) {
        if (end - p < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80
            || (*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] > 0x9f))
        {
            return 0;
        }

        return 3;
    }

    if (*p >= 0xf0 && *p <= 0xf4) {
        if (end - p < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80
            || (p[3] & 0xc0) != 0x80
            || (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] > 0x8f))
        {
            return 0;
        }

        return 4;
    }

    return 0;
}


/*
 * The bytes of the 16 at x that are not where the UTF-8 of Vietnamese
 * text puts them: a continuation byte not after a lead, a lead or ASCII
 * where one is due, or a byte that is none of ASCII, a continuation, a
 * 2-byte lead (0xc2-0xdf) or a 3-byte one of 0xe1-0xec (U+1000-U+CFFF:
 * no overlong form or surrogate whatever the continuation).  x1 and x2
 * are the 16 bytes 1 and 2 before x: where none of them is such a byte,
 * 0xc0-0xff is a lead and 0xe0-0xff a 3-byte one.  As signed bytes,
 * 0x80-0xbf are -128 to -65, 0xc0 is -64, 0xe0 -32 and 0xed -19.
 */
static inline lgsp_json_v16_t
lgsp_json_utf8_wrong16(lgsp_json_v16_t x, lgsp_json_v16_t x1,
    lgsp_json_v16_t x2)
{
    lgsp_json_v16_t  cont, due, other;

    cont = x < -64;
    due = ((x1 & -64) == -64) | ((x2 & -32) == -32);
    other = ((x > -20) & (x < 0)) | ((x & -2) == -64) | (x == -32);

    return (cont ^ due) | other;
}


/*
 * Whether the text [p, q) of a string is valid UTF-8 made of ASCII and the
 * sequences lgsp_json_utf8_wrong16() takes, read 16 bytes at a time; 0
 * leaves the rest and the place of an error to lgsp_json_utf8_check().
 * Each block is read with the 2 bytes before it; the last block ends at q
 * and may hold text before p: the document before the string, valid
 * UTF-8 once parsed.
 */
static inline int
lgsp_json_utf8_common(const unsigned char *start, const unsigned char *p,
    const unsigned char *q)
{
    uint64_t         lo, hi;
    lgsp_json_v16_t  x, x1, x2, wrong;

    if (p - start < 2 || q - start < 18) {
        return 0;
    }

    /* a sequence must not be cut by q */
    if (q[-1] >= 0xc0 || q[-2] >= 0xe0) {
        return 0;
    }

    wrong = (lgsp_json_v16_t) { 0 };

    for ( ;; ) {
        if (q - p < 16) {
            p = q - 16;
        }

        memcpy(&x, p, 16);
        memcpy(&x1, p - 1, 16);
        memcpy(&x2, p - 2, 16);

        wrong |= lgsp_json_utf8_wrong16(x, x1, x2);

        p += 16;

        if (p == q) {
            break;
        }
    }

    memcpy(&lo, &wrong, 8);
    memcpy(&hi, (char *) &wrong + 8, 8);

    return (lo | hi) == 0;
}


/* the first byte of [p, end) not in a valid UTF-8 sequence, or end;
 * ASCII is skipped 8 bytes at a time */
static const unsigned char *
lgsp_json_utf8_check(const unsigned char *p, const unsigned char *end)
{
    size_t    n;
    uint64_t  high;

    while (p < end) {

        if (end - p >= 8) {
            memcpy(&high, p, 8);
            high &= 0x8080808080808080ULL;

            if (high == 0) {
                p += 8;
                continue;
            }

            p += lgsp_json_first_byte(high);

        } else if (*p < 0x80) {
            p++;
            continue;
        }

        n = lgsp_json_utf8(p, end);
        if (n == 0) {
            return p;
        }

        p += n;
    }

    return end;
}


static int
lgsp_json_hex4(const unsigned char *p, unsigned *cp)
{
    int       i;
    unsigned  v;

    v = 0;

    for (i = 0; i < 4; i++) {
        v <<= 4;

        if (p[i] >= '0' && p[i] <= '9') {
            v |= p[i] - '0';

        } else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f') {
            v |= (p[i] | 0x20) - 'a' + 10;

        } else {
            return -1;
        }
    }

    *cp = v;

    return 0;
}


static void *
lgsp_json_alloc(lgsp_json_parser_t *ps, size_t size)
{
    void  *p;

    /* empty containers still get a distinct, valid pointer */
    p = ps->opts->alloc(ps->opts->ctx, size ? size : 1);
    if (p == NULL) {
        lgsp_json_fail(ps, LGSP_JSON_SYNTAX, ps->p, "out of memory");
    }

    return p;
}


/* records the first error; returns -1 for the callers' convenience */
static int
lgsp_json_fail(lgsp_json_parser_t *ps, int kind, const unsigned char *at,
    const char *what)
{
    if (ps->what == NULL) {
        ps->kind = kind;
        ps->at = at - ps->start;
        ps->what = what;
    }

    return -1;
}


/*
 * A schema's number, as jansson read it: the decimal its author wrote
 * when that has at most 15 significant digits (0.1 is 0.1, not the
 * double nearest to it), that is, the shortest text of the double
 */
static int
lgsp_json_convert_real(double d, lgsp_json_alloc_pt alloc, void *ctx,
    lgsp_json_t *out)
{
    char            buf[LGSP_DECIMAL_BUF], *copy;
    size_t          len;
    lgsp_decimal_t  dec;

    len = lgsp_decimal_shortest(d, buf, sizeof(buf));

    if (lgsp_decimal_parse(&dec, buf, len) != 0) {
        return -1;
    }

    if (lgsp_decimal_to_double(&dec, &out->u.real)) {
        out->type = LGSP_JSON_REAL;
        return 0;
    }

    copy = alloc(ctx, len);
    if (copy == NULL) {
        return -1;
    }

    out->type = LGSP_JSON_DECIMAL;
    out->len = (uint32_t) len;
    out->u.str = memcpy(copy, buf, len);

    return 0;
}


void
lgsp_json_decimal(const lgsp_json_t *v, lgsp_decimal_t *d, char *buf)
{
    size_t       len;
    const char  *text;

    switch (v->type) {

    case LGSP_JSON_DECIMAL:
        text = v->u.str;
        len = v->len;
        break;

    case LGSP_JSON_INTEGER:
        len = lgsp_int(buf, v->u.integer) - buf;
        text = buf;
        break;

    default:
        /* a real's digits are fewer than 17: this is its exact value */
        len = (size_t) snprintf(buf, LGSP_DECIMAL_BUF, "%.17e", v->u.real);
        text = buf;
    }

    /* every such text was a number already */
    (void) lgsp_decimal_parse(d, text, len);
}


/* a jansson value (a schema document's) as a document of our own */
static int
lgsp_json_convert(json_t *json, lgsp_json_alloc_pt alloc, void *ctx,
    lgsp_json_t *out)
{
    char        *copy;
    size_t       i, len;
    json_t      *value;
    const char  *key, *s;

    out->len = 0;
    out->u.integer = 0;

    switch (json_typeof(json)) {

    case JSON_OBJECT:
        if (json_object_size(json) > LGSP_JSON_MAX_LEN) {
            return -1;
        }

        out->type = LGSP_JSON_OBJECT;
        out->len = json_object_size(json);
        out->u.members = alloc(ctx, out->len * sizeof(lgsp_json_member_t)
                                    + 1);
        if (out->u.members == NULL) {
            return -1;
        }

        i = 0;

        /* jansson keeps objects in insertion order, as the text had them */
        json_object_keylen_foreach(json, key, len, value) {
            copy = alloc(ctx, len + 1);
            if (copy == NULL || len > LGSP_JSON_MAX_LEN) {
                return -1;
            }

            out->u.members[i].key = memcpy(copy, key, len);
            out->u.members[i].key_len = (uint32_t) len;
            out->u.members[i].key_hash = lgsp_json_key_hash(key, len);

            if (lgsp_json_convert(value, alloc, ctx,
                                  &out->u.members[i].value) != 0)
            {
                return -1;
            }

            i++;
        }

        return 0;

    case JSON_ARRAY:
        if (json_array_size(json) > LGSP_JSON_MAX_LEN) {
            return -1;
        }

        out->type = LGSP_JSON_ARRAY;
        out->len = json_array_size(json);
        out->u.items = alloc(ctx, out->len * sizeof(lgsp_json_t) + 1);
        if (out->u.items == NULL) {
            return -1;
        }

        json_array_foreach(json, i, value) {
            if (lgsp_json_convert(value, alloc, ctx, &out->u.items[i]) != 0) {
                return -1;
            }
        }

        return 0;

    case JSON_STRING:
        s = json_string_value(json);
        len = json_string_length(json);

        copy = alloc(ctx, len + 1);
        if (copy == NULL || len > LGSP_JSON_MAX_LEN) {
            return -1;
        }

        out->type = LGSP_JSON_STRING;
        out->len = (uint32_t) len;
        out->u.str = memcpy(copy, s, len);
        return 0;

    case JSON_INTEGER:
        out->type = LGSP_JSON_INTEGER;
        out->u.integer = json_integer_value(json);
        return 0;

    case JSON_REAL:
        return lgsp_json_convert_real(json_real_value(json), alloc, ctx,
                                      out);

    case JSON_TRUE:
        out->type = LGSP_JSON_TRUE;
        return 0;

    case JSON_FALSE:
        out->type = LGSP_JSON_FALSE;
        return 0;

    default:
        out->type = LGSP_JSON_NULL;
        return 0;
    }
}


lgsp_json_t *
lgsp_json_from_jansson(json_t *json, lgsp_json_alloc_pt alloc, void *ctx)
{
    lgsp_json_t  *out;

    out = alloc(ctx, sizeof(lgsp_json_t));
    if (out == NULL || lgsp_json_convert(json, alloc, ctx, out) != 0) {
        return NULL;
    }

    return out;
}
