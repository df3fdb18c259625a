/*
 * libFuzzer target for the JSON Schema core: the input is a flags byte,
 * a schema, a NUL byte and an instance.  The schema is compiled (and so
 * checked against its meta-schema), the instance parsed strictly and
 * validated with and without error collection; both answers must agree.
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
    json_t                *schema_json, *instance;
    const char            *text, *nul;
    lgsp_schema_t         *schema;
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

    /* schemas come from operators; still, keep the nesting sane */
    schema_json = lgsp_json_parse_strict(text, nul - text, 64, &kind, err,
                                         sizeof(err));
    if (schema_json == NULL) {
        return 0;
    }

    schema = lgsp_schema_compile_json(schema_json, "urn:fuzz", &opts, err,
                                      sizeof(err));
    json_decref(schema_json);

    if (schema == NULL) {
        return 0;
    }

    if (nul < text + rest) {
        instance = lgsp_json_parse_strict(nul + 1, text + rest - nul - 1, 64,
                                          &kind, err, sizeof(err));
    } else {
        instance = json_null();
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
        json_decref(instance);
    }

    lgsp_schema_free(schema);

    return 0;
}
