/*
 * The JSON Schema validator: walks the compiled nodes against a parsed
 * instance.  Nothing in the compiled schema is written, so any number of
 * threads may validate against it at once.
 *
 * Paths are linked lists on the C stack and become strings only when an
 * error is reported.  Annotations (which properties and items were
 * evaluated) are collected only below a schema that has
 * unevaluatedProperties or unevaluatedItems.  Subschemas whose failure
 * is not itself an error (anyOf, oneOf, not, if, contains) run quietly.
 */

#include <float.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <sys/random.h>

#include "lgsp_schema_int.h"
#include "lgsp_format.h"
#include "lgsp_sbuf.h"


/* evaluation depth: deep instances and recursive schemas end here */
#define LGSP_MAX_EVAL_DEPTH  1000

/* objects with more members are compared sorted */
#define LGSP_EQUAL_LINEAR    16


typedef struct {
    lgsp_schema_errors_t  *errors;
    int                    collect;     /* errors wanted at this point */
    int                    full;        /* errors->max reached */
    int                    oom;
    int                    over_budget;
    int                    too_deep;    /* LGSP_MAX_EVAL_DEPTH reached */
    unsigned               depth;
    uint64_t               budget;      /* units of work left */
    lgsp_regex_scratch_t   scratch;
} lgsp_vctx_t;


typedef struct lgsp_ipath_s  lgsp_ipath_t;

struct lgsp_ipath_s {
    const lgsp_ipath_t    *up;
    const char            *key;         /* NULL: an array index */
    size_t                 len;
    size_t                 index;
};


typedef struct lgsp_spath_s  lgsp_spath_t;

struct lgsp_spath_s {
    const lgsp_spath_t    *up;
    const char            *seg;
};


/* the dynamic scope: resources entered on the way here */
typedef struct lgsp_scope_s  lgsp_scope_t;

struct lgsp_scope_s {
    const lgsp_scope_t    *up;
    const lgsp_resource_t *res;
};


/* marks kept in the annotations themselves before any calloc() */
#define LGSP_EVAL_MARKS      64

/*
 * Annotations: the properties and items evaluated so far, of the one
 * instance the schemas that share them are applied to.  A mark per
 * member of an object (properties evaluated) or item of an array (items
 * "contains" matched), by its index.
 */
typedef struct {
    int                    all_props;
    int                    all_items;
    size_t                 items_upto;
    unsigned char         *marks;       /* NULL or local: nothing to free */
    size_t                 n_marks;
    unsigned char          local[LGSP_EVAL_MARKS];
} lgsp_eval_t;


static int lgsp_validate(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev);
static int lgsp_json_equal_sorted(const lgsp_json_t *a,
    const lgsp_json_t *b);
static void lgsp_too_deep(lgsp_vctx_t *v, const lgsp_ipath_t *ip,
    const lgsp_spath_t *sp);
static void lgsp_error(lgsp_vctx_t *v, const lgsp_ipath_t *ip,
    const lgsp_spath_t *sp, const char *keyword, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));


/*
 * What the budget's units weigh, measured with
 * scripts/bench-schema/worst-case.pl: a unit is about the work of a regex
 * step, 2 ns here; a schema node visited weighs 8, an item of
 * "uniqueItems" (hashed and sorted) 96, and every second byte of a string
 * measured or format-checked one.
 */
#define LGSP_COST_NODE         8
#define LGSP_COST_UNIQUE_ITEM  96
#define LGSP_COST_BYTES_SHIFT  1


/* stop at the first failure: no errors wanted, or no room for more */
#define lgsp_stop(v)  (!(v)->collect || (v)->full)

#define LGSP_FAIL(v, valid)                                                  \
    do {                                                                     \
        (valid) = 0;                                                         \
        if (lgsp_stop(v)) {                                                  \
            goto done;                                                       \
        }                                                                    \
    } while (0)


static void
lgsp_over_budget(lgsp_vctx_t *v)
{
    v->budget = 0;
    v->over_budget = 1;
    v->full = 1;
}


/*
 * Takes n units of work from the budget.  0 when it has run out: then
 * every check stops as if no more errors were wanted (the next node
 * visited is refused: the budget is 0), and the answer is
 * LGSP_SCHEMA_OVER_BUDGET whatever was found.
 */
static int
lgsp_charge(lgsp_vctx_t *v, uint64_t n)
{
    if (v->budget >= n) {
        v->budget -= n;
        return 1;
    }

    lgsp_over_budget(v);

    return 0;
}


/* building error paths and messages */

static void
lgsp_sbuf_escaped(lgsp_sbuf_t *b, const char *s, size_t n)
{
    size_t  i, start;

    for (i = 0, start = 0; i < n; i++) {
        if (s[i] == '~' || s[i] == '/') {
            lgsp_sbuf_put(b, s + start, i - start);
            lgsp_sbuf_put(b, s[i] == '~' ? "~0" : "~1", 2);
            start = i + 1;
        }
    }

    lgsp_sbuf_put(b, s + start, n - start);
}


static char *
lgsp_sbuf_done(lgsp_sbuf_t *b)
{
    if (b->nomem) {
        free(b->data);
        return NULL;
    }

    if (b->data == NULL) {
        return calloc(1, 1);
    }

    return b->data;
}


static char *
lgsp_instance_path(const lgsp_ipath_t *ip)
{
    char                 index[32];
    size_t               n, i;
    lgsp_sbuf_t          b;
    const lgsp_ipath_t  *p, **steps;

    for (n = 0, p = ip; p; p = p->up) {
        n++;
    }

    steps = malloc((n + 1) * sizeof(lgsp_ipath_t *));
    if (steps == NULL) {
        return NULL;
    }

    for (i = n, p = ip; p; p = p->up) {
        steps[--i] = p;
    }

    memset(&b, 0, sizeof(lgsp_sbuf_t));

    for (i = 0; i < n; i++) {
        lgsp_sbuf_put(&b, "/", 1);
        if (steps[i]->key != NULL) {
            lgsp_sbuf_escaped(&b, steps[i]->key, steps[i]->len);
        } else {
            snprintf(index, sizeof(index), "%zu", steps[i]->index);
            lgsp_sbuf_put(&b, index, strlen(index));
        }
    }

    free(steps);

    return lgsp_sbuf_done(&b);
}


static char *
lgsp_schema_path(const lgsp_spath_t *sp, const char *keyword)
{
    size_t               n, i;
    lgsp_sbuf_t          b;
    const lgsp_spath_t  *p, **steps;

    for (n = 0, p = sp; p; p = p->up) {
        n++;
    }

    steps = malloc((n + 1) * sizeof(lgsp_spath_t *));
    if (steps == NULL) {
        return NULL;
    }

    for (i = n, p = sp; p; p = p->up) {
        steps[--i] = p;
    }

    memset(&b, 0, sizeof(lgsp_sbuf_t));

    for (i = 0; i < n; i++) {
        lgsp_sbuf_put(&b, "/", 1);
        lgsp_sbuf_put(&b, steps[i]->seg, strlen(steps[i]->seg));
    }

    if (keyword != NULL) {
        lgsp_sbuf_put(&b, "/", 1);
        lgsp_sbuf_put(&b, keyword, strlen(keyword));
    }

    free(steps);

    return lgsp_sbuf_done(&b);
}


