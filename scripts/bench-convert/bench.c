/*
 * Conversion alone, lgsp_xml: a JSON request into a SOAP 1.1 envelope
 * (parsed, then written) and a SOAP answer into JSON, without and with a
 * schema typing it, each in a loop for SECONDS; prints "CASE OPS_PER_S".
 *
 *   bench SECONDS REQUEST.json ANSWER.xml ANSWER.schema.json
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    const char            *names[3] = { "json_to_soap", "soap_to_json",
                                        "soap_to_json_typed" };

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

    for (c = 0; c < 3; c++) {
        if ((c == 0 ? json_to_soap(text[0], len[0], &out)
                    : soap_to_json(text[1], len[1], c == 2 ? schema : NULL,
                                   &out))
            != LGSP_XML_OK)
        {
            fprintf(stderr, "%s failed\n", names[c]);
            return 1;
        }

        n = 0;
        start = now();

        do {
            for (k = 0; k < 100; k++) {
                if (c == 0) {
                    json_to_soap(text[0], len[0], &out);

                } else {
                    soap_to_json(text[1], len[1], c == 2 ? schema : NULL,
                                 &out);
                }
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
