/*
 * XML and SOAP envelopes into JSON.  libxml2 reads the XML with every
 * network, DTD and entity feature off, its SAX events building a compact
 * tree of this file's own in an arena (libxml2's DOM costs a malloc()
 * per node); a document type declaration stops the parser before any
 * entity can be declared, and so does the depth limit.  The tree is then
 * written as JSON, typed by a JSON Schema when one is given; with one,
 * the document written is built alongside (lgsp_json.h, in an arena) and
 * validated against it, not parsed again from the text.
 */

#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "lgsp_xml.h"
#include "lgsp_schema_int.h"


/* schema lookups remembered during a conversion, direct-mapped */
#define LGSP_XML_CACHE  64

/* a byte repeated in each of a word's eight */
#define LGSP_XML_ONES  0x0101010101010101ULL

/* schema keywords followed ($ref, allOf, anyOf, oneOf) at most this deep */
#define LGSP_XML_SCHEMA_HOPS  8


typedef struct lgsp_xml_node_s  lgsp_xml_node_t;
typedef struct lgsp_xml_attr_s  lgsp_xml_attr_t;
typedef struct lgsp_xml_text_s  lgsp_xml_text_t;


struct lgsp_xml_text_s {
    const char         *data;
    size_t              len;
    lgsp_xml_text_t    *next;
};


/* an attribute that is data: not xsi:, not a namespace declaration */
struct lgsp_xml_attr_s {
    const char         *name;           /* local name, from the dict */
    const char         *value;
    size_t              len;
    lgsp_xml_attr_t    *next;
};


struct lgsp_xml_node_s {
    /* the local name and namespace: libxml2's dictionary keeps one copy
     * of each name, so equal names are equal pointers */
    const char         *name;
    const char         *uri;            /* NULL: no namespace */
    lgsp_xml_node_t    *parent;
    lgsp_xml_node_t    *children;
    lgsp_xml_node_t    *last;
    lgsp_xml_node_t    *next;
    lgsp_xml_node_t    *group;          /* the next sibling of this name */
    lgsp_xml_attr_t    *attrs;
    lgsp_xml_text_t    *text;
    lgsp_xml_text_t    *last_text;
    size_t              n_children;
    unsigned            nil:1;          /* xsi:nil="true" */
    unsigned            has_text:1;     /* text other than blanks */
};


/* the parse: the SAX handlers' state, in the parser's _private */
typedef struct {
    lgsp_arena_t        arena;          /* the tree and its text */
    lgsp_xml_node_t    *root;
    lgsp_xml_node_t    *current;
    size_t              depth;
    size_t              max_depth;
    int                 kind;           /* set by a hook that stopped */
    lgsp_xml_result_t  *res;
} lgsp_xml_parse_t;


/* an element name's property in a schema object */
typedef struct {
    const lgsp_node_t  *node;
    const char         *name;           /* from the dict */
    const lgsp_node_t  *sub;
    const char         *key;
    size_t              key_len;
} lgsp_xml_prop_cache_t;


typedef struct {
    lgsp_sbuf_t        *out;
    lgsp_sbuf_t         text;           /* a typed value's text */
    /* with a schema: the document written, built here; else NULL */
    lgsp_arena_t       *arena;
    lgsp_xml_result_t  *res;
    /* the same schema nodes type each element of an array: their types
     * and properties are looked up once */
    const lgsp_node_t  *typed[LGSP_XML_CACHE];
    unsigned            types[LGSP_XML_CACHE];
    lgsp_xml_prop_cache_t  props[LGSP_XML_CACHE];
    /* same-named siblings are grouped with an open-addressing table,
     * keyed by name, whose slots hold each group's last element; the
     * groups' first elements wait on a stack shared by every level */
    lgsp_xml_node_t   **table;
    size_t              table_size;
    lgsp_xml_node_t   **heads;
    size_t              n_heads;
    size_t              heads_size;
} lgsp_xml_json_t;


static void lgsp_xml_parse_free(xmlParserCtxtPtr ctxt);
static uint32_t lgsp_xml_name_hash(const char *name);
static int lgsp_xml_value(lgsp_xml_json_t *j, lgsp_xml_node_t *e,
    const lgsp_node_t *node, lgsp_json_t *v);


static int
lgsp_xml_set(lgsp_xml_result_t *res, int kind, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, args);
    va_end(args);

    res->kind = kind;
    return kind;
}


/*
 * What is refused before libxml2 reads a byte: too many bytes, a text
 * that does not start as XML in UTF-8 does (UTF-16 and UTF-32, with or
 * without a byte order mark, EBCDIC), and a declared encoding other than
 * UTF-8.
 */
static int
lgsp_xml_precheck(const char *xml, size_t len, const lgsp_xml_read_t *rd,
    lgsp_xml_result_t *res)
{
    size_t       i, n;
    const char  *p, *end, *q, *decl_end;

    if (len > rd->max_size || len > INT_MAX) {
        return lgsp_xml_set(res, LGSP_XML_TOO_LARGE,
                            "the XML document has %zu bytes, more than the"
                            " %zu accepted", len, rd->max_size);
    }

    p = xml;
    end = xml + len;

    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3;
    }

    for (q = p; q < end && (*q == ' ' || *q == '\t' || *q == '\r'
                            || *q == '\n'); q++)
    {
        /* void */
    }

    /* UTF-16 and UTF-32 have a NUL among the first four bytes */
    if (q == end || *q != '<' || memchr(p, '\0', end - p < 4 ? end - p : 4)) {
        return lgsp_xml_set(res, LGSP_XML_MALFORMED,
                            "the document is not XML in UTF-8: it does not"
                            " start with \"<\"");
    }

    if (end - p < 6 || memcmp(p, "<?xml", 5) != 0
        || (p[5] != ' ' && p[5] != '\t' && p[5] != '\r' && p[5] != '\n'))
    {
        return LGSP_XML_OK;
    }

    /* the XML declaration: version, then perhaps encoding, standalone */
    n = end - p < 256 ? (size_t) (end - p) : 256;
    decl_end = NULL;

    for (i = 5; i + 1 < n; i++) {
        if (p[i] == '?' && p[i + 1] == '>') {
            decl_end = p + i;
            break;
        }
    }

    if (decl_end == NULL) {
        return lgsp_xml_set(res, LGSP_XML_MALFORMED,
                            "the XML declaration does not end");
    }

    for (q = p + 5; q + 8 <= decl_end; q++) {
        if (memcmp(q, "encoding", 8) != 0) {
            continue;
        }

        for (q += 8; q < decl_end && (*q == ' ' || *q == '=' || *q == '\t'
                                      || *q == '\r' || *q == '\n'); q++)
        {
            /* void */
        }

        if (decl_end - q >= 7 && (q[0] == '"' || q[0] == '\'')
            && strncasecmp(q + 1, "UTF-8", 5) == 0 && q[6] == q[0])
        {
            return LGSP_XML_OK;
        }

        for (n = 1; q + n < decl_end && n < 40 && q[n] != q[0]; n++) {
            /* void */
        }

        return lgsp_xml_set(res, LGSP_XML_REFUSED,
                            "the XML declares the encoding %.*s; only UTF-8"
                            " is accepted", (int) (n > 1 ? n - 1 : 0),
                            q + 1);
    }

    return LGSP_XML_OK;
}


