/*
 * LGSP on nginx: the hash chain of transaction records, its checkpoint
 * signatures and its verifier.  The canonical form is in lgsp_chain.h.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "lgsp_chain.h"
#include "lgsp_sha256.h"


#define LGSP_CHAIN_PREV_MEMBER  ",\"prev\":\""
#define LGSP_CHAIN_HASH_MEMBER  ",\"hash\":\""
#define LGSP_CHAIN_MEMBER_LEN   (sizeof(LGSP_CHAIN_PREV_MEMBER) - 1)

/* the bytes after the hashed part: ,"hash":"HASH"} */
#define LGSP_CHAIN_TRAILER_LEN  (LGSP_CHAIN_MEMBER_LEN + LGSP_CHAIN_HASH_HEX \
                                 + 2)
/* the end of the hashed part: ,"prev":"PREV" */
#define LGSP_CHAIN_PREV_LEN     (LGSP_CHAIN_MEMBER_LEN + LGSP_CHAIN_HASH_HEX \
                                 + 1)

#define LGSP_CHAIN_MAX_PROBLEMS  1000


typedef struct {
    uint64_t                key;        /* first bytes of a hash; 0 empty */
    unsigned                file;
    uint64_t                line;
} lgsp_chain_seen_t;


typedef struct {
    uint64_t                from;
    uint64_t                to;
    unsigned                file;
    uint64_t                line;
} lgsp_chain_gap_t;


struct lgsp_chain_verifier_s {
    EVP_PKEY               *pubkey;
    char                    key_id[LGSP_CHAIN_KEY_ID_HEX + 1];

    int                     have_last;
    uint64_t                last_seq;
    char                    last_hash[LGSP_CHAIN_HASH_HEX + 1];
    unsigned                last_file;
    uint64_t                last_line;

    lgsp_chain_seen_t      *seen;
    size_t                  nseen;
    size_t                  seen_cap;   /* a power of two */

    lgsp_chain_gap_t       *gaps;
    size_t                  ngaps;
    size_t                  gaps_cap;

    lgsp_chain_problem_t   *problems;
    size_t                  nproblems;
    size_t                  problems_cap;

    lgsp_chain_summary_t    summary;
};


