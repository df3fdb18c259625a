/*
 * Unit tests of the JSON Schema core: what an agency developer sees in a
 * rejection (paths, keywords, messages), what an operator sees when a
 * schema is wrong, and the parser and regex limits that keep a worker
 * safe from hostile bodies.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lgsp_schema.h"
#include "unit.h"


static char                  tmpdir[] = "/tmp/lgsp-schema-XXXXXX";

/* the errors of the last validate_text() call */
static lgsp_schema_errors_t  errors;


static void
write_file(const char *name, const char *text)
{
    char   path[256];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}


static void
remove_files(void)
{
    char         path[256];
    const char  **name;
    static const char  *names[] = { "common.json", "khaisinh.json",
                                    "broken.json", NULL };

    for (name = names; *name; name++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, *name);
        unlink(path);
    }

    rmdir(tmpdir);
}


static lgsp_schema_t *
compile_text(const char *text, const lgsp_schema_options_t *opts, char *err,
    size_t errlen)
{
    json_t         *json;
    lgsp_schema_t  *schema;

    json = json_loads(text, 0, NULL);
    if (json == NULL) {
        snprintf(err, errlen, "test schema is not JSON");
        return NULL;
    }

    schema = lgsp_schema_compile_json(json, NULL, opts, err, errlen);
    json_decref(json);

    return schema;
}


/* validates text, keeping up to max errors in "errors" */
static int
validate_text(lgsp_schema_t *schema, const char *text, size_t max)
{
    int      rc;
    json_t  *json;

    lgsp_schema_errors_free(&errors);

    json = json_loads(text, JSON_DECODE_ANY, NULL);
    if (json == NULL) {
        return -2;
    }

    errors.max = max;

    rc = lgsp_schema_validate(schema, json, &errors);
    json_decref(json);

    return rc;
}


static void
test_error_report_names_path_keyword_and_message(void)
{
    char                   err[512];
    lgsp_schema_t         *schema;

    schema = compile_text(
        "{\"type\": \"object\","
        " \"properties\": {"
        "  \"ten\": {\"type\": \"string\", \"maxLength\": 11},"
        "  \"tuoi\": {\"type\": \"integer\", \"minimum\": 0},"
        "  \"ngaySinh\": {\"type\": \"integer\"},"
        "  \"con\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}},"
        " \"required\": [\"ten\", \"ngaySinh\"],"
        " \"additionalProperties\": false}", NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "schema with properties compiles");
    if (schema == NULL) {
        printf("#   %s\n", err);
        return;
    }

    UNIT_EQ_INT(validate_text(schema, "{\"ten\": \"Nguyễn Văn Ả\","
                              " \"ngaySinh\": 1}", 10),
                0, "\"Nguyễn Văn Ả\" is 12 code points: too long for 11");

    UNIT_EQ_INT(validate_text(schema, "{\"ten\": \"Nguyễn Văn\","
                              " \"ngaySinh\": 1}", 10),
                1, "\"Nguyễn Văn\" is 10 code points (13 bytes): valid");

    UNIT_EQ_INT(validate_text(schema, "{\"ten\": \"Nguyễn Văn Ảnh\","
                              " \"tuoi\": -1, \"con\": [\"a\", 2],"
                              " \"x\": true}", 10),
                0, "a body with five problems is invalid");
    UNIT_EQ_INT(errors.n, 5, "all five problems are reported");

    if (errors.n == 5) {
        UNIT_EQ_STR(errors.errors[0].instance_path, "/ten",
                    "maxLength: instance path");
        UNIT_EQ_STR(errors.errors[0].schema_path,
                    "/properties/ten/maxLength", "maxLength: schema path");
        UNIT_EQ_STR(errors.errors[0].message,
                    "must be at most 11 characters long (it has 14)",
                    "maxLength message counts code points");

        UNIT_EQ_STR(errors.errors[1].instance_path, "/tuoi", "minimum path");
        UNIT_EQ_STR(errors.errors[1].message, "must be at least 0 (it is -1)",
                    "minimum message");

        UNIT_EQ_STR(errors.errors[2].instance_path, "/con/1",
                    "array item path");
        UNIT_EQ_STR(errors.errors[2].schema_path,
                    "/properties/con/items/type", "items schema path");
        UNIT_EQ_STR(errors.errors[2].message,
                    "must be a string (it is an integer)", "type message");

        UNIT_EQ_STR(errors.errors[3].instance_path, "/x",
                    "additional property path");
        UNIT_EQ_STR(errors.errors[3].keyword, "additionalProperties",
                    "additional property keyword");
        UNIT_EQ_STR(errors.errors[3].message,
                    "the property \"x\" is not allowed here",
                    "additional property message");

        UNIT_EQ_STR(errors.errors[4].instance_path, "",
                    "missing property: reported at the object");
        UNIT_EQ_STR(errors.errors[4].keyword, "required", "keyword required");
        UNIT_EQ_STR(errors.errors[4].schema_path, "/required",
                    "schema path of required");
        UNIT_EQ_STR(errors.errors[4].message,
                    "must have the required property \"ngaySinh\"",
                    "message names the missing property");
    }

    UNIT_EQ_INT(validate_text(schema, "{\"ten\": 1, \"tuoi\": \"a\"}",
                              2), 0, "invalid with max 2 errors");
    UNIT_EQ_INT(errors.n, 2, "errors stop at max");

    UNIT_EQ_INT(validate_text(schema, "[]", 0), 0,
                "max 0: just the answer");
    UNIT_EQ_INT(errors.n, 0, "max 0: no errors kept");

    lgsp_schema_free(schema);
}


