/*
 * libFuzzer target for XML into JSON: the input is a flags byte and an
 * XML text.  Bit 0 unwraps a SOAP envelope, bit 1 types the values with
 * a fixed schema.  Whatever the text, the conversion ends with a kind and
 * a message; JSON it makes without a schema must be strict JSON.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_xml.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static lgsp_schema_t  *fuzz_schema;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    kind, rc;
    char                   err[256];
    json_t                *doc;
    lgsp_sbuf_t            out;
    lgsp_arena_t           arena;
    lgsp_xml_read_t        rd;
    lgsp_xml_result_t      res;
    lgsp_json_options_t    opts;
    lgsp_schema_options_t  sopts;

    if (size < 1) {
        return 0;
    }

    if (fuzz_schema == NULL) {
        memset(&sopts, 0, sizeof(sopts));
        doc = json_loads("{\"type\":\"object\",\"properties\":{"
                         "\"a\":{\"type\":\"array\",\"items\":{"
                         "\"type\":\"integer\"}},\"b\":{\"type\":\"number\"},"
                         "\"c\":{\"type\":\"boolean\"},\"@d\":{\"type\":"
                         "[\"null\",\"integer\"]},\"e\":{\"$ref\":\"#\"}}}",
                         0, NULL);
        fuzz_schema = lgsp_schema_compile_json(doc, NULL, &sopts, err,
                                               sizeof(err));
        json_decref(doc);

        if (fuzz_schema == NULL) {
            abort();
        }
    }

    rd.max_size = 1024 * 1024;
    rd.max_depth = 64;
    rd.unwrap_soap = data[0] & 1;
    rd.schema = (data[0] & 2) ? fuzz_schema : NULL;

    memset(&out, 0, sizeof(out));

    rc = lgsp_xml_to_json((const char *) data + 1, size - 1, &rd, &out,
                          &res);

    if (rc != res.kind || (rc != LGSP_XML_OK && res.message[0] == '\0')) {
        abort();
    }

    if (rc == LGSP_XML_OK && rd.schema == NULL) {
        memset(&arena, 0, sizeof(arena));
        opts.alloc = lgsp_arena_alloc;
        opts.ctx = &arena;
        opts.max_depth = 2 * LGSP_XML_MAX_DEPTH + 2;
        opts.borrow = 1;

        if (lgsp_json_parse_strict(out.data, out.len, &opts, &kind, err,
                                   sizeof(err))
            == NULL)
        {
            abort();
        }

        lgsp_arena_free(&arena);
    }

    lgsp_xml_result_free(&res);
    free(out.data);

    return 0;
}