static void
lgsp_xml_on_error(void *data, xmlErrorPtr err)
{
    size_t             n;
    xmlParserCtxtPtr   ctxt;
    lgsp_xml_parse_t  *ps;

    ctxt = data;
    ps = ctxt->_private;

    if (ps->res->message[0] != '\0' || err->level < XML_ERR_ERROR) {
        return;
    }

    snprintf(ps->res->message, sizeof(ps->res->message),
             "the XML is not well-formed: line %d: %s", err->line,
             err->message ? err->message : "error");

    /* libxml2's messages end in a line feed */
    n = strlen(ps->res->message);
    if (n && ps->res->message[n - 1] == '\n') {
        ps->res->message[n - 1] = '\0';
    }
}


static void
lgsp_xml_on_doctype(void *data, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr   ctxt;
    lgsp_xml_parse_t  *ps;

    ctxt = data;
    ps = ctxt->_private;

    lgsp_xml_set(ps->res, LGSP_XML_REFUSED,
                 "the XML has a document type declaration (<!DOCTYPE>);"
                 " DTDs and entity declarations are refused");
    ps->kind = LGSP_XML_REFUSED;
    xmlStopParser(ctxt);
}


static int
lgsp_xml_nomem(lgsp_xml_parse_t *ps, xmlParserCtxtPtr ctxt)
{
    lgsp_xml_set(ps->res, LGSP_XML_NOMEM, "out of memory");
    ps->kind = LGSP_XML_NOMEM;
    xmlStopParser(ctxt);

    return LGSP_XML_NOMEM;
}


/*
 * An attribute value as SAX2 gives it: with entity substitution off,
 * libxml2 writes an ampersand as "&#38;" (every other reference is
 * replaced already); the copy in the arena has it back.
 */
static const char *
lgsp_xml_attr_copy(lgsp_xml_parse_t *ps, const xmlChar *value,
    const xmlChar *end, size_t *len)
{
    char           *copy, *q;
    const xmlChar  *p;

    copy = lgsp_arena_alloc(&ps->arena, end - value + 1);
    if (copy == NULL) {
        return NULL;
    }

    for (p = value, q = copy; p < end; p++) {
        *q++ = *p;

        if (*p == '&' && end - p >= 5 && memcmp(p, "&#38;", 5) == 0) {
            p += 4;
        }
    }

    *len = q - copy;

    return copy;
}


static void
lgsp_xml_on_start(void *data, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes)
{
    int                i;
    size_t             len;
    const char        *value;
    xmlParserCtxtPtr   ctxt;
    lgsp_xml_attr_t   *a, **tail;
    lgsp_xml_node_t   *e, *parent;
    lgsp_xml_parse_t  *ps;

    ctxt = data;
    ps = ctxt->_private;

    if (++ps->depth > ps->max_depth) {
        lgsp_xml_set(ps->res, LGSP_XML_TOO_DEEP,
                     "the XML nests elements deeper than %zu levels",
                     ps->max_depth);
        ps->kind = LGSP_XML_TOO_DEEP;
        xmlStopParser(ctxt);
        return;
    }

    e = lgsp_arena_alloc(&ps->arena, sizeof(lgsp_xml_node_t));
    if (e == NULL) {
        lgsp_xml_nomem(ps, ctxt);
        return;
    }

    e->name = (const char *) localname;
    e->uri = (const char *) uri;

    parent = ps->current;
    e->parent = parent;

    if (parent == NULL) {
        ps->root = e;

    } else {
        if (parent->last) {
            parent->last->next = e;

        } else {
            parent->children = e;
        }

        parent->last = e;
        parent->n_children++;
    }

    ps->current = e;
    tail = &e->attrs;

    /* localname, prefix, URI, value, end: five pointers an attribute */
    for (i = 0; i < nb_attributes * 5; i += 5) {
        value = lgsp_xml_attr_copy(ps, attributes[i + 3],
                                   attributes[i + 4], &len);
        if (value == NULL) {
            lgsp_xml_nomem(ps, ctxt);
            return;
        }

        if (attributes[i + 2]
            && strcmp((const char *) attributes[i + 2], LGSP_XSI_NS) == 0)
        {
            if (strcmp((const char *) attributes[i], "nil") == 0
                && ((len == 4 && memcmp(value, "true", 4) == 0)
                    || (len == 1 && value[0] == '1')))
            {
                e->nil = 1;
            }

            continue;
        }

        a = lgsp_arena_alloc(&ps->arena, sizeof(lgsp_xml_attr_t));
        if (a == NULL) {
            lgsp_xml_nomem(ps, ctxt);
            return;
        }

        a->name = (const char *) attributes[i];
        a->value = value;
        a->len = len;
        *tail = a;
        tail = &a->next;
    }
}


static void
lgsp_xml_on_end(void *data, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
    xmlParserCtxtPtr   ctxt;
    lgsp_xml_parse_t  *ps;

    ctxt = data;
    ps = ctxt->_private;

    ps->depth--;
    ps->current = ps->current->parent;
}


