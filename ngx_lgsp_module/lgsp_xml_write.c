/*
 * JSON into XML: plain documents, SOAP 1.1/1.2 envelopes and Faults.
 * Written as text straight from the document, escaped; a name or a
 * character XML cannot carry is refused with the JSON path that holds it.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_xml.h"


typedef struct {
    lgsp_sbuf_t        *out;
    lgsp_xml_result_t  *res;
    lgsp_sbuf_t         path;       /* JSON Pointer of the value written */
    size_t              depth;
} lgsp_xml_writer_t;


static int lgsp_xml_write_value(lgsp_xml_writer_t *w, const char *name,
    size_t name_len, const lgsp_json_t *v);
static int lgsp_xml_write_content(lgsp_xml_writer_t *w,
    const lgsp_json_t *obj);


void
lgsp_xml_result_free(lgsp_xml_result_t *res)
{
    free(res->fault_code);
    free(res->fault_string);
    res->fault_code = NULL;
    res->fault_string = NULL;
}


static int
lgsp_xml_fail(lgsp_xml_writer_t *w, int kind, const char *fmt, ...)
{
    int      n;
    va_list  args;

    n = w->path.len ? snprintf(w->res->message, sizeof(w->res->message),
                               "%s: ", w->path.data)
                    : 0;

    if (n > 0 && (size_t) n < sizeof(w->res->message)) {
        va_start(args, fmt);
        vsnprintf(w->res->message + n, sizeof(w->res->message) - n, fmt,
                  args);
        va_end(args);
    }

    w->res->kind = kind;
    return kind;
}


/*
 * Text or an attribute value, escaped.  XML 1.0 cannot carry most C0
 * controls, nor U+FFFE and U+FFFF: those are refused.  Carriage returns
 * and, in attributes, tabs and line feeds are written as references so
 * that a reader's normalisation keeps them.
 */
static int
lgsp_xml_write_text(lgsp_xml_writer_t *w, const char *s, size_t len,
    int attr)
{
    size_t          i, from;
    const char     *ref;
    unsigned char   c;

    from = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        switch (c) {
        case '&':
            ref = "&amp;";
            break;
        case '<':
            ref = "&lt;";
            break;
        case '>':
            ref = "&gt;";
            break;
        case '"':
            ref = attr ? "&quot;" : NULL;
            break;
        case '\r':
            ref = "&#13;";
            break;
        case '\n':
            ref = attr ? "&#10;" : NULL;
            break;
        case '\t':
            ref = attr ? "&#9;" : NULL;
            break;
        case 0xef:
            if (i + 2 < len && (unsigned char) s[i + 1] == 0xbf
                && ((unsigned char) s[i + 2] & 0xfe) == 0xbe)
            {
                return lgsp_xml_fail(w, LGSP_XML_UNCONVERTIBLE,
                                     "U+FFFE and U+FFFF cannot be carried"
                                     " in XML");
            }
            ref = NULL;
            break;
        default:
            if (c < 0x20) {
                return lgsp_xml_fail(w, LGSP_XML_UNCONVERTIBLE,
                                     "the control character U+%04X cannot"
                                     " be carried in XML", c);
            }
            ref = NULL;
        }

        if (ref) {
            lgsp_xml_put(w->out, s + from, i - from);
            lgsp_sbuf_puts(w->out, ref);
            from = i + 1;
        }
    }

    lgsp_xml_put(w->out, s + from, len - from);

    return LGSP_XML_OK;
}


/* XML 1.0 (fifth edition) NameStartChar, without ":" */
static int
lgsp_xml_is_name_start(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6)
           || (c >= 0xf8 && c <= 0x2ff) || (c >= 0x370 && c <= 0x37d)
           || (c >= 0x37f && c <= 0x1fff) || c == 0x200c || c == 0x200d
           || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef)
           || (c >= 0x3001 && c <= 0xd7ff) || (c >= 0xf900 && c <= 0xfdcf)
           || (c >= 0xfdf0 && c <= 0xfffd) || (c >= 0x10000 && c <= 0xeffff);
}


/*
 * An XML name without a prefix (the text is UTF-8: the JSON parser
 * checked it): a NameStartChar, then NameChars.
 */
