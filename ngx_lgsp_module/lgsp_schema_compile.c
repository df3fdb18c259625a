/*
 * The JSON Schema compiler.
 *
 * A document is first scanned: every subschema is recorded with the
 * schema resource it belongs to ($id), anchors are registered, and the
 * dialect and vocabularies are taken from $schema.  The document is then
 * checked against its meta-schema, and compiled node by node, following
 * $ref as it goes: referenced files, the test suite's remotes (by URL
 * mapping) and the built-in meta-schemas are loaded on demand.  A node is
 * compiled once per schema object, so recursive schemas link into cycles.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <math.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lgsp_schema_int.h"
#include "lgsp_format.h"


#define LGSP_V_APPLICATOR     0x01
#define LGSP_V_UNEVALUATED    0x02
#define LGSP_V_VALIDATION     0x04
#define LGSP_V_FORMAT_ASSERT  0x08
#define LGSP_V_ALL            (LGSP_V_APPLICATOR | LGSP_V_UNEVALUATED        \
                               | LGSP_V_VALIDATION)

#define LGSP_URI_2020         "https://json-schema.org/draft/2020-12/schema"
#define LGSP_URI_07           "http://json-schema.org/draft-07/schema"
#define LGSP_VOCAB_2020       "https://json-schema.org/draft/2020-12/vocab/"

#define LGSP_DEFAULT_BASE     "urn:lgsp:schema"


typedef struct {
    const void           *key;
    void                 *value;
} lgsp_ptrmap_entry_t;


typedef struct {
    lgsp_ptrmap_entry_t  *entries;
    size_t                cap;
    size_t                n;
} lgsp_ptrmap_t;


typedef struct {
    const char           *name;
    json_t               *schema;
} lgsp_cdyn_t;


/* a schema resource while compiling */
typedef struct {
    const char           *uri;
    const char           *doc;          /* file or URI, for messages */
    json_t               *root;
    int                   dialect;
    unsigned              vocab;
    int                   builtin;
    int                   used;         /* dynamic anchors compiled */
    lgsp_resource_t      *rt;
    lgsp_cdyn_t          *dyn;
    size_t                n_dyn;
} lgsp_cres_t;


/* what the scan learnt about one subschema */
typedef struct {
    lgsp_cres_t          *res;
    char                 *ptr;          /* JSON Pointer in its document */
} lgsp_info_t;


typedef struct {
    char                 *uri;
    lgsp_cres_t          *res;
} lgsp_reg_t;


typedef struct {
    char                 *uri;          /* resource URI "#" name */
    json_t               *schema;
} lgsp_anchor_t;


typedef struct {
    lgsp_schema_t                *schema;
    const lgsp_schema_options_t  *opts;

    lgsp_cres_t         **res;
    size_t                n_res;
    lgsp_reg_t           *reg;
    size_t                n_reg;
    lgsp_anchor_t        *anchors;
    size_t                n_anchors;

    lgsp_ptrmap_t         info;
    lgsp_ptrmap_t         nodes;

    char                 *err;
    size_t                errlen;
    int                   failed;
} lgsp_compiler_t;


static lgsp_node_t *lgsp_compile_node(lgsp_compiler_t *c, json_t *json,
    lgsp_cres_t *res, const char *ptr);
static char *lgsp_strdup_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int lgsp_compile_warning(lgsp_compiler_t *c, const lgsp_info_t *info,
    const char *keyword, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lgsp_compile_error(lgsp_compiler_t *c, const lgsp_info_t *info,
    const char *keyword, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static lgsp_cres_t *lgsp_load_document(lgsp_compiler_t *c, const char *uri,
    int dialect, unsigned vocab);
static void lgsp_compile_nomem(lgsp_compiler_t *c);


static size_t
lgsp_ptrmap_slot(const lgsp_ptrmap_t *m, const void *key)
{
    uintptr_t  h;

    h = (uintptr_t) key;
    h = (h >> 4) * 0x9e3779b97f4a7c15ULL;

    return (size_t) (h >> 16) & (m->cap - 1);
}


static void *
lgsp_ptrmap_get(const lgsp_ptrmap_t *m, const void *key)
{
    size_t  i;

    if (m->cap == 0) {
        return NULL;
    }

    for (i = lgsp_ptrmap_slot(m, key); m->entries[i].key;
         i = (i + 1) & (m->cap - 1))
    {
        if (m->entries[i].key == key) {
            return m->entries[i].value;
        }
    }

    return NULL;
}


static int
lgsp_ptrmap_put(lgsp_ptrmap_t *m, const void *key, void *value)
{
    size_t                i, old_cap;
    lgsp_ptrmap_entry_t  *old;

    if ((m->n + 1) * 2 > m->cap) {
        old = m->entries;
        old_cap = m->cap;

        m->cap = old_cap ? old_cap * 2 : 64;
        m->entries = calloc(m->cap, sizeof(lgsp_ptrmap_entry_t));
        if (m->entries == NULL) {
            m->entries = old;
            m->cap = old_cap;
            return -1;
        }

        m->n = 0;
        for (i = 0; i < old_cap; i++) {
            if (old[i].key) {
                lgsp_ptrmap_put(m, old[i].key, old[i].value);
            }
        }
        free(old);
    }

    for (i = lgsp_ptrmap_slot(m, key); m->entries[i].key;
         i = (i + 1) & (m->cap - 1))
    {
        if (m->entries[i].key == key) {
            m->entries[i].value = value;
            return 0;
        }
    }

    m->entries[i].key = key;
    m->entries[i].value = value;
    m->n++;

    return 0;
}


static char *
lgsp_strdup_printf(const char *fmt, ...)
{
    int       n;
    char     *s, probe[1];
    va_list   args;

    va_start(args, fmt);
    n = vsnprintf(probe, sizeof(probe), fmt, args);
    va_end(args);

    s = malloc(n + 1);
    if (s == NULL) {
        return NULL;
    }

    va_start(args, fmt);
    vsnprintf(s, n + 1, fmt, args);
    va_end(args);

    return s;
}


static char *
lgsp_arena_strndup(lgsp_compiler_t *c, const char *s, size_t len)
{
    char  *p;

    p = lgsp_arena_alloc(&c->schema->arena, len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }

    return p;
}


/* a schema value the validator compares with, as a document */
static const lgsp_json_t *
lgsp_compile_value(lgsp_compiler_t *c, json_t *json)
{
    const lgsp_json_t  *value;

    value = lgsp_json_from_jansson(json, lgsp_arena_alloc, &c->schema->arena);
    if (value == NULL) {
        lgsp_compile_nomem(c);
    }

    return value;
}


/* a short JSON text of a schema value, for messages */
static const char *
lgsp_compile_text(lgsp_compiler_t *c, json_t *json)
{
    char    *s, *text;
    size_t   len, cut;

    s = json_dumps(json, JSON_ENCODE_ANY | JSON_COMPACT);
    if (s == NULL) {
        lgsp_compile_nomem(c);
        return NULL;
    }

    len = strlen(s);
    if (len > 80) {
        /* never cut a UTF-8 character in two: messages must stay UTF-8 */
        for (cut = 76; ((unsigned char) s[cut] & 0xc0) == 0x80; cut--) {
            /* void */
        }

        memcpy(s + cut, "...", 4);
        len = cut + 3;
    }

    text = lgsp_arena_strndup(c, s, len);
    free(s);

    if (text == NULL) {
        lgsp_compile_nomem(c);
    }

    return text;
}


/* the first error wins: later ones are usually its consequences */
static void
lgsp_compile_error(lgsp_compiler_t *c, const lgsp_info_t *info,
    const char *keyword, const char *fmt, ...)
{
    int       n;
    va_list   args;

    if (c->failed) {
        return;
    }

    c->failed = 1;

    if (info != NULL) {
        n = snprintf(c->err, c->errlen, "%s: at \"%s%s%s\": ",
                     info->res->doc, info->ptr, keyword ? "/" : "",
                     keyword ? keyword : "");
    } else {
        n = 0;
    }

    if (n < 0 || (size_t) n >= c->errlen) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(c->err + n, c->errlen - n, fmt, args);
    va_end(args);
}


/* a warning kept with the schema: nginx -t shows it, and goes on */
static int
lgsp_compile_warning(lgsp_compiler_t *c, const lgsp_info_t *info,
    const char *keyword, const char *fmt, ...)
{
    int        n, m;
    char      *text, **list;
    va_list    args;

    n = snprintf(NULL, 0, "%s: at \"%s/%s\": ", info->res->doc, info->ptr,
                 keyword);

    va_start(args, fmt);
    m = vsnprintf(NULL, 0, fmt, args);
    va_end(args);

    list = realloc(c->schema->warnings,
                   (c->schema->n_warnings + 1) * sizeof(char *));
    text = (n < 0 || m < 0) ? NULL : malloc(n + m + 1);

    if (list != NULL) {
        c->schema->warnings = list;
    }

    if (list == NULL || text == NULL) {
        free(text);
        lgsp_compile_nomem(c);
        return -1;
    }

    snprintf(text, n + 1, "%s: at \"%s/%s\": ", info->res->doc, info->ptr,
             keyword);

    va_start(args, fmt);
    vsnprintf(text + n, m + 1, fmt, args);
    va_end(args);

    list[c->schema->n_warnings++] = text;

    return 0;
}


/* names the reference that needed a document that failed to load */
static void
lgsp_compile_error_append(lgsp_compiler_t *c, const lgsp_info_t *from,
    const char *keyword, const char *ref)
{
    size_t  len;

    len = strlen(c->err);

    if (len + 1 < c->errlen) {
        snprintf(c->err + len, c->errlen - len, " (%s \"%s\" in %s at \"%s\")",
                 keyword, ref, from->res->doc, from->ptr);
    }
}


static void
lgsp_compile_nomem(lgsp_compiler_t *c)
{
    lgsp_compile_error(c, NULL, NULL, "out of memory");
}


/* URI references (RFC 3986) */

typedef struct {
    const char           *s;
    size_t                n;
    int                   has;
} lgsp_uri_part_t;


typedef struct {
    lgsp_uri_part_t       scheme;
    lgsp_uri_part_t       auth;
    lgsp_uri_part_t       path;
    lgsp_uri_part_t       query;
    lgsp_uri_part_t       frag;
} lgsp_uri_t;


static void
lgsp_uri_set(lgsp_uri_part_t *part, const char *s, size_t n)
{
    part->s = s;
    part->n = n;
    part->has = 1;
}


static void
lgsp_uri_parse(const char *s, lgsp_uri_t *u)
{
    const char  *p, *q;

    memset(u, 0, sizeof(lgsp_uri_t));
    p = s;

    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        for (q = p + 1;
             (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')
             || (*q >= '0' && *q <= '9') || *q == '+' || *q == '-'
             || *q == '.';
             q++)
        {
            /* void */
        }
        if (*q == ':') {
            lgsp_uri_set(&u->scheme, p, q - p);
            p = q + 1;
        }
    }

    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        q = p + strcspn(p, "/?#");
        lgsp_uri_set(&u->auth, p, q - p);
        p = q;
    }

    q = p + strcspn(p, "?#");
    lgsp_uri_set(&u->path, p, q - p);
    p = q;

    if (*p == '?') {
        q = p + 1 + strcspn(p + 1, "#");
        lgsp_uri_set(&u->query, p + 1, q - p - 1);
        p = q;
    }

    if (*p == '#') {
        lgsp_uri_set(&u->frag, p + 1, strlen(p + 1));
    }
}


/* RFC 3986 5.2.4, in place: the output never overtakes the input */
static void
lgsp_uri_remove_dots(char *path)
{
    char    *in, *out;
    size_t   n;

    in = path;
    out = path;

    while (*in) {

        if (strncmp(in, "../", 3) == 0) {
            in += 3;
            continue;
        }

        if (strncmp(in, "./", 2) == 0 || strncmp(in, "/./", 3) == 0) {
            in += 2;
            continue;
        }

        if (strcmp(in, "/.") == 0) {
            in[1] = '/';
            in++;
            continue;
        }

        if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            in += 2;
            in[0] = '/';
            while (out > path && *--out != '/') { /* void */ }
            continue;
        }

        if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
            break;
        }

        n = (*in == '/') + strcspn(in + (*in == '/'), "/");
        memmove(out, in, n);
        out += n;
        in += n;
    }

    *out = '\0';
}