/* text and CDATA, references already replaced */
static void
lgsp_xml_on_text(void *data, const xmlChar *ch, int len)
{
    int                i;
    char              *copy;
    xmlParserCtxtPtr   ctxt;
    lgsp_xml_node_t   *e;
    lgsp_xml_text_t   *t;
    lgsp_xml_parse_t  *ps;

    ctxt = data;
    ps = ctxt->_private;
    e = ps->current;

    if (e == NULL || len <= 0) {
        return;
    }

    t = lgsp_arena_alloc(&ps->arena, sizeof(lgsp_xml_text_t));
    copy = lgsp_arena_alloc(&ps->arena, len);

    if (t == NULL || copy == NULL) {
        lgsp_xml_nomem(ps, ctxt);
        return;
    }

    memcpy(copy, ch, len);
    t->data = copy;
    t->len = len;

    if (e->last_text) {
        e->last_text->next = t;

    } else {
        e->text = t;
    }

    e->last_text = t;

    for (i = 0; !e->has_text && i < len; i++) {
        if (ch[i] != ' ' && ch[i] != '\t' && ch[i] != '\r' && ch[i] != '\n') {
            e->has_text = 1;
        }
    }
}


/*
 * Parses into ps->root; the parser is kept (its dictionary holds the
 * names) until lgsp_xml_to_json() is done.  NULL: res says why.
 */
static xmlParserCtxtPtr
lgsp_xml_parse(const char *xml, size_t len, const lgsp_xml_read_t *rd,
    lgsp_xml_parse_t *ps, lgsp_xml_result_t *res)
{
    xmlSAXHandler     *sax;
    xmlParserCtxtPtr   ctxt;

    xmlInitParser();

    ctxt = xmlCreateMemoryParserCtxt(xml, (int) len);
    if (ctxt == NULL) {
        lgsp_xml_set(res, LGSP_XML_NOMEM, "out of memory");
        return NULL;
    }

    xmlCtxtUseOptions(ctxt, LGSP_XML_PARSE_OPTIONS);

    ps->max_depth = rd->max_depth < LGSP_XML_MAX_DEPTH ? rd->max_depth
                                                       : LGSP_XML_MAX_DEPTH;
    ps->res = res;

    /* only these events: no DOM, no DTD, no entity, no external subset */
    sax = ctxt->sax;
    memset(sax, 0, sizeof(xmlSAXHandler));
    sax->initialized = XML_SAX2_MAGIC;
    sax->startElementNs = lgsp_xml_on_start;
    sax->endElementNs = lgsp_xml_on_end;
    sax->characters = lgsp_xml_on_text;
    sax->cdataBlock = lgsp_xml_on_text;
    sax->ignorableWhitespace = lgsp_xml_on_text;
    sax->internalSubset = lgsp_xml_on_doctype;
    sax->serror = lgsp_xml_on_error;

    ctxt->_private = ps;

    xmlParseDocument(ctxt);

    if (ps->kind == LGSP_XML_OK && (!ctxt->wellFormed || ps->root == NULL)) {
        if (res->message[0] == '\0') {
            lgsp_xml_set(res, LGSP_XML_MALFORMED,
                         "the XML is not well-formed");
        }

        res->kind = LGSP_XML_MALFORMED;
        ps->kind = LGSP_XML_MALFORMED;
    }

    if (ps->kind != LGSP_XML_OK) {
        lgsp_xml_parse_free(ctxt);
        return NULL;
    }

    return ctxt;
}


/*
 * After a fatal error libxml2 parses on with its SAX events off; an
 * entity declaration met then goes into a document it makes for itself
 * ("expat compatibility"), which the context does not free.
 */
static void
lgsp_xml_parse_free(xmlParserCtxtPtr ctxt)
{
    if (ctxt->myDoc != NULL) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }

    xmlFreeParserCtxt(ctxt);
}


static int
lgsp_xml_is_element(lgsp_xml_node_t *n, const char *name, const char *ns)
{
    return strcmp(n->name, name) == 0
           && (ns == NULL || (n->uri && strcmp(n->uri, ns) == 0));
}


static lgsp_xml_node_t *
lgsp_xml_child(lgsp_xml_node_t *n, const char *name, const char *ns)
{
    for (n = n->children; n; n = n->next) {
        if (lgsp_xml_is_element(n, name, ns)) {
            return n;
        }
    }

    return NULL;
}


/* an element's text, in one piece in j->text (NUL-terminated) */
static void
lgsp_xml_gather_text(lgsp_sbuf_t *text, lgsp_xml_node_t *e)
{
    lgsp_xml_text_t  *t;

    text->len = 0;
    lgsp_xml_put(text, "", 0);

    for (t = e->text; t; t = t->next) {
        lgsp_xml_put(text, t->data, t->len);
    }
}


/* an element's text, its ends trimmed, malloc()ed; NULL: none */
static char *
lgsp_xml_trimmed_text(lgsp_xml_node_t *n)
{
    char         *s;
    size_t        len;
    const char   *p;
    lgsp_sbuf_t   text;

    if (n == NULL) {
        return NULL;
    }

    memset(&text, 0, sizeof(lgsp_sbuf_t));
    lgsp_xml_gather_text(&text, n);

    if (text.nomem) {
        free(text.data);
        return NULL;
    }

    p = text.data;
    len = text.len;

    while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        len--;
    }

    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'
                   || p[len - 1] == '\r' || p[len - 1] == '\n'))
    {
        len--;
    }

    s = strndup(p, len);
    free(text.data);

    return s;
}


/* a Fault's code and reason, in the words of its SOAP version */
static int
lgsp_xml_fault_read(lgsp_xml_node_t *fault, int soap, lgsp_xml_result_t *res)
{
    lgsp_xml_node_t  *code, *reason;

    if (soap == 12) {
        code = lgsp_xml_child(fault, "Code", fault->uri);
        code = code ? lgsp_xml_child(code, "Value", fault->uri) : NULL;
        reason = lgsp_xml_child(fault, "Reason", fault->uri);
        reason = reason ? lgsp_xml_child(reason, "Text", fault->uri) : NULL;

    } else {
        code = lgsp_xml_child(fault, "faultcode", NULL);
        reason = lgsp_xml_child(fault, "faultstring", NULL);
    }

    res->fault_code = lgsp_xml_trimmed_text(code);
    res->fault_string = lgsp_xml_trimmed_text(reason);

    if ((code && res->fault_code == NULL)
        || (reason && res->fault_string == NULL))
    {
        return lgsp_xml_set(res, LGSP_XML_NOMEM, "out of memory");
    }

    return lgsp_xml_set(res, LGSP_XML_FAULT, "the provider answered with a"
                        " SOAP %s Fault: %s: %s", soap == 12 ? "1.2" : "1.1",
                        res->fault_code ? res->fault_code : "(no code)",
                        res->fault_string ? res->fault_string
                                          : "(no reason)");
}


