/*
 * Runs the JSON-Schema-Test-Suite against lgsp_schema: every test file of
 * draft 2020-12 and draft-07, required and optional.  Remote references
 * (http://localhost:1234/...) are read from the suite's remotes/ folder.
 *
 *   run [-v] [SUITE_DIR]
 *
 * Prints passed/failed per file and the totals, and exits 1 when any
 * required test fails.  -v also names each failing test.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgsp_schema.h"


typedef struct {
    const char  *name;          /* folder under tests/ */
    int          dialect;
    size_t       passed[2];     /* [0] required, [1] optional */
    size_t       failed[2];
} lgsp_suite_dialect_t;


static int  verbose;


static int
lgsp_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* the *.json files of dir, sorted; NULL when there is no such folder */
static char **
lgsp_list_json(const char *dir, size_t *n)
{
    DIR            *d;
    char          **names, **more;
    size_t          len;
    struct dirent  *e;

    *n = 0;
    d = opendir(dir);
    if (d == NULL) {
        return NULL;
    }

    names = NULL;

    while ((e = readdir(d)) != NULL) {
        len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) {
            continue;
        }
        more = realloc(names, (*n + 1) * sizeof(char *));
        if (more == NULL) {
            break;
        }
        names = more;
        names[(*n)++] = strdup(e->d_name);
    }

    closedir(d);

    if (names != NULL) {
        qsort(names, *n, sizeof(char *), lgsp_name_cmp);
    }

    return names;
}


static json_t *
lgsp_load(const char *path)
{
    json_t        *json;
    json_error_t   error;

    json = json_load_file(path, JSON_ALLOW_NUL, &error);

    if (json == NULL && strstr(error.text, "too big") != NULL) {
        json = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                              &error);
    }

    if (json == NULL) {
        fprintf(stderr, "%s: %s (line %d)\n", path, error.text, error.line);
    }

    return json;
}


/*
 * The file again, read as the module reads request bodies, so that the
 * instances keep their numbers exactly (bignum.json); NULL when our
 * parser refuses the file (the instances then come from jansson)
 */
static lgsp_json_t *
lgsp_load_exact(const char *path, lgsp_arena_t *arena)
{
    int                   kind;
    char                  err[256], *text;
    long                  size;
    FILE                 *f;
    lgsp_json_t          *doc;
    lgsp_json_options_t   opts;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    text = NULL;
    doc = NULL;

    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0
        && (text = lgsp_arena_alloc(arena, size)) != NULL
        && fread(text, 1, size, f) == (size_t) size)
    {
        memset(&opts, 0, sizeof(opts));
        opts.alloc = lgsp_arena_alloc;
        opts.ctx = arena;
        opts.max_depth = 1000;
        opts.borrow = 1;

        doc = lgsp_json_parse_strict(text, size, &opts, &kind, err,
                                     sizeof(err));
    }

    fclose(f);

    return doc;
}


/* test t of group g in the exact document, or converted from jansson */
static lgsp_json_t *
lgsp_instance(const lgsp_json_t *exact, size_t g, size_t t, json_t *test,
    lgsp_arena_t *arena)
{
    lgsp_json_t  *tests, *data;

    if (exact != NULL && exact->type == LGSP_JSON_ARRAY && g < exact->len) {
        tests = lgsp_json_get(&exact->u.items[g], "tests", 5);

        if (tests != NULL && tests->type == LGSP_JSON_ARRAY
            && t < tests->len)
        {
            data = lgsp_json_get(&tests->u.items[t], "data", 4);
            if (data != NULL) {
                return data;
            }
        }
    }

    return lgsp_json_from_jansson(json_object_get(test, "data"),
                                  lgsp_arena_alloc, arena);
}