static int lgsp_chain_sha256_hex(const char *data, size_t len, char *hex);
static int lgsp_chain_is_hex(const char *p, size_t len);
static int lgsp_chain_seq(const char *p, const char *end, uint64_t *seq);
static void lgsp_chain_problem(lgsp_chain_verifier_t *v,
    lgsp_chain_problem_e kind, unsigned file, uint64_t line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void lgsp_chain_check_checkpoint(lgsp_chain_verifier_t *v,
    json_t *ck, json_t *sig, const char *prev, unsigned file, uint64_t line,
    uint64_t seq);
static int lgsp_chain_seen_add(lgsp_chain_verifier_t *v, const char *hash,
    unsigned file, uint64_t line);
static lgsp_chain_seen_t *lgsp_chain_seen_find(lgsp_chain_verifier_t *v,
    const char *hash);
static uint64_t lgsp_chain_hash_key(const char *hash);
static int lgsp_chain_problem_cmp(const void *a, const void *b);
static size_t lgsp_json_plain(const unsigned char *p, size_t len);
static size_t lgsp_chain_utf8_len(const unsigned char *p, size_t len);


/* fetched once: OpenSSL 3 looks an implicit digest up on every call */


static const char  lgsp_chain_hex[] = "0123456789abcdef";


size_t
lgsp_chain_seal(char *body, size_t len, char *head)
{
    char  *p;
    char   hash[LGSP_CHAIN_HASH_HEX];

    p = body + len;
    memcpy(p, LGSP_CHAIN_PREV_MEMBER, LGSP_CHAIN_MEMBER_LEN);
    p += LGSP_CHAIN_MEMBER_LEN;
    memcpy(p, head, LGSP_CHAIN_HASH_HEX);
    p += LGSP_CHAIN_HASH_HEX;
    *p++ = '"';

    if (lgsp_chain_sha256_hex(body, p - body, hash) != 0) {
        return 0;
    }

    memcpy(p, LGSP_CHAIN_HASH_MEMBER, LGSP_CHAIN_MEMBER_LEN);
    p += LGSP_CHAIN_MEMBER_LEN;
    memcpy(p, hash, LGSP_CHAIN_HASH_HEX);
    p += LGSP_CHAIN_HASH_HEX;
    *p++ = '"';
    *p++ = '}';
    *p++ = '\n';

    memcpy(head, hash, LGSP_CHAIN_HASH_HEX);

    return p - body;
}


void
lgsp_chain_genesis(char *head)
{
    memset(head, '0', LGSP_CHAIN_HASH_HEX);
}


int
lgsp_chain_tail(const char *tail, size_t len, uint64_t *seq, char *head)
{
    const char  *end, *start, *p;

    /* the last complete line: a crash may have left a partial one */
    end = tail + len;

    while (end > tail && end[-1] != '\n') {
        end--;
    }

    if (end == tail) {
        return -1;
    }

    end--;
    start = end;

    while (start > tail && start[-1] != '\n') {
        start--;
    }

    if ((size_t) (end - start) < LGSP_CHAIN_PREV_LEN + LGSP_CHAIN_TRAILER_LEN
        || memcmp(end - 2, "\"}", 2) != 0)
    {
        return -1;
    }

    p = end - LGSP_CHAIN_TRAILER_LEN;

    if (memcmp(p, LGSP_CHAIN_HASH_MEMBER, LGSP_CHAIN_MEMBER_LEN) != 0
        || !lgsp_chain_is_hex(p + LGSP_CHAIN_MEMBER_LEN, LGSP_CHAIN_HASH_HEX))
    {
        return -1;
    }

    if (lgsp_chain_seq(start, end, seq) != 0) {
        return -1;
    }

    memcpy(head, p + LGSP_CHAIN_MEMBER_LEN, LGSP_CHAIN_HASH_HEX);

    return 0;
}


EVP_PKEY *
lgsp_chain_load_key(const char *path, int want_private, char *err,
    size_t errlen)
{
    BIO       *bio;
    EVP_PKEY  *key;

    bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        snprintf(err, errlen, "cannot read \"%s\"", path);
        return NULL;
    }

    key = want_private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                       : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (key == NULL) {
        snprintf(err, errlen, "\"%s\" holds no PEM %s key", path,
                 want_private ? "private" : "public");
        return NULL;
    }

    if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        snprintf(err, errlen, "\"%s\" is not an Ed25519 key", path);
        return NULL;
    }

    return key;
}


int
lgsp_chain_key_id(EVP_PKEY *key, char *id)
{
    char           hex[LGSP_CHAIN_HASH_HEX];
    size_t         len;
    unsigned char  raw[32];

    len = sizeof(raw);

    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1
        || lgsp_chain_sha256_hex((char *) raw, len, hex) != 0)
    {
        return -1;
    }

    memcpy(id, hex, LGSP_CHAIN_KEY_ID_HEX);
    id[LGSP_CHAIN_KEY_ID_HEX] = '\0';

    return 0;
}


size_t
lgsp_chain_checkpoint(EVP_PKEY *key, const char *key_id, uint64_t seq,
    const char *head, char *out)
{
    int             n;
    char            msg[sizeof("lgsp-checkpoint-v1 ") + 20 + 1
                        + LGSP_CHAIN_HASH_HEX];
    size_t          siglen;
    EVP_MD_CTX     *ctx;
    unsigned char   sig[64], b64[LGSP_CHAIN_SIG_B64 + 1];

    n = snprintf(msg, sizeof(msg), "lgsp-checkpoint-v1 %llu %.64s",
                 (unsigned long long) seq, head);

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return 0;
    }

    siglen = sizeof(sig);

    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1
        || EVP_DigestSign(ctx, sig, &siglen, (unsigned char *) msg, n) != 1
        || siglen != sizeof(sig))
    {
        EVP_MD_CTX_free(ctx);
        return 0;
    }

    EVP_MD_CTX_free(ctx);

    EVP_EncodeBlock(b64, sig, sizeof(sig));

    n = snprintf(out, LGSP_CHAIN_CHECKPOINT_LEN + 1,
                 "\"checkpoint\":{\"seq\":%llu,\"head\":\"%.64s\","
                 "\"key\":\"%s\"},\"sig\":\"%s\"",
                 (unsigned long long) seq, head, key_id, b64);

    return n > 0 && (size_t) n <= LGSP_CHAIN_CHECKPOINT_LEN ? (size_t) n : 0;
}


