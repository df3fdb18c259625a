/*
 * The strict reader's strings against a reference that reads them byte by
 * byte as RFC 8259 and RFC 3629 say: every kind of 1- to 4-byte sequence
 * (valid, overlong, surrogate, above U+10FFFF, cut short, stray
 * continuation, quote, escape, control) at every offset of strings of
 * lengths around the 16-byte blocks, at the start of a text, inside one,
 * after other non-ASCII text and cut by the end of the text.  Accepted:
 * the same value; refused: the same message and byte offset.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_schema.h"
#include "unit.h"


/* what the reference expects of a text */
typedef struct {
    int             accepted;   /* -1: refused, message not predicted */
    size_t          at;         /* the error's byte offset */
    const char     *what;
    unsigned char   value[128];
    size_t          len;
} ref_result_t;


/* a text: a string between a head and a tail */
typedef struct {
    const char     *head;
    int             closed;     /* the string's closing quote is there */
    const char     *tail;
    int             in_array;   /* head and tail make it ["...", "s"] */
} frame_t;


static const frame_t  frames[] = {
    /* alone, the text's end right after the closing quote */
    { "", 1, "", 0 },
    /* blanks after: the 16-byte reads run up to the quote */
    { " ", 1, "                 ", 0 },
    /* no closing quote: cut by the end of the text */
    { "                    ", 0, "", 0 },
    /* after Vietnamese text: a string's last block may reach back there */
    { "[\"Vi\xe1\xbb\x87t Nam \xc4\x90\xc3\xa0 N\xe1\xba\xb5ng\", ", 1, "]",
      1 },
    /* after 3- and 4-byte sequences the common ones are not */
    { "[\"\xe0\xa4\x85\xed\x9f\xbf\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\",", 1,
      " ]", 1 },
};


/* the length of a valid UTF-8 sequence at p by its code point, or 0 */
static size_t
ref_utf8(const unsigned char *p, size_t left)
{
    size_t         n, i;
    unsigned long  cp, min;

    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = p[0] & 0x1f;
        min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = p[0] & 0x0f;
        min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = p[0] & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (left < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n;
}


static int
ref_hex4(const unsigned char *p, unsigned long *cp)
{
    int  i;

    *cp = 0;

    for (i = 0; i < 4; i++) {
        if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0') {
            return -1;
        }

        *cp = *cp * 16 + (p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
    }

    return 0;
}


static void
ref_put(ref_result_t *r, unsigned long cp)
{
    if (cp < 0x80) {
        r->value[r->len++] = (unsigned char) cp;

    } else if (cp < 0x800) {
        r->value[r->len++] = (unsigned char) (0xc0 | (cp >> 6));
        r->value[r->len++] = (unsigned char) (0x80 | (cp & 0x3f));

    } else if (cp < 0x10000) {
        r->value[r->len++] = (unsigned char) (0xe0 | (cp >> 12));
        r->value[r->len++] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        r->value[r->len++] = (unsigned char) (0x80 | (cp & 0x3f));

    } else {
        r->value[r->len++] = (unsigned char) (0xf0 | (cp >> 18));
        r->value[r->len++] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
        r->value[r->len++] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        r->value[r->len++] = (unsigned char) (0x80 | (cp & 0x3f));
    }
}


static void
ref_fail(ref_result_t *r, size_t at, const char *what)
{
    r->accepted = 0;
    r->at = at;
    r->what = what;
}


/* the string whose opening quote is t[i]; returns the index after it,
 * 0 on an error */
static size_t
ref_string(const unsigned char *t, size_t len, size_t i, ref_result_t *r)
{
    size_t         n;
    const char    *e, *escaped;
    unsigned long  cp, lo;

    escaped = "\"\\/bfnrt";
    r->len = 0;

    for (i++; i < len; ) {

        if (t[i] == '"') {
            return i + 1;
        }

        if (t[i] < 0x20) {
            ref_fail(r, i, "control character in a string");
            return 0;
        }

        if (t[i] >= 0x80) {
            n = ref_utf8(t + i, len - i);
            if (n == 0) {
                ref_fail(r, i, "invalid UTF-8");
                return 0;
            }

            memcpy(r->value + r->len, t + i, n);
            r->len += n;
            i += n;
            continue;
        }

        if (t[i] != '\\') {
            r->value[r->len++] = t[i++];
            continue;
        }

        if (i + 1 >= len) {
            break;
        }

        if (t[i + 1] != 'u') {
            e = t[i + 1] ? strchr(escaped, t[i + 1]) : NULL;
            if (e == NULL) {
                ref_fail(r, i, "invalid escape");
                return 0;
            }

            r->value[r->len++] = "\"\\/\b\f\n\r\t"[e - escaped];
            i += 2;
            continue;
        }

        if (i + 6 > len || ref_hex4(t + i + 2, &cp) != 0) {
            ref_fail(r, i, "invalid \\u escape");
            return 0;
        }

        if (cp >= 0xdc00 && cp <= 0xdfff) {
            ref_fail(r, i, "lone low surrogate");
            return 0;
        }

        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (i + 12 > len || t[i + 6] != '\\' || t[i + 7] != 'u'
                || ref_hex4(t + i + 8, &lo) != 0
                || lo < 0xdc00 || lo > 0xdfff)
            {
                ref_fail(r, i, "lone high surrogate");
                return 0;
            }

            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        }

        ref_put(r, cp);
        i += 6;
    }

    ref_fail(r, len, "unterminated string");
    return 0;
}


