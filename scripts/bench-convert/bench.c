/*
 * Conversion alone, lgsp_xml: a JSON request into a SOAP 1.1 envelope
 * (parsed, then written) and a SOAP answer into JSON, without and with a
 * schema typing it, each in a loop for SECONDS; prints "CASE OPS_PER_S".
 * libxml2_read is libxml2 alone reading the answer as lgsp_xml has it
 * read (same options, SAX events that do nothing): the floor under any
 * conversion of XML with libxml2.
 *
 *   bench SECONDS REQUEST.json ANSWER.xml ANSWER.schema.json
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "lgsp_xml.h"


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static char *
slurp(const char *path, size_t *len)
{
    long   size;
    FILE  *f;
    char  *text;

    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
        perror(path);
        exit(1);
    }

    rewind(f);
    text = malloc(size + 1);

    if (text == NULL || fread(text, 1, size, f) != (size_t) size) {
        perror(path);
        exit(1);
    }

    fclose(f);
    *len = size;

    return text;
}


/* one conversion: 0 when it went as it should */
static int
json_to_soap(const char *json, size_t len, lgsp_sbuf_t *out)
{
    int                  kind, rc;
    char                 err[256];
    lgsp_json_t         *doc;
    lgsp_arena_t         arena;
    lgsp_xml_wrap_t      wrap;
    lgsp_xml_result_t    res;
    lgsp_json_options_t  opts;

    memset(&arena, 0, sizeof(arena));
    opts.alloc = lgsp_arena_alloc;
    opts.ctx = &arena;
    opts.max_depth = LGSP_XML_MAX_DEPTH;
    opts.borrow = 1;

    doc = lgsp_json_parse_strict(json, len, &opts, &kind, err, sizeof(err));

    wrap.soap = 11;
    wrap.name = "TraCuu";
    wrap.name_len = 6;
    wrap.ns = "urn:lgsp:test:hotich";
    wrap.ns_len = 20;

    out->len = 0;
    rc = doc ? lgsp_xml_from_json(doc, &wrap, out, &res) : -1;
    lgsp_arena_free(&arena);

    return rc;
}


static int
soap_to_json(const char *xml, size_t len, const lgsp_schema_t *schema,
    lgsp_sbuf_t *out)
{
    lgsp_xml_read_t    rd;
    lgsp_xml_result_t  res;

    rd.max_size = 8 * 1024 * 1024;
    rd.max_depth = LGSP_XML_MAX_DEPTH;
    rd.unwrap_soap = 1;
    rd.schema = schema;

    out->len = 0;

    return lgsp_xml_to_json(xml, len, &rd, out, &res);
}


static void
libxml2_on_start(void *data, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
}


static void
libxml2_on_end(void *data, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
}


static void
libxml2_on_text(void *data, const xmlChar *ch, int len)
{
}


static int
libxml2_read(const char *xml, size_t len)
{
    int                well_formed;
    xmlSAXHandler     *sax;
    xmlParserCtxtPtr   ctxt;

    ctxt = xmlCreateMemoryParserCtxt(xml, (int) len);
    if (ctxt == NULL) {
        return -1;
    }

    xmlCtxtUseOptions(ctxt, LGSP_XML_PARSE_OPTIONS);

    sax = ctxt->sax;
    memset(sax, 0, sizeof(xmlSAXHandler));
    sax->initialized = XML_SAX2_MAGIC;
    sax->startElementNs = libxml2_on_start;
    sax->endElementNs = libxml2_on_end;
    sax->characters = libxml2_on_text;

    xmlParseDocument(ctxt);
    well_formed = ctxt->wellFormed;
    xmlFreeParserCtxt(ctxt);

    return well_formed ? LGSP_XML_OK : LGSP_XML_MALFORMED;
}


/* case c once: 0 when it went as it should */
static int
run(int c, char **text, size_t *len, const lgsp_schema_t *schema,
    lgsp_sbuf_t *out)
{
    switch (c) {

    case 0:
        return json_to_soap(text[0], len[0], out);

    case 1:
        return soap_to_json(text[1], len[1], NULL, out);

    case 2:
        return soap_to_json(text[1], len[1], schema, out);

    default:
        return libxml2_read(text[1], len[1]);
    }
}


int
main(int argc, char **argv)
{
    int                    c;
    char                  *text[2], err[256];
    size_t                 len[2];
    double                 seconds, start, elapsed;
    lgsp_sbuf_t            out;
    unsigned long          n, k;
    lgsp_schema_t         *schema;
    lgsp_schema_options_t  opts;
    const char            *names[4] = { "json_to_soap", "soap_to_json",
                                        "soap_to_json_typed",
                                        "libxml2_read" };

    if (argc != 5) {
        fprintf(stderr, "usage: %s SECONDS REQUEST.json ANSWER.xml"
                " ANSWER.schema.json\n", argv[0]);
        return 2;
    }

    seconds = atof(argv[1]);
    text[0] = slurp(argv[2], &len[0]);
    text[1] = slurp(argv[3], &len[1]);

    memset(&opts, 0, sizeof(opts));
    schema = lgsp_schema_compile_file(argv[4], &opts, err, sizeof(err));
    if (schema == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    memset(&out, 0, sizeof(out));
    xmlInitParser();

    for (c = 0; c < 4; c++) {
        if (run(c, text, len, schema, &out) != LGSP_XML_OK) {
            fprintf(stderr, "%s failed\n", names[c]);
            return 1;
        }

        n = 0;
        start = now();

        do {
            for (k = 0; k < 100; k++) {
                run(c, text, len, schema, &out);
            }

            n += k;
            elapsed = now() - start;

        } while (elapsed < seconds);

        printf("%s %.0f\n", names[c], n / elapsed);
    }

    free(out.data);
    lgsp_schema_free(schema);

    return 0;
}