/*
 * The element whose content becomes the JSON: the root, or with unwrap
 * the first child of the SOAP Body; NULL when the Body is empty.
 */
static int
lgsp_xml_start(lgsp_xml_node_t *root, const lgsp_xml_read_t *rd,
    lgsp_xml_result_t *res, lgsp_xml_node_t **start)
{
    lgsp_xml_node_t  *body, *first;

    *start = root;

    if (!rd->unwrap_soap) {
        return LGSP_XML_OK;
    }

    if (lgsp_xml_is_element(root, "Envelope", LGSP_SOAP11_NS)) {
        res->soap = 11;

    } else if (lgsp_xml_is_element(root, "Envelope", LGSP_SOAP12_NS)) {
        res->soap = 12;

    } else {
        return lgsp_xml_set(res, LGSP_XML_NOT_SOAP,
                            "the XML is not a SOAP 1.1 or 1.2 envelope: its"
                            " root is <%s>", root->name);
    }

    body = lgsp_xml_child(root, "Body", root->uri);
    if (body == NULL) {
        return lgsp_xml_set(res, LGSP_XML_NOT_SOAP,
                            "the SOAP envelope has no Body");
    }

    first = body->children;
    *start = first;

    if (first && lgsp_xml_is_element(first, "Fault", root->uri)) {
        return lgsp_xml_fault_read(first, res->soap, res);
    }

    return LGSP_XML_OK;
}


/*
 * How many bytes from s on JSON writes as they are: 8 at a time while
 * none is a control byte, a quote or a backslash (a high bit in m: one
 * perhaps is, and the bytes from there are looked at one by one).
 */
static size_t
lgsp_xml_json_plain(const char *s, size_t len)
{
    size_t    i;
    uint64_t  w, v, m;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);

        v = w ^ (LGSP_XML_ONES * '"');
        m = (v - LGSP_XML_ONES) & ~v;
        v = w ^ (LGSP_XML_ONES * '\\');
        m |= (v - LGSP_XML_ONES) & ~v;
        m |= (w - LGSP_XML_ONES * 0x20) & ~w;

        if (m & (LGSP_XML_ONES * 0x80)) {
            break;
        }
    }

    return i;
}


/* JSON string text, escaped (the bytes are UTF-8: libxml2 checked) */
static void
lgsp_xml_json_string(lgsp_sbuf_t *out, const char *s, size_t len)
{
    size_t          i, from;
    char            esc[8];
    unsigned char   c;

    from = 0;

    for (i = lgsp_xml_json_plain(s, len); i < len; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        lgsp_xml_put(out, s + from, i - from);

        if (c == '"' || c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            esc[0] = '\\';
            esc[1] = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
            lgsp_xml_put(out, esc, 2);

        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            lgsp_xml_put(out, esc, 6);
        }

        from = i + 1;
    }

    lgsp_xml_put(out, s + from, len - from);
}


static void
lgsp_xml_json_key(lgsp_sbuf_t *out, const char *s, size_t len)
{
    lgsp_xml_put(out, "\"", 1);
    lgsp_xml_json_string(out, s, len);
    lgsp_xml_put(out, "\":", 2);
}


/* the schema's word on a value, through $ref, allOf, anyOf and oneOf */
static unsigned
lgsp_xml_types(const lgsp_node_t *n, int hops)
{
    size_t    i;
    unsigned  t;

    if (n == NULL || n->is_boolean || hops == 0) {
        return 0;
    }

    t = (n->has & LGSP_K_TYPE) ? n->types : 0;

    if (n->n_props || n->additional_props.node || n->n_required) {
        t |= LGSP_T_OBJECT;
    }

    if (n->items.node || n->n_prefix_items) {
        t |= LGSP_T_ARRAY;
    }

    t |= lgsp_xml_types(n->ref.node, hops - 1);
    t |= lgsp_xml_types(n->dynamic_ref.node, hops - 1);

    for (i = 0; i < n->n_all_of; i++) {
        t |= lgsp_xml_types(n->all_of[i].node, hops - 1);
    }

    for (i = 0; i < n->n_any_of; i++) {
        t |= lgsp_xml_types(n->any_of[i].node, hops - 1);
    }

    for (i = 0; i < n->n_one_of; i++) {
        t |= lgsp_xml_types(n->one_of[i].node, hops - 1);
    }

    return t;
}


static const lgsp_node_t *
lgsp_xml_items(const lgsp_node_t *n, int hops)
{
    size_t              i;
    const lgsp_node_t  *found;

    if (n == NULL || n->is_boolean || hops == 0) {
        return NULL;
    }

    if (n->items.node) {
        return n->items.node;
    }

    if (n->n_prefix_items) {
        return n->prefix_items[0].node;
    }

    found = lgsp_xml_items(n->ref.node, hops - 1);
    if (found == NULL) {
        found = lgsp_xml_items(n->dynamic_ref.node, hops - 1);
    }

    for (i = 0; found == NULL && i < n->n_all_of; i++) {
        found = lgsp_xml_items(n->all_of[i].node, hops - 1);
    }

    for (i = 0; found == NULL && i < n->n_any_of; i++) {
        found = lgsp_xml_items(n->any_of[i].node, hops - 1);
    }

    for (i = 0; found == NULL && i < n->n_one_of; i++) {
        found = lgsp_xml_items(n->one_of[i].node, hops - 1);
    }

    return found;
}


static int
lgsp_xml_name_eq(const char *a, const char *b, size_t len, int icase)
{
    return icase ? strncasecmp(a, b, len) == 0 : memcmp(a, b, len) == 0;
}


/*
 * The property a name stands for: its node, and in *prop the spelling
 * the schema gives it (matched exactly, or else ignoring ASCII case).
 */
