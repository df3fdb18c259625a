/*
 * The official meta-schemas of draft 2020-12 (the dialect schema and its
 * seven vocabulary schemas) and of draft-07, written out from the
 * specifications so that no network or file is needed to check a schema.
 */

#include <string.h>

#include "lgsp_schema_int.h"


#define LGSP_2020       "https://json-schema.org/draft/2020-12/"
#define LGSP_2020_HEAD(name, vocab)                                          \
    "{\"$schema\": \"" LGSP_2020 "schema\","                                 \
    " \"$id\": \"" LGSP_2020 name "\","                                      \
    " \"$vocabulary\": {\"" LGSP_2020 "vocab/" vocab "\": true},"            \
    " \"$dynamicAnchor\": \"meta\","                                         \
    " \"type\": [\"object\", \"boolean\"],"
#define LGSP_META       "{\"$dynamicRef\": \"#meta\"}"
#define LGSP_META_MAP   "{\"type\": \"object\","                             \
                        " \"additionalProperties\": " LGSP_META ","          \
                        " \"default\": {}}"


typedef struct {
    const char  *uri;
    const char  *text;
} lgsp_builtin_t;


static const char  lgsp_meta_2020_schema[] =
    "{\"$schema\": \"" LGSP_2020 "schema\","
    " \"$id\": \"" LGSP_2020 "schema\","
    " \"$vocabulary\": {"
    "  \"" LGSP_2020 "vocab/core\": true,"
    "  \"" LGSP_2020 "vocab/applicator\": true,"
    "  \"" LGSP_2020 "vocab/unevaluated\": true,"
    "  \"" LGSP_2020 "vocab/validation\": true,"
    "  \"" LGSP_2020 "vocab/meta-data\": true,"
    "  \"" LGSP_2020 "vocab/format-annotation\": true,"
    "  \"" LGSP_2020 "vocab/content\": true},"
    " \"$dynamicAnchor\": \"meta\","
    " \"title\": \"Core and Validation specifications meta-schema\","
    " \"allOf\": ["
    "  {\"$ref\": \"meta/core\"},"
    "  {\"$ref\": \"meta/applicator\"},"
    "  {\"$ref\": \"meta/unevaluated\"},"
    "  {\"$ref\": \"meta/validation\"},"
    "  {\"$ref\": \"meta/meta-data\"},"
    "  {\"$ref\": \"meta/format-annotation\"},"
    "  {\"$ref\": \"meta/content\"}],"
    " \"type\": [\"object\", \"boolean\"],"
    " \"properties\": {"
    "  \"definitions\": {\"type\": \"object\","
    "   \"additionalProperties\": " LGSP_META ","
    "   \"deprecated\": true, \"default\": {}},"
    "  \"dependencies\": {\"type\": \"object\","
    "   \"additionalProperties\": {\"anyOf\": [" LGSP_META ","
    "    {\"$ref\": \"meta/validation#/$defs/stringArray\"}]},"
    "   \"deprecated\": true, \"default\": {}},"
    "  \"$recursiveAnchor\": {"
    "   \"$ref\": \"meta/core#/$defs/anchorString\", \"deprecated\": true},"
    "  \"$recursiveRef\": {"
    "   \"$ref\": \"meta/core#/$defs/uriReferenceString\","
    "   \"deprecated\": true}}}";


static const char  lgsp_meta_2020_core[] =
    LGSP_2020_HEAD("meta/core", "core")
    " \"title\": \"Core vocabulary meta-schema\","
    " \"properties\": {"
    "  \"$id\": {\"$ref\": \"#/$defs/uriReferenceString\","
    "   \"pattern\": \"^[^#]*#?$\"},"
    "  \"$schema\": {\"$ref\": \"#/$defs/uriString\"},"
    "  \"$ref\": {\"$ref\": \"#/$defs/uriReferenceString\"},"
    "  \"$anchor\": {\"$ref\": \"#/$defs/anchorString\"},"
    "  \"$dynamicRef\": {\"$ref\": \"#/$defs/uriReferenceString\"},"
    "  \"$dynamicAnchor\": {\"$ref\": \"#/$defs/anchorString\"},"
    "  \"$vocabulary\": {\"type\": \"object\","
    "   \"propertyNames\": {\"$ref\": \"#/$defs/uriString\"},"
    "   \"additionalProperties\": {\"type\": \"boolean\"}},"
    "  \"$comment\": {\"type\": \"string\"},"
    "  \"$defs\": {\"type\": \"object\","
    "   \"additionalProperties\": " LGSP_META "}},"
    " \"$defs\": {"
    "  \"anchorString\": {\"type\": \"string\","
    "   \"pattern\": \"^[A-Za-z_][-A-Za-z0-9._]*$\"},"
    "  \"uriString\": {\"type\": \"string\", \"format\": \"uri\"},"
    "  \"uriReferenceString\": {\"type\": \"string\","
    "   \"format\": \"uri-reference\"}}}";