static void
test_code_point_lengths(void)
{
    char                   err[512];
    lgsp_schema_t         *schema;

    /* "Nguyễn Văn Ả": 12 code points, 17 bytes */
    schema = compile_text("{\"minLength\": 12, \"maxLength\": 12}", NULL,
                          err, sizeof(err));
    UNIT_OK(schema != NULL, "length schema compiles");
    if (schema == NULL) {
        return;
    }

    UNIT_EQ_INT(validate_text(schema, "\"Nguyễn Văn Ả\"", 1), 1,
                "12 code points in 17 bytes is 12 long");
    UNIT_EQ_INT(validate_text(schema, "\"Nguyen Van A\"", 1), 1,
                "the ASCII spelling is 12 long too");
    UNIT_EQ_INT(validate_text(schema, "\"Nguyễn Văn Ảnh\"", 1), 0,
                "14 code points is too long");
    if (errors.n == 1) {
        UNIT_EQ_STR(errors.errors[0].message,
                    "must be at most 12 characters long (it has 14)",
                    "the message counts characters, not bytes");
    }

    lgsp_schema_free(schema);
}


static void
test_bad_schemas_fail_to_compile_with_location(void)
{
    char            err[512];
    lgsp_schema_t  *schema;

    schema = compile_text("{\"properties\": {\"a\": {\"type\": \"strin\"}}}",
                          NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "an unknown type name is refused");
    UNIT_OK(strstr(err, "/properties/a/type") != NULL,
            "the error names the JSON pointer of the problem");
    UNIT_OK(strstr(err, "not a valid JSON Schema") != NULL,
            "the error says the meta-schema refused it");

    schema = compile_text("{\"minLength\": -1}", NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "a negative minLength is refused");
    UNIT_OK(strstr(err, "/minLength") != NULL, "pointer to minLength");

    schema = compile_text("{\"properties\": {\"a\": {\"$ref\": "
                          "\"#/$defs/missing\"}}}", NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "a $ref that does not resolve is refused");
    UNIT_OK(strstr(err, "#/$defs/missing") != NULL
            && strstr(err, "/properties/a/$ref") != NULL,
            "the error names the reference and where it is");

    schema = compile_text("{\"pattern\": \"a(b\"}", NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "an invalid regular expression is refused");
    UNIT_OK(strstr(err, "/pattern") != NULL, "pointer to pattern");

    schema = compile_text("{\"pattern\": \"\\\\a\"}", NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "\\a is not ECMA-262 and is refused");

    schema = compile_text("{\"$ref\": \"other.json\"}", NULL, err,
                          sizeof(err));
    UNIT_OK(schema == NULL, "a relative $ref with no file base is refused");

    schema = compile_text("{\"$schema\": \"http://example.com/unknown\"}",
                          NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "an unknown meta-schema is refused");
}


