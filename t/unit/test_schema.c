/*
 * Unit tests of the JSON Schema core: what an agency developer sees in a
 * rejection (paths, keywords, messages), what an operator sees when a
 * schema is wrong, and the parser limits and the validation budget that
 * keep a worker safe from hostile bodies.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lgsp_schema.h"
#include "unit.h"


static char                  tmpdir[] = "/tmp/lgsp-schema-XXXXXX";

/* the errors of the last validate_text() call */
static lgsp_schema_errors_t  errors;

/* what parse() builds documents in; freed by main() */
static lgsp_arena_t          arena;


/* the strict reader, copying strings (borrow: pointing into text) */
static lgsp_json_t *
parse(const char *text, size_t len, size_t max_depth, int borrow, int *kind,
    char *err, size_t errlen)
{
    lgsp_json_options_t  opts;

    opts.alloc = lgsp_arena_alloc;
    opts.ctx = &arena;
    opts.max_depth = max_depth;
    opts.borrow = borrow;

    return lgsp_json_parse_strict(text, len, &opts, kind, err, errlen);
}


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
                                    "broken.json", "true.json", "false.json",
                                    "number.json", NULL };

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
    int           rc, kind;
    char          err[256];
    lgsp_json_t  *json;

    lgsp_schema_errors_free(&errors);

    json = parse(text, strlen(text), 64, 1, &kind, err, sizeof(err));
    if (json == NULL) {
        return -2;
    }

    errors.max = max;

    rc = lgsp_schema_validate(schema, json, &errors);

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


/*
 * Links past schemas that are only a "$ref" keep every "$ref" in the
 * keyword location, in whatever order the links were shortened, within
 * a document and across documents
 */
static void
test_chained_refs_keep_every_step(void)
{
    int             ok;
    char            err[256], name[80];
    size_t          i;
    lgsp_schema_t  *schema;
    static const char  *texts[] = {
        "{\"$defs\": {\"a\": {\"type\": \"integer\"},"
        " \"b\": {\"$ref\": \"#/$defs/a\"}, \"c\": {\"$ref\": \"#/$defs/b\"}},"
        " \"allOf\": [{\"$ref\": \"#/$defs/c\"}],"
        " \"properties\": {\"x\": {\"$ref\": \"#/$defs/c\"}}}",
        "{\"$defs\": {\"c\": {\"$ref\": \"#/$defs/b\"},"
        " \"b\": {\"$ref\": \"#/$defs/a\"}, \"a\": {\"type\": \"integer\"}},"
        " \"allOf\": [{\"$ref\": \"#/$defs/c\"}],"
        " \"properties\": {\"x\": {\"$ref\": \"#/$defs/c\"}}}",
        "{\"$defs\": {\"c\": {\"$ref\": \"#/$defs/b\"},"
        " \"a\": {\"$id\": \"other.json\", \"type\": \"integer\"},"
        " \"b\": {\"$ref\": \"other.json\"}},"
        " \"allOf\": [{\"$ref\": \"#/$defs/c\"}],"
        " \"properties\": {\"x\": {\"$ref\": \"#/$defs/c\"}}}",
    };

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        schema = compile_text(texts[i], NULL, err, sizeof(err));
        snprintf(name, sizeof(name), "chained refs #%zu compile", i);
        UNIT_OK(schema != NULL, name);
        if (schema == NULL) {
            printf("#   %s\n", err);
            continue;
        }

        snprintf(name, sizeof(name), "chained refs #%zu: every $ref", i);
        ok = validate_text(schema, "{\"x\": \"s\"}", 5) == 0
             && errors.n == 2
             && strcmp(errors.errors[0].schema_path,
                       "/properties/x/$ref/$ref/$ref/type") == 0
             && strcmp(errors.errors[1].schema_path,
                       "/allOf/0/$ref/$ref/$ref/type") == 0;
        UNIT_OK(ok, name);
        if (!ok && errors.n == 2) {
            printf("#   %s, %s\n", errors.errors[0].schema_path,
                   errors.errors[1].schema_path);
        }

        lgsp_schema_free(schema);
    }
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


/* a string instance of n copies of unit, then tail */
static lgsp_json_t *
repeated_string(const char *unit, size_t n, const char *tail)
{
    char         *text, *p;
    size_t        len, i;
    lgsp_json_t  *json;

    len = strlen(unit) * n + strlen(tail);

    json = lgsp_arena_alloc(&arena, sizeof(lgsp_json_t));
    text = lgsp_arena_alloc(&arena, len + 1);
    if (json == NULL || text == NULL) {
        return NULL;
    }

    for (i = 0, p = text; i < n; i++, p += strlen(unit)) {
        memcpy(p, unit, strlen(unit));
    }

    strcpy(p, tail);

    json->type = LGSP_JSON_STRING;
    json->len = len;
    json->u.str = text;

    return json;
}


/* a pattern that backtracks exponentially spends the budget, then stops:
 * the same answer and the same cost every time */
