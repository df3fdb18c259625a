/*
 * A compact read-only JSON document: what request bodies are parsed into
 * and what the schema validator reads.  Every value of a document comes
 * from one caller-provided allocator (nginx: the request pool; tests: an
 * arena) and is never freed on its own.  Arrays and objects are
 * contiguous; object members keep the document's order.  nginx-free.
 */

#ifndef LGSP_JSON_H
#define LGSP_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lgsp_decimal.h"


enum {
    LGSP_JSON_NULL = 0,
    LGSP_JSON_FALSE,
    LGSP_JSON_TRUE,
    /* the three kinds of numbers, one after the other */
    LGSP_JSON_INTEGER,
    LGSP_JSON_REAL,
    /* a number no int64_t or double holds exactly, kept as its text */
    LGSP_JSON_DECIMAL,
    LGSP_JSON_STRING,
    LGSP_JSON_ARRAY,
    LGSP_JSON_OBJECT
};


/* why lgsp_json_parse_strict() refused a text */
enum {
    LGSP_JSON_OK = 0,
    LGSP_JSON_SYNTAX,
    LGSP_JSON_DUPLICATE_KEY,
    LGSP_JSON_TOO_DEEP
};


typedef struct lgsp_json_s         lgsp_json_t;
typedef struct lgsp_json_member_s  lgsp_json_member_t;

/* the most bytes of a string, items of an array, members of an object */
#define LGSP_JSON_MAX_LEN   UINT32_MAX

struct lgsp_json_s {
    uint32_t                type;       /* LGSP_JSON_NULL ... */
    uint32_t                len;        /* string and decimal bytes,
                                           items, members */
    union {
        int64_t             integer;    /* integers that fit 64 bits */
        double              real;       /* a number it holds exactly */
        const char         *str;        /* string or decimal text, not
                                           NUL-terminated */
        lgsp_json_t        *items;
        lgsp_json_member_t *members;
    } u;
};

struct lgsp_json_member_s {
    const char             *key;
    uint32_t                key_len;
    uint32_t                key_hash;   /* lgsp_json_key_hash() */
    lgsp_json_t             value;
};


typedef void *(*lgsp_json_alloc_pt)(void *ctx, size_t size);

typedef struct {
    lgsp_json_alloc_pt      alloc;      /* returns NULL when out of memory */
    void                   *ctx;
    size_t                  max_depth;
    /* the text outlives the document: strings without escapes may point
     * into it instead of being copied */
    int                     borrow;
} lgsp_json_options_t;


/* a malloc'd arena freed at once; memory comes zeroed */
typedef struct lgsp_arena_chunk_s  lgsp_arena_chunk_t;

typedef struct {
    lgsp_arena_chunk_t     *chunks;
    char                   *pos;
    size_t                  left;
} lgsp_arena_t;


void *lgsp_arena_alloc(void *arena, size_t size);
void lgsp_arena_free(lgsp_arena_t *arena);

/*
 * Parses a text strictly (RFC 8259): duplicate object keys and nesting
 * deeper than max_depth are refused, strings must be UTF-8 and object
 * keys may not hold NUL.  Integers written as such that fit 64 bits stay
 * integers; other numbers become reals when lgsp_decimal_to_double()
 * holds them exactly, else decimals (their text): every number keeps its
 * exact value, whatever its length (an exponent of up to 18 digits).  On
 * error returns NULL, sets *kind and writes a message with the byte
 * offset into err.
 */
lgsp_json_t *lgsp_json_parse_strict(const char *buf, size_t len,
    const lgsp_json_options_t *opts, int *kind, char *err, size_t errlen);


/* a number as an exact decimal; buf (LGSP_DECIMAL_BUF bytes) holds the
 * text of an integer or a real */
void lgsp_json_decimal(const lgsp_json_t *v, lgsp_decimal_t *d, char *buf);


static inline int
lgsp_json_is_number(const lgsp_json_t *v)
{
    return v->type - LGSP_JSON_INTEGER <= LGSP_JSON_DECIMAL - LGSP_JSON_INTEGER;
}


/* n bytes (1, 2, 4 or 8) at p as a number whose first byte weighs most */
static inline uint64_t
lgsp_json_be(const char *p, size_t n)
{
    uint16_t  x2;
    uint32_t  x4;
    uint64_t  x8;

    switch (n) {
    case 8:
        memcpy(&x8, p, 8);
        break;
    case 4:
        memcpy(&x4, p, 4);
        x8 = x4;
        break;
    case 2:
        memcpy(&x2, p, 2);
        x8 = x2;
        break;
    default:
        return (unsigned char) *p;
    }

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x8 = __builtin_bswap64(x8) >> (64 - 8 * n);
#endif

    return x8;
}