static void
test_file_refs_across_two_files(void)
{
    char                   path[256], err[512];
    lgsp_schema_t         *schema;

    write_file("common.json",
        "{\"$defs\": {"
        "  \"hoTen\": {\"type\": \"string\", \"minLength\": 1,"
        "   \"maxLength\": 100},"
        "  \"ngay\": {\"type\": \"string\","
        "   \"pattern\": \"^\\\\d{4}-\\\\d{2}-\\\\d{2}$\"}}}");
    write_file("khaisinh.json",
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        " \"type\": \"object\","
        " \"properties\": {"
        "  \"hoTen\": {\"$ref\": \"common.json#/$defs/hoTen\"},"
        "  \"ngaySinh\": {\"$ref\": \"common.json#/$defs/ngay\"}},"
        " \"required\": [\"hoTen\", \"ngaySinh\"]}");
    write_file("broken.json",
        "{\"properties\": {\"a\": {\"$ref\": \"common.json#/$defs/none\"}}}");

    snprintf(path, sizeof(path), "%s/khaisinh.json", tmpdir);
    schema = lgsp_schema_compile_file(path, NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "a schema with $ref to a sibling file compiles");
    if (schema == NULL) {
        printf("#   %s\n", err);
        return;
    }

    UNIT_EQ_INT(lgsp_schema_dialect(schema), 2020, "dialect 2020-12");

    UNIT_EQ_INT(validate_text(schema, "{\"hoTen\": \"Trần Thị Bình\","
                              " \"ngaySinh\": \"2024-01-15\"}", 5),
                1, "a valid registration");

    UNIT_EQ_INT(validate_text(schema, "{\"hoTen\": \"\","
                              " \"ngaySinh\": \"15/01/2024\"}", 5),
                0, "an invalid registration");
    UNIT_EQ_INT(errors.n, 2, "two errors");
    if (errors.n == 2) {
        UNIT_EQ_STR(errors.errors[0].schema_path,
                    "/properties/hoTen/$ref/minLength",
                    "the schema path goes through $ref");
        UNIT_EQ_STR(errors.errors[1].keyword, "pattern", "pattern keyword");
        UNIT_EQ_STR(errors.errors[1].message,
                    "must match the pattern \"^\\d{4}-\\d{2}-\\d{2}$\"",
                    "pattern message shows the pattern");
    }
    lgsp_schema_free(schema);

    snprintf(path, sizeof(path), "%s/broken.json", tmpdir);
    schema = lgsp_schema_compile_file(path, NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "a $ref into the other file that misses fails");
    UNIT_OK(strstr(err, "broken.json") != NULL
            && strstr(err, "/properties/a") != NULL,
            "the error names the file and the pointer");

    snprintf(path, sizeof(path), "%s/absent.json", tmpdir);
    schema = lgsp_schema_compile_file(path, NULL, err, sizeof(err));
    UNIT_OK(schema == NULL && strstr(err, "absent.json") != NULL,
            "a missing file is named");
}