static const char  lgsp_meta_2020_applicator[] =
    LGSP_2020_HEAD("meta/applicator", "applicator")
    " \"title\": \"Applicator vocabulary meta-schema\","
    " \"properties\": {"
    "  \"prefixItems\": {\"$ref\": \"#/$defs/schemaArray\"},"
    "  \"items\": " LGSP_META ","
    "  \"contains\": " LGSP_META ","
    "  \"additionalProperties\": " LGSP_META ","
    "  \"properties\": " LGSP_META_MAP ","
    "  \"patternProperties\": {\"type\": \"object\","
    "   \"additionalProperties\": " LGSP_META ","
    "   \"propertyNames\": {\"format\": \"regex\"}, \"default\": {}},"
    "  \"dependentSchemas\": " LGSP_META_MAP ","
    "  \"propertyNames\": " LGSP_META ","
    "  \"if\": " LGSP_META ","
    "  \"then\": " LGSP_META ","
    "  \"else\": " LGSP_META ","
    "  \"allOf\": {\"$ref\": \"#/$defs/schemaArray\"},"
    "  \"anyOf\": {\"$ref\": \"#/$defs/schemaArray\"},"
    "  \"oneOf\": {\"$ref\": \"#/$defs/schemaArray\"},"
    "  \"not\": " LGSP_META "},"
    " \"$defs\": {"
    "  \"schemaArray\": {\"type\": \"array\", \"minItems\": 1,"
    "   \"items\": " LGSP_META "}}}";


static const char  lgsp_meta_2020_unevaluated[] =
    LGSP_2020_HEAD("meta/unevaluated", "unevaluated")
    " \"title\": \"Unevaluated applicator vocabulary meta-schema\","
    " \"properties\": {"
    "  \"unevaluatedItems\": " LGSP_META ","
    "  \"unevaluatedProperties\": " LGSP_META "}}";


static const char  lgsp_meta_2020_validation[] =
    LGSP_2020_HEAD("meta/validation", "validation")
    " \"title\": \"Validation vocabulary meta-schema\","
    " \"properties\": {"
    "  \"type\": {\"anyOf\": ["
    "   {\"$ref\": \"#/$defs/simpleTypes\"},"
    "   {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/simpleTypes\"},"
    "    \"minItems\": 1, \"uniqueItems\": true}]},"
    "  \"const\": true,"
    "  \"enum\": {\"type\": \"array\", \"items\": true},"
    "  \"multipleOf\": {\"type\": \"number\", \"exclusiveMinimum\": 0},"
    "  \"maximum\": {\"type\": \"number\"},"
    "  \"exclusiveMaximum\": {\"type\": \"number\"},"
    "  \"minimum\": {\"type\": \"number\"},"
    "  \"exclusiveMinimum\": {\"type\": \"number\"},"
    "  \"maxLength\": {\"$ref\": \"#/$defs/nonNegativeInteger\"},"
    "  \"minLength\": {\"$ref\": \"#/$defs/nonNegativeIntegerDefault0\"},"
    "  \"pattern\": {\"type\": \"string\", \"format\": \"regex\"},"
    "  \"maxItems\": {\"$ref\": \"#/$defs/nonNegativeInteger\"},"
    "  \"minItems\": {\"$ref\": \"#/$defs/nonNegativeIntegerDefault0\"},"
    "  \"uniqueItems\": {\"type\": \"boolean\", \"default\": false},"
    "  \"maxContains\": {\"$ref\": \"#/$defs/nonNegativeInteger\"},"
    "  \"minContains\": {\"$ref\": \"#/$defs/nonNegativeInteger\","
    "   \"default\": 1},"
    "  \"maxProperties\": {\"$ref\": \"#/$defs/nonNegativeInteger\"},"
    "  \"minProperties\": {\"$ref\": \"#/$defs/nonNegativeIntegerDefault0\"},"
    "  \"required\": {\"$ref\": \"#/$defs/stringArray\"},"
    "  \"dependentRequired\": {\"type\": \"object\","
    "   \"additionalProperties\": {\"$ref\": \"#/$defs/stringArray\"}}},"
    " \"$defs\": {"
    "  \"nonNegativeInteger\": {\"type\": \"integer\", \"minimum\": 0},"
    "  \"nonNegativeIntegerDefault0\": {"
    "   \"$ref\": \"#/$defs/nonNegativeInteger\", \"default\": 0},"
    "  \"simpleTypes\": {\"enum\": [\"array\", \"boolean\", \"integer\","
    "   \"null\", \"number\", \"object\", \"string\"]},"
    "  \"stringArray\": {\"type\": \"array\","
    "   \"items\": {\"type\": \"string\"}, \"uniqueItems\": true,"
    "   \"default\": []}}}";