static void
test_hostile_pattern_stops_at_the_budget(void)
{
    char            err[512];
    uint64_t        cost, again;
    lgsp_json_t    *hostile, *fine;
    lgsp_schema_t  *schema;

    schema = compile_text("{\"pattern\": \"^(a+)+$\"}", NULL, err,
                          sizeof(err));
    UNIT_OK(schema != NULL, "a backtracking pattern compiles");
    if (schema == NULL) {
        return;
    }

    UNIT_OK(lgsp_schema_warning(schema, 0) != NULL
            && strstr(lgsp_schema_warning(schema, 0),
                      "at \"/pattern\": \"^(a+)+$\" repeats a group") != NULL,
            "the compiler warns of the nested unbounded quantifiers");
    UNIT_OK(lgsp_schema_warning(schema, 1) == NULL, "once");

    hostile = repeated_string("a", 40, "!");
    fine = repeated_string("a", 40, "");

    UNIT_EQ_INT(lgsp_schema_validate(schema, hostile, NULL),
                LGSP_SCHEMA_OVER_BUDGET,
                "\"aaa...a!\" uses up the default budget");
    UNIT_EQ_INT(lgsp_schema_validate_within(schema, hostile, NULL, 100000,
                                            &cost),
                LGSP_SCHEMA_OVER_BUDGET, "and a smaller one");
    UNIT_EQ_INT(cost, 100000, "all of it");

    UNIT_EQ_INT(lgsp_schema_validate_within(schema, fine, NULL, 100000,
                                            &cost), 1,
                "\"aaa...a\" matches within the budget");
    UNIT_OK(cost > 0 && cost < 1000, "for little of it");
    lgsp_schema_validate_within(schema, fine, NULL, 100000, &again);
    UNIT_EQ_INT(again, cost, "the same cost every time");

    UNIT_EQ_INT(lgsp_schema_validate_within(schema, fine, NULL, cost, NULL),
                1, "exactly that budget is enough");
    UNIT_EQ_INT(lgsp_schema_validate_within(schema, fine, NULL, cost - 1,
                                            NULL),
                LGSP_SCHEMA_OVER_BUDGET, "one unit less is not");

    lgsp_schema_free(schema);
}


/* issue 12: a long valid string is not refused as "too complex" */
static void
test_long_valid_string_matches(void)
{
    char            err[512];
    lgsp_json_t    *words, *long_words;
    lgsp_schema_t  *schema;

    schema = compile_text("{\"pattern\": \"^(\\\\w+\\\\s?)*$\"}", NULL, err,
                          sizeof(err));
    UNIT_OK(schema != NULL, "^(\\w+\\s?)*$ compiles");
    if (schema == NULL) {
        return;
    }

    words = repeated_string("ab ", 1000, "");
    long_words = repeated_string("ab ", 100000, "");

    UNIT_EQ_INT(lgsp_schema_validate(schema, words, NULL), 1,
                "3000 characters of \"ab ab ab ...\" match");
    UNIT_EQ_INT(lgsp_schema_validate(schema, long_words, NULL), 1,
                "300000 of them too (past the default JIT stack)");

    lgsp_schema_free(schema);
}


/* which schemas the compiler warns of */
static void
test_nested_quantifier_warnings(void)
{
    char                 err[512], text[256];
    lgsp_schema_t       *schema;
    const char         **pattern;
    static const char   *nested[] = { "(a+)+", "(a*)*", "^(\\\\w+\\\\s?)*$",
                                      "(?:x|y+){2,}", "((ab)+c)*",
                                      "(aa+)*", NULL };
    static const char   *fine[] = { "^\\\\p{L}+( \\\\p{L}+)*$", "(a+)?",
                                    "(ab)*", "^[A-Z]{1,10}(\\\\.[A-Z]+){1,5}$",
                                    "(-\\\\d+)*", "\\\\(a+\\\\)+", "[(a+)]+",
                                    NULL };

    for (pattern = nested; *pattern; pattern++) {
        snprintf(text, sizeof(text), "{\"pattern\": \"%s\"}", *pattern);
        schema = compile_text(text, NULL, err, sizeof(err));
        UNIT_OK(schema != NULL && lgsp_schema_warning(schema, 0) != NULL,
                *pattern);
        lgsp_schema_free(schema);
    }

    for (pattern = fine; *pattern; pattern++) {
        snprintf(text, sizeof(text), "{\"pattern\": \"%s\"}", *pattern);
        schema = compile_text(text, NULL, err, sizeof(err));
        UNIT_OK(schema != NULL && lgsp_schema_warning(schema, 0) == NULL,
                *pattern);
        lgsp_schema_free(schema);
    }
}


/* what the budget counts: 8 a node visited, 96 an item of uniqueItems */
static void
test_budget_counts(void)
{
    char            err[512];
    uint64_t        cost;
    lgsp_json_t    *json;
    lgsp_schema_t  *schema;
    int             kind;

    schema = compile_text("{\"items\": {\"type\": \"integer\"}}", NULL, err,
                          sizeof(err));
    json = parse("[1, 2, 3]", 9, 64, 1, &kind, err, sizeof(err));
    UNIT_OK(schema != NULL && json != NULL, "an array of integers");
    if (schema == NULL || json == NULL) {
        lgsp_schema_free(schema);
        return;
    }

    UNIT_EQ_INT(lgsp_schema_validate_within(schema, json, NULL, 1000, &cost),
                1, "is valid");
    UNIT_EQ_INT(cost, 4 * 8, "for the root and each item");
    lgsp_schema_free(schema);

    schema = compile_text("{\"uniqueItems\": true}", NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "uniqueItems compiles");
    if (schema == NULL) {
        return;
    }

    UNIT_EQ_INT(lgsp_schema_validate_within(schema, json, NULL, 1000, &cost),
                1, "three different items are unique");
    UNIT_EQ_INT(cost, 8 + 3 * 96, "for the root and each item compared");
    lgsp_schema_free(schema);
}


