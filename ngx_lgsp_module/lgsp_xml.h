/*
 * Format conversion between JSON and XML or SOAP 1.1/1.2 envelopes, for
 * systems that speak one to systems that speak the other.  nginx-free:
 * libxml2 reads XML with the network, DTDs, entity substitution and
 * XInclude off; a document type declaration is refused outright, so no
 * entity is ever declared (no XXE, no entity expansion), and the nesting
 * and the size are bounded.  Only UTF-8 is read.
 */

#ifndef LGSP_XML_H
#define LGSP_XML_H

#include <stddef.h>
#include <string.h>

#include "lgsp_json.h"
#include "lgsp_sbuf.h"
#include "lgsp_schema.h"


#define LGSP_SOAP11_NS  "http://schemas.xmlsoap.org/soap/envelope/"
#define LGSP_SOAP12_NS  "http://www.w3.org/2003/05/soap-envelope"
#define LGSP_XSI_NS     "http://www.w3.org/2001/XMLSchema-instance"

/*
 * How libxml2 reads (where libxml/parser.h is included): no network, and
 * none of XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_XINCLUDE; the
 * encoding is checked before, so libxml2 never switches to another
 */
#define LGSP_XML_PARSE_OPTIONS                                              \
    (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC             \
     | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* the deepest element nesting read, and JSON nesting written */
#define LGSP_XML_MAX_DEPTH  128


/* what became of a conversion */
enum {
    LGSP_XML_OK = 0,
    LGSP_XML_NOMEM,
    LGSP_XML_MALFORMED,     /* not well-formed XML */
    LGSP_XML_REFUSED,       /* a DOCTYPE, or an encoding other than UTF-8 */
    LGSP_XML_TOO_DEEP,
    LGSP_XML_TOO_LARGE,
    LGSP_XML_NOT_SOAP,      /* unwrap asked and no SOAP envelope found */
    LGSP_XML_FAULT,         /* the envelope carries a SOAP Fault */
    LGSP_XML_INVALID,       /* the JSON made does not match the schema */
    LGSP_XML_UNCONVERTIBLE  /* JSON that XML cannot carry */
};


typedef struct {
    int          kind;              /* LGSP_XML_OK ... */
    char         message[320];      /* why, for a problem's detail */
    int          soap;              /* 11 or 12: the envelope read */
    /* a Fault's code and reason (1.1: faultcode and faultstring; 1.2:
     * Code/Value and Reason/Text), malloc()ed; lgsp_xml_result_free() */
    char        *fault_code;
    char        *fault_string;
} lgsp_xml_result_t;


/* where JSON goes in XML */
typedef struct {
    int          soap;              /* 0: a plain document; 11 or 12 */
    const char  *name;              /* the root or operation element */
    size_t       name_len;
    const char  *ns;                /* its namespace, the children's too */
    size_t       ns_len;            /* 0: none */
} lgsp_xml_wrap_t;


typedef struct {
    size_t               max_size;  /* bytes of XML */
    size_t               max_depth; /* element nesting, at most the above */
    int                  unwrap_soap;
    /* NULL: elements become members, every value a string */
    const lgsp_schema_t *schema;
} lgsp_xml_read_t;


/*
 * A JSON object as the content of wrap's element: members become child
 * elements in order, arrays repeated elements, null an element with
 * xsi:nil="true", "@name" members attributes and "#text" text.  Appends
 * to out; LGSP_XML_OK, or the kind with res->message naming the JSON
 * path.
 */
int lgsp_xml_from_json(const lgsp_json_t *json, const lgsp_xml_wrap_t *wrap,
    lgsp_sbuf_t *out, lgsp_xml_result_t *res);

/*
 * An XML document (with unwrap_soap: the first child of a SOAP Body) as
 * JSON, appended to out: the root's content is the JSON value; elements
 * become members, repeated elements arrays, attributes "@name" members,
 * text "#text" beside attributes or elements.  With a schema, the schema
 * decides types, arrays and names, and the JSON made must match it.
 */
int lgsp_xml_to_json(const char *xml, size_t len, const lgsp_xml_read_t *rd,
    lgsp_sbuf_t *out, lgsp_xml_result_t *res);

/*
 * A SOAP Fault envelope (soap 11 or 12) whose reason is the problem's
 * "detail" (or "title") and whose detail carries the whole problem
 * object, transaction id ("instance") included; client: the caller's
 * fault (1.1 Client, 1.2 Sender), else the server's.
 */
int lgsp_xml_fault(int soap, int client, const lgsp_json_t *problem,
    lgsp_sbuf_t *out, lgsp_xml_result_t *res);

void lgsp_xml_result_free(lgsp_xml_result_t *res);


/*
 * lgsp_sbuf_put() inline while the buffer has room: the converters append
 * a few bytes at a time, and a call each cost more than the copy.
 */
static inline void
lgsp_xml_put(lgsp_sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n < b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }

    lgsp_sbuf_put(b, s, n);
}


#define lgsp_xml_puts(b, s)  lgsp_xml_put(b, s, sizeof(s) - 1)


#endif /* LGSP_XML_H */