static const char  lgsp_meta_2020_meta_data[] =
    LGSP_2020_HEAD("meta/meta-data", "meta-data")
    " \"title\": \"Meta-data vocabulary meta-schema\","
    " \"properties\": {"
    "  \"title\": {\"type\": \"string\"},"
    "  \"description\": {\"type\": \"string\"},"
    "  \"default\": true,"
    "  \"deprecated\": {\"type\": \"boolean\", \"default\": false},"
    "  \"readOnly\": {\"type\": \"boolean\", \"default\": false},"
    "  \"writeOnly\": {\"type\": \"boolean\", \"default\": false},"
    "  \"examples\": {\"type\": \"array\", \"items\": true}}}";


static const char  lgsp_meta_2020_format_annotation[] =
    LGSP_2020_HEAD("meta/format-annotation", "format-annotation")
    " \"title\": \"Format vocabulary meta-schema for annotation results\","
    " \"properties\": {\"format\": {\"type\": \"string\"}}}";


static const char  lgsp_meta_2020_format_assertion[] =
    LGSP_2020_HEAD("meta/format-assertion", "format-assertion")
    " \"title\": \"Format vocabulary meta-schema for assertion results\","
    " \"properties\": {\"format\": {\"type\": \"string\"}}}";


static const char  lgsp_meta_2020_content[] =
    LGSP_2020_HEAD("meta/content", "content")
    " \"title\": \"Content vocabulary meta-schema\","
    " \"properties\": {"
    "  \"contentEncoding\": {\"type\": \"string\"},"
    "  \"contentMediaType\": {\"type\": \"string\"},"
    "  \"contentSchema\": " LGSP_META "}}";


#define LGSP_07_SCHEMA  "{\"$ref\": \"#\"}"
#define LGSP_07_MAP     "{\"type\": \"object\","                             \
                        " \"additionalProperties\": " LGSP_07_SCHEMA ","     \
                        " \"default\": {}}"