static void
test_draft07_by_schema_keyword(void)
{
    char                   err[512];
    lgsp_schema_t         *schema;

    schema = compile_text(
        "{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
        " \"items\": [{\"type\": \"integer\"}],"
        " \"additionalItems\": false}", NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "a draft-07 tuple schema compiles");
    if (schema == NULL) {
        printf("#   %s\n", err);
        return;
    }

    UNIT_EQ_INT(lgsp_schema_dialect(schema), 7, "dialect draft-07");
    UNIT_EQ_INT(validate_text(schema, "[1]", 1), 1, "tuple ok");
    UNIT_EQ_INT(validate_text(schema, "[1, 2]", 1), 0,
                "additionalItems false refuses a second item");
    if (errors.n == 1) {
        UNIT_EQ_STR(errors.errors[0].instance_path, "/1", "item path");
        UNIT_EQ_STR(errors.errors[0].keyword, "additionalItems", "keyword");
    }
    lgsp_schema_free(schema);
}


static void
test_format_assertion_is_an_option(void)
{
    char                    err[512];
    lgsp_schema_t          *loose, *strict;
    lgsp_schema_options_t   opts;

    memset(&opts, 0, sizeof(opts));
    loose = compile_text("{\"format\": \"date\"}", &opts, err, sizeof(err));
    opts.format_assert = 1;
    strict = compile_text("{\"format\": \"date\"}", &opts, err, sizeof(err));
    UNIT_OK(loose != NULL && strict != NULL, "format schemas compile");
    if (loose == NULL || strict == NULL) {
        lgsp_schema_free(loose);
        lgsp_schema_free(strict);
        return;
    }

    UNIT_EQ_INT(validate_text(loose, "\"2023-02-29\"", 1), 1,
                "format is an annotation by default");
    UNIT_EQ_INT(validate_text(strict, "\"2023-02-29\"", 1), 0,
                "format_assert: 29 February 2023 does not exist");
    if (errors.n == 1) {
        UNIT_EQ_STR(errors.errors[0].message, "must be a valid date",
                    "format message");
    }
    UNIT_EQ_INT(validate_text(strict, "\"2024-02-29\"", 1), 1,
                "2024 is a leap year");

    lgsp_schema_free(loose);
    lgsp_schema_free(strict);
}


static void
test_hostile_pattern_finishes_quickly(void)
{
    char                   err[512], *text;
    size_t                 n;
    clock_t                start;
    double                 seconds;
    json_t                *json;
    lgsp_schema_t         *schema;

    lgsp_schema_errors_free(&errors);

    schema = compile_text("{\"pattern\": \"^(a+)+$\"}", NULL, err,
                          sizeof(err));
    UNIT_OK(schema != NULL, "a backtracking pattern compiles");
    if (schema == NULL) {
        return;
    }

    n = 50000;
    text = malloc(n + 2);
    if (text == NULL) {
        lgsp_schema_free(schema);
        return;
    }
    memset(text, 'a', n);
    text[n] = '!';
    text[n + 1] = '\0';
    json = json_string(text);
    free(text);

    errors.max = 1;

    start = clock();
    UNIT_EQ_INT(lgsp_schema_validate(schema, json, &errors), 0,
                "the match limit makes the hostile input invalid");
    seconds = (double) (clock() - start) / CLOCKS_PER_SEC;

    UNIT_OK(seconds < 1.0, "and it takes less than a second");
    if (errors.n == 1) {
        UNIT_OK(strstr(errors.errors[0].message, "too complex") != NULL,
                "the message says the match was too complex");
    }

    lgsp_schema_errors_free(&errors);
    json_decref(json);
    lgsp_schema_free(schema);
}


