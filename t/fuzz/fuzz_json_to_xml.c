/*
 * libFuzzer target for JSON into XML: the input is a flags byte and a
 * JSON text.  Bits 0-1 choose plain XML, SOAP 1.1 or SOAP 1.2.  Any XML
 * made must read back (lgsp_xml_to_json) without an error other than
 * nesting, and a problem object must make a Fault that reads back too.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_xml.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fuzz_read_back(lgsp_sbuf_t *xml, int unwrap, int fault)
{
    int                rc;
    lgsp_sbuf_t        out;
    lgsp_xml_read_t    rd;
    lgsp_xml_result_t  res;

    rd.max_size = (size_t) -1;
    rd.max_depth = LGSP_XML_MAX_DEPTH;
    rd.unwrap_soap = unwrap;
    rd.schema = NULL;

    memset(&out, 0, sizeof(out));

    rc = lgsp_xml_to_json(xml->data, xml->len, &rd, &out, &res);

    if (rc != (fault ? LGSP_XML_FAULT : LGSP_XML_OK)
        && rc != LGSP_XML_TOO_DEEP)
    {
        abort();
    }

    lgsp_xml_result_free(&res);
    free(out.data);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  kind, soap;
    char                 err[256];
    lgsp_json_t         *json;
    lgsp_sbuf_t          xml;
    lgsp_arena_t         arena;
    lgsp_xml_wrap_t      wrap;
    lgsp_xml_result_t    res;
    lgsp_json_options_t  opts;

    if (size < 1) {
        return 0;
    }

    soap = (data[0] & 3) == 1 ? 11 : (data[0] & 3) == 2 ? 12 : 0;

    memset(&arena, 0, sizeof(arena));
    opts.alloc = lgsp_arena_alloc;
    opts.ctx = &arena;
    opts.max_depth = 512;
    opts.borrow = 1;

    json = lgsp_json_parse_strict((const char *) data + 1, size - 1, &opts,
                                  &kind, err, sizeof(err));

    if (json == NULL) {
        lgsp_arena_free(&arena);
        return 0;
    }

    wrap.soap = soap;
    wrap.name = "Op";
    wrap.name_len = 2;
    wrap.ns = "urn:fuzz&\"<";
    wrap.ns_len = 11;

    memset(&xml, 0, sizeof(xml));

    if (lgsp_xml_from_json(json, &wrap, &xml, &res) == LGSP_XML_OK) {
        fuzz_read_back(&xml, soap != 0, 0);
    }

    free(xml.data);
    memset(&xml, 0, sizeof(xml));

    if (lgsp_xml_fault(soap ? soap : 11, data[0] & 4, json, &xml, &res)
        == LGSP_XML_OK)
    {
        fuzz_read_back(&xml, 1, 1);
    }

    free(xml.data);
    lgsp_arena_free(&arena);

    return 0;
}
