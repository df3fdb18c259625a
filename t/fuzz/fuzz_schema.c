/*
 * libFuzzer target for the JSON Schema core: the input is a flags byte,
 * a schema, a NUL byte and an instance.  The schema is read by jansson
 * and compiled (and so checked against its meta-schema), the instance
 * parsed strictly into an arena (flags bit 2: pointing into the input)
 * and validated with and without error collection, each within the
 * default budget; both answers must agree when neither ran out of it.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_schema.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    kind, quick, full;
    char                   err[512];
    size_t                 rest;
    json_t                *schema_json;
    const char            *text, *nul;
    lgsp_json_t           *instance, null;
    lgsp_arena_t           arena;
    lgsp_schema_t         *schema;
    lgsp_json_options_t    parse;
    lgsp_schema_errors_t   errors;
    lgsp_schema_options_t  opts;

    if (size < 2) {
        return 0;
    }

    memset(&opts, 0, sizeof(opts));
    opts.format_assert = data[0] & 1;
    opts.dialect = (data[0] & 2) ? 7 : 2020;

    text = (const char *) data + 1;
    rest = size - 1;

    nul = memchr(text, '\0', rest);
    if (nul == NULL) {
        nul = text + rest;
    }

    memset(&arena, 0, sizeof(lgsp_arena_t));
    parse.alloc = lgsp_arena_alloc;
    parse.ctx = &arena;
    parse.max_depth = 64;
    parse.borrow = data[0] & 4;

    /* schemas come from operators; still, keep the nesting sane */
    if (lgsp_json_parse_strict(text, nul - text, &parse, &kind, err,
                               sizeof(err))
        == NULL)
    {
        lgsp_arena_free(&arena);
        return 0;
    }

    schema_json = json_loadb(text, nul - text,
                             JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (schema_json == NULL) {
        lgsp_arena_free(&arena);
        return 0;
    }

    schema = lgsp_schema_compile_json(schema_json, "urn:fuzz", &opts, err,
                                      sizeof(err));
    json_decref(schema_json);

    if (schema == NULL) {
        lgsp_arena_free(&arena);
        return 0;
    }

    if (nul < text + rest) {
        instance = lgsp_json_parse_strict(nul + 1, text + rest - nul - 1,
                                          &parse, &kind, err, sizeof(err));
    } else {
        memset(&null, 0, sizeof(lgsp_json_t));
        null.type = LGSP_JSON_NULL;
        instance = &null;
    }

    if (instance != NULL) {
        quick = lgsp_schema_validate(schema, instance, NULL);

        memset(&errors, 0, sizeof(errors));
        errors.max = 3;
        full = lgsp_schema_validate(schema, instance, &errors);

        if (quick >= 0 && full >= 0
            && (quick != full || (full == 0 && errors.n == 0)))
        {
            abort();
        }

        lgsp_schema_errors_free(&errors);
    }

    lgsp_arena_free(&arena);

    lgsp_schema_free(schema);

    return 0;
}