static const lgsp_node_t *
lgsp_xml_find_prop(const lgsp_node_t *n, const char *name, size_t len,
    int icase, int hops, const lgsp_prop_t **prop)
{
    size_t              i;
    const lgsp_node_t  *found;

    if (n == NULL || n->is_boolean || hops == 0) {
        return NULL;
    }

    for (i = 0; i < n->n_props; i++) {
        if (n->props[i].len == len
            && lgsp_xml_name_eq(n->props[i].key, name, len, icase))
        {
            *prop = &n->props[i];
            return n->props[i].link.node;
        }
    }

    found = lgsp_xml_find_prop(n->ref.node, name, len, icase, hops - 1, prop);
    if (found == NULL) {
        found = lgsp_xml_find_prop(n->dynamic_ref.node, name, len, icase,
                                   hops - 1, prop);
    }

    for (i = 0; found == NULL && i < n->n_all_of; i++) {
        found = lgsp_xml_find_prop(n->all_of[i].node, name, len, icase,
                                   hops - 1, prop);
    }

    for (i = 0; found == NULL && i < n->n_any_of; i++) {
        found = lgsp_xml_find_prop(n->any_of[i].node, name, len, icase,
                                   hops - 1, prop);
    }

    for (i = 0; found == NULL && i < n->n_one_of; i++) {
        found = lgsp_xml_find_prop(n->one_of[i].node, name, len, icase,
                                   hops - 1, prop);
    }

    return found;
}


/*
 * A member's schema, found by its name exactly or else ignoring ASCII
 * case; *key and *key_len become the schema's spelling.  NULL: the
 * schema does not name it.
 */
static const lgsp_node_t *
lgsp_xml_prop(const lgsp_node_t *n, const char **key, size_t *key_len)
{
    const lgsp_node_t  *found;
    const lgsp_prop_t  *prop;

    if (n == NULL) {
        return NULL;
    }

    prop = NULL;

    found = lgsp_xml_find_prop(n, *key, *key_len, 0, LGSP_XML_SCHEMA_HOPS,
                               &prop);
    if (found == NULL) {
        found = lgsp_xml_find_prop(n, *key, *key_len, 1,
                                   LGSP_XML_SCHEMA_HOPS, &prop);
    }

    if (found) {
        *key = prop->key;
        *key_len = prop->len;
    }

    return found;
}


static const lgsp_node_t *
lgsp_xml_additional(const lgsp_node_t *n)
{
    return n ? n->additional_props.node : NULL;
}


/* lgsp_xml_types() of a schema node, remembered */
static unsigned
lgsp_xml_node_types(lgsp_xml_json_t *j, const lgsp_node_t *n)
{
    size_t  i;

    if (n == NULL) {
        return 0;
    }

    i = ((uintptr_t) n >> 4) & (LGSP_XML_CACHE - 1);

    if (j->typed[i] != n) {
        j->typed[i] = n;
        j->types[i] = lgsp_xml_types(n, LGSP_XML_SCHEMA_HOPS);
    }

    return j->types[i];
}


/*
 * The schema of the member an element name makes, remembered: *key and
 * *key_len become the member's name (the schema's spelling, or the
 * element's).
 */
static const lgsp_node_t *
lgsp_xml_element_schema(lgsp_xml_json_t *j, const lgsp_node_t *node,
    const char *name, const char **key, size_t *key_len)
{
    size_t                  i;
    lgsp_xml_prop_cache_t  *c;

    if (node == NULL) {
        *key = name;
        *key_len = strlen(name);
        return NULL;
    }

    i = (((uintptr_t) node >> 4) ^ lgsp_xml_name_hash(name))
        & (LGSP_XML_CACHE - 1);
    c = &j->props[i];

    if (c->node != node || c->name != name) {
        c->node = node;
        c->name = name;
        c->key = name;
        c->key_len = strlen(name);
        c->sub = lgsp_xml_prop(node, &c->key, &c->key_len);

        if (c->sub == NULL) {
            c->sub = lgsp_xml_additional(node);
        }
    }

    *key = c->key;
    *key_len = c->key_len;

    return c->sub;
}


/* [+-]digits as a JSON integer: "+007" is 7 */
static int
lgsp_xml_put_integer(lgsp_sbuf_t *out, const char *s, size_t len)
{
    size_t  i, neg;

    neg = 0;

    if (len && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        len--;
    }

    if (len == 0 || len > 400) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    while (len > 1 && s[0] == '0') {
        s++;
        len--;
    }

    if (neg && !(len == 1 && s[0] == '0')) {
        lgsp_xml_put(out, "-", 1);
    }

    lgsp_xml_put(out, s, len);

    return 1;
}


/* a number in JSON's grammar (after an optional "+") as it is */
static int
lgsp_xml_put_number(lgsp_sbuf_t *out, const char *s, size_t len)
{
    size_t  i, d;

    if (len && s[0] == '+') {
        s++;
        len--;
    }

    i = (len && s[0] == '-') ? 1 : 0;

    if (i < len && s[i] == '0') {
        i++;

    } else {
        for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            /* void */
        }

        if (i == d) {
            return 0;
        }
    }

    if (i < len && s[i] == '.') {
        for (d = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            /* void */
        }

        if (i == d) {
            return 0;
        }
    }

    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;

        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }

        for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            /* void */
        }

        if (i == d) {
            return 0;
        }
    }

    if (i != len) {
        return 0;
    }

    lgsp_xml_put(out, s, len);

    return 1;
}


/*
 * The number just written (from out->data + from on) in the document:
 * parsed as lgsp_json_parse_strict() would parse it in the text.
 */
static int
lgsp_xml_dom_number(lgsp_xml_json_t *j, size_t from, lgsp_json_t *v)
{
    int                   kind;
    char                 *copy, err[128];
    size_t                len;
    lgsp_json_t          *n;
    lgsp_json_options_t   opts;

    len = j->out->len - from;
    copy = lgsp_arena_alloc(j->arena, len + 1);

    if (copy == NULL || j->out->nomem) {
        return LGSP_XML_NOMEM;
    }

    memcpy(copy, j->out->data + from, len);

    opts.alloc = lgsp_arena_alloc;
    opts.ctx = j->arena;
    opts.max_depth = 1;
    opts.borrow = 1;

    n = lgsp_json_parse_strict(copy, len, &opts, &kind, err, sizeof(err));
    if (n == NULL) {
        /* JSON's grammar, yet not a number the validator reads */
        return lgsp_xml_set(j->res, LGSP_XML_UNCONVERTIBLE,
                            "the number %.40s%s is refused: %s", copy,
                            len > 40 ? "..." : "", err);
    }

    *v = *n;

    return LGSP_XML_OK;
}