static void
lgsp_error(lgsp_vctx_t *v, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const char *keyword, const char *fmt, ...)
{
    int                    n;
    char                  *msg, probe[1];
    size_t                 klen;
    va_list                args;
    lgsp_schema_errors_t  *errs;
    lgsp_schema_error_t   *e;

    if (!v->collect || v->full) {
        return;
    }

    errs = v->errors;

    if (errs->errors == NULL) {
        errs->errors = calloc(errs->max, sizeof(lgsp_schema_error_t));
        if (errs->errors == NULL) {
            v->oom = 1;
            v->full = 1;
            return;
        }
    }

    va_start(args, fmt);
    n = vsnprintf(probe, sizeof(probe), fmt, args);
    va_end(args);

    msg = malloc(n + 1);
    if (msg != NULL) {
        va_start(args, fmt);
        vsnprintf(msg, n + 1, fmt, args);
        va_end(args);
    }

    e = &errs->errors[errs->n];
    e->instance_path = lgsp_instance_path(ip);
    e->schema_path = lgsp_schema_path(sp, keyword);
    if (keyword != NULL) {
        e->keyword = strdup(keyword);
    } else if (sp != NULL) {
        /* a false subschema: the keyword that holds it */
        klen = strcspn(sp->seg, "/");
        e->keyword = strndup(sp->seg, klen);
    } else {
        e->keyword = strdup("false");
    }
    e->message = msg;

    if (e->instance_path == NULL || e->schema_path == NULL
        || e->keyword == NULL || e->message == NULL)
    {
        free(e->instance_path);
        free(e->schema_path);
        free(e->keyword);
        free(e->message);
        memset(e, 0, sizeof(lgsp_schema_error_t));
        v->oom = 1;
        v->full = 1;
        return;
    }

    if (++errs->n >= errs->max) {
        v->full = 1;
    }
}


static const char *
lgsp_type_name(const lgsp_json_t *inst)
{
    switch (inst->type) {
    case LGSP_JSON_OBJECT:
        return "an object";
    case LGSP_JSON_ARRAY:
        return "an array";
    case LGSP_JSON_STRING:
        return "a string";
    case LGSP_JSON_INTEGER:
        return "an integer";
    case LGSP_JSON_REAL:
    case LGSP_JSON_DECIMAL:
        return "a number";
    case LGSP_JSON_TRUE:
    case LGSP_JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}


/* "a string or null" for a type mask */
static void
lgsp_types_text(unsigned types, char *buf, size_t size)
{
    size_t               i, len;
    static const char   *names[] = { "null", "a boolean", "an object",
                                     "an array", "a number", "a string",
                                     "an integer" };

    buf[0] = '\0';

    for (i = 0; i < 7; i++) {
        if (!(types & (1u << i))) {
            continue;
        }
        len = strlen(buf);
        types &= ~(1u << i);
        snprintf(buf + len, size - len, "%s%s", len ? (types ? ", " : " or ")
                                                    : "", names[i]);
    }
}


/* a number as written (a long one cut, with "..."), for messages */
static void
lgsp_number_text(const lgsp_json_t *value, char *buf, size_t size)
{
    switch (value->type) {

    case LGSP_JSON_INTEGER:
        snprintf(buf, size, "%" PRId64, value->u.integer);
        break;

    case LGSP_JSON_REAL:
        /* exact, so at most 17 digits */
        snprintf(buf, size, "%.17g", value->u.real);
        break;

    default:
        if (value->len < size) {
            snprintf(buf, size, "%.*s", (int) value->len, value->u.str);
        } else {
            snprintf(buf, size, "%.*s...", (int) size - 4, value->u.str);
        }
    }
}


/* numbers and equality */

static int
lgsp_num_sign(const lgsp_json_t *v)
{
    switch (v->type) {

    case LGSP_JSON_INTEGER:
        return (v->u.integer > 0) - (v->u.integer < 0);

    case LGSP_JSON_REAL:
        return (v->u.real > 0) - (v->u.real < 0);

    default:
        return v->u.str[0] == '-' ? -1 : 1;
    }
}


/*
 * A decimal written d.ddd with at most 15 integer digits against an
 * integer: its fraction is not 0 (else a double would hold it: it would be
 * a real), so its integer part decides.  Sets *rc and returns 1 when so.
 */
static int
lgsp_num_cmp_integer(const lgsp_json_t *dec, int64_t i, int *rc)
{
    int64_t      t;
    const char  *p, *end;

    p = dec->u.str + (dec->u.str[0] == '-');
    end = dec->u.str + dec->len;

    for (t = 0; p < end && *p >= '0' && *p <= '9'; p++) {
        if (t >= 100000000000000LL) {
            return 0;
        }

        t = t * 10 + (*p - '0');
    }

    if (p == end || *p != '.') {
        return 0;
    }

    for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
        /* void */
    }

    if (p != end) {
        /* an exponent */
        return 0;
    }

    /* x is in (t, t + 1), or in (-t - 1, -t) */
    if (dec->u.str[0] == '-') {
        *rc = -t <= i ? -1 : 1;

    } else {
        *rc = t < i ? -1 : 1;
    }

    return 1;
}


/* a number as a long double and how far that may be from it */
static int
lgsp_num_approx(const lgsp_json_t *v, long double *x, long double *error)
{
    switch (v->type) {

    case LGSP_JSON_INTEGER:
        /* long double holds every 64-bit integer and every double */
        *x = (long double) v->u.integer;
        *error = 0;
        return 1;

    case LGSP_JSON_REAL:
        *x = (long double) v->u.real;
        *error = 0;
        return 1;

    default:
        if (!lgsp_decimal_approx(v->u.str, v->len, x)) {
            return 0;
        }

        *error = fabsl(*x) * 4 * LDBL_EPSILON;
        return 1;
    }
}


/*
 * Numbers compare by their exact values.  Integers and reals (doubles
 * that hold their numbers exactly) take the machine's arithmetic, and so
 * does a decimal (a number no double holds) of a few digits when it is
 * not too near the other number; else it is compared digit by digit.
 */
static int
lgsp_num_cmp(const lgsp_json_t *a, const lgsp_json_t *b)
{
    int             sa, sb, rc;
    char            abuf[LGSP_DECIMAL_BUF], bbuf[LGSP_DECIMAL_BUF];
    long double     x, y, ex, ey;
    lgsp_decimal_t  da, db;

    if (a->type == LGSP_JSON_INTEGER && b->type == LGSP_JSON_INTEGER) {
        return (a->u.integer > b->u.integer) - (a->u.integer < b->u.integer);
    }

    /* a number of another sign (a decimal is never 0: "0e400" is a real) */
    sa = lgsp_num_sign(a);
    sb = lgsp_num_sign(b);

    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }

    if (a->type == LGSP_JSON_DECIMAL && b->type == LGSP_JSON_INTEGER
        && lgsp_num_cmp_integer(a, b->u.integer, &rc))
    {
        return rc;
    }

    if (b->type == LGSP_JSON_DECIMAL && a->type == LGSP_JSON_INTEGER
        && lgsp_num_cmp_integer(b, a->u.integer, &rc))
    {
        return -rc;
    }

    if (lgsp_num_approx(a, &x, &ex) && lgsp_num_approx(b, &y, &ey)) {
        if (x - y > ex + ey) {
            return 1;
        }

        if (y - x > ex + ey) {
            return -1;
        }

        if (ex + ey == 0) {
            return 0;
        }
    }

    lgsp_json_decimal(a, &da, abuf);
    lgsp_json_decimal(b, &db, bbuf);

    return lgsp_decimal_cmp(&da, &db);
}


/* 1.0, 1e2 and 10^30 written out are integers, as the specification says */
static int
lgsp_is_integral(const lgsp_json_t *inst)
{
    char            buf[LGSP_DECIMAL_BUF];
    lgsp_decimal_t  d;

    switch (inst->type) {

    case LGSP_JSON_INTEGER:
        return 1;

    case LGSP_JSON_REAL:
        return inst->u.real == floor(inst->u.real);

    default:
        lgsp_json_decimal(inst, &d, buf);
        return lgsp_decimal_is_integer(&d);
    }
}


