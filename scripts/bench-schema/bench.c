/*
 * Validation alone, lgsp_schema: compiles SCHEMA once, parses each
 * INSTANCE once, then validates it in a loop for SECONDS and prints
 * "NAME OPS_PER_SECOND" per instance.  With -e the errors are collected
 * too (up to 10), as the nginx module does for a 422 answer.
 *
 * With -p, each validation parses the instance first, into memory freed
 * after it, as the nginx module does per request: parsing and validating.
 *
 * With -c, each INSTANCE is validated once within MAX_COST units of
 * lgsp_schema_max_cost's budget, best of 5, and the units spent and the
 * CPU time taken are printed: "NAME COST CPU_MS ANSWER".
 *
 *   bench [-e|-p] SECONDS SCHEMA INSTANCE...
 *   bench -c MAX_COST SCHEMA INSTANCE...
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lgsp_schema.h"


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static double
cpu_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* the units an instance costs and the least CPU time it takes */
static void
measure_cost(const char *name, lgsp_schema_t *schema,
    const lgsp_json_t *instance, uint64_t max_cost)
{
    int        k, rc;
    double     start, best;
    uint64_t   cost;

    best = 1e9;
    rc = 0;
    cost = 0;

    for (k = 0; k < 5; k++) {
        start = cpu_now();
        rc = lgsp_schema_validate_within(schema, instance, NULL, max_cost,
                                         &cost);
        if (cpu_now() - start < best) {
            best = cpu_now() - start;
        }
    }

    printf("%s %llu %.1f %s\n", name, (unsigned long long) cost, best * 1e3,
           rc == 1 ? "valid" : rc == 0 ? "invalid"
           : rc == LGSP_SCHEMA_OVER_BUDGET ? "over-budget" : "error");
}


/* the text parsed into the arena, as the nginx module parses a body */
static lgsp_json_t *
parse_text(const char *text, size_t size, lgsp_arena_t *arena, char *err,
    size_t errlen)
{
    int                  kind;
    lgsp_json_options_t  parse;

    memset(arena, 0, sizeof(lgsp_arena_t));
    parse.alloc = lgsp_arena_alloc;
    parse.ctx = arena;
    parse.max_depth = 64;
    parse.borrow = 1;

    return lgsp_json_parse_strict(text, size, &parse, &kind, err, errlen);
}


/* one validation of the instance; with text, of that text parsed anew */
static int
validate_once(lgsp_schema_t *schema, const lgsp_json_t *instance,
    const char *text, size_t size, lgsp_schema_errors_t *errors)
{
    int           rc;
    char          err[256];
    lgsp_arena_t  arena;

    if (text == NULL) {
        rc = lgsp_schema_validate(schema, instance, errors);
        lgsp_schema_errors_free(errors);
        return rc;
    }

    instance = parse_text(text, size, &arena, err, sizeof(err));
    rc = instance ? lgsp_schema_validate(schema, instance, errors) : -1;
    lgsp_schema_errors_free(errors);
    lgsp_arena_free(&arena);

    return rc;
}


static const char *
base_name(const char *path)
{
    const char  *slash;

    slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}


int
main(int argc, char **argv)
{
    int                    i, collect, costs, reparse, rc;
    char                   err[1024];
    FILE                  *f;
    char                  *text;
    long                   size;
    double                 seconds, start, elapsed;
    lgsp_json_t           *instance;
    lgsp_arena_t           arena;
    unsigned long          n, k, batch;
    lgsp_schema_t         *schema;
    lgsp_schema_errors_t   errors;

    collect = argc > 1 && strcmp(argv[1], "-e") == 0;
    costs = argc > 1 && strcmp(argv[1], "-c") == 0;
    reparse = argc > 1 && strcmp(argv[1], "-p") == 0;
    argv += collect + costs + reparse;
    argc -= collect + costs + reparse;

    if (argc < 4) {
        fprintf(stderr, "usage: bench [-e|-p] SECONDS SCHEMA INSTANCE...\n"
                        "       bench -c MAX_COST SCHEMA INSTANCE...\n");
        return 2;
    }

    seconds = atof(argv[1]);

    schema = lgsp_schema_compile_file(argv[2], NULL, err, sizeof(err));
    if (schema == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    for (i = 3; i < argc; i++) {
        /* parsed once, as the nginx module parses a body */
        f = fopen(argv[i], "rb");
        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
            || fseek(f, 0, SEEK_SET) != 0
            || (text = malloc(size + 1)) == NULL
            || fread(text, 1, size, f) != (size_t) size)
        {
            fprintf(stderr, "%s: not readable\n", argv[i]);
            return 1;
        }

        fclose(f);

        instance = parse_text(text, size, &arena, err, sizeof(err));
        if (instance == NULL) {
            fprintf(stderr, "%s: %s\n", argv[i], err);
            return 1;
        }

        if (costs) {
            measure_cost(base_name(argv[i]), schema, instance,
                         strtoull(argv[1], NULL, 10));
            lgsp_arena_free(&arena);
            free(text);
            continue;
        }

        memset(&errors, 0, sizeof(errors));
        errors.max = collect ? 10 : 0;

        /* warm the caches, as the other runners warm their JITs */
        for (k = 0; k < 20000; k++) {
            validate_once(schema, instance, reparse ? text : NULL, size,
                          &errors);
        }

        n = 0;
        batch = 1000;
        rc = 0;
        start = now();

        do {
            for (k = 0; k < batch; k++) {
                rc = validate_once(schema, instance, reparse ? text : NULL,
                                   size, &errors);
            }
            n += batch;
            elapsed = now() - start;
        } while (elapsed < seconds);

        printf("%s %.0f %s\n", base_name(argv[i]), n / elapsed,
               rc == 1 ? "valid" : "invalid");

        lgsp_arena_free(&arena);
        free(text);
    }

    lgsp_schema_free(schema);

    return 0;
}