static const char  lgsp_meta_07[] =
    "{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
    " \"$id\": \"http://json-schema.org/draft-07/schema#\","
    " \"title\": \"Core schema meta-schema\","
    " \"definitions\": {"
    "  \"schemaArray\": {\"type\": \"array\", \"minItems\": 1,"
    "   \"items\": " LGSP_07_SCHEMA "},"
    "  \"nonNegativeInteger\": {\"type\": \"integer\", \"minimum\": 0},"
    "  \"nonNegativeIntegerDefault0\": {\"allOf\": ["
    "   {\"$ref\": \"#/definitions/nonNegativeInteger\"},"
    "   {\"default\": 0}]},"
    "  \"simpleTypes\": {\"enum\": [\"array\", \"boolean\", \"integer\","
    "   \"null\", \"number\", \"object\", \"string\"]},"
    "  \"stringArray\": {\"type\": \"array\","
    "   \"items\": {\"type\": \"string\"}, \"uniqueItems\": true,"
    "   \"default\": []}},"
    " \"type\": [\"object\", \"boolean\"],"
    " \"properties\": {"
    "  \"$id\": {\"type\": \"string\", \"format\": \"uri-reference\"},"
    "  \"$schema\": {\"type\": \"string\", \"format\": \"uri\"},"
    "  \"$ref\": {\"type\": \"string\", \"format\": \"uri-reference\"},"
    "  \"$comment\": {\"type\": \"string\"},"
    "  \"title\": {\"type\": \"string\"},"
    "  \"description\": {\"type\": \"string\"},"
    "  \"default\": true,"
    "  \"readOnly\": {\"type\": \"boolean\", \"default\": false},"
    "  \"writeOnly\": {\"type\": \"boolean\", \"default\": false},"
    "  \"examples\": {\"type\": \"array\", \"items\": true},"
    "  \"multipleOf\": {\"type\": \"number\", \"exclusiveMinimum\": 0},"
    "  \"maximum\": {\"type\": \"number\"},"
    "  \"exclusiveMaximum\": {\"type\": \"number\"},"
    "  \"minimum\": {\"type\": \"number\"},"
    "  \"exclusiveMinimum\": {\"type\": \"number\"},"
    "  \"maxLength\": {\"$ref\": \"#/definitions/nonNegativeInteger\"},"
    "  \"minLength\": {\"$ref\": \"#/definitions/nonNegativeIntegerDefault0\"},"
    "  \"pattern\": {\"type\": \"string\", \"format\": \"regex\"},"
    "  \"additionalItems\": " LGSP_07_SCHEMA ","
    "  \"items\": {\"anyOf\": [" LGSP_07_SCHEMA ","
    "   {\"$ref\": \"#/definitions/schemaArray\"}], \"default\": true},"
    "  \"maxItems\": {\"$ref\": \"#/definitions/nonNegativeInteger\"},"
    "  \"minItems\": {\"$ref\": \"#/definitions/nonNegativeIntegerDefault0\"},"
    "  \"uniqueItems\": {\"type\": \"boolean\", \"default\": false},"
    "  \"contains\": " LGSP_07_SCHEMA ","
    "  \"maxProperties\": {\"$ref\": \"#/definitions/nonNegativeInteger\"},"
    "  \"minProperties\": {"
    "   \"$ref\": \"#/definitions/nonNegativeIntegerDefault0\"},"
    "  \"required\": {\"$ref\": \"#/definitions/stringArray\"},"
    "  \"additionalProperties\": " LGSP_07_SCHEMA ","
    "  \"definitions\": " LGSP_07_MAP ","
    "  \"properties\": " LGSP_07_MAP ","
    "  \"patternProperties\": {\"type\": \"object\","
    "   \"additionalProperties\": " LGSP_07_SCHEMA ","
    "   \"propertyNames\": {\"format\": \"regex\"}, \"default\": {}},"
    "  \"dependencies\": {\"type\": \"object\","
    "   \"additionalProperties\": {\"anyOf\": [" LGSP_07_SCHEMA ","
    "    {\"$ref\": \"#/definitions/stringArray\"}]}},"
    "  \"propertyNames\": " LGSP_07_SCHEMA ","
    "  \"const\": true,"
    "  \"enum\": {\"type\": \"array\", \"items\": true},"
    "  \"type\": {\"anyOf\": ["
    "   {\"$ref\": \"#/definitions/simpleTypes\"},"
    "   {\"type\": \"array\","
    "    \"items\": {\"$ref\": \"#/definitions/simpleTypes\"},"
    "    \"minItems\": 1, \"uniqueItems\": true}]},"
    "  \"format\": {\"type\": \"string\"},"
    "  \"contentMediaType\": {\"type\": \"string\"},"
    "  \"contentEncoding\": {\"type\": \"string\"},"
    "  \"if\": " LGSP_07_SCHEMA ","
    "  \"then\": " LGSP_07_SCHEMA ","
    "  \"else\": " LGSP_07_SCHEMA ","
    "  \"allOf\": {\"$ref\": \"#/definitions/schemaArray\"},"
    "  \"anyOf\": {\"$ref\": \"#/definitions/schemaArray\"},"
    "  \"oneOf\": {\"$ref\": \"#/definitions/schemaArray\"},"
    "  \"not\": " LGSP_07_SCHEMA "},"
    " \"default\": true}";


static const lgsp_builtin_t  lgsp_builtins[] = {
    { LGSP_2020 "schema", lgsp_meta_2020_schema },
    { LGSP_2020 "meta/core", lgsp_meta_2020_core },
    { LGSP_2020 "meta/applicator", lgsp_meta_2020_applicator },
    { LGSP_2020 "meta/unevaluated", lgsp_meta_2020_unevaluated },
    { LGSP_2020 "meta/validation", lgsp_meta_2020_validation },
    { LGSP_2020 "meta/meta-data", lgsp_meta_2020_meta_data },
    { LGSP_2020 "meta/format-annotation", lgsp_meta_2020_format_annotation },
    { LGSP_2020 "meta/format-assertion", lgsp_meta_2020_format_assertion },
    { LGSP_2020 "meta/content", lgsp_meta_2020_content },
    { "http://json-schema.org/draft-07/schema", lgsp_meta_07 },
    { NULL, NULL }
};


const char *
lgsp_schema_builtin(const char *uri)
{
    const lgsp_builtin_t  *b;

    for (b = lgsp_builtins; b->uri; b++) {
        if (strcmp(b->uri, uri) == 0) {
            return b->text;
        }
    }

    return NULL;
}