/*
 * Text typed as the schema says; a string when it does not fit.  With v,
 * the value goes into the document too: text lives as long as the tree.
 */
static int
lgsp_xml_scalar(lgsp_xml_json_t *j, const char *text, size_t text_len,
    unsigned t, lgsp_json_t *v)
{
    size_t        len, from;
    const char   *s;
    lgsp_sbuf_t  *out;

    out = j->out;
    from = out->len;
    s = text;
    len = text_len;

    if (t & ~(unsigned) LGSP_T_STRING) {
        while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
            s++;
            len--;
        }

        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'
                       || s[len - 1] == '\r' || s[len - 1] == '\n'))
        {
            len--;
        }

        if (((t & LGSP_T_INTEGER) && lgsp_xml_put_integer(out, s, len))
            || ((t & LGSP_T_NUMBER) && lgsp_xml_put_number(out, s, len)))
        {
            return v ? lgsp_xml_dom_number(j, from, v) : LGSP_XML_OK;
        }

        if (t & LGSP_T_BOOLEAN) {
            if ((len == 4 && memcmp(s, "true", 4) == 0)
                || (len == 1 && s[0] == '1'))
            {
                lgsp_xml_puts(out, "true");

                if (v) {
                    v->type = LGSP_JSON_TRUE;
                }

                return LGSP_XML_OK;
            }

            if ((len == 5 && memcmp(s, "false", 5) == 0)
                || (len == 1 && s[0] == '0'))
            {
                lgsp_xml_puts(out, "false");

                if (v) {
                    v->type = LGSP_JSON_FALSE;
                }

                return LGSP_XML_OK;
            }
        }

        if (!(t & LGSP_T_STRING) && len == 0) {
            if (t & LGSP_T_NULL) {
                lgsp_xml_puts(out, "null");

                if (v) {
                    v->type = LGSP_JSON_NULL;
                }

            } else if (t & LGSP_T_OBJECT) {
                lgsp_xml_puts(out, "{}");

                if (v) {
                    v->type = LGSP_JSON_OBJECT;
                }

            } else if (t & LGSP_T_ARRAY) {
                lgsp_xml_puts(out, "[]");

                if (v) {
                    v->type = LGSP_JSON_ARRAY;
                }

            } else {
                lgsp_xml_puts(out, "\"\"");

                if (v) {
                    v->type = LGSP_JSON_STRING;
                    v->u.str = "";
                }
            }

            return LGSP_XML_OK;
        }
    }

    lgsp_xml_put(out, "\"", 1);
    lgsp_xml_json_string(out, text, text_len);
    lgsp_xml_put(out, "\"", 1);

    if (v) {
        v->type = LGSP_JSON_STRING;
        v->u.str = text;
        v->len = (uint32_t) text_len;
    }

    return LGSP_XML_OK;
}


/* the gathered text (j->text) kept for the document: an arena copy */
static const char *
lgsp_xml_dom_text(lgsp_xml_json_t *j)
{
    char  *copy;

    if (j->arena == NULL) {
        return j->text.data;
    }

    copy = lgsp_arena_alloc(j->arena, j->text.len + 1);
    if (copy != NULL) {
        memcpy(copy, j->text.data, j->text.len);
    }

    return copy;
}


static uint32_t
lgsp_xml_name_hash(const char *name)
{
    uintptr_t  p;

    p = (uintptr_t) name;

    return (uint32_t) ((p >> 4) ^ (p >> 20)) * 2654435761u;
}


/*
 * Groups an element's children by name: each child's group points to
 * the next child of its name; the first of each name is pushed on
 * j->heads, in document order.  -1: out of memory.
 */
static int
lgsp_xml_group(lgsp_xml_json_t *j, lgsp_xml_node_t *e, size_t *groups)
{
    void              *p;
    size_t             size, mask, i;
    lgsp_xml_node_t   *c, **slot;

    for (size = 8; size < 2 * e->n_children; size *= 2) {
        /* void */
    }

    if (size > j->table_size) {
        p = realloc(j->table, size * sizeof(lgsp_xml_node_t *));
        if (p == NULL) {
            return -1;
        }

        j->table = p;
        j->table_size = size;
    }

    if (j->n_heads + e->n_children > j->heads_size) {
        i = (j->n_heads + e->n_children) * 2;
        p = realloc(j->heads, i * sizeof(lgsp_xml_node_t *));
        if (p == NULL) {
            return -1;
        }

        j->heads = p;
        j->heads_size = i;
    }

    memset(j->table, 0, size * sizeof(lgsp_xml_node_t *));
    mask = size - 1;
    *groups = 0;

    for (c = e->children; c; c = c->next) {
        for (i = lgsp_xml_name_hash(c->name) & mask; ; i = (i + 1) & mask) {
            slot = &j->table[i];

            if (*slot == NULL) {
                j->heads[j->n_heads + (*groups)++] = c;
                break;
            }

            if ((*slot)->name == c->name) {
                (*slot)->group = c;
                break;
            }
        }

        *slot = c;
    }

    return 0;
}


/*
 * The next member of the object v being built, its key set: its value to
 * fill; NULL when no document is built.  v->len counts the members.
 */
static lgsp_json_t *
lgsp_xml_member(lgsp_json_t *v, lgsp_json_member_t *m, const char *key,
    size_t key_len)
{
    if (v == NULL) {
        return NULL;
    }

    m = &m[v->len++];
    m->key = key;
    m->key_len = (uint32_t) key_len;
    m->key_hash = lgsp_json_key_hash(key, key_len);

    return &m->value;
}


static int
lgsp_xml_member_cmp(const void *a, const void *b)
{
    const lgsp_json_member_t  *x, *y;

    x = *(const lgsp_json_member_t **) a;
    y = *(const lgsp_json_member_t **) b;

    if (x->key_hash != y->key_hash) {
        return x->key_hash < y->key_hash ? -1 : 1;
    }

    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }

    return memcmp(x->key, y->key, x->key_len);
}