int
lgsp_chain_checkpoint_valid(EVP_PKEY *key, uint64_t seq, const char *head,
    const char *sig, size_t siglen)
{
    int             n, ok;
    char            msg[sizeof("lgsp-checkpoint-v1 ") + 20 + 1
                        + LGSP_CHAIN_HASH_HEX];
    EVP_MD_CTX     *ctx;
    unsigned char   raw[LGSP_CHAIN_SIG_B64];

    /* 64 bytes are 88 base64 characters, the last two "=" */
    if (siglen != LGSP_CHAIN_SIG_B64 || sig[86] != '=' || sig[87] != '='
        || EVP_DecodeBlock(raw, (unsigned char *) sig, siglen) != 66)
    {
        return 0;
    }

    n = snprintf(msg, sizeof(msg), "lgsp-checkpoint-v1 %llu %.64s",
                 (unsigned long long) seq, head);

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return 0;
    }

    ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1
         && EVP_DigestVerify(ctx, raw, 64, (unsigned char *) msg, n) == 1;

    EVP_MD_CTX_free(ctx);

    return ok;
}


size_t
lgsp_json_escape_len(const unsigned char *src, size_t len)
{
    size_t  n, i, u;

    n = 0;

    for (i = 0; i < len; /* void */) {
        u = lgsp_json_plain(src + i, len - i);
        n += u;
        i += u;

        if (i == len) {
            break;
        }

        if (src[i] == '"' || src[i] == '\\' || src[i] == '\n'
            || src[i] == '\r' || src[i] == '\t')
        {
            n += 2;
            i++;

        } else if (src[i] < 0x20) {
            n += 6;
            i++;

        } else if (src[i] < 0x80) {
            n++;
            i++;

        } else {
            u = lgsp_chain_utf8_len(src + i, len - i);
            n += u ? u : 6;
            i += u ? u : 1;
        }
    }

    return n;
}


unsigned char *
lgsp_json_escape(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t         i, u;
    unsigned char  c;

    for (i = 0; i < len; /* void */) {
        u = lgsp_json_plain(src + i, len - i);
        dst = (unsigned char *) memcpy(dst, src + i, u) + u;
        i += u;

        if (i == len) {
            break;
        }

        c = src[i];

        if (c == '"' || c == '\\') {
            *dst++ = '\\';
            *dst++ = c;
            i++;

        } else if (c == '\n' || c == '\r' || c == '\t') {
            *dst++ = '\\';
            *dst++ = (c == '\n') ? 'n' : (c == '\r') ? 'r' : 't';
            i++;

        } else if (c >= 0x20 && c < 0x80) {
            *dst++ = c;
            i++;

        } else if (c >= 0x80 && (u = lgsp_chain_utf8_len(src + i, len - i))) {
            memcpy(dst, src + i, u);
            dst += u;
            i += u;

        } else {
            memcpy(dst, "\\u00", 4);
            dst[4] = lgsp_chain_hex[c >> 4];
            dst[5] = lgsp_chain_hex[c & 0xf];
            dst += 6;
            i++;
        }
    }

    return dst;
}


/*
 * The bytes at p that stand for themselves in a JSON string: printable
 * ASCII but '"' and '\'.  Records are mostly those, taken here a run at a
 * time rather than through every test of the escapes.
 */
static size_t
lgsp_json_plain(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) (p[i] - 0x20) >= 0x60 || p[i] == '"'
            || p[i] == '\\')
        {
            break;
        }
    }

    return i;
}