/* a double that is exactly the number, if there is one */
static int
lgsp_exact_double(const lgsp_json_t *value, double *d)
{
    if (value->type == LGSP_JSON_REAL) {
        *d = value->u.real;
        return 1;
    }

    if (value->type == LGSP_JSON_INTEGER
        && value->u.integer <= (1LL << 53) && value->u.integer >= -(1LL << 53))
    {
        *d = (double) value->u.integer;
        return 1;
    }

    return 0;
}


static int
lgsp_multiple_of(const lgsp_json_t *inst, const lgsp_json_t *divisor)
{
    char            ibuf[LGSP_DECIMAL_BUF], dbuf[LGSP_DECIMAL_BUF];
    double          x, d;
    lgsp_decimal_t  a, b;

    if (inst->type == LGSP_JSON_INTEGER
        && divisor->type == LGSP_JSON_INTEGER)
    {
        return divisor->u.integer == 1
               || inst->u.integer % divisor->u.integer == 0;
    }

    /* fmod() is exact: x - n * d for the integer n that it finds */
    if (lgsp_exact_double(inst, &x) && lgsp_exact_double(divisor, &d)) {
        return fmod(x, d) == 0;
    }

    lgsp_json_decimal(inst, &a, ibuf);
    lgsp_json_decimal(divisor, &b, dbuf);

    /* -1 (out of memory) only for divisors longer than a schema's */
    return lgsp_decimal_multiple_of(&a, &b) == 1;
}


/* JSON equality as JSON Schema defines it: 1 equals 1.0 */
static int
lgsp_json_equal(const lgsp_json_t *a, const lgsp_json_t *b)
{
    size_t               i;
    const lgsp_json_t   *other;
    lgsp_json_member_t  *m;

    if (a == b) {
        return 1;
    }

    if (lgsp_json_is_number(a) && lgsp_json_is_number(b)) {
        return lgsp_num_cmp(a, b) == 0;
    }

    if (a->type != b->type) {
        return 0;
    }

    switch (a->type) {

    case LGSP_JSON_STRING:
        return a->len == b->len && memcmp(a->u.str, b->u.str, a->len) == 0;

    case LGSP_JSON_ARRAY:
        if (a->len != b->len) {
            return 0;
        }
        for (i = 0; i < a->len; i++) {
            if (!lgsp_json_equal(&a->u.items[i], &b->u.items[i])) {
                return 0;
            }
        }
        return 1;

    case LGSP_JSON_OBJECT:
        if (a->len != b->len) {
            return 0;
        }
        if (a->len > LGSP_EQUAL_LINEAR) {
            return lgsp_json_equal_sorted(a, b);
        }
        m = a->u.members;
        for (i = 0; i < a->len; i++) {
            other = lgsp_json_get(b, m[i].key, m[i].key_len);
            if (other == NULL || !lgsp_json_equal(&m[i].value, other)) {
                return 0;
            }
        }
        return 1;

    default:
        /* null, true, false: the same type is the same value */
        return 1;
    }
}


static int
lgsp_member_cmp(const void *a, const void *b)
{
    const lgsp_json_member_t  *x, *y;

    x = *(const lgsp_json_member_t * const *) a;
    y = *(const lgsp_json_member_t * const *) b;

    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }

    return memcmp(x->key, y->key, x->key_len);
}


/*
 * Big objects of the same size: both sorted by key, then compared in
 * step, so two hostile objects of n members cost n log n, not n^2.  Out
 * of memory counts as unequal.
 */
static int
lgsp_json_equal_sorted(const lgsp_json_t *a, const lgsp_json_t *b)
{
    int                   equal;
    size_t                i, n;
    lgsp_json_member_t  **x, **y;

    n = a->len;

    x = malloc(2 * n * sizeof(lgsp_json_member_t *));
    if (x == NULL) {
        return 0;
    }

    y = x + n;

    for (i = 0; i < n; i++) {
        x[i] = &a->u.members[i];
        y[i] = &b->u.members[i];
    }

    qsort(x, n, sizeof(lgsp_json_member_t *), lgsp_member_cmp);
    qsort(y, n, sizeof(lgsp_json_member_t *), lgsp_member_cmp);

    equal = 1;

    for (i = 0; i < n && equal; i++) {
        equal = lgsp_member_cmp(&x[i], &y[i]) == 0
                && lgsp_json_equal(&x[i]->value, &y[i]->value);
    }

    free(x);

    return equal;
}


/*
 * Hashes for uniqueItems, under a seed drawn once per process: a body
 * cannot be made of items that collide, so sorting by hash keeps the
 * comparisons near n log n.  Every word enters as lgsp_hash_mix(h ^ w,
 * seed), so no word of the body can cancel what came before it.
 */
static uint64_t
lgsp_hash_seed(void)
{
    uint64_t         s;
    static uint64_t  seed;

    s = __atomic_load_n(&seed, __ATOMIC_RELAXED);

    if (s == 0) {
        if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s)) {
            s = (uint64_t) time(NULL) ^ (uint64_t) (uintptr_t) &s;
        }

        s |= 1;
        __atomic_store_n(&seed, s, __ATOMIC_RELAXED);
    }

    return s;
}


static uint64_t
lgsp_bytes_hash(uint64_t h, uint64_t seed, const char *s, size_t n)
{
    uint64_t  w;

    h = lgsp_hash_mix(h ^ n, seed);

    for ( /* void */ ; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = lgsp_hash_mix(h ^ w, seed);
    }

    w = 0;
    memcpy(&w, s, n);

    return lgsp_hash_mix(h ^ w, seed);
}


/*
 * Equal values hash equal: a number by its exact value (1, 1.0 and 10e-1
 * alike: integers in int64_t's range by that integer, other reals by
 * their bits, other decimals by their digits; lgsp_decimal_to_double()
 * makes a value a real or a decimal whatever its spelling), an array by
 * its items in order, an object by the sum of its members, each member
 * its name and value hashed together: the members' order does not count
 * and their pairing does.
 */
static uint64_t
lgsp_json_hash(const lgsp_json_t *value, uint64_t seed)
{
    char                 buf[LGSP_DECIMAL_BUF];
    double               d;
    size_t               i;
    int64_t              n;
    uint64_t             h, bits, sum;
    lgsp_decimal_t       dec;
    lgsp_json_member_t  *m;

    switch (value->type) {

    case LGSP_JSON_INTEGER:
        return lgsp_hash_mix(0x11 ^ (uint64_t) value->u.integer, seed);

    case LGSP_JSON_REAL:
        d = value->u.real;

        if (d == floor(d) && d >= -9223372036854775808.0
            && d < 9223372036854775808.0)
        {
            return lgsp_hash_mix(0x11 ^ (uint64_t) (int64_t) d, seed);
        }

        memcpy(&bits, &d, sizeof(bits));
        return lgsp_hash_mix(0x12 ^ lgsp_hash_mix(bits, seed), seed);

    case LGSP_JSON_DECIMAL:
        lgsp_json_decimal(value, &dec, buf);

        if (lgsp_decimal_to_int64(&dec, &n)) {
            return lgsp_hash_mix(0x11 ^ (uint64_t) n, seed);
        }

        return lgsp_decimal_hash(&dec, seed);

    case LGSP_JSON_STRING:
        return lgsp_bytes_hash(0x13, seed, value->u.str, value->len);

    case LGSP_JSON_ARRAY:
        h = lgsp_hash_mix(0x14 ^ value->len, seed);

        for (i = 0; i < value->len; i++) {
            h = lgsp_hash_mix(h ^ lgsp_json_hash(&value->u.items[i], seed),
                              seed);
        }

        return h;

    case LGSP_JSON_OBJECT:
        sum = 0;
        m = value->u.members;

        for (i = 0; i < value->len; i++) {
            sum += lgsp_hash_mix(lgsp_bytes_hash(0x16, seed, m[i].key,
                                                 m[i].key_len),
                                 lgsp_json_hash(&m[i].value, seed) ^ seed);
        }

        return lgsp_hash_mix(0x15 ^ sum ^ ((uint64_t) value->len << 32),
                             seed);

    default:
        return lgsp_hash_mix(value->type, seed);
    }
}