/* issue 12, item 8: a schema file that is just true or false */
static void
test_boolean_schema_files(void)
{
    char            err[512], path[256];
    lgsp_json_t     null;
    lgsp_schema_t  *schema;

    memset(&null, 0, sizeof(lgsp_json_t));
    null.type = LGSP_JSON_NULL;

    write_file("true.json", "true\n");
    write_file("false.json", " false ");

    snprintf(path, sizeof(path), "%s/true.json", tmpdir);
    schema = lgsp_schema_compile_file(path, NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "a file holding true compiles");
    if (schema != NULL) {
        UNIT_EQ_INT(lgsp_schema_validate(schema, &null, NULL), 1,
                    "and everything is valid against it");
        lgsp_schema_free(schema);
    }

    snprintf(path, sizeof(path), "%s/false.json", tmpdir);
    schema = lgsp_schema_compile_file(path, NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "a file holding false compiles");
    if (schema != NULL) {
        UNIT_EQ_INT(lgsp_schema_validate(schema, &null, NULL), 0,
                    "and nothing is valid against it");
        lgsp_schema_free(schema);
    }

    write_file("number.json", "12");
    snprintf(path, sizeof(path), "%s/number.json", tmpdir);
    schema = lgsp_schema_compile_file(path, NULL, err, sizeof(err));
    UNIT_OK(schema == NULL, "a file holding a number is refused");
    lgsp_schema_free(schema);
}


static void
test_strict_parser(void)
{
    int           kind;
    char          err[256], want[32], *deep, *big;
    size_t        n, i, len;
    lgsp_json_t  *json;
    const char   *text;

    text = "{\"a\": [1, {\"b\": null}]}";
    json = parse(text, strlen(text), 64, 0, &kind, err, sizeof(err));
    UNIT_OK(json != NULL, "a plain body parses");

    json = parse("{\"a\": 1, \"a\": 2}", 16, 64, 0, &kind, err, sizeof(err));
    UNIT_OK(json == NULL, "duplicate keys are refused");
    UNIT_EQ_INT(kind, LGSP_JSON_DUPLICATE_KEY, "kind: duplicate key");
    UNIT_OK(strstr(err, "byte") != NULL, "the message has the offset");

    json = parse("{\"a\": 1,}", 9, 64, 0, &kind, err, sizeof(err));
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

    json = parse(deep, n, 64, 0, &kind, err, sizeof(err));
    UNIT_OK(json == NULL, "100000 nested arrays are refused");
    UNIT_EQ_INT(kind, LGSP_JSON_TOO_DEEP, "kind: too deep");
    UNIT_OK(strstr(err, "at byte 64") != NULL,
            "at the offset of the 65th bracket");

    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    json = parse(deep, 128, 64, 0, &kind, err, sizeof(err));
    UNIT_OK(json != NULL, "exactly 64 levels is allowed");

    memcpy(deep, "[\"[[[[\"]", 8);
    json = parse(deep, 8, 1, 0, &kind, err, sizeof(err));
    UNIT_OK(json != NULL, "brackets inside strings do not count");

    free(deep);

    json = parse("123456789012345678901234567890", 30, 64, 0, &kind, err,
                 sizeof(err));
    UNIT_OK(json != NULL && json->type == LGSP_JSON_DECIMAL
            && json->len == 30
            && memcmp(json->u.str, "123456789012345678901234567890", 30) == 0,
            "a big integer is a decimal, kept as written");

    /* blanks of every length around tokens, up to the end of the text */
    deep = malloc(512);
    if (deep == NULL) {
        return;
    }

    for (i = 0, n = 0; i <= 40; i++) {
        len = sprintf(deep, "%*s{%*s\"a\"%*s:\t\n%*s1%*s}%*s", (int) i, "",
                      (int) i, "", (int) i, "", (int) i, "", (int) i, "",
                      (int) i, "");
        json = parse(deep, len, 64, 1, &kind, err, sizeof(err));
        n += json != NULL && json->type == LGSP_JSON_OBJECT && json->len == 1
             && json->u.members[0].value.u.integer == 1;
    }

    UNIT_EQ_INT((int) n, 41, "0 to 40 blanks around every token");

    /* after a line's end: only the four blanks of RFC 8259 are skipped */
    for (i = 0, n = 0; i <= 40; i++) {
        len = sprintf(deep, "[\n%*s\r\n\t1]", (int) i, "");
        n += parse(deep, len, 64, 1, &kind, err, sizeof(err)) != NULL;
        len = sprintf(deep, "[\n%*s\f1]", (int) i, "");
        n += parse(deep, len, 64, 1, &kind, err, sizeof(err)) == NULL;
        len = sprintf(deep, "[\n%*s\v1]", (int) i, "");
        n += parse(deep, len, 64, 1, &kind, err, sizeof(err)) == NULL;
    }

    free(deep);
    UNIT_EQ_INT((int) n, 123, "indentation of 0 to 40, then other bytes");

    /* 5000 keys "k0".."k4999", then "k17" again: found by sorting */
    n = 5000;
    big = malloc(n * 16 + 64);
    if (big == NULL) {
        return;
    }

    len = 0;
    big[len++] = '{';
    for (i = 0; i < n; i++) {
        len += sprintf(big + len, "\"k%zu\":%zu,", i, i);
    }
    i = len;
    len += sprintf(big + len, "\"k17\":0,\"k18\":0}");

    json = parse(big, len, 64, 0, &kind, err, sizeof(err));
    UNIT_OK(json == NULL && kind == LGSP_JSON_DUPLICATE_KEY,
            "a key repeated after 5000 others is refused");
    snprintf(want, sizeof(want), "at byte %zu", i);
    UNIT_OK(strstr(err, want) != NULL, "at the offset of its first repeat");
    if (strstr(err, want) == NULL) {
        printf("#   %s\n", err);
    }

    big[i - 1] = '}';
    json = parse(big, i, 64, 1, &kind, err, sizeof(err));
    UNIT_OK(json != NULL && json->type == LGSP_JSON_OBJECT
            && json->len == n, "5000 distinct keys parse, in order");
    UNIT_OK(json != NULL && json->u.members[4999].key_len == 5
            && memcmp(json->u.members[4999].key, "k4999", 5) == 0
            && json->u.members[4999].value.u.integer == 4999,
            "the last member is the last key");

    free(big);
}