static void
test_strict_parser(void)
{
    int          kind;
    char         err[256], *deep;
    size_t       n;
    json_t      *json;
    const char  *text;

    text = "{\"a\": [1, {\"b\": null}]}";
    json = lgsp_json_parse_strict(text, strlen(text), 64, &kind, err,
                                  sizeof(err));
    UNIT_OK(json != NULL, "a plain body parses");
    json_decref(json);

    json = lgsp_json_parse_strict("{\"a\": 1, \"a\": 2}", 16, 64, &kind, err,
                                  sizeof(err));
    UNIT_OK(json == NULL, "duplicate keys are refused");
    UNIT_EQ_INT(kind, LGSP_JSON_DUPLICATE_KEY, "kind: duplicate key");
    UNIT_OK(strstr(err, "byte") != NULL, "the message has the offset");

    json = lgsp_json_parse_strict("{\"a\": 1,}", 9, 64, &kind, err,
                                  sizeof(err));
    UNIT_OK(json == NULL, "a trailing comma is refused");
    UNIT_EQ_INT(kind, LGSP_JSON_SYNTAX, "kind: syntax");
    UNIT_OK(strstr(err, "at byte 9") != NULL, "the offset is past the brace");
    if (strstr(err, "at byte 9") == NULL) {
        printf("#   %s\n", err);
    }

    n = 100000;
    deep = malloc(n);
    if (deep == NULL) {
        return;
    }
    memset(deep, '[', n);

    json = lgsp_json_parse_strict(deep, n, 64, &kind, err, sizeof(err));
    UNIT_OK(json == NULL, "100000 nested arrays are refused");
    UNIT_EQ_INT(kind, LGSP_JSON_TOO_DEEP, "kind: too deep");
    UNIT_OK(strstr(err, "at byte 64") != NULL,
            "at the offset of the 65th bracket");

    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    json = lgsp_json_parse_strict(deep, 128, 64, &kind, err, sizeof(err));
    UNIT_OK(json != NULL, "exactly 64 levels is allowed");
    json_decref(json);

    memcpy(deep, "[\"[[[[\"]", 8);
    json = lgsp_json_parse_strict(deep, 8, 1, &kind, err, sizeof(err));
    UNIT_OK(json != NULL, "brackets inside strings do not count");
    json_decref(json);

    free(deep);

    json = lgsp_json_parse_strict("123456789012345678901234567890", 30, 64,
                                  &kind, err, sizeof(err));
    UNIT_OK(json != NULL && json_is_real(json), "a big integer is a real");
    json_decref(json);
}


/* the parser agrees with jansson, an independent one, value for value */
static void
test_strict_parser_agrees_with_jansson(void)
{
    int          kind;
    char         err[256], name[64];
    json_t      *ours, *theirs;
    size_t       i;
    const char  *valid[] = {
        "{\"a\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"}",
        "{\"a\":\"\\u0000x\"}",
        "{\"k\\\"q\":[1,-0,0.5,1E+2,1e-400,[]],\"b\":{}}",
        "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "123456789012345678901234567890",
        "\"Nguy\xe1\xbb\x85n V\xc4\x83n \xe1\xba\xa2\"",
        " [ true , false , null ] ",
    };
    const char  *invalid[] = {
        "{\"a\":1,\"\\u0061\":2}",          /* the same key, escaped */
        "{\"b\\u0000\":1}",                   /* NUL in a key */
        "\"\\ud83d\"", "\"\\ude00\"",           /* lone surrogates */
        "\"\xc3\x28\"", "\"\xed\xa0\x80\"",     /* bad UTF-8 */
        "\"\xc0\xaf\"", "\"\xf4\x90\x80\x80\"",
        "\"abc\\", "\"tab\there\"", "\"\\x\"", "\"\\u12G4\"",
        "01", "-01", "1.", ".5", "-", "1e", "1e+", "1e400",
        "[1,]", "[1 2]", "{\"a\" 1}", "tru", "nul", "", " ", "[] x",
        "\"",                                 /* found by fuzz_schema */
    };

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        ours = lgsp_json_parse_strict(valid[i], strlen(valid[i]), 64, &kind,
                                      err, sizeof(err));
        theirs = json_loadb(valid[i], strlen(valid[i]),
                            JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (theirs == NULL) {
            theirs = json_loadb(valid[i], strlen(valid[i]),
                                JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                                NULL);
        }

        snprintf(name, sizeof(name), "valid #%zu parses as jansson does", i);
        UNIT_OK(ours != NULL && json_equal(ours, theirs), name);
        if (ours == NULL) {
            printf("#   %s\n", err);
        }

        json_decref(ours);
        json_decref(theirs);
    }

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        ours = lgsp_json_parse_strict(invalid[i], strlen(invalid[i]), 64,
                                      &kind, err, sizeof(err));
        snprintf(name, sizeof(name), "invalid #%zu is refused", i);
        UNIT_OK(ours == NULL && kind != LGSP_JSON_OK, name);
        json_decref(ours);
    }

    ours = lgsp_json_parse_strict("-9223372036854775808", 20, 64, &kind, err,
                                  sizeof(err));
    UNIT_OK(json_is_integer(ours) && json_integer_value(ours) == LLONG_MIN,
            "the smallest 64-bit integer stays an integer");
    json_decref(ours);
}