static int
lgsp_xml_is_name(const char *s, size_t len)
{
    size_t          i, n;
    uint32_t        c;
    unsigned char   b;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i += n) {
        b = (unsigned char) s[i];

        if (b < 0x80) {
            c = b;
            n = 1;

        } else if (b < 0xe0) {
            c = b & 0x1f;
            n = 2;

        } else if (b < 0xf0) {
            c = b & 0x0f;
            n = 3;

        } else {
            c = b & 0x07;
            n = 4;
        }

        if (i + n > len) {
            return 0;
        }

        for (b = 1; b < n; b++) {
            c = (c << 6) | ((unsigned char) s[i + b] & 0x3f);
        }

        if (lgsp_xml_is_name_start(c)) {
            continue;
        }

        if (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '-'
                      || c == 0xb7 || (c >= 0x300 && c <= 0x36f)
                      || c == 0x203f || c == 0x2040))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


static void
lgsp_xml_path_push(lgsp_xml_writer_t *w, const char *seg, size_t len)
{
    size_t  i;

    lgsp_xml_put(&w->path, "/", 1);

    for (i = 0; i < len; i++) {
        if (seg[i] == '~') {
            lgsp_xml_put(&w->path, "~0", 2);

        } else if (seg[i] == '/') {
            lgsp_xml_put(&w->path, "~1", 2);

        } else {
            lgsp_xml_put(&w->path, &seg[i], 1);
        }
    }
}


static void
lgsp_xml_path_pop(lgsp_xml_writer_t *w, size_t len)
{
    w->path.len = len;

    if (w->path.data) {
        w->path.data[len] = '\0';
    }
}


/* a number as the shortest text that reads back as the same double */
static void
lgsp_xml_write_number(lgsp_xml_writer_t *w, const lgsp_json_t *v)
{
    int   prec;
    char  buf[40];

    if (v->type == LGSP_JSON_INTEGER) {
        snprintf(buf, sizeof(buf), "%lld", (long long) v->u.integer);
        lgsp_sbuf_puts(w->out, buf);
        return;
    }

    for (prec = 15; prec < 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v->u.real);
        if (strtod(buf, NULL) == v->u.real) {
            break;
        }
    }

    snprintf(buf, sizeof(buf), "%.*g", prec, v->u.real);
    lgsp_sbuf_puts(w->out, buf);
}


static int
lgsp_xml_write_scalar(lgsp_xml_writer_t *w, const lgsp_json_t *v, int attr)
{
    switch (v->type) {
    case LGSP_JSON_TRUE:
        lgsp_xml_puts(w->out, "true");
        return LGSP_XML_OK;
    case LGSP_JSON_FALSE:
        lgsp_xml_puts(w->out, "false");
        return LGSP_XML_OK;
    case LGSP_JSON_INTEGER:
    case LGSP_JSON_REAL:
        lgsp_xml_write_number(w, v);
        return LGSP_XML_OK;
    default: /* LGSP_JSON_STRING, or LGSP_JSON_DECIMAL: its exact text */
        return lgsp_xml_write_text(w, v->u.str, v->len, attr);
    }
}


/* "@name" members with scalar values, as attributes of the open tag */
static int
lgsp_xml_write_attributes(lgsp_xml_writer_t *w, const lgsp_json_t *obj)
{
    int                  rc;
    size_t               i, at;
    lgsp_json_member_t  *m;

    for (i = 0; i < obj->len; i++) {
        m = &obj->u.members[i];

        if (m->key_len == 0 || m->key[0] != '@') {
            continue;
        }

        at = w->path.len;
        lgsp_xml_path_push(w, m->key, m->key_len);

        if (!lgsp_xml_is_name(m->key + 1, m->key_len - 1)
            || (m->key_len == 6 && memcmp(m->key, "@xmlns", 6) == 0))
        {
            return lgsp_xml_fail(w, LGSP_XML_UNCONVERTIBLE,
                                 "\"%.*s\" is not an XML attribute name",
                                 (int) (m->key_len - 1), m->key + 1);
        }

        if (m->value.type == LGSP_JSON_NULL
            || m->value.type == LGSP_JSON_ARRAY
            || m->value.type == LGSP_JSON_OBJECT)
        {
            return lgsp_xml_fail(w, LGSP_XML_UNCONVERTIBLE,
                                 "an attribute takes a string, a number or"
                                 " a boolean");
        }

        lgsp_xml_put(w->out, " ", 1);
        lgsp_xml_put(w->out, m->key + 1, m->key_len - 1);
        lgsp_xml_put(w->out, "=\"", 2);

        rc = lgsp_xml_write_scalar(w, &m->value, 1);
        if (rc != LGSP_XML_OK) {
            return rc;
        }

        lgsp_xml_put(w->out, "\"", 1);
        lgsp_xml_path_pop(w, at);
    }

    return LGSP_XML_OK;
}


/* the members of an object as attributes (already written), text and
 * child elements */