/* the text t: a frame's head, a string from offset i, the frame's tail */
static void
ref_text(const unsigned char *t, size_t len, size_t i, const frame_t *f,
    ref_result_t *r)
{
    i = ref_string(t, len, i, r);
    if (i == 0) {
        return;
    }

    r->accepted = 1;

    if (f->in_array) {
        /* the tail after the string's quote, or some error */
        if (len - i != strlen(f->tail) || memcmp(t + i, f->tail, len - i)) {
            r->accepted = -1;
        }

        return;
    }

    while (i < len && strchr(" \t\r\n", t[i]) && t[i] != '\0') {
        i++;
    }

    if (i < len) {
        ref_fail(r, i, "text after the document");
    }
}


static lgsp_arena_t  arena;
static size_t        checked;


/* one text: the reader agrees with the reference */
static int
check_text(const unsigned char *content, size_t n, const frame_t *f,
    int borrow)
{
    int                  kind, ok;
    char                 err[256], want[256];
    size_t               len, i, head;
    unsigned char        buf[256], *text;
    lgsp_json_t         *json, *s;
    ref_result_t         r;
    lgsp_json_options_t  opts;

    head = strlen(f->head);
    len = 0;
    memcpy(buf, f->head, head);
    len += head;
    buf[len++] = '"';
    memcpy(buf + len, content, n);
    len += n;

    if (f->closed) {
        buf[len++] = '"';
        memcpy(buf + len, f->tail, strlen(f->tail));
        len += strlen(f->tail);
    }

    /* a copy of its own size: the sanitizers see any read past either end */
    text = malloc(len);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, buf, len);

    ref_text(text, len, head, f, &r);

    opts.alloc = lgsp_arena_alloc;
    opts.ctx = &arena;
    opts.max_depth = 8;
    opts.borrow = borrow;

    json = lgsp_json_parse_strict((const char *) text, len, &opts, &kind,
                                  err, sizeof(err));

    checked++;

    if (r.accepted == 1) {
        s = f->in_array && json ? &json->u.items[1] : json;
        ok = s != NULL && s->type == LGSP_JSON_STRING && s->len == r.len
             && memcmp(s->u.str, r.value, r.len) == 0;

    } else if (r.accepted == -1) {
        ok = json == NULL;

    } else {
        snprintf(want, sizeof(want), "malformed JSON at byte %zu: %s",
                 r.at + (r.at < len), r.what);
        ok = json == NULL && strcmp(err, want) == 0;
    }

    if (!ok) {
        printf("#   frame %zu, borrow %d, text:", (size_t) (f - frames),
               borrow);
        for (i = 0; i < len; i++) {
            printf(" %02x", text[i]);
        }
        printf("\n#   reference: %s; reader: %s\n",
               r.accepted == 1 ? "accepted"
                               : r.accepted == -1 ? "refused" : r.what,
               json ? "accepted" : err);
    }

    free(text);
    lgsp_arena_free(&arena);

    return ok;
}