/* a document holds exactly what jansson's value holds, in order */
static int
same_as_jansson(const lgsp_json_t *d, json_t *j)
{
    char         text[64];
    size_t       i, len;
    json_t      *value;
    const char  *key;

    switch (json_typeof(j)) {

    case JSON_OBJECT:
        if (d->type != LGSP_JSON_OBJECT || d->len != json_object_size(j)) {
            return 0;
        }
        i = 0;
        json_object_keylen_foreach(j, key, len, value) {
            if (d->u.members[i].key_len != len
                || memcmp(d->u.members[i].key, key, len) != 0
                || d->u.members[i].key_hash != lgsp_json_key_hash(key, len)
                || !same_as_jansson(&d->u.members[i].value, value))
            {
                return 0;
            }
            i++;
        }
        return 1;

    case JSON_ARRAY:
        if (d->type != LGSP_JSON_ARRAY || d->len != json_array_size(j)) {
            return 0;
        }
        json_array_foreach(j, i, value) {
            if (!same_as_jansson(&d->u.items[i], value)) {
                return 0;
            }
        }
        return 1;

    case JSON_STRING:
        return d->type == LGSP_JSON_STRING
               && d->len == json_string_length(j)
               && memcmp(d->u.str, json_string_value(j), d->len) == 0;

    case JSON_INTEGER:
        return d->type == LGSP_JSON_INTEGER
               && d->u.integer == json_integer_value(j);

    case JSON_REAL:
        /* a decimal: jansson's double is the one nearest to it */
        if (d->type == LGSP_JSON_DECIMAL) {
            snprintf(text, sizeof(text), "%.*s", (int) d->len, d->u.str);
            return strtod(text, NULL) == json_real_value(j);
        }

        return d->type == LGSP_JSON_REAL
               && d->u.real == json_real_value(j);

    case JSON_TRUE:
        return d->type == LGSP_JSON_TRUE;

    case JSON_FALSE:
        return d->type == LGSP_JSON_FALSE;

    default:
        return d->type == LGSP_JSON_NULL;
    }
}


/* the parser agrees with jansson, an independent one, value for value */
static void
test_strict_parser_agrees_with_jansson(void)
{
    int           kind, borrow;
    char          err[256], name[80];
    json_t       *theirs;
    size_t        i;
    lgsp_json_t  *ours;
    const char   *valid[] = {
        "{\"a\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"}",
        "{\"a\":\"\\u0000x\"}",
        "{\"k\\\"q\":[1,-0,0.5,1E+2,1e-400,[]],\"b\":{}}",
        "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "123456789012345678901234567890",
        "\"Nguy\xe1\xbb\x85n V\xc4\x83n \xe1\xba\xa2\"",
        " [ true , false , null ] ",
        "{\"z\":1,\"y\":[{\"x\":\"\\\"\"},2.5],\"w\":{\"v\":{}}}",
    };
    const char   *invalid[] = {
        "{\"a\":1,\"\\u0061\":2}",          /* the same key, escaped */
        "{\"b\\u0000\":1}",                   /* NUL in a key */
        "\"\\ud83d\"", "\"\\ude00\"",           /* lone surrogates */
        "\"\xc3\x28\"", "\"\xed\xa0\x80\"",     /* bad UTF-8 */
        "\"\xc0\xaf\"", "\"\xf4\x90\x80\x80\"",
        "\"abc\\", "\"tab\there\"", "\"\\x\"", "\"\\u12G4\"",
        "01", "-01", "1.", ".5", "-", "1e", "1e+",
        "1e1000000000000000000",               /* a 19-digit exponent */
        "[1,]", "[1 2]", "{\"a\" 1}", "tru", "nul", "", " ", "[] x",
        "\"",                                 /* found by fuzz_schema */
        "\"\\u00e9", "\"\\",
    };

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        theirs = json_loadb(valid[i], strlen(valid[i]),
                            JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (theirs == NULL) {
            theirs = json_loadb(valid[i], strlen(valid[i]),
                                JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                                NULL);
        }

        for (borrow = 0; borrow < 2; borrow++) {
            ours = parse(valid[i], strlen(valid[i]), 64, borrow, &kind, err,
                         sizeof(err));

            snprintf(name, sizeof(name), "valid #%zu parses as jansson does"
                     "%s", i, borrow ? " (borrowed text)" : "");
            UNIT_OK(ours != NULL && same_as_jansson(ours, theirs), name);
            if (ours == NULL) {
                printf("#   %s\n", err);
            }
        }

        /* and the converter of schema values agrees as well */
        ours = lgsp_json_from_jansson(theirs, lgsp_arena_alloc, &arena);
        snprintf(name, sizeof(name), "valid #%zu converts from jansson", i);
        UNIT_OK(ours != NULL && same_as_jansson(ours, theirs), name);

        json_decref(theirs);
    }

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        ours = parse(invalid[i], strlen(invalid[i]), 64, 0, &kind, err,
                     sizeof(err));
        snprintf(name, sizeof(name), "invalid #%zu is refused", i);
        UNIT_OK(ours == NULL && kind != LGSP_JSON_OK, name);
    }

    ours = parse("-9223372036854775808", 20, 64, 0, &kind, err, sizeof(err));
    UNIT_OK(ours != NULL && ours->type == LGSP_JSON_INTEGER
            && ours->u.integer == LLONG_MIN,
            "the smallest 64-bit integer stays an integer");
}


/*
 * One string of a test of the string reader: parsed alone (its end the
 * text's) and as the key and the value of an object followed by blanks
 * (16 bytes and more are read at once), borrowed and copied.  Each must
 * agree with jansson; a refused one must name the byte at (1-based) or,
 * at == 0, just be refused.
 */