static void
test_numbers(void)
{
    char                   err[512];
    lgsp_schema_t         *schema;

    schema = compile_text("{\"type\": \"integer\", \"multipleOf\": 3,"
                          " \"maximum\": 9007199254740993}", NULL, err,
                          sizeof(err));
    UNIT_OK(schema != NULL, "number schema compiles");
    if (schema == NULL) {
        return;
    }

    UNIT_EQ_INT(validate_text(schema, "9", 1), 1, "9 = 3 x 3");
    UNIT_EQ_INT(validate_text(schema, "9.0", 1), 1,
                "9.0 is an integer too");
    UNIT_EQ_INT(validate_text(schema, "10", 1), 0, "10 is not");
    UNIT_EQ_INT(validate_text(schema, "9007199254740993", 1), 1,
                "integers compare exactly past 2^53");
    UNIT_EQ_INT(validate_text(schema, "9007199254740996", 1), 0,
                "one multiple of 3 past the maximum");
    lgsp_schema_free(schema);

    schema = compile_text("{\"multipleOf\": 0.01}", NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "decimal multipleOf compiles");
    if (schema == NULL) {
        return;
    }
    UNIT_EQ_INT(validate_text(schema, "19.99", 1), 1,
                "19.99 is a multiple of 0.01 despite binary floats");
    UNIT_EQ_INT(validate_text(schema, "19.995", 1), 0,
                "19.995 is not");
    lgsp_schema_free(schema);
}


static void
test_unevaluated_and_dynamic_refs(void)
{
    char                   err[512];
    lgsp_schema_t         *schema;

    schema = compile_text(
        "{\"allOf\": [{\"properties\": {\"a\": true}}],"
        " \"if\": {\"required\": [\"b\"]},"
        " \"then\": {\"properties\": {\"b\": true}},"
        " \"unevaluatedProperties\": false}", NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "unevaluatedProperties compiles");
    if (schema == NULL) {
        return;
    }

    UNIT_EQ_INT(validate_text(schema, "{\"a\": 1, \"b\": 2}", 1), 1,
                "properties seen through allOf and then count");
    UNIT_EQ_INT(validate_text(schema, "{\"a\": 1, \"c\": 2}", 1), 0,
                "an unevaluated property is refused");
    if (errors.n == 1) {
        UNIT_EQ_STR(errors.errors[0].instance_path, "/c", "its path");
        UNIT_EQ_STR(errors.errors[0].keyword, "unevaluatedProperties",
                    "its keyword");
    }
    lgsp_schema_free(schema);
}


int
main(void)
{
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    test_error_report_names_path_keyword_and_message();
    test_code_point_lengths();
    test_bad_schemas_fail_to_compile_with_location();
    test_file_refs_across_two_files();
    test_draft07_by_schema_keyword();
    test_format_assertion_is_an_option();
    test_hostile_pattern_finishes_quickly();
    test_strict_parser();
    test_strict_parser_agrees_with_jansson();
    test_numbers();
    test_unevaluated_and_dynamic_refs();

    lgsp_schema_errors_free(&errors);
    remove_files();

    return UNIT_DONE("schema");
}