/* the length of a well-formed UTF-8 sequence at p (RFC 3629), or 0 */
static size_t
lgsp_chain_utf8_len(const unsigned char *p, size_t len)
{
    size_t         n, i;
    unsigned char  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        lo = (p[0] == 0xe0) ? 0xa0 : 0x80;
        hi = (p[0] == 0xed) ? 0x9f : 0xbf;

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        lo = (p[0] == 0xf0) ? 0x90 : 0x80;
        hi = (p[0] == 0xf4) ? 0x8f : 0xbf;

    } else {
        return 0;
    }

    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


lgsp_chain_verifier_t *
lgsp_chain_verifier_new(EVP_PKEY *pubkey)
{
    lgsp_chain_verifier_t  *v;

    v = calloc(1, sizeof(lgsp_chain_verifier_t));
    if (v == NULL) {
        return NULL;
    }

    v->seen_cap = 1024;
    v->seen = calloc(v->seen_cap, sizeof(lgsp_chain_seen_t));
    if (v->seen == NULL) {
        free(v);
        return NULL;
    }

    v->pubkey = pubkey;

    if (pubkey && lgsp_chain_key_id(pubkey, v->key_id) != 0) {
        free(v->seen);
        free(v);
        return NULL;
    }

    return v;
}


void
lgsp_chain_verifier_free(lgsp_chain_verifier_t *v)
{
    free(v->seen);
    free(v->gaps);
    free(v->problems);
    free(v);
}