/* each sequence at every offset of strings of every nearby length */
static size_t
check_sequence(const unsigned char *seq, size_t n)
{
    size_t               bad, k, o, l, f;
    unsigned char        content[96];
    static const size_t  lengths[] = {
        0, 1, 2, 7, 8, 9, 13, 14, 15, 16, 17, 30, 31, 32, 33, 40
    };

    bad = 0;

    for (k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
        l = lengths[k];

        for (o = 0; o <= l; o++) {
            memset(content, 'x', o);
            memcpy(content + o, seq, n);
            memset(content + o + n, 'x', l - o);

            for (f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
                bad += !check_text(content, l + n, &frames[f],
                                   (int) ((o + f) & 1));
            }

            if (bad > 20) {
                return bad;
            }
        }
    }

    return bad;
}


static void
test_strings_agree_with_the_reference(void)
{
    size_t               bad, a, b, c, d, nc, nl3, nl4, nt, ne;
    unsigned char        seq[16];
    /* what may follow a lead: each border of the continuation range */
    static const unsigned char  next[] = {
        0x00, '"', '\\', 'x', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
        0xc0, 0xc2, 0xe1, 0xf0
    };
    static const unsigned char  lead3[] = {
        0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf4, 0xf5
    };
    static const unsigned char  lead4[] = { 0xe1, 0xf0, 0xf1, 0xf3, 0xf4 };
    static const unsigned char  tail4[] = {
        0x7f, 0x80, 0x8f, 0x90, 0xbf, 0xc0, '"'
    };
    static const char          *escapes[] = {
        "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\x",
        "\\u00e9", "\\u1EC7", "\\u0000", "\\u12", "\\uzzzz", "\\udc00",
        "\\ud83d", "\\ud83d\\ude00", "\\ud83d\\u0041", "\\ud83d\\ud83d",
        "\\u00e9\xe1\xbb\x87\\n", "\xc3\xa9\\\"\xe1\xbb\x87",
    };

    nc = sizeof(next);
    nl3 = sizeof(lead3);
    nl4 = sizeof(lead4);
    nt = sizeof(tail4);
    ne = sizeof(escapes) / sizeof(escapes[0]);
    bad = 0;

    /* every byte alone */
    for (a = 0; a < 256 && bad <= 20; a++) {
        seq[0] = (unsigned char) a;
        bad += check_sequence(seq, 1);
    }

    /* every non-ASCII byte, then each border byte */
    for (a = 0x80; a < 256 && bad <= 20; a++) {
        for (b = 0; b < nc; b++) {
            seq[0] = (unsigned char) a;
            seq[1] = next[b];
            bad += check_sequence(seq, 2);
        }
    }

    for (a = 0; a < nl3 && bad <= 20; a++) {
        for (b = 0; b < nc * nc; b++) {
            seq[0] = lead3[a];
            seq[1] = next[b / nc];
            seq[2] = next[b % nc];
            bad += check_sequence(seq, 3);
        }
    }

    for (a = 0; a < nl4 && bad <= 20; a++) {
        for (b = 0; b < nt; b++) {
            for (c = 0; c < nt; c++) {
                for (d = 0; d < nt; d++) {
                    seq[0] = lead4[a];
                    seq[1] = tail4[b];
                    seq[2] = tail4[c];
                    seq[3] = tail4[d];
                    bad += check_sequence(seq, 4);
                }
            }
        }
    }

    for (a = 0; a < ne && bad <= 20; a++) {
        bad += check_sequence((const unsigned char *) escapes[a],
                              strlen(escapes[a]));
    }

    UNIT_EQ_INT(bad, 0, "strings read as the reference reads them");
    UNIT_OK(checked > 1000000, "over a million texts checked");
}


int
main(void)
{
    test_strings_agree_with_the_reference();

    return UNIT_DONE("json_string");
}