static int
lgsp_xml_write_content(lgsp_xml_writer_t *w, const lgsp_json_t *obj)
{
    int                  rc;
    size_t               i, j, at;
    lgsp_json_t         *v;
    lgsp_json_member_t  *m;

    if (++w->depth > LGSP_XML_MAX_DEPTH) {
        return lgsp_xml_fail(w, LGSP_XML_TOO_DEEP,
                             "nested deeper than %d levels",
                             LGSP_XML_MAX_DEPTH);
    }

    for (i = 0; i < obj->len; i++) {
        m = &obj->u.members[i];

        if (m->key_len > 0 && m->key[0] == '@') {
            continue;
        }

        at = w->path.len;
        lgsp_xml_path_push(w, m->key, m->key_len);

        if (m->key_len == 5 && memcmp(m->key, "#text", 5) == 0) {
            if (m->value.type == LGSP_JSON_NULL
                || m->value.type == LGSP_JSON_ARRAY
                || m->value.type == LGSP_JSON_OBJECT)
            {
                return lgsp_xml_fail(w, LGSP_XML_UNCONVERTIBLE,
                                     "text takes a string, a number or a"
                                     " boolean");
            }

            rc = lgsp_xml_write_scalar(w, &m->value, 0);

        } else if (m->value.type == LGSP_JSON_ARRAY) {
            rc = LGSP_XML_OK;

            for (j = 0; rc == LGSP_XML_OK && j < m->value.len; j++) {
                v = &m->value.u.items[j];

                if (v->type == LGSP_JSON_ARRAY) {
                    return lgsp_xml_fail(w, LGSP_XML_UNCONVERTIBLE,
                                         "an array in an array has no XML"
                                         " form");
                }

                rc = lgsp_xml_write_value(w, m->key, m->key_len, v);
            }

        } else {
            rc = lgsp_xml_write_value(w, m->key, m->key_len, &m->value);
        }

        if (rc != LGSP_XML_OK) {
            return rc;
        }

        lgsp_xml_path_pop(w, at);
    }

    w->depth--;

    return w->out->nomem || w->path.nomem ? LGSP_XML_NOMEM : LGSP_XML_OK;
}


/* one element: <name>value</name> */
static int
lgsp_xml_write_value(lgsp_xml_writer_t *w, const char *name,
    size_t name_len, const lgsp_json_t *v)
{
    int  rc;

    if (!lgsp_xml_is_name(name, name_len)) {
        return lgsp_xml_fail(w, LGSP_XML_UNCONVERTIBLE,
                             "\"%.*s\" is not an XML element name",
                             (int) name_len, name);
    }

    lgsp_xml_put(w->out, "<", 1);
    lgsp_xml_put(w->out, name, name_len);

    switch (v->type) {

    case LGSP_JSON_NULL:
        lgsp_xml_puts(w->out, " xsi:nil=\"true\"/>");
        return LGSP_XML_OK;

    case LGSP_JSON_OBJECT:
        rc = lgsp_xml_write_attributes(w, v);
        if (rc != LGSP_XML_OK) {
            return rc;
        }

        lgsp_xml_put(w->out, ">", 1);

        rc = lgsp_xml_write_content(w, v);
        if (rc != LGSP_XML_OK) {
            return rc;
        }

        break;

    default:
        lgsp_xml_put(w->out, ">", 1);

        rc = lgsp_xml_write_scalar(w, v, 0);
        if (rc != LGSP_XML_OK) {
            return rc;
        }
    }

    lgsp_xml_put(w->out, "</", 2);
    lgsp_xml_put(w->out, name, name_len);
    lgsp_xml_put(w->out, ">", 1);

    return LGSP_XML_OK;
}


static void
lgsp_xml_open_envelope(lgsp_sbuf_t *out, int soap)
{
    lgsp_sbuf_puts(out, "<soap:Envelope xmlns:soap=\"");
    lgsp_sbuf_puts(out, soap == 12 ? LGSP_SOAP12_NS : LGSP_SOAP11_NS);
    lgsp_sbuf_puts(out, "\"><soap:Body>");
}