void
lgsp_chain_verify_line(lgsp_chain_verifier_t *v, unsigned file,
    uint64_t line, const char *text, size_t len)
{
    size_t             i, body;
    json_t            *json, *ck, *sig;
    uint64_t           seq;
    const char        *prev, *hash;
    lgsp_chain_gap_t  *gap;
    lgsp_chain_seen_t *seen;
    char               computed[LGSP_CHAIN_HASH_HEX + 1];

    if (len < LGSP_CHAIN_PREV_LEN + LGSP_CHAIN_TRAILER_LEN + 2
        || memcmp(text + len - 2, "\"}", 2) != 0)
    {
        goto not_record;
    }

    body = len - LGSP_CHAIN_TRAILER_LEN;
    hash = text + body + LGSP_CHAIN_MEMBER_LEN;
    prev = text + body - 1 - LGSP_CHAIN_HASH_HEX;

    if (memcmp(text + body, LGSP_CHAIN_HASH_MEMBER, LGSP_CHAIN_MEMBER_LEN)
        != 0
        || memcmp(text + body - LGSP_CHAIN_PREV_LEN, LGSP_CHAIN_PREV_MEMBER,
                  LGSP_CHAIN_MEMBER_LEN)
           != 0
        || !lgsp_chain_is_hex(hash, LGSP_CHAIN_HASH_HEX)
        || !lgsp_chain_is_hex(prev, LGSP_CHAIN_HASH_HEX))
    {
        goto not_record;
    }

    if (lgsp_chain_seq(text, text + len, &seq) != 0
        || lgsp_chain_sha256_hex(text, body, computed) != 0)
    {
        goto not_record;
    }

    computed[LGSP_CHAIN_HASH_HEX] = '\0';

    /* an intact line is JSON; an altered one is judged by its hash alone */
    json = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);

    if (json == NULL && memcmp(computed, hash, LGSP_CHAIN_HASH_HEX) == 0) {
        goto not_record;
    }

    ck = json_object_get(json, "checkpoint");
    sig = json_object_get(json, "sig");

    if (memcmp(computed, hash, LGSP_CHAIN_HASH_HEX) != 0) {
        lgsp_chain_problem(v, LGSP_CHAIN_ALTERED, file, line,
                           "line %llu (seq %llu) was altered: its content"
                           " does not match its hash",
                           (unsigned long long) line,
                           (unsigned long long) seq);

    } else if (v->have_last
               && memcmp(prev, v->last_hash, LGSP_CHAIN_HASH_HEX) != 0)
    {
        if (seq == v->last_seq + 1) {
            lgsp_chain_problem(v, LGSP_CHAIN_RESEALED, v->last_file,
                               v->last_line,
                               "line %llu (seq %llu) was altered and its"
                               " hash recomputed: the next record does not"
                               " link to it",
                               (unsigned long long) v->last_line,
                               (unsigned long long) v->last_seq);

        } else if (seq > v->last_seq + 1) {
            if (v->ngaps == v->gaps_cap) {
                v->gaps_cap = v->gaps_cap ? 2 * v->gaps_cap : 16;
                gap = realloc(v->gaps, v->gaps_cap * sizeof(*gap));
                if (gap == NULL) {
                    json_decref(json);
                    return;
                }

                v->gaps = gap;
            }

            gap = &v->gaps[v->ngaps++];
            gap->from = v->last_seq + 1;
            gap->to = seq - 1;
            gap->file = file;
            gap->line = line;

        } else {
            /* behind the chain: a line moved down, or one put in */
            for (i = 0; i < v->ngaps; i++) {
                gap = &v->gaps[i];

                if (seq >= gap->from && seq <= gap->to) {
                    lgsp_chain_problem(v, LGSP_CHAIN_REORDERED, file, line,
                                       "line %llu (seq %llu) is out of order:"
                                       " it belongs before line %llu",
                                       (unsigned long long) line,
                                       (unsigned long long) seq,
                                       (unsigned long long) gap->line);

                    if (seq == gap->from) {
                        gap->from++;

                    } else if (seq == gap->to) {
                        gap->to--;
                    }

                    break;
                }
            }

            if (i == v->ngaps) {
                seen = lgsp_chain_seen_find(v, hash);

                if (seen) {
                    lgsp_chain_problem(v, LGSP_CHAIN_INSERTED, file, line,
                                       "line %llu (seq %llu) was inserted:"
                                       " it repeats line %llu%s",
                                       (unsigned long long) line,
                                       (unsigned long long) seq,
                                       (unsigned long long) seen->line,
                                       seen->file != file
                                       ? " of an earlier file" : "");

                } else {
                    lgsp_chain_problem(v, LGSP_CHAIN_INSERTED, file, line,
                                       "line %llu (seq %llu) was inserted:"
                                       " it does not belong after seq %llu",
                                       (unsigned long long) line,
                                       (unsigned long long) seq,
                                       (unsigned long long) v->last_seq);
                }
            }

            json_decref(json);
            return;
        }

    } else if (v->have_last && seq != v->last_seq + 1) {
        lgsp_chain_problem(v, LGSP_CHAIN_ALTERED, file, line,
                           "line %llu was altered: seq %llu where %llu was"
                           " due", (unsigned long long) line,
                           (unsigned long long) seq,
                           (unsigned long long) v->last_seq + 1);
    }

    if (ck) {
        v->summary.checkpoints++;

        if (memcmp(computed, hash, LGSP_CHAIN_HASH_HEX) == 0) {
            lgsp_chain_check_checkpoint(v, ck, sig, prev, file, line, seq);
        }

    } else {
        v->summary.records++;
    }

    json_decref(json);

    if (v->summary.first_seq == 0) {
        v->summary.first_seq = seq;
    }

    lgsp_chain_seen_add(v, hash, file, line);

    v->have_last = 1;
    v->last_seq = seq;
    v->last_file = file;
    v->last_line = line;
    memcpy(v->last_hash, hash, LGSP_CHAIN_HASH_HEX);

    return;

not_record:

    lgsp_chain_problem(v, LGSP_CHAIN_NOT_RECORD, file, line,
                       "line %llu is not a record of the chain: inserted"
                       " or damaged", (unsigned long long) line);
}