typedef struct {
    uint64_t   hash;
    size_t     index;
} lgsp_hashed_t;


static int
lgsp_hashed_cmp(const void *a, const void *b)
{
    const lgsp_hashed_t  *x = a, *y = b;

    if (x->hash != y->hash) {
        return x->hash < y->hash ? -1 : 1;
    }

    return (x->index > y->index) - (x->index < y->index);
}


/*
 * uniqueItems: 0 when two items are equal (their indexes in *i < *j),
 * 1 when all differ, -1 out of memory.  Hashing keeps big arrays linear.
 */
static int
lgsp_unique(const lgsp_json_t *array, size_t *i, size_t *j)
{
    size_t          n, a, b;
    uint64_t        seed;
    lgsp_json_t    *items;
    lgsp_hashed_t  *h;

    n = array->len;
    items = array->u.items;

    if (n <= 16) {
        for (a = 0; a < n; a++) {
            for (b = a + 1; b < n; b++) {
                if (lgsp_json_equal(&items[a], &items[b]))
                {
                    *i = a;
                    *j = b;
                    return 0;
                }
            }
        }
        return 1;
    }

    h = malloc(n * sizeof(lgsp_hashed_t));
    if (h == NULL) {
        return -1;
    }

    seed = lgsp_hash_seed();

    for (a = 0; a < n; a++) {
        h[a].hash = lgsp_json_hash(&items[a], seed);
        h[a].index = a;
    }

    qsort(h, n, sizeof(lgsp_hashed_t), lgsp_hashed_cmp);

    for (a = 0; a < n; a++) {
        for (b = a + 1; b < n && h[b].hash == h[a].hash; b++) {
            if (lgsp_json_equal(&items[h[a].index], &items[h[b].index]))
            {
                *i = h[a].index;
                *j = h[b].index;
                free(h);
                return 0;
            }
        }
    }

    free(h);

    return 1;
}


/* annotations */

static void
lgsp_eval_init(lgsp_eval_t *ev)
{
    ev->all_props = 0;
    ev->all_items = 0;
    ev->items_upto = 0;
    ev->marks = NULL;
    ev->n_marks = 0;
}


/* the member or item at index of an instance of size members or items */
static void
lgsp_eval_mark(lgsp_vctx_t *v, lgsp_eval_t *ev, size_t index, size_t size)
{
    if (ev->marks == NULL) {
        if (size <= LGSP_EVAL_MARKS) {
            memset(ev->local, 0, size);
            ev->marks = ev->local;

        } else {
            ev->marks = calloc(size, 1);
            if (ev->marks == NULL) {
                v->oom = 1;
                return;
            }
        }

        ev->n_marks = size;
    }

    if (index < ev->n_marks) {
        ev->marks[index] = 1;
    }
}


static int
lgsp_eval_has(const lgsp_eval_t *ev, size_t index)
{
    return index < ev->n_marks && ev->marks[index];
}


/* the index of the member of an object whose value is at value */
static size_t
lgsp_member_index(const lgsp_json_t *object, const lgsp_json_t *value)
{
    const lgsp_json_member_t  *m;

    m = (const lgsp_json_member_t *) ((const char *) value
                                      - offsetof(lgsp_json_member_t, value));

    return m - object->u.members;
}


/* the member at index of the object inst was evaluated */
static void
lgsp_eval_add(lgsp_vctx_t *v, lgsp_eval_t *ev, const lgsp_json_t *inst,
    size_t index)
{
    if (!ev->all_props) {
        lgsp_eval_mark(v, ev, index, inst->len);
    }
}


static void
lgsp_eval_merge(lgsp_vctx_t *v, lgsp_eval_t *dst, const lgsp_eval_t *src)
{
    size_t  i;

    dst->all_props |= src->all_props;
    dst->all_items |= src->all_items;

    if (src->items_upto > dst->items_upto) {
        dst->items_upto = src->items_upto;
    }

    for (i = 0; i < src->n_marks; i++) {
        if (src->marks[i]) {
            lgsp_eval_mark(v, dst, i, src->n_marks);
        }
    }
}


static void
lgsp_eval_free(lgsp_eval_t *ev)
{
    if (ev->marks != ev->local) {
        free(ev->marks);
    }
}


/* keywords by instance type */

static int
lgsp_type_matches(unsigned types, const lgsp_json_t *inst)
{
    switch (inst->type) {
    case LGSP_JSON_OBJECT:
        return types & LGSP_T_OBJECT;
    case LGSP_JSON_ARRAY:
        return types & LGSP_T_ARRAY;
    case LGSP_JSON_STRING:
        return types & LGSP_T_STRING;
    case LGSP_JSON_INTEGER:
        return types & (LGSP_T_NUMBER | LGSP_T_INTEGER);
    case LGSP_JSON_REAL:
    case LGSP_JSON_DECIMAL:
        return (types & LGSP_T_NUMBER)
               || ((types & LGSP_T_INTEGER) && lgsp_is_integral(inst));
    case LGSP_JSON_TRUE:
    case LGSP_JSON_FALSE:
        return types & LGSP_T_BOOLEAN;
    default:
        return types & LGSP_T_NULL;
    }
}


static __attribute__((noinline)) int
lgsp_validate_number(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp)
{
    int   valid;
    char  limit[48], have[48];

    valid = 1;

    if (n->multiple_of && !lgsp_multiple_of(inst, n->multiple_of)) {
        lgsp_number_text(n->multiple_of, limit, sizeof(limit));
        lgsp_error(v, ip, sp, "multipleOf", "must be a multiple of %s", limit);
        LGSP_FAIL(v, valid);
    }

    if (n->maximum && lgsp_num_cmp(inst, n->maximum) > 0) {
        lgsp_number_text(n->maximum, limit, sizeof(limit));
        lgsp_number_text(inst, have, sizeof(have));
        lgsp_error(v, ip, sp, "maximum", "must be at most %s (it is %s)",
                   limit, have);
        LGSP_FAIL(v, valid);
    }

    if (n->exclusive_maximum && lgsp_num_cmp(inst, n->exclusive_maximum) >= 0)
    {
        lgsp_number_text(n->exclusive_maximum, limit, sizeof(limit));
        lgsp_number_text(inst, have, sizeof(have));
        lgsp_error(v, ip, sp, "exclusiveMaximum",
                   "must be less than %s (it is %s)", limit, have);
        LGSP_FAIL(v, valid);
    }

    if (n->minimum && lgsp_num_cmp(inst, n->minimum) < 0) {
        lgsp_number_text(n->minimum, limit, sizeof(limit));
        lgsp_number_text(inst, have, sizeof(have));
        lgsp_error(v, ip, sp, "minimum", "must be at least %s (it is %s)",
                   limit, have);
        LGSP_FAIL(v, valid);
    }

    if (n->exclusive_minimum && lgsp_num_cmp(inst, n->exclusive_minimum) <= 0)
    {
        lgsp_number_text(n->exclusive_minimum, limit, sizeof(limit));
        lgsp_number_text(inst, have, sizeof(have));
        lgsp_error(v, ip, sp, "exclusiveMinimum",
                   "must be greater than %s (it is %s)", limit, have);
        LGSP_FAIL(v, valid);
    }

done:

    return valid;
}