static int
string_case(const char *s, size_t n, size_t at)
{
    int           kind, borrow, ok;
    char          text[160], err[256], want[32];
    size_t        len, pad, i;
    json_t       *theirs;
    lgsp_json_t  *ours, *str;

    ok = 1;

    for (i = 0; i < 3 && ok; i++) {
        pad = i == 0 ? 0 : 20;
        len = 0;

        if (i == 1) {
            text[len++] = '[';
        }
        if (i == 2) {
            len += sprintf(text, "{\"");
        } else {
            text[len++] = '"';
        }

        memcpy(text + len, s, n);
        len += n;
        text[len++] = '"';

        if (i == 1) {
            text[len++] = ']';
        }
        if (i == 2) {
            len += sprintf(text + len, ":1}");
        }

        memset(text + len, ' ', pad);
        len += pad;

        theirs = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                            NULL);

        for (borrow = 0; borrow < 2; borrow++) {
            ours = parse(text, len, 64, borrow, &kind, err, sizeof(err));

            if (theirs == NULL || ours == NULL) {
                /* a NUL in a key: jansson takes it, we refuse it */
                ok = ours == NULL
                     && (theirs == NULL
                         || strstr(err, "NUL in an object key") != NULL);
                if (ok && at) {
                    snprintf(want, sizeof(want), "at byte %zu:",
                             at + (i == 0 ? 1 : 2));
                    ok = strstr(err, want) != NULL;
                }
                if (!ok) {
                    printf("#   %s\n", ours ? "parsed" : err);
                }
                continue;
            }

            str = i == 0 ? ours : &ours->u.items[0];
            ok = ok && same_as_jansson(ours, theirs);

            if (i < 2 && ok) {
                /* plain text is borrowed, escaped text is copied */
                ok = (str->u.str >= text && str->u.str < text + len)
                     == (borrow && memchr(s, '\\', n) == NULL);
            }
        }

        json_decref(theirs);
    }

    return ok;
}


/*
 * The string reader's fast path, 16 bytes at a time: strings of every
 * length around that width, with an escape, a multi-byte sequence, a
 * bad UTF-8 sequence, a control byte or a quote at each position
 */
static void
test_string_fast_path_edges(void)
{
    int          kind;
    char         s[64], err[256], want[32];
    size_t       n, i, k, bad;
    const char  *ins;
    static const struct {
        const char  *text;
        size_t       at;        /* 0: accepted; else byte refused + 1 */
    } inserts[] = {
        { "\\n", 0 }, { "\\u00e9", 0 }, { "\\ud83d\\ude00", 0 },
        { "\\\"", 0 }, { "\\\\", 0 }, { "\\u0000", 0 },
        { "\xc3\xa9", 0 }, { "\xe1\xbb\x85", 0 }, { "\xe2\x82\xac", 0 },
        { "\xf0\x9f\x98\x80", 0 }, { "\xed\x9f\xbf", 0 },
        { "\xc3(", 1 }, { "\xff", 1 }, { "\x80", 1 }, { "\xc0\xaf", 1 },
        { "\xed\xa0\x80", 1 }, { "\xf4\x90\x80\x80", 1 },
        { "\xe1\xbb", 1 }, { "\x01", 1 }, { "\x1f", 1 }, { "\t", 1 },
        { "\\x", 1 }, { "\\ud83d", 1 }, { "\x7f", 0 },
    };

    bad = 0;

    for (n = 0; n <= 40; n++) {
        memset(s, 'a', n);
        bad += !string_case(s, n, 0);

        for (k = 0; k < sizeof(inserts) / sizeof(inserts[0]); k++) {
            ins = inserts[k].text;

            for (i = 0; i <= n; i++) {
                memset(s, 'a', i);
                memcpy(s + i, ins, strlen(ins));
                memset(s + i + strlen(ins), 'a', n - i);

                if (!string_case(s, n + strlen(ins),
                                 inserts[k].at ? i + 1 : 0))
                {
                    bad++;
                    printf("#   length %zu, insert #%zu at %zu\n", n, k, i);
                }
            }
        }
    }

    UNIT_EQ_INT(bad, 0, "strings of 0 to 40 bytes with anything anywhere");

    /* unterminated at every length: the end of the text is the error */
    for (n = 0, bad = 0; n <= 40; n++) {
        s[0] = '"';
        memset(s + 1, 'a', n);
        snprintf(want, sizeof(want), "at byte %zu:", n + 1);
        bad += parse(s, n + 1, 64, 1, &kind, err, sizeof(err)) != NULL
               || strstr(err, want) == NULL
               || strstr(err, "unterminated string") == NULL;
    }

    UNIT_EQ_INT(bad, 0, "an unterminated string at every length");
}


/*
 * A repeated key is refused at the second one's offset, wherever the
 * pair sits in objects of up to 40 keys (checked as they come, or sorted
 * past 32), and distinct keys are never taken for twins
 */
static void
test_duplicate_keys_anywhere(void)
{
    int           kind;
    char          text[1024], err[256], want[64];
    size_t        n, i, j, k, len, at, bad;
    lgsp_json_t  *json;

    bad = 0;

    for (n = 1; n <= 40; n++) {
        for (j = 0; j < n; j++) {
            for (i = 0; i <= j; i++) {
                /* i == j: no twin; else key j repeats key i */
                len = 0;
                at = 0;
                text[len++] = '{';

                for (k = 0; k < n; k++) {
                    if (k == j) {
                        at = len + (k > 0 ? 2 : 0);
                    }
                    len += sprintf(text + len, "%s\"key%zu\":%zu",
                                   k ? ", " : "", k == j ? i : k, k);
                }

                text[len++] = '}';

                json = parse(text, len, 64, 1, &kind, err, sizeof(err));

                if (i == j) {
                    bad += json == NULL;
                    continue;
                }

                snprintf(want, sizeof(want),
                         "duplicate object key at byte %zu", at);
                bad += json != NULL || kind != LGSP_JSON_DUPLICATE_KEY
                       || strcmp(err, want) != 0;
            }
        }
    }

    UNIT_EQ_INT(bad, 0, "a repeated key anywhere in objects of 1-40 keys");
}