static void
lgsp_chain_check_checkpoint(lgsp_chain_verifier_t *v, json_t *ck,
    json_t *sig, const char *prev, unsigned file, uint64_t line,
    uint64_t seq)
{
    json_t      *jseq, *jhead, *jkey;
    const char  *head;

    jseq = json_object_get(ck, "seq");
    jhead = json_object_get(ck, "head");
    jkey = json_object_get(ck, "key");

    if (!json_is_integer(jseq) || !json_is_string(jhead)
        || !json_is_string(jkey) || !json_is_string(sig)
        || json_string_length(jhead) != LGSP_CHAIN_HASH_HEX)
    {
        lgsp_chain_problem(v, LGSP_CHAIN_BAD_CHECKPOINT, file, line,
                           "checkpoint at line %llu is malformed",
                           (unsigned long long) line);
        return;
    }

    head = json_string_value(jhead);

    if ((uint64_t) json_integer_value(jseq) != seq - 1
        || memcmp(head, prev, LGSP_CHAIN_HASH_HEX) != 0)
    {
        lgsp_chain_problem(v, LGSP_CHAIN_BAD_CHECKPOINT, file, line,
                           "checkpoint at line %llu signs a head that is not"
                           " the chain's", (unsigned long long) line);
        return;
    }

    if (v->pubkey == NULL) {
        return;
    }

    if (strcmp(json_string_value(jkey), v->key_id) != 0) {
        lgsp_chain_problem(v, LGSP_CHAIN_UNKNOWN_KEY, file, line,
                           "checkpoint at line %llu is signed by key %s, not"
                           " by the key given (%s)", (unsigned long long) line,
                           json_string_value(jkey), v->key_id);
        return;
    }

    if (!lgsp_chain_checkpoint_valid(v->pubkey, seq - 1, head,
                                     json_string_value(sig),
                                     json_string_length(sig)))
    {
        lgsp_chain_problem(v, LGSP_CHAIN_BAD_CHECKPOINT, file, line,
                           "checkpoint at line %llu: the signature does not"
                           " verify", (unsigned long long) line);
        return;
    }

    v->summary.verified++;
}


size_t
lgsp_chain_verify_end(lgsp_chain_verifier_t *v,
    lgsp_chain_problem_t **problems)
{
    size_t             i;
    lgsp_chain_gap_t  *gap;

    for (i = 0; i < v->ngaps; i++) {
        gap = &v->gaps[i];

        if (gap->from > gap->to) {
            continue;
        }

        if (gap->from == gap->to) {
            lgsp_chain_problem(v, LGSP_CHAIN_REMOVED, gap->file, gap->line,
                               "seq %llu was removed before line %llu",
                               (unsigned long long) gap->from,
                               (unsigned long long) gap->line);

        } else {
            lgsp_chain_problem(v, LGSP_CHAIN_REMOVED, gap->file, gap->line,
                               "seq %llu to %llu were removed before line"
                               " %llu", (unsigned long long) gap->from,
                               (unsigned long long) gap->to,
                               (unsigned long long) gap->line);
        }
    }

    v->ngaps = 0;

    /* with no problem the array is NULL, which qsort() may not be given */
    if (v->nproblems > 1) {
        qsort(v->problems, v->nproblems, sizeof(lgsp_chain_problem_t),
              lgsp_chain_problem_cmp);
    }

    *problems = v->problems;

    return v->nproblems;
}


void
lgsp_chain_verifier_summary(lgsp_chain_verifier_t *v, lgsp_chain_summary_t *s)
{
    *s = v->summary;
    s->last_seq = v->last_seq;
    memcpy(s->head, v->last_hash, LGSP_CHAIN_HASH_HEX);
    s->head[v->have_last ? LGSP_CHAIN_HASH_HEX : 0] = '\0';
}


static void
lgsp_chain_problem(lgsp_chain_verifier_t *v, lgsp_chain_problem_e kind,
    unsigned file, uint64_t line, const char *fmt, ...)
{
    va_list                args;
    lgsp_chain_problem_t  *p;

    if (v->nproblems == LGSP_CHAIN_MAX_PROBLEMS) {
        return;
    }

    if (v->nproblems == v->problems_cap) {
        v->problems_cap = v->problems_cap ? 2 * v->problems_cap : 16;
        p = realloc(v->problems, v->problems_cap * sizeof(*p));
        if (p == NULL) {
            return;
        }

        v->problems = p;
    }

    p = &v->problems[v->nproblems++];
    p->kind = kind;
    p->file = file;
    p->line = line;

    va_start(args, fmt);
    vsnprintf(p->text, sizeof(p->text), fmt, args);
    va_end(args);
}