static void
lgsp_run_file(const char *path, const char *label,
    const lgsp_schema_options_t *opts, size_t *passed, size_t *failed)
{
    int                    rc, want;
    char                   err[1024];
    size_t                 g, t, ok, bad;
    json_t                *groups, *group, *tests, *test;
    lgsp_arena_t           arena, file_arena;
    lgsp_json_t           *data, *exact;
    lgsp_schema_t         *schema;
    lgsp_schema_errors_t   errors;

    groups = lgsp_load(path);
    if (groups == NULL) {
        printf("%-58s  not readable\n", label);
        (*failed)++;
        return;
    }

    memset(&file_arena, 0, sizeof(lgsp_arena_t));
    exact = lgsp_load_exact(path, &file_arena);

    ok = 0;
    bad = 0;

    json_array_foreach(groups, g, group) {
        tests = json_object_get(group, "tests");

        schema = lgsp_schema_compile_json(json_object_get(group, "schema"),
                                          NULL, opts, err, sizeof(err));
        if (schema == NULL && verbose) {
            printf("  %s: \"%s\": does not compile: %s\n", label,
                   json_string_value(json_object_get(group, "description")),
                   err);
        }

        json_array_foreach(tests, t, test) {
            want = json_is_true(json_object_get(test, "valid"));

            memset(&errors, 0, sizeof(errors));
            errors.max = 5;

            /* the suite's instances, as the validator reads them */
            memset(&arena, 0, sizeof(lgsp_arena_t));
            data = lgsp_instance(exact, g, t, test, &arena);

            rc = (schema && data) ? lgsp_schema_validate(schema, data,
                                                         &errors)
                                  : -1;

            lgsp_arena_free(&arena);

            if (rc == want) {
                ok++;
            } else {
                bad++;
                if (verbose && schema != NULL) {
                    printf("  %s: \"%s\" / \"%s\": expected %s%s%s\n", label,
                           json_string_value(json_object_get(group,
                                                             "description")),
                           json_string_value(json_object_get(test,
                                                             "description")),
                           want ? "valid" : "invalid",
                           errors.n ? ", got: " : "",
                           errors.n ? errors.errors[0].message : "");
                }
            }

            lgsp_schema_errors_free(&errors);
        }

        lgsp_schema_free(schema);
    }

    json_decref(groups);
    lgsp_arena_free(&file_arena);

    printf("%-58s  %4zu passed  %4zu failed\n", label, ok, bad);

    *passed += ok;
    *failed += bad;
}


static void
lgsp_run_folder(const char *suite, lgsp_suite_dialect_t *d,
    const char *sub, int optional, int format_assert)
{
    char                   dir[2048], path[4096], remotes[2048],
                           label[512];
    char                 **names;
    size_t                 n, i;
    lgsp_schema_options_t  opts;

    snprintf(dir, sizeof(dir), "%s/tests/%s%s", suite, d->name, sub);
    snprintf(remotes, sizeof(remotes), "%s/remotes", suite);

    memset(&opts, 0, sizeof(opts));
    opts.format_assert = format_assert;
    opts.remote_base = "http://localhost:1234/";
    opts.remote_dir = remotes;
    opts.dialect = d->dialect;

    names = lgsp_list_json(dir, &n);

    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        snprintf(label, sizeof(label), "%s%s/%s", d->name, sub, names[i]);
        lgsp_run_file(path, label, &opts, &d->passed[optional],
                      &d->failed[optional]);
        free(names[i]);
    }

    free(names);
}


int
main(int argc, char **argv)
{
    int                    i, bad;
    const char            *suite;
    lgsp_suite_dialect_t   dialects[] = {
        { "draft2020-12", 2020, { 0, 0 }, { 0, 0 } },
        { "draft7", 7, { 0, 0 }, { 0, 0 } }
    };

    suite = "../shared/conformance/JSON-Schema-Test-Suite";

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else {
            suite = argv[i];
        }
    }

    for (i = 0; i < 2; i++) {
        lgsp_run_folder(suite, &dialects[i], "", 0, 0);
        lgsp_run_folder(suite, &dialects[i], "/optional", 1, 0);
        lgsp_run_folder(suite, &dialects[i], "/optional/format", 1, 1);
    }

    bad = 0;
    printf("\n");

    for (i = 0; i < 2; i++) {
        printf("%-13s required: %4zu passed, %3zu failed;"
               "  optional: %4zu passed, %3zu failed\n", dialects[i].name,
               dialects[i].passed[0], dialects[i].failed[0],
               dialects[i].passed[1], dialects[i].failed[1]);
        if (dialects[i].failed[0] || dialects[i].passed[0] == 0) {
            bad = 1;
        }
    }

    return bad;
}