/* UTF-8 code points: every byte that does not continue a sequence */
static size_t
lgsp_utf8_length(const char *s, size_t n)
{
    size_t  i, count;

    for (i = 0, count = 0; i < n; i++) {
        count += ((unsigned char) s[i] & 0xc0) != 0x80;
    }

    return count;
}


static __attribute__((noinline)) int
lgsp_validate_string(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp)
{
    int          valid, rc;
    size_t       bytes, len;
    const char  *s;

    valid = 1;
    s = inst->u.str;
    bytes = inst->len;

    /* a code point takes 1 to 4 bytes: count only when bytes cannot tell */
    if ((n->has & LGSP_K_MAX_LENGTH) && bytes > n->max_length) {
        if (!lgsp_charge(v, bytes >> LGSP_COST_BYTES_SHIFT)) {
            return 0;
        }
        len = lgsp_utf8_length(s, bytes);

        if (len > n->max_length) {
            lgsp_error(v, ip, sp, "maxLength", "must be at most %zu "
                       "character%s long (it has %zu)", n->max_length,
                       n->max_length == 1 ? "" : "s", len);
            LGSP_FAIL(v, valid);
        }
    }

    if ((n->has & LGSP_K_MIN_LENGTH) && bytes / 4 < n->min_length) {
        if (!lgsp_charge(v, bytes >> LGSP_COST_BYTES_SHIFT)) {
            return 0;
        }
        len = lgsp_utf8_length(s, bytes);

        if (len < n->min_length) {
            lgsp_error(v, ip, sp, "minLength", "must be at least %zu "
                       "character%s long (it has %zu)", n->min_length,
                       n->min_length == 1 ? "" : "s", len);
            LGSP_FAIL(v, valid);
        }
    }

    if (n->pattern) {
        rc = lgsp_regex_match(n->pattern, s, bytes, &v->scratch, &v->budget);
        if (rc == 0) {
            lgsp_error(v, ip, sp, "pattern", "must match the pattern \"%s\"",
                       lgsp_regex_source(n->pattern));
            LGSP_FAIL(v, valid);
        }
        if (rc == LGSP_REGEX_OVER_BUDGET) {
            lgsp_over_budget(v);
            return 0;
        }
        if (rc < 0) {
            lgsp_error(v, ip, sp, "pattern", "could not be checked against "
                       "the pattern \"%s\": the match is too complex",
                       lgsp_regex_source(n->pattern));
            LGSP_FAIL(v, valid);
        }
    }

    if (n->format) {
        if (!lgsp_charge(v, bytes >> LGSP_COST_BYTES_SHIFT)) {
            return 0;
        }

        if (!lgsp_format_check(n->format, s, bytes)) {
            lgsp_error(v, ip, sp, "format", "must be a valid %s",
                       n->format_name);
            LGSP_FAIL(v, valid);
        }
    }

done:

    return valid;
}


static __attribute__((noinline)) int
lgsp_validate_array(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev)
{
    int            valid, saved, rc;
    size_t         size, i, j, count, upto;
    lgsp_json_t   *items;
    lgsp_ipath_t   item;
    lgsp_spath_t   sub;

    valid = 1;
    size = inst->len;
    items = inst->u.items;

    if ((n->has & LGSP_K_MAX_ITEMS) && size > n->max_items) {
        lgsp_error(v, ip, sp, "maxItems", "must have at most %zu item%s "
                   "(it has %zu)", n->max_items, n->max_items == 1 ? "" : "s",
                   size);
        LGSP_FAIL(v, valid);
    }

    if ((n->has & LGSP_K_MIN_ITEMS) && size < n->min_items) {
        lgsp_error(v, ip, sp, "minItems", "must have at least %zu item%s "
                   "(it has %zu)", n->min_items, n->min_items == 1 ? "" : "s",
                   size);
        LGSP_FAIL(v, valid);
    }

    if (n->has & LGSP_K_UNIQUE) {
        if (!lgsp_charge(v, (uint64_t) size * LGSP_COST_UNIQUE_ITEM)) {
            return 0;
        }
        rc = lgsp_unique(inst, &i, &j);
        if (rc < 0) {
            v->oom = 1;
            return 0;
        }
        if (rc == 0) {
            lgsp_error(v, ip, sp, "uniqueItems", "must not contain duplicate "
                       "items (items %zu and %zu are equal)", i, j);
            LGSP_FAIL(v, valid);
        }
    }

    item.up = ip;
    item.key = NULL;
    item.len = 0;
    sub.up = sp;

    upto = n->n_prefix_items < size ? n->n_prefix_items : size;

    for (i = 0; i < upto; i++) {
        item.index = i;
        sub.seg = n->prefix_items[i].seg;
        if (!lgsp_validate(v, n->prefix_items[i].node, &items[i], &item,
                           &sub, scope, NULL))
        {
            LGSP_FAIL(v, valid);
        }
    }

    if (ev != NULL && upto > ev->items_upto) {
        ev->items_upto = upto;
    }

    if (n->items.node) {
        sub.seg = n->items.seg;
        for (i = upto; i < size; i++) {
            item.index = i;
            if (!lgsp_validate(v, n->items.node, &items[i], &item, &sub,
                               scope, NULL))
            {
                LGSP_FAIL(v, valid);
            }
        }
        if (ev != NULL) {
            ev->all_items = 1;
        }
    }

    if (n->contains.node) {
        saved = v->collect;
        v->collect = 0;
        count = 0;
        sub.seg = n->contains.seg;

        for (i = 0; i < size; i++) {
            item.index = i;
            if (lgsp_validate(v, n->contains.node, &items[i], &item, &sub,
                              scope, NULL))
            {
                count++;
                if (ev != NULL) {
                    lgsp_eval_mark(v, ev, i, size);
                } else if (!(n->has & LGSP_K_MAX_CONTAINS)
                           && count >= n->min_contains)
                {
                    break;
                }
            }
        }

        v->collect = saved;

        if (count < n->min_contains) {
            if (n->has & LGSP_K_MIN_CONTAINS) {
                lgsp_error(v, ip, sp, "minContains", "must contain at least "
                           "%zu item%s matching the schema in \"contains\" "
                           "(it has %zu)", n->min_contains,
                           n->min_contains == 1 ? "" : "s", count);
            } else {
                lgsp_error(v, ip, sp, "contains", "must contain an item "
                           "matching the schema in \"contains\"");
            }
            LGSP_FAIL(v, valid);
        }

        if ((n->has & LGSP_K_MAX_CONTAINS) && count > n->max_contains) {
            lgsp_error(v, ip, sp, "maxContains", "must contain at most %zu "
                       "item%s matching the schema in \"contains\" "
                       "(it has %zu)", n->max_contains,
                       n->max_contains == 1 ? "" : "s", count);
            LGSP_FAIL(v, valid);
        }
    }

done:

    return valid;
}