/*
 * Bytes compared as memcmp() does, inline: keys are short and a libc call
 * per property name cost more than the comparison.  Whole words, the last
 * one overlapping the one before: the overlap is equal by then.
 */
static inline int
lgsp_json_key_cmp(const char *a, const char *b, size_t len)
{
    size_t    n, i;
    uint64_t  x, y;

    if (len == 0) {
        return 0;
    }

    n = len >= 8 ? 8 : len >= 4 ? 4 : len >= 2 ? 2 : 1;

    for (i = 0; ; i += n) {
        if (i + n > len) {
            i = len - n;
        }

        x = lgsp_json_be(a + i, n);
        y = lgsp_json_be(b + i, n);

        if (x != y) {
            return x < y ? -1 : 1;
        }

        if (i + n == len) {
            return 0;
        }
    }
}


/* equal bytes: as lgsp_json_key_cmp() without the byte order */
static inline int
lgsp_json_key_eq(const char *a, const char *b, size_t len)
{
    size_t    i;
    uint16_t  a2, b2, c2, d2;
    uint32_t  a4, b4, c4, d4;
    uint64_t  a8, b8;

    if (len >= 8) {
        for (i = 0; i + 8 < len; i += 8) {
            memcpy(&a8, a + i, 8);
            memcpy(&b8, b + i, 8);
            if (a8 != b8) {
                return 0;
            }
        }

        memcpy(&a8, a + len - 8, 8);
        memcpy(&b8, b + len - 8, 8);
        return a8 == b8;
    }

    if (len >= 4) {
        memcpy(&a4, a, 4);
        memcpy(&b4, b, 4);
        memcpy(&c4, a + len - 4, 4);
        memcpy(&d4, b + len - 4, 4);
        return ((a4 ^ b4) | (c4 ^ d4)) == 0;
    }

    if (len >= 2) {
        memcpy(&a2, a, 2);
        memcpy(&b2, b, 2);
        memcpy(&c2, a + len - 2, 2);
        memcpy(&d2, b + len - 2, 2);
        return ((a2 ^ b2) | (c2 ^ d2)) == 0;
    }

    return len == 0 || *a == *b;
}


/*
 * A key's hash, from its length and at most its first and last 8 bytes:
 * a lookup compares lengths and hashes and reads the bytes of a key only
 * when both match.
 */
static inline uint32_t
lgsp_json_key_hash(const char *key, size_t len)
{
    uint32_t  a4, b4;
    uint64_t  h, a8, b8;

    h = len;

    if (len >= 8) {
        memcpy(&a8, key, 8);
        memcpy(&b8, key + len - 8, 8);
        h ^= a8 * 0x9e3779b97f4a7c15ULL;
        h ^= (b8 >> 7) | (b8 << 57);

    } else if (len >= 4) {
        memcpy(&a4, key, 4);
        memcpy(&b4, key + len - 4, 4);
        h ^= ((uint64_t) a4 << 32) | b4;

    } else if (len > 0) {
        h ^= ((uint64_t) (unsigned char) key[0] << 40)
             | ((uint64_t) (unsigned char) key[len / 2] << 24)
             | ((uint64_t) (unsigned char) key[len - 1] << 8);
    }

    h *= 0xff51afd7ed558ccdULL;

    return (uint32_t) (h >> 32);
}


/* an object's member by its key and that key's lgsp_json_key_hash() */
static inline lgsp_json_t *
lgsp_json_get_hashed(const lgsp_json_t *object, const char *key, size_t len,
    uint32_t hash)
{
    size_t               i;
    lgsp_json_member_t  *m;

    m = object->u.members;

    for (i = 0; i < object->len; i++) {
        if (m[i].key_hash == hash && m[i].key_len == len
            && lgsp_json_key_eq(m[i].key, key, len))
        {
            return &m[i].value;
        }
    }

    return NULL;
}


static inline lgsp_json_t *
lgsp_json_get(const lgsp_json_t *object, const char *key, size_t len)
{
    return lgsp_json_get_hashed(object, key, len,
                                lgsp_json_key_hash(key, len));
}

#endif /* LGSP_JSON_H */