/*
 * An object built must not have a key twice, as its text, parsed, would
 * not: the schema's spellings can give two names one key ("Ten" and
 * "ten", or an attribute and an element).  Few members are compared
 * pairwise, more sorted.
 */
static int
lgsp_xml_unique(lgsp_json_t *v, lgsp_xml_result_t *res)
{
    size_t                i, k;
    lgsp_json_member_t   *m, **sorted;

    if (v == NULL || v->len < 2) {
        return LGSP_XML_OK;
    }

    m = v->u.members;

    if (v->len <= 16) {
        for (i = 0; i < v->len; i++) {
            for (k = i + 1; k < v->len; k++) {
                if (m[i].key_hash == m[k].key_hash
                    && m[i].key_len == m[k].key_len
                    && memcmp(m[i].key, m[k].key, m[i].key_len) == 0)
                {
                    return lgsp_xml_set(res, LGSP_XML_INVALID,
                                        "two members named \"%.*s\"",
                                        (int) m[i].key_len, m[i].key);
                }
            }
        }

        return LGSP_XML_OK;
    }

    sorted = malloc(v->len * sizeof(lgsp_json_member_t *));
    if (sorted == NULL) {
        return lgsp_xml_set(res, LGSP_XML_NOMEM, "out of memory");
    }

    for (i = 0; i < v->len; i++) {
        sorted[i] = &m[i];
    }

    qsort(sorted, v->len, sizeof(lgsp_json_member_t *), lgsp_xml_member_cmp);

    for (i = 1; i < v->len; i++) {
        if (lgsp_xml_member_cmp(&sorted[i - 1], &sorted[i]) == 0) {
            lgsp_xml_set(res, LGSP_XML_INVALID,
                         "two members named \"%.*s\"",
                         (int) sorted[i]->key_len, sorted[i]->key);
            free(sorted);
            return LGSP_XML_INVALID;
        }
    }

    free(sorted);

    return LGSP_XML_OK;
}


/* an element with attributes or children: a JSON object */
static int
lgsp_xml_object(lgsp_xml_json_t *j, lgsp_xml_node_t *e,
    const lgsp_node_t *node, lgsp_json_t *v)
{
    int                  first, rc;
    size_t               groups, base, g, count, key_len, n, k;
    const char          *key, *text;
    lgsp_json_t         *item;
    lgsp_xml_attr_t     *a, *b;
    lgsp_xml_node_t     *c, *head;
    const lgsp_node_t   *sub, *items;
    lgsp_json_member_t  *m;

    lgsp_xml_put(j->out, "{", 1);
    first = 1;
    m = NULL;

    if (v) {
        /* at most a member an attribute, the text, and one a child */
        n = 1 + e->n_children;

        for (a = e->attrs; a; a = a->next) {
            n++;
        }

        m = lgsp_arena_alloc(j->arena, n * sizeof(lgsp_json_member_t));
        if (m == NULL) {
            return LGSP_XML_NOMEM;
        }

        v->type = LGSP_JSON_OBJECT;
        v->u.members = m;
    }

    for (a = e->attrs; a; a = a->next) {
        /* one member per local name: the first attribute of a name */
        for (b = e->attrs; b != a && b->name != a->name; b = b->next) {
            /* void */
        }

        if (b != a) {
            continue;
        }

        if (!first) {
            lgsp_xml_put(j->out, ",", 1);
        }

        first = 0;

        /* "@name" as the schema spells it, else "name", else "@name" */
        j->text.len = 0;
        lgsp_xml_put(&j->text, "@", 1);
        lgsp_sbuf_puts(&j->text, a->name);

        if (j->text.nomem) {
            return LGSP_XML_NOMEM;
        }

        key = j->text.data;
        key_len = j->text.len;
        sub = lgsp_xml_prop(node, &key, &key_len);

        if (sub == NULL) {
            key++;
            key_len--;
            sub = lgsp_xml_prop(node, &key, &key_len);

            if (sub == NULL) {
                key--;
                key_len++;
                sub = lgsp_xml_additional(node);
            }
        }

        lgsp_xml_json_key(j->out, key, key_len);

        if (m && key >= j->text.data && key < j->text.data + j->text.len) {
            /* "@name" or "name" as written in j->text: kept */
            text = key;
            key = lgsp_arena_alloc(j->arena, key_len + 1);
            if (key == NULL) {
                return LGSP_XML_NOMEM;
            }

            memcpy((char *) key, text, key_len);
        }

        rc = lgsp_xml_scalar(j, a->value, a->len,
                             lgsp_xml_node_types(j, sub),
                             lgsp_xml_member(v, m, key, key_len));
        if (rc != LGSP_XML_OK) {
            return rc;
        }
    }

    /* text beside attributes or elements */
    if (e->has_text) {
        if (!first) {
            lgsp_xml_put(j->out, ",", 1);
        }

        first = 0;
        lgsp_xml_json_key(j->out, "#text", 5);
        lgsp_xml_gather_text(&j->text, e);

        text = j->text.nomem ? NULL : lgsp_xml_dom_text(j);
        if (text == NULL) {
            return LGSP_XML_NOMEM;
        }

        rc = lgsp_xml_scalar(j, text, j->text.len, LGSP_T_STRING,
                             lgsp_xml_member(v, m, "#text", 5));
        if (rc != LGSP_XML_OK) {
            return rc;
        }
    }

    base = j->n_heads;

    if (e->children == NULL) {
        lgsp_xml_put(j->out, "}", 1);
        return lgsp_xml_unique(v, j->res);
    }

    if (lgsp_xml_group(j, e, &groups) != 0) {
        return LGSP_XML_NOMEM;
    }

    j->n_heads += groups;

    for (g = 0; g < groups; g++) {
        head = j->heads[base + g];

        count = 0;
        for (c = head; c; c = c->group) {
            count++;
        }

        if (!first) {
            lgsp_xml_put(j->out, ",", 1);
        }

        first = 0;

        sub = lgsp_xml_element_schema(j, node, head->name, &key, &key_len);

        lgsp_xml_json_key(j->out, key, key_len);

        items = NULL;

        if (lgsp_xml_node_types(j, sub) & LGSP_T_ARRAY)
        {
            items = lgsp_xml_items(sub, LGSP_XML_SCHEMA_HOPS);

        } else if (count > 1) {
            /* not an array to the schema: it will say so */
            items = sub;

        } else {
            rc = lgsp_xml_value(j, head, sub,
                                lgsp_xml_member(v, m, key, key_len));
            if (rc != LGSP_XML_OK) {
                return rc;
            }

            continue;
        }

        lgsp_xml_put(j->out, "[", 1);

        item = lgsp_xml_member(v, m, key, key_len);

        if (item) {
            item->type = LGSP_JSON_ARRAY;
            item->len = (uint32_t) count;
            item->u.items = lgsp_arena_alloc(j->arena,
                                             count * sizeof(lgsp_json_t));
            if (item->u.items == NULL) {
                return LGSP_XML_NOMEM;
            }

            item = item->u.items;
        }

        for (c = head, k = 0; c; c = c->group, k++) {
            rc = lgsp_xml_value(j, c, items, item ? &item[k] : NULL);
            if (rc != LGSP_XML_OK) {
                return rc;
            }

            if (c->group) {
                lgsp_xml_put(j->out, ",", 1);
            }
        }

        lgsp_xml_put(j->out, "]", 1);
    }

    j->n_heads = base;
    lgsp_xml_put(j->out, "}", 1);

    return lgsp_xml_unique(v, j->res);
}