static int
lgsp_chain_problem_cmp(const void *a, const void *b)
{
    const lgsp_chain_problem_t  *pa = a, *pb = b;

    if (pa->file != pb->file) {
        return pa->file < pb->file ? -1 : 1;
    }

    if (pa->line != pb->line) {
        return pa->line < pb->line ? -1 : 1;
    }

    return 0;
}


static int
lgsp_chain_seen_add(lgsp_chain_verifier_t *v, const char *hash,
    unsigned file, uint64_t line)
{
    size_t              i, cap;
    uint64_t            key;
    lgsp_chain_seen_t  *old, *e;

    if (2 * (v->nseen + 1) > v->seen_cap) {
        old = v->seen;
        cap = v->seen_cap;

        v->seen = calloc(2 * cap, sizeof(lgsp_chain_seen_t));
        if (v->seen == NULL) {
            v->seen = old;
            return -1;
        }

        v->seen_cap = 2 * cap;
        v->nseen = 0;

        for (i = 0; i < cap; i++) {
            if (old[i].key) {
                e = &v->seen[old[i].key & (v->seen_cap - 1)];

                while (e->key) {
                    e = (e == &v->seen[v->seen_cap - 1]) ? v->seen : e + 1;
                }

                *e = old[i];
                v->nseen++;
            }
        }

        free(old);
    }

    key = lgsp_chain_hash_key(hash);
    e = &v->seen[key & (v->seen_cap - 1)];

    while (e->key) {
        if (e->key == key) {
            return 0;
        }

        e = (e == &v->seen[v->seen_cap - 1]) ? v->seen : e + 1;
    }

    e->key = key;
    e->file = file;
    e->line = line;
    v->nseen++;

    return 0;
}


static lgsp_chain_seen_t *
lgsp_chain_seen_find(lgsp_chain_verifier_t *v, const char *hash)
{
    uint64_t            key;
    lgsp_chain_seen_t  *e;

    key = lgsp_chain_hash_key(hash);
    e = &v->seen[key & (v->seen_cap - 1)];

    while (e->key) {
        if (e->key == key) {
            return e;
        }

        e = (e == &v->seen[v->seen_cap - 1]) ? v->seen : e + 1;
    }

    return NULL;
}


/* 60 bits of the hash, never 0: the mark of an empty slot */
static uint64_t
lgsp_chain_hash_key(const char *hash)
{
    int       i;
    uint64_t  key;

    key = 0;

    for (i = 0; i < 15; i++) {
        key = (key << 4)
              | (uint64_t) (strchr(lgsp_chain_hex, hash[i]) - lgsp_chain_hex);
    }

    return key | (1ULL << 63);
}


static int
lgsp_chain_sha256_hex(const char *data, size_t len, char *hex)
{
    int            i;
    EVP_MD_CTX    *ctx;
    unsigned char  md[32];

    ctx = lgsp_sha256_start();

    if (ctx == NULL || EVP_DigestUpdate(ctx, data, len) != 1
        || EVP_DigestFinal_ex(ctx, md, NULL) != 1)
    {
        return -1;
    }

    for (i = 0; i < 32; i++) {
        hex[2 * i] = lgsp_chain_hex[md[i] >> 4];
        hex[2 * i + 1] = lgsp_chain_hex[md[i] & 0xf];
    }

    return 0;
}


/* a line begins {"seq":N, */
static int
lgsp_chain_seq(const char *p, const char *end, uint64_t *seq)
{
    uint64_t  n;

    if (end - p < (ptrdiff_t) sizeof("{\"seq\":1,") - 1
        || memcmp(p, "{\"seq\":", sizeof("{\"seq\":") - 1) != 0)
    {
        return -1;
    }

    n = 0;

    for (p += sizeof("{\"seq\":") - 1; p < end && *p >= '0' && *p <= '9'; p++)
    {
        if (n > (UINT64_MAX - 9) / 10) {
            return -1;
        }

        n = n * 10 + (*p - '0');
    }

    if (n == 0 || p == end || *p != ',') {
        return -1;
    }

    *seq = n;

    return 0;
}


static int
lgsp_chain_is_hex(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}