int
lgsp_xml_from_json(const lgsp_json_t *json, const lgsp_xml_wrap_t *wrap,
    lgsp_sbuf_t *out, lgsp_xml_result_t *res)
{
    int                rc;
    lgsp_xml_writer_t  w;

    memset(res, 0, sizeof(lgsp_xml_result_t));
    memset(&w, 0, sizeof(lgsp_xml_writer_t));
    w.out = out;
    w.res = res;

    if (json->type != LGSP_JSON_OBJECT) {
        return lgsp_xml_fail(&w, LGSP_XML_UNCONVERTIBLE,
                             "the document must be a JSON object, whose"
                             " members become the elements");
    }

    if (!lgsp_xml_is_name(wrap->name, wrap->name_len)) {
        return lgsp_xml_fail(&w, LGSP_XML_UNCONVERTIBLE,
                             "\"%.*s\" is not an XML element name",
                             (int) wrap->name_len, wrap->name);
    }

    lgsp_sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");

    if (wrap->soap) {
        lgsp_xml_open_envelope(out, wrap->soap);
    }

    lgsp_xml_put(out, "<", 1);
    lgsp_xml_put(out, wrap->name, wrap->name_len);

    if (wrap->ns_len) {
        /* the default namespace: the children are qualified too */
        lgsp_sbuf_puts(out, " xmlns=\"");
        rc = lgsp_xml_write_text(&w, wrap->ns, wrap->ns_len, 1);
        if (rc != LGSP_XML_OK) {
            goto done;
        }
        lgsp_xml_put(out, "\"", 1);
    }

    lgsp_sbuf_puts(out, " xmlns:xsi=\"" LGSP_XSI_NS "\"");

    rc = lgsp_xml_write_attributes(&w, json);
    if (rc != LGSP_XML_OK) {
        goto done;
    }

    lgsp_xml_put(out, ">", 1);

    rc = lgsp_xml_write_content(&w, json);
    if (rc != LGSP_XML_OK) {
        goto done;
    }

    lgsp_xml_put(out, "</", 2);
    lgsp_xml_put(out, wrap->name, wrap->name_len);
    lgsp_xml_put(out, ">", 1);

    if (wrap->soap) {
        lgsp_sbuf_puts(out, "</soap:Body></soap:Envelope>");
    }

    rc = out->nomem ? LGSP_XML_NOMEM : LGSP_XML_OK;

done:

    free(w.path.data);
    res->kind = rc;
    return rc;
}


int
lgsp_xml_fault(int soap, int client, const lgsp_json_t *problem,
    lgsp_sbuf_t *out, lgsp_xml_result_t *res)
{
    int                rc;
    const char        *code;
    lgsp_json_t       *reason;
    lgsp_xml_writer_t  w;

    memset(res, 0, sizeof(lgsp_xml_result_t));
    memset(&w, 0, sizeof(lgsp_xml_writer_t));
    w.out = out;
    w.res = res;

    if (problem->type != LGSP_JSON_OBJECT) {
        return lgsp_xml_fail(&w, LGSP_XML_UNCONVERTIBLE,
                             "a problem is a JSON object");
    }

    reason = lgsp_json_get(problem, "detail", 6);
    if (reason == NULL || reason->type != LGSP_JSON_STRING) {
        reason = lgsp_json_get(problem, "title", 5);
    }

    lgsp_sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    lgsp_xml_open_envelope(out, soap);

    if (soap == 12) {
        code = client ? "soap:Sender" : "soap:Receiver";
        lgsp_sbuf_puts(out, "<soap:Fault><soap:Code><soap:Value>");
        lgsp_sbuf_puts(out, code);
        lgsp_sbuf_puts(out, "</soap:Value></soap:Code><soap:Reason>"
                       "<soap:Text xml:lang=\"en\">");

    } else {
        code = client ? "soap:Client" : "soap:Server";
        lgsp_sbuf_puts(out, "<soap:Fault><faultcode>");
        lgsp_sbuf_puts(out, code);
        lgsp_sbuf_puts(out, "</faultcode><faultstring>");
    }

    if (reason && reason->type == LGSP_JSON_STRING) {
        rc = lgsp_xml_write_text(&w, reason->u.str, reason->len, 0);
        if (rc != LGSP_XML_OK) {
            goto done;
        }
    }

    lgsp_sbuf_puts(out, soap == 12 ? "</soap:Text></soap:Reason><soap:Detail>"
                                   : "</faultstring><detail>");

    lgsp_sbuf_puts(out, "<problem xmlns=\"urn:lgsp:problem\" xmlns:xsi=\""
                   LGSP_XSI_NS "\">");

    rc = lgsp_xml_write_content(&w, problem);
    if (rc != LGSP_XML_OK) {
        goto done;
    }

    lgsp_sbuf_puts(out, "</problem>");
    lgsp_sbuf_puts(out, soap == 12 ? "</soap:Detail></soap:Fault>"
                                   : "</detail></soap:Fault>");
    lgsp_sbuf_puts(out, "</soap:Body></soap:Envelope>");

    rc = out->nomem ? LGSP_XML_NOMEM : LGSP_XML_OK;

done:

    free(w.path.data);
    res->kind = rc;
    return rc;
}