/* one element's value: null, an object, or its text typed */
static int
lgsp_xml_value(lgsp_xml_json_t *j, lgsp_xml_node_t *e,
    const lgsp_node_t *node, lgsp_json_t *v)
{
    unsigned     t;
    const char  *text;

    if (e->nil) {
        lgsp_xml_puts(j->out, "null");

        if (v) {
            v->type = LGSP_JSON_NULL;
        }

        return LGSP_XML_OK;
    }

    if (e->attrs || e->children) {
        return lgsp_xml_object(j, e, node, v);
    }

    t = lgsp_xml_node_types(j, node);

    if (e->text == NULL || e->text->next == NULL) {
        /* the text in one piece, as it mostly comes: no copy */
        return lgsp_xml_scalar(j, e->text ? e->text->data : "",
                               e->text ? e->text->len : 0, t, v);
    }

    lgsp_xml_gather_text(&j->text, e);

    text = j->text.nomem ? NULL : lgsp_xml_dom_text(j);
    if (text == NULL) {
        return LGSP_XML_NOMEM;
    }

    return lgsp_xml_scalar(j, text, j->text.len, t, v);
}


/* the JSON made, checked against the schema: the first error named */
static int
lgsp_xml_check(const lgsp_json_t *doc, const lgsp_schema_t *schema,
    lgsp_xml_result_t *res)
{
    int                   valid;
    lgsp_schema_error_t  *e;
    lgsp_schema_errors_t  errors;

    errors.errors = NULL;
    errors.n = 0;
    errors.max = 1;

    valid = lgsp_schema_validate(schema, doc, &errors);

    if (valid == 0) {
        e = errors.n ? &errors.errors[0] : NULL;
        lgsp_xml_set(res, LGSP_XML_INVALID, "%s%s%s",
                     e ? (e->instance_path[0] ? e->instance_path : "/") : "",
                     e ? ": " : "", e ? e->message : "does not match");
    }

    lgsp_schema_errors_free(&errors);

    if (valid < 0) {
        return lgsp_xml_set(res, LGSP_XML_NOMEM, "out of memory");
    }

    return valid ? LGSP_XML_OK : LGSP_XML_INVALID;
}


int
lgsp_xml_to_json(const char *xml, size_t len, const lgsp_xml_read_t *rd,
    lgsp_sbuf_t *out, lgsp_xml_result_t *res)
{
    int                rc;
    lgsp_json_t       *doc;
    lgsp_arena_t       arena;
    lgsp_xml_json_t    j;
    lgsp_xml_node_t   *start;
    lgsp_xml_parse_t   ps;
    xmlParserCtxtPtr   ctxt;
    const lgsp_node_t *root;

    memset(res, 0, sizeof(lgsp_xml_result_t));

    rc = lgsp_xml_precheck(xml, len, rd, res);
    if (rc != LGSP_XML_OK) {
        return rc;
    }

    memset(&ps, 0, sizeof(lgsp_xml_parse_t));

    ctxt = lgsp_xml_parse(xml, len, rd, &ps, res);
    if (ctxt == NULL) {
        lgsp_arena_free(&ps.arena);
        return res->kind;
    }

    memset(&arena, 0, sizeof(lgsp_arena_t));
    doc = NULL;

    rc = lgsp_xml_start(ps.root, rd, res, &start);

    if (rc == LGSP_XML_OK) {
        memset(&j, 0, sizeof(lgsp_xml_json_t));
        j.out = out;
        j.res = res;
        root = NULL;

        if (rd->schema) {
            root = rd->schema->root;
            j.arena = &arena;
            doc = lgsp_arena_alloc(&arena, sizeof(lgsp_json_t));
            rc = doc ? LGSP_XML_OK : LGSP_XML_NOMEM;
        }

        if (rc != LGSP_XML_OK) {
            /* void */

        } else if (start == NULL) {
            /* an empty SOAP Body */
            lgsp_sbuf_puts(out, "{}");

            if (doc) {
                doc->type = LGSP_JSON_OBJECT;
            }

        } else {
            rc = lgsp_xml_value(&j, start, root, doc);
        }

        free(j.text.data);
        free(j.table);
        free(j.heads);

        if (rc == LGSP_XML_OK && (out->nomem || j.text.nomem)) {
            rc = LGSP_XML_NOMEM;
        }

        if (rc == LGSP_XML_NOMEM) {
            lgsp_xml_set(res, rc, "out of memory");
        }

        /* the names in the document are the parser's until it is freed */
        if (rc == LGSP_XML_OK && doc) {
            rc = lgsp_xml_check(doc, rd->schema, res);
        }
    }

    lgsp_xml_parse_free(ctxt);
    lgsp_arena_free(&ps.arena);
    lgsp_arena_free(&arena);

    return rc;
}