/* resolves ref against base; a malloc()ed absolute URI or NULL */
static char *
lgsp_uri_resolve(const char *base, const char *ref)
{
    char        *buf, *path, *p;
    size_t       size;
    lgsp_uri_t   b, r, t;
    const char  *slash;

    lgsp_uri_parse(base, &b);
    lgsp_uri_parse(ref, &r);

    size = strlen(base) + strlen(ref) + 16;
    buf = malloc(size * 2);
    if (buf == NULL) {
        return NULL;
    }

    path = buf + size;
    path[0] = '\0';
    memset(&t, 0, sizeof(lgsp_uri_t));

    if (r.scheme.has) {
        t = r;
        memcpy(path, r.path.s, r.path.n);
        path[r.path.n] = '\0';

    } else {
        t.scheme = b.scheme;

        if (r.auth.has) {
            t.auth = r.auth;
            t.query = r.query;
            memcpy(path, r.path.s, r.path.n);
            path[r.path.n] = '\0';

        } else {
            t.auth = b.auth;

            if (r.path.n == 0) {
                memcpy(path, b.path.s, b.path.n);
                path[b.path.n] = '\0';
                t.query = r.query.has ? r.query : b.query;

            } else {
                t.query = r.query;
                if (r.path.s[0] == '/') {
                    memcpy(path, r.path.s, r.path.n);
                    path[r.path.n] = '\0';

                } else if (b.auth.has && b.path.n == 0) {
                    path[0] = '/';
                    memcpy(path + 1, r.path.s, r.path.n);
                    path[r.path.n + 1] = '\0';

                } else {
                    slash = NULL;
                    for (p = (char *) b.path.s; p < b.path.s + b.path.n; p++) {
                        if (*p == '/') {
                            slash = p;
                        }
                    }
                    size = slash ? (size_t) (slash - b.path.s + 1) : 0;
                    memcpy(path, b.path.s, size);
                    memcpy(path + size, r.path.s, r.path.n);
                    path[size + r.path.n] = '\0';
                }
            }
        }
    }

    t.frag = r.frag;

    /* URNs and the like have no hierarchical path to clean up */
    if (t.auth.has || path[0] == '/') {
        lgsp_uri_remove_dots(path);
    }

    p = buf;
    if (t.scheme.has) {
        p += sprintf(p, "%.*s:", (int) t.scheme.n, t.scheme.s);
    }
    if (t.auth.has) {
        p += sprintf(p, "//%.*s", (int) t.auth.n, t.auth.s);
    }
    p += sprintf(p, "%s", path);
    if (t.query.has) {
        p += sprintf(p, "?%.*s", (int) t.query.n, t.query.s);
    }
    if (t.frag.has) {
        sprintf(p, "#%.*s", (int) t.frag.n, t.frag.s);
    }

    return buf;
}


static void
lgsp_uri_percent_decode(char *s)
{
    char      *in, *out;
    unsigned   v;

    for (in = s, out = s; *in; in++) {
        if (in[0] == '%' && in[1] && in[2]
            && sscanf(in + 1, "%2x", &v) == 1
            && strchr("0123456789abcdefABCDEF", in[2]) != NULL)
        {
            *out++ = (char) v;
            in += 2;
        } else {
            *out++ = *in;
        }
    }

    *out = '\0';
}


/* a JSON Pointer step escaped for a keyword location */
static char *
lgsp_pointer_escape(const char *key, size_t len)
{
    char    *s, *p;
    size_t   i;

    s = malloc(len * 2 + 1);
    if (s == NULL) {
        return NULL;
    }

    for (i = 0, p = s; i < len; i++) {
        if (key[i] == '~') {
            *p++ = '~';
            *p++ = '0';
        } else if (key[i] == '/') {
            *p++ = '~';
            *p++ = '1';
        } else {
            *p++ = key[i];
        }
    }

    *p = '\0';

    return s;
}


/* the registry of resources and anchors */

static lgsp_cres_t *
lgsp_registry_find(lgsp_compiler_t *c, const char *uri)
{
    size_t  i, n;

    n = strlen(uri);
    if (n > 0 && uri[n - 1] == '#') {
        n--;
    }

    for (i = 0; i < c->n_reg; i++) {
        if (strlen(c->reg[i].uri) == n
            && memcmp(c->reg[i].uri, uri, n) == 0)
        {
            return c->reg[i].res;
        }
    }

    return NULL;
}


static int
lgsp_registry_add(lgsp_compiler_t *c, const char *uri, lgsp_cres_t *res)
{
    lgsp_reg_t  *reg;

    if (lgsp_registry_find(c, uri) != NULL) {
        return 0;
    }

    reg = realloc(c->reg, (c->n_reg + 1) * sizeof(lgsp_reg_t));
    if (reg == NULL) {
        return -1;
    }
    c->reg = reg;

    reg[c->n_reg].uri = strdup(uri);
    if (reg[c->n_reg].uri == NULL) {
        return -1;
    }
    reg[c->n_reg++].res = res;

    return 0;
}


static lgsp_cres_t *
lgsp_resource_new(lgsp_compiler_t *c, const char *uri, json_t *root,
    const char *doc, int dialect, unsigned vocab, int builtin)
{
    lgsp_cres_t   *res, **list;

    res = calloc(1, sizeof(lgsp_cres_t));
    list = realloc(c->res, (c->n_res + 1) * sizeof(lgsp_cres_t *));
    if (res == NULL || list == NULL) {
        free(res);
        if (list != NULL) {
            c->res = list;
        }
        return NULL;
    }

    c->res = list;
    c->res[c->n_res++] = res;

    res->uri = lgsp_arena_strndup(c, uri, strlen(uri));
    res->doc = lgsp_arena_strndup(c, doc, strlen(doc));
    res->rt = lgsp_arena_alloc(&c->schema->arena, sizeof(lgsp_resource_t));
    res->root = root;
    res->dialect = dialect;
    res->vocab = vocab;
    res->builtin = builtin;

    if (res->uri == NULL || res->doc == NULL || res->rt == NULL
        || lgsp_registry_add(c, uri, res) != 0)
    {
        return NULL;
    }

    res->rt->uri = res->uri;

    return res;
}