static const lgsp_prop_t *
lgsp_find_prop(const lgsp_node_t *n, const char *key, size_t len,
    uint32_t hash)
{
    int                 rc;
    size_t              lo, hi, mid;
    const lgsp_prop_t  *p;

    /* a few: one pass, lengths first, cheaper than unpredictable halving */
    if (n->n_props <= 8) {
        for (lo = 0; lo < n->n_props; lo++) {
            p = &n->props[lo];
            if (p->hash == hash && p->len == len
                && lgsp_json_key_eq(p->key, key, len))
            {
                return p;
            }
        }

        return NULL;
    }

    lo = 0;
    hi = n->n_props;

    while (lo < hi) {
        mid = (lo + hi) / 2;
        p = &n->props[mid];

        if (p->len != len) {
            rc = p->len < len ? -1 : 1;
        } else {
            rc = lgsp_json_key_cmp(p->key, key, len);
        }

        if (rc == 0) {
            return p;
        }

        if (rc < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}


static int
lgsp_validate_property_name(lgsp_vctx_t *v, const lgsp_node_t *n,
    const char *key, size_t len, const lgsp_ipath_t *prop,
    const lgsp_spath_t *sp, const lgsp_scope_t *scope)
{
    int            ok, saved;
    lgsp_json_t    name;
    lgsp_spath_t   sub;

    name.type = LGSP_JSON_STRING;
    name.len = len;
    name.u.str = key;

    sub.up = sp;
    sub.seg = n->property_names.seg;

    saved = v->collect;
    v->collect = 0;
    ok = lgsp_validate(v, n->property_names.node, &name, prop, &sub, scope,
                       NULL);
    v->collect = saved;

    if (!ok) {
        lgsp_error(v, prop, sp, "propertyNames", "the property name \"%.*s\" "
                   "does not match the schema in \"propertyNames\"",
                   (int) len, key);
    }

    return ok;
}


/*
 * properties, patternProperties, additionalProperties, propertyNames:
 * one pass over the instance's properties.
 */
static int
lgsp_validate_props(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev, size_t *required)
{
    int                   valid, matched, rc;
    size_t                i, k, len;
    const char           *key;
    lgsp_json_t          *value;
    lgsp_ipath_t          prop;
    lgsp_spath_t          sub;
    const lgsp_prop_t    *p;

    valid = 1;
    prop.up = ip;
    prop.index = 0;
    sub.up = sp;

    if (n->n_pattern_props == 0 && n->additional_props.node == NULL
        && n->property_names.node == NULL)
    {
        /* properties alone: look the few named ones up */
        for (i = 0; i < n->n_props; i++) {
            p = &n->props[i];
            value = lgsp_json_get_hashed(inst, p->key, p->len, p->hash);
            if (value == NULL) {
                continue;
            }
            *required += p->required;
            prop.key = p->key;
            prop.len = p->len;
            sub.seg = p->link.seg;
            if (!lgsp_validate(v, p->link.node, value, &prop, &sub, scope,
                               NULL))
            {
                LGSP_FAIL(v, valid);
            }
            if (ev != NULL) {
                lgsp_eval_add(v, ev, inst, lgsp_member_index(inst, value));
            }
        }

        goto done;
    }

    for (k = 0; k < inst->len; k++) {
        key = inst->u.members[k].key;
        len = inst->u.members[k].key_len;
        value = &inst->u.members[k].value;
        prop.key = key;
        prop.len = len;
        matched = 0;

        if (n->property_names.node
            && !lgsp_validate_property_name(v, n, key, len, &prop, sp, scope))
        {
            LGSP_FAIL(v, valid);
        }

        p = n->n_props ? lgsp_find_prop(n, key, len,
                                        inst->u.members[k].key_hash)
                       : NULL;
        if (p != NULL) {
            matched = 1;
            *required += p->required;
            sub.seg = p->link.seg;
            if (!lgsp_validate(v, p->link.node, value, &prop, &sub, scope,
                               NULL))
            {
                LGSP_FAIL(v, valid);
            }
        }

        for (i = 0; i < n->n_pattern_props; i++) {
            rc = lgsp_regex_match(n->pattern_props[i].re, key, len,
                                  &v->scratch, &v->budget);
            if (rc == LGSP_REGEX_OVER_BUDGET) {
                lgsp_over_budget(v);
                return 0;
            }
            if (rc < 0) {
                sub.seg = n->pattern_props[i].link.seg;
                lgsp_error(v, &prop, &sub, NULL, "could not be checked "
                           "against the pattern: the match is too complex");
                LGSP_FAIL(v, valid);
            }
            if (rc == 0) {
                continue;
            }
            matched = 1;
            sub.seg = n->pattern_props[i].link.seg;
            if (!lgsp_validate(v, n->pattern_props[i].link.node, value, &prop,
                               &sub, scope, NULL))
            {
                LGSP_FAIL(v, valid);
            }
        }

        if (!matched && n->additional_props.node) {
            sub.seg = n->additional_props.seg;
            if (!lgsp_validate(v, n->additional_props.node, value, &prop,
                               &sub, scope, NULL))
            {
                LGSP_FAIL(v, valid);
            }
        }

        if (ev != NULL && matched) {
            lgsp_eval_add(v, ev, inst, k);
        }
    }

    if (ev != NULL && n->additional_props.node) {
        ev->all_props = 1;
    }

done:

    return valid;
}


static __attribute__((noinline)) int
lgsp_validate_object(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev)
{
    int                         valid;
    size_t                      size, i, k, found;
    lgsp_spath_t                sub;
    const lgsp_dep_required_t  *dr;

    valid = 1;
    size = inst->len;

    if ((n->has & LGSP_K_MAX_PROPS) && size > n->max_props) {
        lgsp_error(v, ip, sp, "maxProperties", "must have at most %zu "
                   "propert%s (it has %zu)", n->max_props,
                   n->max_props == 1 ? "y" : "ies", size);
        LGSP_FAIL(v, valid);
    }

    if ((n->has & LGSP_K_MIN_PROPS) && size < n->min_props) {
        lgsp_error(v, ip, sp, "minProperties", "must have at least %zu "
                   "propert%s (it has %zu)", n->min_props,
                   n->min_props == 1 ? "y" : "ies", size);
        LGSP_FAIL(v, valid);
    }


    for (k = 0; k < n->n_dep_required; k++) {
        dr = &n->dep_required[k];
        if (lgsp_json_get_hashed(inst, dr->key, dr->len, dr->hash) == NULL) {
            continue;
        }
        sub.up = sp;
        sub.seg = dr->seg;
        for (i = 0; i < dr->n_names; i++) {
            if (lgsp_json_get_hashed(inst, dr->names[i].key,
                                     dr->names[i].len, dr->names[i].hash)
                == NULL)
            {
                lgsp_error(v, ip, &sub, NULL, "must have the property \"%s\" "
                           "when it has \"%s\"", dr->names[i].key, dr->key);
                LGSP_FAIL(v, valid);
            }
        }
    }

    found = 0;

    if ((n->n_props || n->n_pattern_props || n->additional_props.node
         || n->property_names.node)
        && !lgsp_validate_props(v, n, inst, ip, sp, scope, ev, &found))
    {
        LGSP_FAIL(v, valid);
    }

    if (!n->required_in_props || found < n->n_required) {
        for (i = 0; i < n->n_required; i++) {
            if (lgsp_json_get_hashed(inst, n->required[i].key,
                                     n->required[i].len, n->required[i].hash)
                == NULL)
            {
                lgsp_error(v, ip, sp, "required", "must have the required "
                           "property \"%s\"", n->required[i].key);
                LGSP_FAIL(v, valid);
            }
        }
    }

    for (k = 0; k < n->n_dep_schemas; k++) {
        if (lgsp_json_get_hashed(inst, n->dep_schemas[k].key,
                                 n->dep_schemas[k].len,
                                 n->dep_schemas[k].hash) == NULL)
        {
            continue;
        }
        sub.up = sp;
        sub.seg = n->dep_schemas[k].link.seg;
        if (!lgsp_validate(v, n->dep_schemas[k].link.node, inst, ip, &sub,
                           scope, ev))
        {
            LGSP_FAIL(v, valid);
        }
    }

done:

    return valid;
}


/* allOf, anyOf, oneOf, not, if/then/else */
static int
lgsp_validate_in_place(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev)
{
    int            valid, saved, ok;
    size_t         i, count, first, second;
    lgsp_spath_t   sub;
    lgsp_eval_t    tmp;

    valid = 1;
    sub.up = sp;

    for (i = 0; i < n->n_all_of; i++) {
        sub.seg = n->all_of[i].seg;
        if (!lgsp_validate(v, n->all_of[i].node, inst, ip, &sub, scope, ev)) {
            LGSP_FAIL(v, valid);
        }
    }

    if (n->n_any_of) {
        saved = v->collect;
        v->collect = 0;
        count = 0;

        for (i = 0; i < n->n_any_of; i++) {
            sub.seg = n->any_of[i].seg;
            lgsp_eval_init(&tmp);
            ok = lgsp_validate(v, n->any_of[i].node, inst, ip, &sub, scope,
                               ev ? &tmp : NULL);
            if (ok) {
                count++;
                if (ev != NULL) {
                    lgsp_eval_merge(v, ev, &tmp);
                }
            }
            lgsp_eval_free(&tmp);
            /* annotations need every branch; validity needs just one */
            if (ok && ev == NULL) {
                break;
            }
        }

        v->collect = saved;

        if (count == 0) {
            lgsp_error(v, ip, sp, "anyOf", "must match at least one of the "
                       "schemas in \"anyOf\"");
            LGSP_FAIL(v, valid);
        }
    }

    if (n->n_one_of) {
        saved = v->collect;
        v->collect = 0;
        count = 0;
        first = 0;
        second = 0;

        for (i = 0; i < n->n_one_of && count < 2; i++) {
            sub.seg = n->one_of[i].seg;
            lgsp_eval_init(&tmp);
            ok = lgsp_validate(v, n->one_of[i].node, inst, ip, &sub, scope,
                               ev ? &tmp : NULL);
            if (ok) {
                if (count++ == 0) {
                    first = i;
                    if (ev != NULL) {
                        lgsp_eval_merge(v, ev, &tmp);
                    }
                } else {
                    second = i;
                }
            }
            lgsp_eval_free(&tmp);
        }

        v->collect = saved;

        if (count == 0) {
            lgsp_error(v, ip, sp, "oneOf", "must match exactly one of the "
                       "schemas in \"oneOf\" (it matches none)");
            LGSP_FAIL(v, valid);
        }

        if (count > 1) {
            lgsp_error(v, ip, sp, "oneOf", "must match exactly one of the "
                       "schemas in \"oneOf\" (it matches %zu and %zu)",
                       first, second);
            LGSP_FAIL(v, valid);
        }
    }

    if (n->not.node) {
        saved = v->collect;
        v->collect = 0;
        sub.seg = n->not.seg;
        ok = lgsp_validate(v, n->not.node, inst, ip, &sub, scope, NULL);
        v->collect = saved;

        if (ok) {
            lgsp_error(v, ip, sp, "not", "must not match the schema in "
                       "\"not\"");
            LGSP_FAIL(v, valid);
        }
    }

    if (n->if_.node) {
        saved = v->collect;
        v->collect = 0;
        sub.seg = n->if_.seg;
        lgsp_eval_init(&tmp);
        ok = lgsp_validate(v, n->if_.node, inst, ip, &sub, scope,
                           ev ? &tmp : NULL);
        v->collect = saved;

        if (ok && ev != NULL) {
            lgsp_eval_merge(v, ev, &tmp);
        }
        lgsp_eval_free(&tmp);

        if (ok && n->then_.node) {
            sub.seg = n->then_.seg;
            if (!lgsp_validate(v, n->then_.node, inst, ip, &sub, scope, ev)) {
                LGSP_FAIL(v, valid);
            }
        }

        if (!ok && n->else_.node) {
            sub.seg = n->else_.seg;
            if (!lgsp_validate(v, n->else_.node, inst, ip, &sub, scope, ev)) {
                LGSP_FAIL(v, valid);
            }
        }
    }

done:

    return valid;
}


static int
lgsp_validate_unevaluated(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev)
{
    int            valid;
    size_t         i, size;
    lgsp_ipath_t   sub_ip;
    lgsp_spath_t   sub;

    valid = 1;
    sub.up = sp;
    sub_ip.up = ip;

    if (n->unevaluated_props.node && inst->type == LGSP_JSON_OBJECT
        && !ev->all_props)
    {
        sub.seg = n->unevaluated_props.seg;
        sub_ip.index = 0;

        for (i = 0; i < inst->len; i++) {
            sub_ip.key = inst->u.members[i].key;
            sub_ip.len = inst->u.members[i].key_len;

            if (lgsp_eval_has(ev, i)) {
                continue;
            }

            if (!lgsp_validate(v, n->unevaluated_props.node,
                               &inst->u.members[i].value, &sub_ip, &sub,
                               scope, NULL))
            {
                LGSP_FAIL(v, valid);
            }
        }

        ev->all_props = 1;
    }

    if (n->unevaluated_items.node && inst->type == LGSP_JSON_ARRAY
        && !ev->all_items)
    {
        sub.seg = n->unevaluated_items.seg;
        sub_ip.key = NULL;
        sub_ip.len = 0;
        size = inst->len;

        for (i = ev->items_upto; i < size; i++) {
            if (lgsp_eval_has(ev, i)) {
                continue;
            }
            sub_ip.index = i;
            if (!lgsp_validate(v, n->unevaluated_items.node,
                               &inst->u.items[i], &sub_ip, &sub, scope, NULL))
            {
                LGSP_FAIL(v, valid);
            }
        }

        ev->all_items = 1;
    }

done:

    return valid;
}


/* $dynamicRef: the outermost resource in scope with the anchor wins */
static const lgsp_node_t *
lgsp_dynamic_target(const lgsp_node_t *n, const lgsp_scope_t *scope)
{
    size_t               i;
    const lgsp_node_t   *target;
    const lgsp_scope_t  *s;

    target = n->dynamic_ref.node;

    if (n->dynamic_name == NULL) {
        return target;
    }

    for (s = scope; s; s = s->up) {
        for (i = 0; i < s->res->n_dyn_anchors; i++) {
            if (strcmp(s->res->dyn_anchors[i].name, n->dynamic_name) == 0) {
                target = s->res->dyn_anchors[i].node;
                break;
            }
        }
    }

    return target;
}


/* a value where the schema "false" stands */
static int
lgsp_validate_false(lgsp_vctx_t *v, const lgsp_ipath_t *ip,
    const lgsp_spath_t *sp)
{
    if (ip != NULL && ip->key != NULL) {
        lgsp_error(v, ip, sp, NULL, "the property \"%.*s\" is not "
                   "allowed here", (int) ip->len, ip->key);
    } else if (ip != NULL) {
        lgsp_error(v, ip, sp, NULL, "item %zu is not allowed here",
                   ip->index);
    } else {
        lgsp_error(v, ip, sp, NULL, "no value is allowed here");
    }

    return 0;
}


static int
lgsp_validate_type(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp)
{
    char  types[96];

    if (!(n->has & LGSP_K_TYPE) || lgsp_type_matches(n->types, inst)) {
        return 1;
    }

    lgsp_types_text(n->types, types, sizeof(types));
    lgsp_error(v, ip, sp, "type", "must be %s (it is %s)", types,
               lgsp_type_name(inst));

    return 0;
}


/*
 * The keywords of the value's own type: maxLength, properties...  A
 * switch in its callers, each type's keywords a function of their own
 * (noinline): inlined together they made one big frame that every string
 * of a body paid to enter.
 */
static inline __attribute__((always_inline)) int
lgsp_validate_kind(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev)
{
    switch (inst->type) {

    case LGSP_JSON_INTEGER:
    case LGSP_JSON_REAL:
    case LGSP_JSON_DECIMAL:
        return lgsp_validate_number(v, n, inst, ip, sp);

    case LGSP_JSON_STRING:
        return lgsp_validate_string(v, n, inst, ip, sp);

    case LGSP_JSON_ARRAY:
        return lgsp_validate_array(v, n, inst, ip, sp, scope, ev);

    case LGSP_JSON_OBJECT:
        return lgsp_validate_object(v, n, inst, ip, sp, scope, ev);

    default:
        return 1;
    }
}


/* a node with references, const, enum, applicators in place... */
static int
lgsp_validate_applied(lgsp_vctx_t *v, const lgsp_node_t *n,
    const lgsp_json_t *inst, const lgsp_ipath_t *ip, const lgsp_spath_t *sp,
    const lgsp_scope_t *scope, lgsp_eval_t *ev)
{
    int            valid, own_eval;
    size_t         i;
    lgsp_spath_t   sub;
    lgsp_eval_t    local, *cev;
    lgsp_scope_t   here;

    valid = 1;
    sub.up = sp;

    if ((n->checks & LGSP_C_SCOPE)
        && (scope == NULL || scope->res != n->resource))
    {
        here.up = scope;
        here.res = n->resource;
        scope = &here;
    }

    own_eval = n->checks & LGSP_C_OWN_EVAL;
    if (own_eval) {
        lgsp_eval_init(&local);
        cev = &local;
    } else {
        cev = ev;
    }

    if (n->checks & LGSP_C_REF) {
        sub.seg = n->ref.seg;
        if (!lgsp_validate(v, n->ref.node, inst, ip, &sub, scope, cev)) {
            LGSP_FAIL(v, valid);
        }
    }

    if (n->checks & LGSP_C_DYNAMIC_REF) {
        sub.seg = n->dynamic_ref.seg;
        if (!lgsp_validate(v, lgsp_dynamic_target(n, scope), inst, ip, &sub,
                           scope, cev))
        {
            LGSP_FAIL(v, valid);
        }
    }

    if (!lgsp_validate_type(v, n, inst, ip, sp)) {
        LGSP_FAIL(v, valid);
    }

    if ((n->checks & LGSP_C_CONST) && !lgsp_json_equal(inst, n->const_value))
    {
        lgsp_error(v, ip, sp, "const", "must be %s", n->const_text);
        LGSP_FAIL(v, valid);
    }

    if (n->checks & LGSP_C_ENUM) {
        if (!lgsp_charge(v, n->enum_values->len)) {
            valid = 0;
            goto done;
        }

        for (i = 0; i < n->enum_values->len; i++) {
            if (lgsp_json_equal(inst, &n->enum_values->u.items[i])) {
                break;
            }
        }

        if (i == n->enum_values->len) {
            lgsp_error(v, ip, sp, "enum", "must be one of %s",
                       n->enum_text);
            LGSP_FAIL(v, valid);
        }
    }

    if (!lgsp_validate_kind(v, n, inst, ip, sp, scope, cev)) {
        LGSP_FAIL(v, valid);
    }

    if ((n->checks & LGSP_C_IN_PLACE)
        && !lgsp_validate_in_place(v, n, inst, ip, sp, scope, cev))
    {
        LGSP_FAIL(v, valid);
    }

    if (own_eval && !lgsp_validate_unevaluated(v, n, inst, ip, sp, scope, cev))
    {
        LGSP_FAIL(v, valid);
    }

done:

    if (own_eval) {
        if (valid && ev != NULL) {
            lgsp_eval_merge(v, ev, &local);
        }
        lgsp_eval_free(&local);
    }

    return valid;
}


static int
lgsp_validate(lgsp_vctx_t *v, const lgsp_node_t *n, const lgsp_json_t *inst,
    const lgsp_ipath_t *ip, const lgsp_spath_t *sp, const lgsp_scope_t *scope,
    lgsp_eval_t *ev)
{
    int  valid;

    if (n->is_boolean) {
        return n->truth || lgsp_validate_false(v, ip, sp);
    }

    if (v->depth >= LGSP_MAX_EVAL_DEPTH || v->too_deep) {
        lgsp_too_deep(v, ip, sp);
        return 0;
    }

    /* a boolean schema's answer is cheaper than its charge would be */
    if (!lgsp_charge(v, LGSP_COST_NODE)) {
        return 0;
    }

    v->depth++;

    if (n->checks == 0) {
        /* most nodes: a type and the keywords of that type, no more */
        valid = lgsp_validate_type(v, n, inst, ip, sp);

        if (valid || !lgsp_stop(v)) {
            valid = lgsp_validate_kind(v, n, inst, ip, sp, scope, ev)
                    && valid;
        }

    } else {
        valid = lgsp_validate_applied(v, n, inst, ip, sp, scope, ev);
    }

    v->depth--;

    /* past the budget, lgsp_validate_within() answers, whatever this is;
     * past the depth, every schema around fails */
    return valid && !v->oom && !v->too_deep;
}


/*
 * The evaluation went deeper than LGSP_MAX_EVAL_DEPTH: the instance is
 * refused, with this error, whatever the schemas around it would make of
 * a failure here ("not" or "oneOf" would turn it into a pass), and
 * nothing more is checked
 */
static void
lgsp_too_deep(lgsp_vctx_t *v, const lgsp_ipath_t *ip, const lgsp_spath_t *sp)
{
    if (v->too_deep) {
        return;
    }

    /* named even inside "not", "anyOf"...: it is the answer's reason */
    v->collect = v->errors != NULL && v->errors->max > 0;
    lgsp_error(v, ip, sp, "$ref", "is nested too deeply to be checked");

    v->too_deep = 1;
    v->full = 1;
}


static int
lgsp_validate_within(const lgsp_node_t *node, const lgsp_json_t *instance,
    lgsp_schema_errors_t *errors, uint64_t max_cost, uint64_t *cost)
{
    int          valid;
    lgsp_vctx_t  v;

    memset(&v, 0, sizeof(lgsp_vctx_t));
    v.errors = errors;
    v.collect = errors != NULL && errors->max > 0;
    v.budget = max_cost;

    valid = lgsp_validate(&v, node, instance, NULL, NULL, NULL, NULL);

    lgsp_regex_scratch_free(&v.scratch);

    if (cost != NULL) {
        *cost = v.over_budget ? max_cost : max_cost - v.budget;
    }

    if (v.oom) {
        return -1;
    }

    return v.over_budget ? LGSP_SCHEMA_OVER_BUDGET : valid;
}


int
lgsp_schema_validate_node(const lgsp_node_t *node,
    const lgsp_json_t *instance, lgsp_schema_errors_t *errors)
{
    return lgsp_validate_within(node, instance, errors, UINT64_MAX, NULL);
}


int
lgsp_schema_validate(const lgsp_schema_t *schema,
    const lgsp_json_t *instance, lgsp_schema_errors_t *errors)
{
    return lgsp_validate_within(schema->root, instance, errors,
                                LGSP_SCHEMA_MAX_COST, NULL);
}


int
lgsp_schema_validate_within(const lgsp_schema_t *schema,
    const lgsp_json_t *instance, lgsp_schema_errors_t *errors,
    uint64_t max_cost, uint64_t *cost)
{
    return lgsp_validate_within(schema->root, instance, errors, max_cost,
                                cost);
}


void
lgsp_schema_errors_free(lgsp_schema_errors_t *errors)
{
    size_t  i;

    for (i = 0; i < errors->n; i++) {
        free(errors->errors[i].instance_path);
        free(errors->errors[i].schema_path);
        free(errors->errors[i].keyword);
        free(errors->errors[i].message);
    }

    free(errors->errors);
    errors->errors = NULL;
    errors->n = 0;
}