/* the inline key comparisons order and match keys as memcmp() does */
static void
test_key_comparison_is_memcmp_order(void)
{
    int     want, got, bad;
    char    a[24], b[24];
    size_t  len, i, k;

    bad = 0;
    srand(7);

    for (len = 0; len <= 20; len++) {
        for (k = 0; k < 2000; k++) {
            for (i = 0; i < len; i++) {
                a[i] = (char) (rand() % 4 + 0x7e);
                b[i] = (rand() % 3) ? a[i] : (char) (rand() % 4 + 0x7e);
            }

            want = memcmp(a, b, len);
            want = (want > 0) - (want < 0);
            got = lgsp_json_key_cmp(a, b, len);

            bad += (want != got);
            bad += (lgsp_json_key_eq(a, b, len) != (want == 0));
        }
    }

    UNIT_EQ_INT(bad, 0, "lengths 0 to 20, bytes on both sides of 0x80");
}


static void
test_equality_of_big_objects(void)
{
    int             i;
    char            err[512], text[1024];
    size_t          len;
    lgsp_schema_t  *schema;

    schema = compile_text("{\"uniqueItems\": true}", NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "uniqueItems compiles");
    if (schema == NULL) {
        return;
    }

    /* two objects of 20 members, in opposite orders, then 1 and 1.0 */
    len = sprintf(text, "[{");
    for (i = 0; i < 20; i++) {
        len += sprintf(text + len, "%s\"p%d\":%d", i ? "," : "", i, i);
    }
    len += sprintf(text + len, "},{");
    for (i = 19; i >= 0; i--) {
        len += sprintf(text + len, "\"p%d\":%d.0%s", i, i, i ? "," : "");
    }
    sprintf(text + len, "}]");

    UNIT_EQ_INT(validate_text(schema, text, 1), 0,
                "objects with the same members in any order are equal");

    text[len - 3] = '9';
    UNIT_EQ_INT(validate_text(schema, text, 1), 1,
                "one member's value differs: they are not");

    lgsp_schema_free(schema);
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


/*
 * An instance deeper than the evaluation goes is refused, also where a
 * failure would count as a pass: "no member is evil", written as a "not"
 * around a recursive schema, let an "evil" nested deep enough through
 */
static void
test_too_deep_is_refused_inside_not(void)
{
    int             kind, rc;
    char            err[256], name[128], *text, *p;
    size_t          depth, i, k;
    lgsp_json_t    *json;
    lgsp_schema_t  *schema;

    static const size_t  depths[] = { 10, 600, 2000 };

    schema = compile_text(
        "{\"not\": {\"$ref\": \"#/$defs/evil\"},"
        " \"$defs\": {\"evil\": {\"anyOf\": ["
        "  {\"required\": [\"evil\"]},"
        "  {\"required\": [\"c\"],"
        "   \"properties\": {\"c\": {\"$ref\": \"#/$defs/evil\"}}}]}}}",
        NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "a recursive schema inside \"not\" compiles");
    if (schema == NULL) {
        printf("#   %s\n", err);
        return;
    }

    for (k = 0; k < sizeof(depths) / sizeof(depths[0]); k++) {
        depth = depths[k];

        text = malloc(depth * 6 + 16);
        if (text == NULL) {
            break;
        }

        /* {"c":{"c":...{"evil":1}...}} */
        p = text;
        for (i = 0; i < depth; i++) {
            memcpy(p, "{\"c\":", 5);
            p += 5;
        }
        memcpy(p, "{\"evil\":1}", 10);
        p += 10;
        memset(p, '}', depth);
        p += depth;

        json = parse(text, p - text, 4096, 0, &kind, err, sizeof(err));
        free(text);

        lgsp_schema_errors_free(&errors);
        errors.max = 10;

        rc = json ? lgsp_schema_validate(schema, json, &errors) : -3;

        snprintf(name, sizeof(name), "\"evil\" %zu levels deep is refused",
                 depth);
        UNIT_EQ_INT(rc, 0, name);

        if (depth == 2000) {
            UNIT_OK(errors.n > 0 && strstr(errors.errors[0].message,
                                           "nested too deeply") != NULL,
                    "and the error says it is nested too deeply");
        }
    }

    lgsp_schema_free(schema);
}


static void
test_unevaluated_and_dynamic_refs(void)
{
    char                   err[512], text[2048], name[64], want[16];
    size_t                 n, i, len;
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

    /* annotations are kept by a member's index: objects of more members
     * than are kept without calloc(), seen through anyOf and $ref */
    schema = compile_text(
        "{\"$defs\": {\"b\": {\"properties\": {\"b\": true}}},"
        " \"anyOf\": [{\"patternProperties\": {\"^a\": true}}, true],"
        " \"$ref\": \"#/$defs/b\","
        " \"unevaluatedProperties\": false}", NULL, err, sizeof(err));
    UNIT_OK(schema != NULL, "unevaluatedProperties with anyOf compiles");
    if (schema == NULL) {
        return;
    }

    for (n = 1; n <= 100; n += 33) {
        for (i = 0, len = 0; i < n; i++) {
            len += sprintf(text + len, "%s\"a%zu\": %zu", len ? ", " : "{",
                           i, i);
            if (i == n / 2) {
                len += sprintf(text + len, ", \"b\": 0, \"c%zu\": 0", i);
            }
        }
        sprintf(text + len, "}");

        snprintf(name, sizeof(name), "%zu members and one unevaluated",
                 n + 2);
        snprintf(want, sizeof(want), "/c%zu", n / 2);
        UNIT_OK(validate_text(schema, text, 5) == 0 && errors.n == 1
                && strcmp(errors.errors[0].instance_path, want) == 0, name);
    }

    lgsp_schema_free(schema);
}


/* JSON Schema compares mathematical values: the body's number as written */
static void
test_exact_numbers(void)
{
    char            err[512], *text;
    size_t          i;
    lgsp_schema_t  *schema;
    struct {
        const char  *schema;
        const char  *instance;
        int          valid;
        const char  *name;
    } cases[] = {
        { "{\"maximum\": 100}", "100.000000000000000001", 0,
          "100.000000000000000001 is more than maximum 100" },
        { "{\"maximum\": 100}", "100.000000000000000000", 1,
          "100.000000000000000000 is not" },
        { "{\"maximum\": 3}", "3.2", 0, "3.2 is more than maximum 3" },
        { "{\"maximum\": 3}", "2.9", 1, "2.9 is not" },
        { "{\"maximum\": -3}", "-2.9", 0, "-2.9 is more than maximum -3" },
        { "{\"maximum\": -3}", "-3.1", 1, "-3.1 is not" },
        { "{\"minimum\": -3}", "-3.1", 0, "-3.1 is less than minimum -3" },
        { "{\"minimum\": -3}", "-2.9", 1, "-2.9 is not" },
        { "{\"exclusiveMinimum\": 0}", "-0.1", 0,
          "-0.1 is not above exclusiveMinimum 0" },
        { "{\"exclusiveMaximum\": -2}", "-2.1", 1,
          "-2.1 is below exclusiveMaximum -2" },
        { "{\"exclusiveMaximum\": 2}", "2.1e-1", 1,
          "2.1e-1 is below exclusiveMaximum 2" },
        { "{\"maximum\": 9007199254740993}", "9007199254740992.9", 1,
          "9007199254740992.9 is at most 2^53 + 1" },
        { "{\"maximum\": 10}", "10.0000000000000001", 0,
          "10.0000000000000001 (18 digits) is more than maximum 10" },
        { "{\"maximum\": 10}", "10.00000000000000000", 1,
          "10.00000000000000000 (19 digits) is not" },
        { "{\"maximum\": 10.5}", "10.5000000000000000001", 0,
          "10.5000000000000000001 is more than maximum 10.5" },
        { "{\"minimum\": -3}", "-3.0000000000000001", 0,
          "-3.0000000000000001 is less than minimum -3" },
        { "{\"exclusiveMaximum\": 100}", "99.999999999999999999999", 1,
          "99.999999999999999999999 is below exclusiveMaximum 100" },
        { "{\"exclusiveMinimum\": 0}", "1e-400", 1,
          "1e-400 is above exclusiveMinimum 0" },
        { "{\"minimum\": 0}", "-1e-400", 0, "-1e-400 is below minimum 0" },
        { "{\"maximum\": 1e300}", "1e400", 0, "1e400 fails maximum 1e300" },
        { "{\"minimum\": -1e300}", "-1e400", 0,
          "-1e400 fails minimum -1e300" },
        { "{\"maximum\": 0.1}", "0.1000000000000000055511151231257827", 0,
          "maximum 0.1 is the decimal 0.1, not the double nearest it" },
        { "{\"maximum\": 0.1}", "0.1", 1, "0.1 is at most 0.1" },
        { "{\"const\": 1}", "1.0", 1, "1.0 is const 1" },
        { "{\"const\": 1}", "10e-1", 1, "10e-1 is const 1" },
        { "{\"const\": 1}", "1.0000000000000000000001", 0,
          "1.0000000000000000000001 is not" },
        { "{\"enum\": [0.1, 2]}", "1e-1", 1, "1e-1 is in enum [0.1, 2]" },
        { "{\"enum\": [9007199254740993]}", "9007199254740993.0", 1,
          "2^53 + 1 with a point is in its enum" },
        { "{\"enum\": [9007199254740993]}", "9007199254740992", 0,
          "2^53 is not" },
        { "{\"type\": \"integer\"}", "1.0", 1, "1.0 is an integer" },
        { "{\"type\": \"integer\"}", "1e2", 1, "1e2 is an integer" },
        { "{\"type\": \"integer\"}", "123456789012345678901234567890", 1,
          "an integer past 64 bits is an integer" },
        { "{\"type\": \"integer\"}", "1e400", 1, "1e400 is an integer" },
        { "{\"type\": \"integer\"}", "1.0000000000000000000001", 0,
          "1.0000000000000000000001 is not" },
        { "{\"type\": \"integer\"}", "1e-400", 0, "nor is 1e-400" },
        { "{\"multipleOf\": 7}", "1e999999999", 0,
          "1e999999999 is no multiple of 7, at once" },
        { "{\"multipleOf\": 0.5}", "1e308", 1,
          "1e308 is a multiple of 0.5" },
        { "{\"multipleOf\": 0.01}", "12345678901234567890.12", 1,
          "a long amount is a multiple of 0.01" },
        { "{\"multipleOf\": 0.01}", "12345678901234567890.125", 0,
          "and with a third decimal it is not" },
        { "{\"multipleOf\": 0.1}", "0.3", 1, "0.3 is a multiple of 0.1" },
        { "{\"uniqueItems\": true}", "[1, 1.0]", 0, "1 and 1.0 are equal" },
        { "{\"uniqueItems\": true}", "[0.1, 100e-3]", 0,
          "0.1 and 100e-3 are equal" },
        { "{\"uniqueItems\": true}", "[1e400, 10e399]", 0,
          "1e400 and 10e399 are equal" },
        { "{\"uniqueItems\": true}", "[1e400, 1e399]", 1,
          "1e400 and 1e399 are not" },
        { "{\"uniqueItems\": true}",
          "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,"
          " 123456789012345678901234567890,"
          " 1.23456789012345678901234567890e29]",
          0, "big integers are equal in both spellings among many items" },
        { "{\"uniqueItems\": true}",
          "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,"
          " 9.21e18, 9210000000000000000]",
          0, "an integer near 2^63 equals its real spelling" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        schema = compile_text(cases[i].schema, NULL, err, sizeof(err));
        UNIT_OK(schema != NULL, cases[i].schema);
        if (schema == NULL) {
            continue;
        }
        UNIT_EQ_INT(validate_text(schema, cases[i].instance, 1),
                    cases[i].valid, cases[i].name);
        lgsp_schema_free(schema);
    }

    /* 7e299 + 1 written out: a double rounds it to a multiple of 7 */
    schema = compile_text("{\"multipleOf\": 7}", NULL, err, sizeof(err));
    text = malloc(302);
    if (schema == NULL || text == NULL) {
        UNIT_OK(0, "multipleOf 7 compiles");
        return;
    }

    text[0] = '7';
    memset(text + 1, '0', 299);
    text[300] = '\0';
    UNIT_EQ_INT(validate_text(schema, text, 1), 1,
                "7e299 written out is a multiple of 7");
    text[299] = '1';
    UNIT_EQ_INT(validate_text(schema, text, 1), 0,
                "7e299 + 1 written out is not");
    if (errors.n == 1) {
        UNIT_EQ_STR(errors.errors[0].message, "must be a multiple of 7",
                    "the message names the divisor");
    }

    free(text);
    lgsp_schema_free(schema);

    schema = compile_text("{\"maximum\": 100}", NULL, err, sizeof(err));
    if (schema != NULL) {
        UNIT_EQ_INT(validate_text(schema, "100.000000000000000001", 1), 0,
                    "maximum 100 refuses 100.000000000000000001");
        if (errors.n == 1) {
            UNIT_EQ_STR(errors.errors[0].message,
                        "must be at most 100 (it is 100.000000000000000001)",
                        "and the message shows the number as written");
        }
        lgsp_schema_free(schema);
    }
}


/* the k-th of the 40320 orders of 0..7 (k in the factorial base) */
static void
permutation(size_t k, int *out)
{
    int     left[8];
    size_t  i, j, n, f;

    for (i = 0; i < 8; i++) {
        left[i] = (int) i;
    }

    for (i = 0, n = 8, f = 5040; i < 8; i++) {
        j = k / f;
        k %= f;
        out[i] = left[j];
        memmove(&left[j], &left[j + 1], (n - j - 1) * sizeof(int));
        n--;
        f = n > 0 ? f / n : 1;
    }
}


/* {"a":p0,"b":p1,...,"h":p7} for the k-th order */
static size_t
permuted_object(char *out, size_t k)
{
    int     p[8];
    size_t  i, len;

    permutation(k, p);
    len = sprintf(out, "{");

    for (i = 0; i < 8; i++) {
        len += sprintf(out + len, "%s\"%c\":%d", i ? "," : "", (char) ('a' + i),
                       p[i]);
    }

    return len + sprintf(out + len, "}");
}


/*
 * uniqueItems on 20000 objects of members "a" to "h" holding 0 to 7 in
 * different orders (1 MB): they all hashed alike when members were summed
 * without their names, and took 4.3 s; now every one differs, and a
 * repeat is still found
 */
static void
test_unique_items_of_colliding_objects(void)
{
    int             p[8];
    char            err[512], *text;
    size_t          i, n, len;
    lgsp_schema_t  *schema;

    schema = compile_text("{\"uniqueItems\": true}", NULL, err, sizeof(err));
    n = 20000;
    text = malloc(n * 64 + 128);
    if (schema == NULL || text == NULL) {
        UNIT_OK(0, "uniqueItems compiles");
        return;
    }

    len = sprintf(text, "[");
    for (i = 0; i < n; i++) {
        len += sprintf(text + len, "%s", i ? "," : "");
        len += permuted_object(text + len, i);
    }
    sprintf(text + len, "]");

    UNIT_EQ_INT(validate_text(schema, text, 1), 1,
                "20000 objects that pair the same numbers differently");

    /* the 777th again, its members in the opposite order */
    len += sprintf(text + len, ",{");
    permutation(777, p);
    for (i = 8; i > 0; i--) {
        len += sprintf(text + len, "\"%c\":%d%s", (char) ('a' + i - 1),
                       p[i - 1], i > 1 ? "," : "");
    }
    sprintf(text + len, "}]");

    UNIT_EQ_INT(validate_text(schema, text, 1), 0,
                "one repeated, its members in the other order: found");
    if (errors.n == 1) {
        UNIT_EQ_STR(errors.errors[0].message,
                    "must not contain duplicate items (items 777 and 20000"
                    " are equal)",
                    "the message names both items");
    }

    free(text);
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
    test_chained_refs_keep_every_step();
    test_draft07_by_schema_keyword();
    test_format_assertion_is_an_option();
    test_hostile_pattern_stops_at_the_budget();
    test_long_valid_string_matches();
    test_nested_quantifier_warnings();
    test_budget_counts();
    test_boolean_schema_files();
    test_strict_parser();
    test_exact_numbers();
    test_unique_items_of_colliding_objects();
    test_strict_parser_agrees_with_jansson();
    test_string_fast_path_edges();
    test_duplicate_keys_anywhere();
    test_key_comparison_is_memcmp_order();
    test_equality_of_big_objects();
    test_numbers();
    test_unevaluated_and_dynamic_refs();
    test_too_deep_is_refused_inside_not();

    lgsp_schema_errors_free(&errors);
    lgsp_arena_free(&arena);
    remove_files();

    return UNIT_DONE("schema");
}