static int
lgsp_anchor_add(lgsp_compiler_t *c, lgsp_cres_t *res, const char *name,
    json_t *schema)
{
    lgsp_anchor_t  *a;

    a = realloc(c->anchors, (c->n_anchors + 1) * sizeof(lgsp_anchor_t));
    if (a == NULL) {
        return -1;
    }
    c->anchors = a;

    a[c->n_anchors].uri = lgsp_strdup_printf("%s#%s", res->uri, name);
    if (a[c->n_anchors].uri == NULL) {
        return -1;
    }
    a[c->n_anchors++].schema = schema;

    return 0;
}


/* dialects and vocabularies */

static int
lgsp_uri_is(const char *uri, const char *known)
{
    size_t  n;

    n = strlen(known);

    return strncmp(uri, known, n) == 0
           && (uri[n] == '\0' || (uri[n] == '#' && uri[n + 1] == '\0'));
}


/*
 * The dialect and vocabularies $schema names: one of the two known
 * dialects, or a meta-schema whose $vocabulary says what applies.
 */
static int
lgsp_dialect_of(lgsp_compiler_t *c, const lgsp_info_t *where,
    const char *uri, int *dialect, unsigned *vocab)
{
    size_t        n;
    json_t       *vocabs, *value;
    const char   *key, *name;
    lgsp_cres_t  *meta;

    if (lgsp_uri_is(uri, LGSP_URI_2020)) {
        *dialect = LGSP_DIALECT_2020;
        *vocab = LGSP_V_ALL;
        return 0;
    }

    if (lgsp_uri_is(uri, LGSP_URI_07)
        || lgsp_uri_is(uri, "https://json-schema.org/draft-07/schema"))
    {
        *dialect = LGSP_DIALECT_7;
        *vocab = LGSP_V_APPLICATOR | LGSP_V_VALIDATION;
        return 0;
    }

    meta = lgsp_registry_find(c, uri);
    if (meta == NULL) {
        meta = lgsp_load_document(c, uri, LGSP_DIALECT_2020, LGSP_V_ALL);
        if (meta == NULL) {
            return -1;
        }
    }

    *dialect = meta->dialect;
    *vocab = meta->vocab;

    vocabs = json_object_get(meta->root, "$vocabulary");
    if (meta->dialect != LGSP_DIALECT_2020 || !json_is_object(vocabs)) {
        return 0;
    }

    *vocab = 0;
    n = sizeof(LGSP_VOCAB_2020) - 1;

    json_object_foreach(vocabs, key, value) {
        name = strncmp(key, LGSP_VOCAB_2020, n) == 0 ? key + n : "";

        if (strcmp(name, "applicator") == 0) {
            *vocab |= LGSP_V_APPLICATOR;

        } else if (strcmp(name, "unevaluated") == 0) {
            *vocab |= LGSP_V_UNEVALUATED;

        } else if (strcmp(name, "validation") == 0) {
            *vocab |= LGSP_V_VALIDATION;

        } else if (strcmp(name, "format-assertion") == 0) {
            *vocab |= LGSP_V_FORMAT_ASSERT;

        } else if (strcmp(name, "core") != 0
                   && strcmp(name, "meta-data") != 0
                   && strcmp(name, "content") != 0
                   && strcmp(name, "format-annotation") != 0
                   && json_is_true(value))
        {
            lgsp_compile_error(c, where, "$schema",
                               "the meta-schema requires vocabulary \"%s\", "
                               "which this validator does not know", key);
            return -1;
        }
    }

    return 0;
}


/* the scan */

static int lgsp_scan(lgsp_compiler_t *c, json_t *schema, lgsp_cres_t *res,
    const char *ptr);


static int
lgsp_scan_child(lgsp_compiler_t *c, json_t *schema, lgsp_cres_t *res,
    const char *ptr, const char *keyword, const char *key, size_t len)
{
    int    rc;
    char  *esc, *child;

    esc = NULL;

    if (key != NULL) {
        esc = lgsp_pointer_escape(key, len);
        if (esc == NULL) {
            lgsp_compile_nomem(c);
            return -1;
        }
        child = lgsp_strdup_printf("%s/%s/%s", ptr, keyword, esc);
    } else {
        child = lgsp_strdup_printf("%s/%s", ptr, keyword);
    }

    free(esc);

    if (child == NULL) {
        lgsp_compile_nomem(c);
        return -1;
    }

    rc = lgsp_scan(c, schema, res, child);
    free(child);

    return rc;
}


static int
lgsp_scan_keywords(lgsp_compiler_t *c, json_t *schema, lgsp_cres_t *res,
    const char *ptr)
{
    size_t        i, k, len;
    char          index[32];
    json_t       *value, *sub;
    const char   *key;

    static const char  *single_2020[] = { "additionalProperties",
        "propertyNames", "unevaluatedProperties", "items", "contains",
        "unevaluatedItems", "not", "if", "then", "else", "contentSchema",
        NULL };
    static const char  *single_07[] = { "additionalProperties",
        "propertyNames", "additionalItems", "items", "contains", "not", "if",
        "then", "else", NULL };
    static const char  *maps_2020[] = { "$defs", "properties",
        "patternProperties", "dependentSchemas", "dependencies", NULL };
    static const char  *maps_07[] = { "definitions", "properties",
        "patternProperties", "dependencies", NULL };
    static const char  *arrays_2020[] = { "prefixItems", "allOf", "anyOf",
        "oneOf", NULL };
    static const char  *arrays_07[] = { "items", "allOf", "anyOf", "oneOf",
        NULL };

    const char  **single, **maps, **arrays;

    if (res->dialect == LGSP_DIALECT_7) {
        single = single_07;
        maps = maps_07;
        arrays = arrays_07;
    } else {
        single = single_2020;
        maps = maps_2020;
        arrays = arrays_2020;
    }

    for (k = 0; single[k]; k++) {
        value = json_object_get(schema, single[k]);
        if (value != NULL && !json_is_array(value)
            && lgsp_scan_child(c, value, res, ptr, single[k], NULL, 0) != 0)
        {
            return -1;
        }
    }

    for (k = 0; maps[k]; k++) {
        value = json_object_get(schema, maps[k]);
        if (!json_is_object(value)) {
            continue;
        }
        json_object_keylen_foreach(value, key, len, sub) {
            if (lgsp_scan_child(c, sub, res, ptr, maps[k], key, len) != 0) {
                return -1;
            }
        }
    }

    for (k = 0; arrays[k]; k++) {
        value = json_object_get(schema, arrays[k]);
        if (!json_is_array(value)) {
            continue;
        }
        json_array_foreach(value, i, sub) {
            snprintf(index, sizeof(index), "%zu", i);
            if (lgsp_scan_child(c, sub, res, ptr, arrays[k], index,
                                strlen(index)) != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


static int
lgsp_scan(lgsp_compiler_t *c, json_t *schema, lgsp_cres_t *res,
    const char *ptr)
{
    int             dialect, new_res;
    char           *uri, *hash;
    unsigned        vocab;
    json_t         *id, *meta, *anchor;
    lgsp_info_t    *info;
    lgsp_cdyn_t    *dyn;
    lgsp_cres_t    *sub;

    if (!json_is_object(schema) && !json_is_boolean(schema)) {
        return 0;
    }

    if (lgsp_ptrmap_get(&c->info, schema) != NULL) {
        return 0;
    }

    info = calloc(1, sizeof(lgsp_info_t));
    if (info == NULL) {
        lgsp_compile_nomem(c);
        return -1;
    }

    info->res = res;
    info->ptr = strdup(ptr);

    if (info->ptr == NULL || lgsp_ptrmap_put(&c->info, schema, info) != 0) {
        free(info->ptr);
        free(info);
        lgsp_compile_nomem(c);
        return -1;
    }

    if (json_is_boolean(schema)) {
        return 0;
    }

    id = json_object_get(schema, "$id");
    meta = json_object_get(schema, "$schema");

    if (res->dialect == LGSP_DIALECT_7
        && json_object_get(schema, "$ref") != NULL)
    {
        /* in draft-07 $ref hides its siblings, $id included */
        id = NULL;
    }

    if (json_is_string(id)) {
        uri = lgsp_uri_resolve(res->uri, json_string_value(id));
        if (uri == NULL) {
            lgsp_compile_nomem(c);
            return -1;
        }

        hash = strchr(uri, '#');
        if (hash != NULL) {
            *hash++ = '\0';
        }

        new_res = strcmp(uri, res->uri) != 0;

        if (new_res) {
            dialect = res->dialect;
            vocab = res->vocab;

            if (json_is_string(meta)
                && lgsp_dialect_of(c, info, json_string_value(meta),
                                   &dialect, &vocab) != 0)
            {
                free(uri);
                return -1;
            }

            sub = lgsp_registry_find(c, uri);
            if (sub == NULL || sub->root != schema) {
                sub = lgsp_resource_new(c, uri, schema, res->doc, dialect,
                                        vocab, res->builtin);
            }

            if (sub == NULL) {
                free(uri);
                lgsp_compile_nomem(c);
                return -1;
            }

            res = sub;
            info->res = res;
        }

        if (hash != NULL && *hash != '\0' && res->dialect == LGSP_DIALECT_7
            && lgsp_anchor_add(c, res, hash, schema) != 0)
        {
            free(uri);
            lgsp_compile_nomem(c);
            return -1;
        }

        free(uri);
    }

    if (res->dialect == LGSP_DIALECT_2020) {
        anchor = json_object_get(schema, "$anchor");
        if (json_is_string(anchor)
            && lgsp_anchor_add(c, res, json_string_value(anchor), schema) != 0)
        {
            lgsp_compile_nomem(c);
            return -1;
        }

        anchor = json_object_get(schema, "$dynamicAnchor");
        if (json_is_string(anchor)) {
            dyn = realloc(res->dyn, (res->n_dyn + 1) * sizeof(lgsp_cdyn_t));
            if (dyn == NULL
                || lgsp_anchor_add(c, res, json_string_value(anchor),
                                   schema) != 0)
            {
                if (dyn != NULL) {
                    res->dyn = dyn;
                }
                lgsp_compile_nomem(c);
                return -1;
            }
            res->dyn = dyn;
            dyn[res->n_dyn].name = json_string_value(anchor);
            dyn[res->n_dyn++].schema = schema;
        }
    }

    return lgsp_scan_keywords(c, schema, res, ptr);
}


/* documents */

static json_t *
lgsp_json_load_file(const char *path, json_error_t *error)
{
    json_t  *json;

    /* JSON_DECODE_ANY: a schema may be just true or false */
    json = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_ANY, error);

    if (json == NULL && strstr(error->text, "too big") != NULL) {
        /* integers past 64 bits: as reals, like JavaScript */
        json = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_ANY
                                    | JSON_DECODE_INT_AS_REAL, error);
    }

    return json;
}


static int lgsp_meta_check(lgsp_compiler_t *c, lgsp_cres_t *res);


/*
 * Adds a document: the retrieval URI names it even when its $id says
 * otherwise.  Returns the resource of the document's root.
 */
static lgsp_cres_t *
lgsp_add_document(lgsp_compiler_t *c, json_t *doc, const char *uri,
    const char *name, int dialect, unsigned vocab, int builtin)
{
    json_t       *meta;
    lgsp_cres_t  *res;
    lgsp_info_t   where;

    if (json_array_append(c->schema->documents, doc) != 0) {
        lgsp_compile_nomem(c);
        return NULL;
    }

    res = lgsp_resource_new(c, uri, doc, name, dialect, vocab, builtin);
    if (res == NULL) {
        lgsp_compile_nomem(c);
        return NULL;
    }

    meta = json_object_get(doc, "$schema");
    if (json_is_string(meta)) {
        where.res = res;
        where.ptr = "";
        if (lgsp_dialect_of(c, &where, json_string_value(meta), &res->dialect,
                            &res->vocab) != 0)
        {
            return NULL;
        }
    }

    if (lgsp_scan(c, doc, res, "") != 0) {
        return NULL;
    }

    if (!builtin && lgsp_meta_check(c, res) != 0) {
        return NULL;
    }

    return res;
}


static lgsp_cres_t *
lgsp_load_document(lgsp_compiler_t *c, const char *uri, int dialect,
    unsigned vocab)
{
    char          *path;
    size_t         n;
    json_t        *doc;
    const char    *text;
    struct stat    st;
    lgsp_cres_t   *res;
    json_error_t   error;

    text = lgsp_schema_builtin(uri);

    if (text != NULL) {
        doc = json_loads(text, 0, &error);
        if (doc == NULL) {
            lgsp_compile_error(c, NULL, NULL, "built-in %s: %s", uri,
                               error.text);
            return NULL;
        }
        res = lgsp_add_document(c, doc, uri, uri, dialect, vocab, 1);
        json_decref(doc);
        return res;
    }

    path = NULL;

    if (c->opts->remote_base != NULL && c->opts->remote_dir != NULL) {
        n = strlen(c->opts->remote_base);
        if (strncmp(uri, c->opts->remote_base, n) == 0) {
            path = lgsp_strdup_printf("%s/%s", c->opts->remote_dir, uri + n);
        }
    }

    if (path == NULL && strncmp(uri, "file://", 7) == 0) {
        path = strdup(uri + 7);
    }

    if (path == NULL) {
        lgsp_compile_error(c, NULL, NULL, "cannot retrieve \"%s\": only "
                           "files and the built-in meta-schemas are read",
                           uri);
        return NULL;
    }

    lgsp_uri_percent_decode(path);

    /* a device or a FIFO would block or never end */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        lgsp_compile_error(c, NULL, NULL, "%s: not a readable file", path);
        free(path);
        return NULL;
    }

    doc = lgsp_json_load_file(path, &error);
    if (doc == NULL) {
        lgsp_compile_error(c, NULL, NULL, "%s: %s (line %d, column %d)",
                           path, error.text, error.line, error.column);
        free(path);
        return NULL;
    }

    res = lgsp_add_document(c, doc, uri, path, dialect, vocab, 0);
    json_decref(doc);
    free(path);

    return res;
}


/* $ref resolution: the schema a URI reference names */

static json_t *
lgsp_pointer_walk(json_t *json, char *frag)
{
    char    *seg, *next, *in, *out, *end;
    size_t   index;

    lgsp_uri_percent_decode(frag);
    seg = frag;

    while (json != NULL && *seg == '/') {
        seg++;
        next = strchr(seg, '/');
        if (next != NULL) {
            *next = '\0';
        }

        for (in = seg, out = seg; *in; in++) {
            if (in[0] == '~' && in[1] == '0') {
                *out++ = '~';
                in++;
            } else if (in[0] == '~' && in[1] == '1') {
                *out++ = '/';
                in++;
            } else {
                *out++ = *in;
            }
        }
        *out = '\0';

        if (json_is_object(json)) {
            json = json_object_get(json, seg);

        } else if (json_is_array(json)) {
            index = strtoul(seg, &end, 10);
            if (*seg < '0' || *seg > '9' || *end != '\0'
                || (seg[0] == '0' && seg[1] != '\0'))
            {
                return NULL;
            }
            json = json_array_get(json, index);

        } else {
            return NULL;
        }

        if (next == NULL) {
            break;
        }
        *next = '/';
        seg = next;
    }

    return json;
}


static json_t *
lgsp_resolve(lgsp_compiler_t *c, const lgsp_info_t *from,
    const char *keyword, const char *ref, lgsp_cres_t **target_res)
{
    char         *uri, *frag;
    size_t        i;
    json_t       *target;
    lgsp_cres_t  *res;

    uri = lgsp_uri_resolve(from->res->uri, ref);
    if (uri == NULL) {
        lgsp_compile_nomem(c);
        return NULL;
    }

    frag = strchr(uri, '#');
    if (frag != NULL) {
        *frag++ = '\0';
    }

    res = lgsp_registry_find(c, uri);
    if (res == NULL) {
        res = lgsp_load_document(c, uri, from->res->dialect,
                                 from->res->vocab);
        if (res == NULL) {
            lgsp_compile_error_append(c, from, keyword, ref);
            free(uri);
            return NULL;
        }
    }

    target = NULL;

    if (res != NULL) {
        if (frag == NULL || *frag == '\0') {
            target = res->root;

        } else if (*frag == '/') {
            target = lgsp_pointer_walk(res->root, frag);

        } else {
            frag[-1] = '#';
            for (i = 0; i < c->n_anchors; i++) {
                if (strcmp(c->anchors[i].uri, uri) == 0) {
                    target = c->anchors[i].schema;
                    break;
                }
            }
        }
    }

    free(uri);

    if (target == NULL) {
        lgsp_compile_error(c, from, keyword,
                           "\"%s\" does not resolve to a schema", ref);
        return NULL;
    }

    *target_res = res;

    return target;
}


/* compiling nodes */

typedef struct {
    lgsp_compiler_t      *c;
    lgsp_info_t          *info;
    json_t               *json;
    lgsp_node_t          *node;
} lgsp_kw_t;


static const char *
lgsp_seg(lgsp_compiler_t *c, const char *keyword, const char *key,
    size_t len)
{
    char        *esc, *s;
    const char  *seg;

    if (key == NULL) {
        return lgsp_arena_strndup(c, keyword, strlen(keyword));
    }

    esc = lgsp_pointer_escape(key, len);
    s = esc ? lgsp_strdup_printf("%s/%s", keyword, esc) : NULL;
    seg = s ? lgsp_arena_strndup(c, s, strlen(s)) : NULL;

    free(esc);
    free(s);

    if (seg == NULL) {
        lgsp_compile_nomem(c);
    }

    return seg;
}


/* links the subschema at keyword[/key] */
static int
lgsp_link(lgsp_kw_t *kw, json_t *sub, const char *keyword, const char *key,
    size_t len, lgsp_link_t *link)
{
    char  *ptr;

    link->seg = lgsp_seg(kw->c, keyword, key, len);
    if (link->seg == NULL) {
        return -1;
    }

    ptr = lgsp_strdup_printf("%s/%s", kw->info->ptr, link->seg);
    if (ptr == NULL) {
        lgsp_compile_nomem(kw->c);
        return -1;
    }

    link->node = lgsp_compile_node(kw->c, sub, kw->info->res, ptr);
    free(ptr);

    return link->node ? 0 : -1;
}


static int
lgsp_link_single(lgsp_kw_t *kw, const char *keyword, lgsp_link_t *link)
{
    json_t  *sub;

    sub = json_object_get(kw->json, keyword);
    if (sub == NULL) {
        return 0;
    }

    return lgsp_link(kw, sub, keyword, NULL, 0, link);
}


static int
lgsp_link_array(lgsp_kw_t *kw, const char *keyword, lgsp_link_t **links,
    size_t *n)
{
    char     index[32];
    size_t   i;
    json_t  *value, *sub;

    value = json_object_get(kw->json, keyword);
    if (value == NULL) {
        return 0;
    }

    if (!json_is_array(value) || json_array_size(value) == 0) {
        lgsp_compile_error(kw->c, kw->info, keyword,
                           "must be a non-empty array of schemas");
        return -1;
    }

    *n = json_array_size(value);
    *links = lgsp_arena_alloc(&kw->c->schema->arena,
                              *n * sizeof(lgsp_link_t));
    if (*links == NULL) {
        lgsp_compile_nomem(kw->c);
        return -1;
    }

    json_array_foreach(value, i, sub) {
        snprintf(index, sizeof(index), "%zu", i);
        if (lgsp_link(kw, sub, keyword, index, strlen(index), &(*links)[i])
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
lgsp_prop_cmp(const void *a, const void *b)
{
    int                 rc;
    const lgsp_prop_t  *pa, *pb;

    pa = a;
    pb = b;

    /* the length first: most lookups end without a memcmp() */
    if (pa->len != pb->len) {
        return pa->len < pb->len ? -1 : 1;
    }

    rc = memcmp(pa->key, pb->key, pa->len);

    return rc;
}


/* properties, dependentSchemas: a map of schemas, sorted by name */
static int
lgsp_link_map(lgsp_kw_t *kw, const char *keyword, lgsp_prop_t **props,
    size_t *n)
{
    size_t        i, len;
    json_t       *value, *sub;
    const char   *key;
    lgsp_prop_t  *p;

    value = json_object_get(kw->json, keyword);
    if (value == NULL) {
        return 0;
    }

    if (!json_is_object(value)) {
        lgsp_compile_error(kw->c, kw->info, keyword,
                           "must be an object of schemas");
        return -1;
    }

    p = lgsp_arena_alloc(&kw->c->schema->arena,
                         (json_object_size(value) + 1) * sizeof(lgsp_prop_t));
    if (p == NULL) {
        lgsp_compile_nomem(kw->c);
        return -1;
    }

    i = 0;
    json_object_keylen_foreach(value, key, len, sub) {
        p[i].key = key;
        p[i].len = len;
        p[i].hash = lgsp_json_key_hash(key, len);
        if (lgsp_link(kw, sub, keyword, key, len, &p[i].link) != 0) {
            return -1;
        }
        i++;
    }

    qsort(p, i, sizeof(lgsp_prop_t), lgsp_prop_cmp);

    *props = p;
    *n = i;

    return 0;
}


static int
lgsp_is_string_array(json_t *value)
{
    size_t   i;
    json_t  *item;

    if (!json_is_array(value)) {
        return 0;
    }

    json_array_foreach(value, i, item) {
        if (!json_is_string(item)) {
            return 0;
        }
    }

    return 1;
}


/* an array of strings as names in the arena; -1 when it is not one */
static int
lgsp_names(lgsp_compiler_t *c, json_t *value, lgsp_name_t **names,
    size_t *n)
{
    size_t   i;
    json_t  *item;

    if (!lgsp_is_string_array(value)) {
        return -1;
    }

    *n = json_array_size(value);
    *names = lgsp_arena_alloc(&c->schema->arena,
                              (*n + 1) * sizeof(lgsp_name_t));
    if (*names == NULL) {
        lgsp_compile_nomem(c);
        return -1;
    }

    json_array_foreach(value, i, item) {
        (*names)[i].key = json_string_value(item);
        (*names)[i].len = json_string_length(item);
        (*names)[i].hash = lgsp_json_key_hash((*names)[i].key,
                                              (*names)[i].len);
    }

    return 0;
}


/*
 * dependentRequired (string arrays), dependentSchemas (schemas) and
 * draft-07's dependencies (either, per property).
 */
static int
lgsp_compile_dependencies(lgsp_kw_t *kw, const char *keyword,
    int schemas, int names)
{
    size_t                i, j, len, n;
    json_t               *value, *sub;
    const char           *key;
    lgsp_prop_t          *ds;
    lgsp_node_t          *node;
    lgsp_dep_required_t  *dr;

    value = json_object_get(kw->json, keyword);
    if (value == NULL) {
        return 0;
    }

    if (!json_is_object(value)) {
        lgsp_compile_error(kw->c, kw->info, keyword, "must be an object");
        return -1;
    }

    node = kw->node;
    n = json_object_size(value);

    ds = lgsp_arena_alloc(&kw->c->schema->arena,
                          (node->n_dep_schemas + n) * sizeof(lgsp_prop_t));
    dr = lgsp_arena_alloc(&kw->c->schema->arena,
                          (node->n_dep_required + n)
                          * sizeof(lgsp_dep_required_t));
    if (ds == NULL || dr == NULL) {
        lgsp_compile_nomem(kw->c);
        return -1;
    }

    if (node->n_dep_schemas) {
        memcpy(ds, node->dep_schemas,
               node->n_dep_schemas * sizeof(lgsp_prop_t));
    }
    if (node->n_dep_required) {
        memcpy(dr, node->dep_required,
               node->n_dep_required * sizeof(lgsp_dep_required_t));
    }

    i = node->n_dep_schemas;
    j = node->n_dep_required;

    json_object_keylen_foreach(value, key, len, sub) {

        if (names && lgsp_is_string_array(sub)) {
            dr[j].key = key;
            dr[j].len = len;
            dr[j].hash = lgsp_json_key_hash(key, len);
            if (lgsp_names(kw->c, sub, &dr[j].names, &dr[j].n_names) != 0) {
                return -1;
            }
            dr[j].seg = lgsp_seg(kw->c, keyword, key, len);
            if (dr[j++].seg == NULL) {
                return -1;
            }
            continue;
        }

        if (!schemas || (!json_is_object(sub) && !json_is_boolean(sub))) {
            lgsp_compile_error(kw->c, kw->info, keyword, "\"%s\" must be %s",
                               key, schemas ? names
                               ? "a schema or an array of property names"
                               : "a schema" : "an array of property names");
            return -1;
        }

        ds[i].key = key;
        ds[i].len = len;
        ds[i].hash = lgsp_json_key_hash(key, len);
        if (lgsp_link(kw, sub, keyword, key, len, &ds[i++].link) != 0) {
            return -1;
        }
    }

    node->dep_schemas = ds;
    node->n_dep_schemas = i;
    node->dep_required = dr;
    node->n_dep_required = j;

    return 0;
}


static int
lgsp_keep_regex(lgsp_compiler_t *c, lgsp_regex_t *re)
{
    lgsp_regex_t  **list;

    list = realloc(c->schema->regexes,
                   (c->schema->n_regexes + 1) * sizeof(lgsp_regex_t *));
    if (list == NULL) {
        lgsp_regex_free(re);
        lgsp_compile_nomem(c);
        return -1;
    }

    c->schema->regexes = list;
    list[c->schema->n_regexes++] = re;

    return 0;
}


static lgsp_regex_t *
lgsp_compile_regex(lgsp_kw_t *kw, const char *keyword, const char *src,
    size_t len)
{
    char           msg[160];
    lgsp_regex_t  *re;

    re = lgsp_regex_compile(src, len, msg, sizeof(msg));
    if (re == NULL) {
        lgsp_compile_error(kw->c, kw->info, keyword, "\"%s\": %s", src, msg);
        return NULL;
    }

    if (lgsp_keep_regex(kw->c, re) != 0) {
        return NULL;
    }

    if (lgsp_regex_nested_unbounded(re)
        && lgsp_compile_warning(kw->c, kw->info, keyword, "\"%s\" repeats "
                                "a group that holds an unbounded quantifier: "
                                "some strings take a backtracking matcher "
                                "exponential time, and here use up the "
                                "validation budget", src) != 0)
    {
        return NULL;
    }

    return re;
}


static int
lgsp_compile_applicators(lgsp_kw_t *kw)
{
    size_t                i, len;
    json_t               *value, *sub;
    const char           *key;
    lgsp_node_t          *node;
    lgsp_pattern_prop_t  *pp;

    node = kw->node;

    if (lgsp_link_array(kw, "allOf", &node->all_of, &node->n_all_of) != 0
        || lgsp_link_array(kw, "anyOf", &node->any_of, &node->n_any_of) != 0
        || lgsp_link_array(kw, "oneOf", &node->one_of, &node->n_one_of) != 0
        || lgsp_link_single(kw, "not", &node->not) != 0
        || lgsp_link_single(kw, "if", &node->if_) != 0
        || lgsp_link_single(kw, "then", &node->then_) != 0
        || lgsp_link_single(kw, "else", &node->else_) != 0
        || lgsp_link_map(kw, "properties", &node->props, &node->n_props) != 0
        || lgsp_link_single(kw, "additionalProperties",
                            &node->additional_props) != 0
        || lgsp_link_single(kw, "propertyNames", &node->property_names) != 0
        || lgsp_link_single(kw, "contains", &node->contains) != 0
        || lgsp_compile_dependencies(kw, "dependencies", 1, 1) != 0)
    {
        return -1;
    }

    value = json_object_get(kw->json, "patternProperties");
    if (value != NULL) {
        if (!json_is_object(value)) {
            lgsp_compile_error(kw->c, kw->info, "patternProperties",
                               "must be an object of schemas");
            return -1;
        }

        pp = lgsp_arena_alloc(&kw->c->schema->arena,
                              (json_object_size(value) + 1)
                              * sizeof(lgsp_pattern_prop_t));
        if (pp == NULL) {
            lgsp_compile_nomem(kw->c);
            return -1;
        }

        i = 0;
        json_object_keylen_foreach(value, key, len, sub) {
            pp[i].re = lgsp_compile_regex(kw, "patternProperties", key, len);
            if (pp[i].re == NULL
                || lgsp_link(kw, sub, "patternProperties", key, len,
                             &pp[i].link) != 0)
            {
                return -1;
            }
            i++;
        }

        node->pattern_props = pp;
        node->n_pattern_props = i;
    }

    value = json_object_get(kw->json, "items");

    if (kw->info->res->dialect == LGSP_DIALECT_7) {
        if (json_is_array(value)) {
            return lgsp_link_array(kw, "items", &node->prefix_items,
                                   &node->n_prefix_items)
                   || lgsp_link_single(kw, "additionalItems", &node->items);
        }
        return lgsp_link_single(kw, "items", &node->items);
    }

    return lgsp_link_array(kw, "prefixItems", &node->prefix_items,
                           &node->n_prefix_items)
           || lgsp_link_single(kw, "items", &node->items)
           || lgsp_compile_dependencies(kw, "dependentSchemas", 1, 0);
}


/* a non-negative integer keyword: 1 present, 0 absent, -1 invalid */
static int
lgsp_get_size(lgsp_kw_t *kw, const char *keyword, size_t *size)
{
    double   d;
    json_t  *value;

    value = json_object_get(kw->json, keyword);
    if (value == NULL) {
        return 0;
    }

    if (json_is_integer(value) && json_integer_value(value) >= 0) {
        *size = (size_t) json_integer_value(value);
        return 1;
    }

    if (json_is_real(value)) {
        d = json_real_value(value);
        if (d >= 0 && d == floor(d)) {
            *size = d >= (double) SIZE_MAX ? SIZE_MAX : (size_t) d;
            return 1;
        }
    }

    lgsp_compile_error(kw->c, kw->info, keyword,
                       "must be a non-negative integer");
    return -1;
}


static int
lgsp_type_bit(const char *name)
{
    static const char  *names[] = { "null", "boolean", "object", "array",
                                    "number", "string", "integer", NULL };
    int                 i;

    for (i = 0; names[i]; i++) {
        if (strcmp(names[i], name) == 0) {
            return 1 << i;
        }
    }

    return 0;
}


static int
lgsp_compile_type(lgsp_kw_t *kw)
{
    int       bit;
    size_t    i;
    json_t   *value, *item;

    value = json_object_get(kw->json, "type");
    if (value == NULL) {
        return 0;
    }

    kw->node->has |= LGSP_K_TYPE;

    if (json_is_string(value)) {
        kw->node->types = lgsp_type_bit(json_string_value(value));
        if (kw->node->types != 0) {
            return 0;
        }

    } else if (json_is_array(value)) {
        json_array_foreach(value, i, item) {
            bit = json_is_string(item) ? lgsp_type_bit(json_string_value(item))
                                       : 0;
            if (bit == 0) {
                break;
            }
            kw->node->types |= bit;
        }
        if (i == json_array_size(value)) {
            return 0;
        }
    }

    lgsp_compile_error(kw->c, kw->info, "type",
                       "must be one of \"null\", \"boolean\", \"object\", "
                       "\"array\", \"number\", \"string\", \"integer\", or "
                       "an array of them");
    return -1;
}


static int
lgsp_compile_number(lgsp_kw_t *kw, const char *keyword,
    const lgsp_json_t **out)
{
    json_t  *value;

    value = json_object_get(kw->json, keyword);
    if (value == NULL) {
        return 0;
    }

    if (!json_is_number(value)) {
        lgsp_compile_error(kw->c, kw->info, keyword, "must be a number");
        return -1;
    }

    *out = lgsp_compile_value(kw->c, value);
    if (*out == NULL) {
        return -1;
    }

    return 0;
}


static int
lgsp_compile_validation(lgsp_kw_t *kw)
{
    int           rc, dialect;
    size_t        i;
    json_t       *value;
    lgsp_node_t  *node;

    static const struct {
        const char  *keyword;
        size_t       offset;
        uint32_t     flag;
    } sizes[] = {
        { "maxLength", offsetof(lgsp_node_t, max_length),
          LGSP_K_MAX_LENGTH },
        { "minLength", offsetof(lgsp_node_t, min_length),
          LGSP_K_MIN_LENGTH },
        { "maxItems", offsetof(lgsp_node_t, max_items), LGSP_K_MAX_ITEMS },
        { "minItems", offsetof(lgsp_node_t, min_items), LGSP_K_MIN_ITEMS },
        { "maxProperties", offsetof(lgsp_node_t, max_props),
          LGSP_K_MAX_PROPS },
        { "minProperties", offsetof(lgsp_node_t, min_props),
          LGSP_K_MIN_PROPS },
        { "maxContains", offsetof(lgsp_node_t, max_contains),
          LGSP_K_MAX_CONTAINS },
        { "minContains", offsetof(lgsp_node_t, min_contains),
          LGSP_K_MIN_CONTAINS },
        { NULL, 0, 0 }
    };

    node = kw->node;
    dialect = kw->info->res->dialect;

    if (lgsp_compile_type(kw) != 0) {
        return -1;
    }

    for (i = 0; sizes[i].keyword; i++) {
        if (dialect == LGSP_DIALECT_7 && sizes[i].flag >= LGSP_K_MAX_CONTAINS)
        {
            break;
        }
        rc = lgsp_get_size(kw, sizes[i].keyword,
                           (size_t *) ((char *) node + sizes[i].offset));
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            node->has |= sizes[i].flag;
        }
    }

    value = json_object_get(kw->json, "enum");
    if (value != NULL) {
        if (!json_is_array(value)) {
            lgsp_compile_error(kw->c, kw->info, "enum", "must be an array");
            return -1;
        }
        node->enum_values = lgsp_compile_value(kw->c, value);
        node->enum_text = lgsp_compile_text(kw->c, value);
        if (node->enum_values == NULL || node->enum_text == NULL) {
            return -1;
        }
    }

    value = json_object_get(kw->json, "const");
    if (value != NULL) {
        node->const_value = lgsp_compile_value(kw->c, value);
        node->const_text = lgsp_compile_text(kw->c, value);
        if (node->const_value == NULL || node->const_text == NULL) {
            return -1;
        }
    }

    if (lgsp_compile_number(kw, "multipleOf", &node->multiple_of) != 0
        || lgsp_compile_number(kw, "maximum", &node->maximum) != 0
        || lgsp_compile_number(kw, "exclusiveMaximum",
                               &node->exclusive_maximum) != 0
        || lgsp_compile_number(kw, "minimum", &node->minimum) != 0
        || lgsp_compile_number(kw, "exclusiveMinimum",
                               &node->exclusive_minimum) != 0)
    {
        return -1;
    }

    if (node->multiple_of != NULL
        && json_number_value(json_object_get(kw->json, "multipleOf")) <= 0)
    {
        lgsp_compile_error(kw->c, kw->info, "multipleOf",
                           "must be greater than 0");
        return -1;
    }

    value = json_object_get(kw->json, "uniqueItems");
    if (value != NULL) {
        if (!json_is_boolean(value)) {
            lgsp_compile_error(kw->c, kw->info, "uniqueItems",
                               "must be true or false");
            return -1;
        }
        if (json_is_true(value)) {
            node->has |= LGSP_K_UNIQUE;
        }
    }

    value = json_object_get(kw->json, "pattern");
    if (value != NULL) {
        if (!json_is_string(value)) {
            lgsp_compile_error(kw->c, kw->info, "pattern", "must be a string");
            return -1;
        }
        node->pattern = lgsp_compile_regex(kw, "pattern",
                                           json_string_value(value),
                                           json_string_length(value));
        if (node->pattern == NULL) {
            return -1;
        }
    }

    value = json_object_get(kw->json, "required");
    if (value != NULL
        && lgsp_names(kw->c, value, &node->required, &node->n_required) != 0)
    {
        lgsp_compile_error(kw->c, kw->info, "required",
                           "must be an array of property names");
        return -1;
    }

    if (dialect == LGSP_DIALECT_2020
        && lgsp_compile_dependencies(kw, "dependentRequired", 0, 1) != 0)
    {
        return -1;
    }

    return 0;
}


static int
lgsp_compile_format(lgsp_kw_t *kw)
{
    json_t       *value;
    lgsp_cres_t  *res;

    value = json_object_get(kw->json, "format");
    if (!json_is_string(value)) {
        return 0;
    }

    res = kw->info->res;

    kw->node->format_name = lgsp_arena_strndup(kw->c, json_string_value(value),
                                               json_string_length(value));
    if (kw->node->format_name == NULL) {
        lgsp_compile_nomem(kw->c);
        return -1;
    }

    if ((kw->c->opts->format_assert && !res->builtin)
        || (res->vocab & LGSP_V_FORMAT_ASSERT))
    {
        kw->node->format = lgsp_format_id(json_string_value(value));
    }

    return 0;
}


static int
lgsp_compile_refs(lgsp_kw_t *kw)
{
    json_t       *value, *target, *anchor;
    const char   *ref, *hash;
    lgsp_cres_t  *res;

    value = json_object_get(kw->json, "$ref");
    if (value != NULL) {
        if (!json_is_string(value)) {
            lgsp_compile_error(kw->c, kw->info, "$ref", "must be a string");
            return -1;
        }

        ref = json_string_value(value);
        target = lgsp_resolve(kw->c, kw->info, "$ref", ref, &res);
        if (target == NULL) {
            return -1;
        }

        kw->node->ref.seg = "$ref";
        kw->node->ref.node = lgsp_compile_node(kw->c, target, res, ref);
        if (kw->node->ref.node == NULL) {
            return -1;
        }
    }

    if (kw->info->res->dialect != LGSP_DIALECT_2020) {
        return 0;
    }

    value = json_object_get(kw->json, "$dynamicRef");
    if (value == NULL) {
        return 0;
    }

    if (!json_is_string(value)) {
        lgsp_compile_error(kw->c, kw->info, "$dynamicRef", "must be a string");
        return -1;
    }

    ref = json_string_value(value);
    target = lgsp_resolve(kw->c, kw->info, "$dynamicRef", ref, &res);
    if (target == NULL) {
        return -1;
    }

    kw->node->dynamic_ref.seg = "$dynamicRef";
    kw->node->dynamic_ref.node = lgsp_compile_node(kw->c, target, res, ref);
    if (kw->node->dynamic_ref.node == NULL) {
        return -1;
    }

    /* dynamic only when the static target carries the same dynamic anchor */
    hash = strchr(ref, '#');
    anchor = json_object_get(target, "$dynamicAnchor");

    if (hash != NULL && hash[1] != '\0' && hash[1] != '/'
        && json_is_string(anchor)
        && strcmp(json_string_value(anchor), hash + 1) == 0)
    {
        kw->node->dynamic_name = lgsp_arena_strndup(kw->c, hash + 1,
                                                    strlen(hash + 1));
        if (kw->node->dynamic_name == NULL) {
            lgsp_compile_nomem(kw->c);
            return -1;
        }
    }

    return 0;
}


static void
lgsp_mark_required(lgsp_node_t *node)
{
    size_t        i, k, found;
    lgsp_prop_t  *p;

    found = 0;

    for (i = 0; i < node->n_required; i++) {
        for (k = 0; k < node->n_props; k++) {
            p = &node->props[k];
            if (p->len == node->required[i].len && !p->required
                && memcmp(p->key, node->required[i].key, p->len) == 0)
            {
                p->required = 1;
                found++;
                break;
            }
        }
    }

    node->required_in_props = node->n_required > 0
                              && found == node->n_required;
}


static void
lgsp_mark_checks(lgsp_node_t *node, int dynamic_anchors)
{
    uint32_t  checks;

    checks = 0;

    if (node->ref.node) {
        checks |= LGSP_C_REF;
    }
    if (node->dynamic_ref.node) {
        checks |= LGSP_C_DYNAMIC_REF;
    }
    if (node->const_value) {
        checks |= LGSP_C_CONST;
    }
    if (node->enum_values) {
        checks |= LGSP_C_ENUM;
    }
    if (node->n_all_of || node->n_any_of || node->n_one_of || node->not.node
        || node->if_.node)
    {
        checks |= LGSP_C_IN_PLACE;
    }
    if (node->unevaluated_props.node || node->unevaluated_items.node) {
        checks |= LGSP_C_OWN_EVAL;
    }
    /* a resource without dynamic anchors cannot change a $dynamicRef's
     * target: the dynamic scope may leave it out */
    if (dynamic_anchors) {
        checks |= LGSP_C_SCOPE;
    }

    node->checks = checks;
}


/* the dynamic anchors of a resource, once one of its schemas is used */
static int
lgsp_compile_dynamic_anchors(lgsp_compiler_t *c, lgsp_cres_t *res)
{
    size_t             i;
    lgsp_resource_t   *rt;

    res->used = 1;
    rt = res->rt;

    if (res->n_dyn == 0) {
        return 0;
    }

    rt->dyn_anchors = lgsp_arena_alloc(&c->schema->arena,
                                       res->n_dyn * sizeof(lgsp_dyn_anchor_t));
    if (rt->dyn_anchors == NULL) {
        lgsp_compile_nomem(c);
        return -1;
    }

    for (i = 0; i < res->n_dyn; i++) {
        rt->dyn_anchors[i].name = res->dyn[i].name;
        rt->dyn_anchors[i].node = lgsp_compile_node(c, res->dyn[i].schema,
                                                    res, "");
        if (rt->dyn_anchors[i].node == NULL) {
            return -1;
        }
        rt->n_dyn_anchors = i + 1;
    }

    return 0;
}


/*
 * res and ptr tell where the schema is when the scan did not see it (a
 * JSON Pointer into an unknown keyword, say).
 */
static lgsp_node_t *
lgsp_compile_node(lgsp_compiler_t *c, json_t *json, lgsp_cres_t *res,
    const char *ptr)
{
    lgsp_kw_t     kw;
    lgsp_info_t  *info, where;
    lgsp_node_t  *node;

    node = lgsp_ptrmap_get(&c->nodes, json);
    if (node != NULL) {
        return node;
    }

    info = lgsp_ptrmap_get(&c->info, json);
    if (info == NULL) {
        if (lgsp_scan(c, json, res, ptr) != 0) {
            return NULL;
        }
        info = lgsp_ptrmap_get(&c->info, json);
    }

    if (info == NULL) {
        where.res = res;
        where.ptr = (char *) ptr;
        lgsp_compile_error(c, &where, NULL,
                           "a schema must be an object or a boolean");
        return NULL;
    }

    node = lgsp_arena_alloc(&c->schema->arena, sizeof(lgsp_node_t));
    if (node == NULL || lgsp_ptrmap_put(&c->nodes, json, node) != 0) {
        lgsp_compile_nomem(c);
        return NULL;
    }

    res = info->res;
    node->resource = res->rt;
    node->min_contains = 1;

    if (json_is_boolean(json)) {
        node->is_boolean = 1;
        node->truth = json_is_true(json);
        return node;
    }

    if (!res->used && lgsp_compile_dynamic_anchors(c, res) != 0) {
        return NULL;
    }

    kw.c = c;
    kw.info = info;
    kw.json = json;
    kw.node = node;

    if (lgsp_compile_refs(&kw) != 0) {
        return NULL;
    }

    if (res->dialect == LGSP_DIALECT_7 && node->ref.node != NULL) {
        lgsp_mark_checks(node, res->n_dyn > 0);
        return node;
    }

    if ((res->vocab & LGSP_V_APPLICATOR) && lgsp_compile_applicators(&kw) != 0)
    {
        return NULL;
    }

    if ((res->vocab & LGSP_V_UNEVALUATED)
        && (lgsp_link_single(&kw, "unevaluatedProperties",
                             &node->unevaluated_props) != 0
            || lgsp_link_single(&kw, "unevaluatedItems",
                                &node->unevaluated_items) != 0))
    {
        return NULL;
    }

    if ((res->vocab & LGSP_V_VALIDATION) && lgsp_compile_validation(&kw) != 0)
    {
        return NULL;
    }

    if (lgsp_compile_format(&kw) != 0) {
        return NULL;
    }

    lgsp_mark_required(node);
    lgsp_mark_checks(node, res->n_dyn > 0);

    return node;
}


/* the document against its meta-schema */
static int
lgsp_meta_check(lgsp_compiler_t *c, lgsp_cres_t *res)
{
    int                    rc;
    json_t                *meta, *target;
    const char            *uri;
    lgsp_info_t            where;
    lgsp_arena_t           arena;
    lgsp_cres_t           *meta_res;
    lgsp_node_t           *node;
    lgsp_json_t           *doc;
    lgsp_schema_errors_t   errors;

    meta = json_object_get(res->root, "$schema");

    if (json_is_string(meta)) {
        uri = json_string_value(meta);
    } else {
        uri = res->dialect == LGSP_DIALECT_7 ? LGSP_URI_07 "#" : LGSP_URI_2020;
    }

    where.res = res;
    where.ptr = "";

    target = lgsp_resolve(c, &where, "$schema", uri, &meta_res);
    if (target == NULL) {
        return -1;
    }

    node = lgsp_compile_node(c, target, meta_res, "");
    if (node == NULL) {
        return -1;
    }

    /* the document as the validator reads instances, for this check only */
    memset(&arena, 0, sizeof(lgsp_arena_t));

    doc = lgsp_json_from_jansson(res->root, lgsp_arena_alloc, &arena);
    if (doc == NULL) {
        lgsp_arena_free(&arena);
        lgsp_compile_nomem(c);
        return -1;
    }

    memset(&errors, 0, sizeof(errors));
    errors.max = 1;

    rc = lgsp_schema_validate_node(node, doc, &errors);

    lgsp_arena_free(&arena);

    if (rc == 0) {
        lgsp_compile_error(c, NULL, NULL, "%s: at \"%s\": not a valid JSON "
                           "Schema: %s", res->doc,
                           errors.n ? errors.errors[0].instance_path : "",
                           errors.n ? errors.errors[0].message : "invalid");
    } else if (rc < 0) {
        lgsp_compile_nomem(c);
    }

    lgsp_schema_errors_free(&errors);

    return rc == 1 ? 0 : -1;
}


/*
 * A schema that holds nothing but a $ref (always so in draft-07) costs a
 * validation step of its own.  Once everything is compiled, links to it
 * go straight to its target, the "$ref" kept in the keyword location.
 */
static int
lgsp_ref_only(const lgsp_node_t *node)
{
    lgsp_node_t         rest;
    static lgsp_node_t  none;

    /* a schema of a resource with dynamic anchors enters it into the
     * dynamic scope: that is a step of its own (lgsp_validate_applied()) */
    if (node->is_boolean || node->ref.node == NULL
        || ((node->checks & LGSP_C_SCOPE)
            && node->ref.node->resource != node->resource))
    {
        return 0;
    }

    memcpy(&rest, node, sizeof(lgsp_node_t));
    rest.ref.node = NULL;
    rest.ref.seg = NULL;
    rest.checks = 0;
    rest.resource = NULL;
    rest.min_contains = 0;
    rest.format_name = NULL;

    return memcmp(&rest, &none, sizeof(lgsp_node_t)) == 0;
}


static int
lgsp_collapse_link(lgsp_compiler_t *c, lgsp_link_t *link)
{
    int    hops;
    char  *seg;

    for (hops = 0; link->node && hops < 8 && lgsp_ref_only(link->node);
         hops++)
    {
        /* the target's own link may be collapsed already: its step is
         * then "$ref/$ref..." */
        seg = lgsp_strdup_printf("%s/%s", link->seg, link->node->ref.seg);
        link->seg = seg ? lgsp_arena_strndup(c, seg, strlen(seg)) : NULL;
        free(seg);

        if (link->seg == NULL) {
            lgsp_compile_nomem(c);
            return -1;
        }

        link->node = link->node->ref.node;
    }

    return 0;
}


static int
lgsp_collapse_links(lgsp_compiler_t *c, lgsp_node_t *n)
{
    size_t        i;
    lgsp_link_t  *single[] = { &n->ref, &n->not, &n->if_, &n->then_,
                               &n->else_, &n->additional_props,
                               &n->property_names, &n->unevaluated_props,
                               &n->items, &n->contains,
                               &n->unevaluated_items, NULL };

    for (i = 0; single[i]; i++) {
        if (lgsp_collapse_link(c, single[i]) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n->n_all_of; i++) {
        if (lgsp_collapse_link(c, &n->all_of[i]) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n->n_any_of; i++) {
        if (lgsp_collapse_link(c, &n->any_of[i]) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n->n_one_of; i++) {
        if (lgsp_collapse_link(c, &n->one_of[i]) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n->n_prefix_items; i++) {
        if (lgsp_collapse_link(c, &n->prefix_items[i]) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n->n_props; i++) {
        if (lgsp_collapse_link(c, &n->props[i].link) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n->n_pattern_props; i++) {
        if (lgsp_collapse_link(c, &n->pattern_props[i].link) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n->n_dep_schemas; i++) {
        if (lgsp_collapse_link(c, &n->dep_schemas[i].link) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
lgsp_collapse_all(lgsp_compiler_t *c)
{
    size_t  i;

    for (i = 0; i < c->nodes.cap; i++) {
        if (c->nodes.entries[i].value != NULL
            && lgsp_collapse_links(c, c->nodes.entries[i].value) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static void
lgsp_compiler_cleanup(lgsp_compiler_t *c)
{
    size_t        i;
    lgsp_info_t  *info;

    for (i = 0; i < c->info.cap; i++) {
        info = c->info.entries[i].value;
        if (info != NULL) {
            free(info->ptr);
            free(info);
        }
    }

    for (i = 0; i < c->n_res; i++) {
        free(c->res[i]->dyn);
        free(c->res[i]);
    }

    for (i = 0; i < c->n_reg; i++) {
        free(c->reg[i].uri);
    }

    for (i = 0; i < c->n_anchors; i++) {
        free(c->anchors[i].uri);
    }

    free(c->info.entries);
    free(c->nodes.entries);
    free(c->res);
    free(c->reg);
    free(c->anchors);
}


/* a base URI for a file path: "file://" and the absolute path, escaped */
static char *
lgsp_file_uri(const char *path)
{
    char        *abs, *uri, *p;
    char         cwd[PATH_MAX];
    const char  *s;

    abs = realpath(path, NULL);

    if (abs == NULL) {
        if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL) {
            abs = strdup(path);
        } else {
            abs = lgsp_strdup_printf("%s/%s", cwd, path);
        }
        if (abs == NULL) {
            return NULL;
        }
    }

    uri = malloc(strlen(abs) * 3 + 8);
    if (uri == NULL) {
        free(abs);
        return NULL;
    }

    p = uri + sprintf(uri, "file://");

    for (s = abs; *s; s++) {
        if ((unsigned char) *s <= 0x20 || strchr("%#?[]", *s) != NULL
            || (unsigned char) *s >= 0x7f)
        {
            p += sprintf(p, "%%%02X", (unsigned char) *s);
        } else {
            *p++ = *s;
        }
    }

    *p = '\0';
    free(abs);

    return uri;
}


lgsp_schema_t *
lgsp_schema_compile_json(json_t *schema, const char *base_uri_or_path,
    const lgsp_schema_options_t *opts, char *err, size_t errlen)
{
    int                            dialect;
    char                          *uri, *hash;
    unsigned                       vocab;
    lgsp_uri_t                     parts;
    lgsp_cres_t                   *res;
    lgsp_compiler_t                c;
    static lgsp_schema_options_t   defaults;

    memset(&c, 0, sizeof(lgsp_compiler_t));
    c.opts = opts ? opts : &defaults;
    c.err = err;
    c.errlen = errlen;

    if (errlen > 0) {
        err[0] = '\0';
    }

    if (base_uri_or_path == NULL) {
        uri = strdup(LGSP_DEFAULT_BASE);
    } else {
        lgsp_uri_parse(base_uri_or_path, &parts);
        /* "C:" and the like are not schemes worth honouring here */
        uri = parts.scheme.n > 1 ? strdup(base_uri_or_path)
                                 : lgsp_file_uri(base_uri_or_path);
    }

    c.schema = calloc(1, sizeof(lgsp_schema_t));

    if (uri == NULL || c.schema == NULL) {
        free(uri);
        free(c.schema);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    hash = strchr(uri, '#');
    if (hash != NULL) {
        *hash = '\0';
    }

    c.schema->documents = json_array();

    if (c.schema->documents == NULL) {
        lgsp_compile_nomem(&c);

    } else {
        if (c.opts->dialect == LGSP_DIALECT_7) {
            dialect = LGSP_DIALECT_7;
            vocab = LGSP_V_APPLICATOR | LGSP_V_VALIDATION;
        } else {
            dialect = LGSP_DIALECT_2020;
            vocab = LGSP_V_ALL;
        }

        res = lgsp_add_document(&c, schema, uri,
                                base_uri_or_path ? base_uri_or_path
                                                 : "schema",
                                dialect, vocab, 0);
        if (res != NULL) {
            c.schema->dialect = res->dialect;
            c.schema->root = lgsp_compile_node(&c, schema, res, "");
        }

        if (c.schema->root != NULL && !c.failed) {
            lgsp_collapse_all(&c);
        }
    }

    free(uri);
    lgsp_compiler_cleanup(&c);

    if (c.failed || c.schema->root == NULL) {
        if (!c.failed) {
            snprintf(err, errlen, "out of memory");
        }
        lgsp_schema_free(c.schema);
        return NULL;
    }

    return c.schema;
}


lgsp_schema_t *
lgsp_schema_compile_file(const char *path, const lgsp_schema_options_t *opts,
    char *err, size_t errlen)
{
    json_t         *json;
    json_error_t    error;
    lgsp_schema_t  *schema;

    json = lgsp_json_load_file(path, &error);
    if (json == NULL) {
        snprintf(err, errlen, "%s: not valid JSON: %s (line %d, column %d)",
                 path, error.text, error.line, error.column);
        return NULL;
    }

    schema = lgsp_schema_compile_json(json, path, opts, err, errlen);
    json_decref(json);

    return schema;
}


const char *
lgsp_schema_warning(const lgsp_schema_t *schema, size_t i)
{
    return i < schema->n_warnings ? schema->warnings[i] : NULL;
}


int
lgsp_schema_dialect(const lgsp_schema_t *schema)
{
    return schema->dialect;
}


void
lgsp_schema_free(lgsp_schema_t *schema)
{
    size_t  i;

    if (schema == NULL) {
        return;
    }

    for (i = 0; i < schema->n_regexes; i++) {
        lgsp_regex_free(schema->regexes[i]);
    }

    for (i = 0; i < schema->n_warnings; i++) {
        free(schema->warnings[i]);
    }

    free(schema->regexes);
    free(schema->warnings);
    json_decref(schema->documents);
    lgsp_arena_free(&schema->arena);
    free(schema);
}
