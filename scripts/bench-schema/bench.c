/*
 * Validation alone, lgsp_schema: compiles SCHEMA once, parses each
 * INSTANCE once, then validates it in a loop for SECONDS and prints
 * "NAME OPS_PER_SECOND" per instance.  With -e the errors are collected
 * too (up to 10), as the nginx module does for a 422 answer.
 *
 *   bench [-e] SECONDS SCHEMA INSTANCE...
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
    int                    i, collect, rc;
    char                   err[1024];
    double                 seconds, start, elapsed;
    json_t                *instance;
    unsigned long          n, k, batch;
    lgsp_schema_t         *schema;
    json_error_t           error;
    lgsp_schema_errors_t   errors;

    collect = argc > 1 && strcmp(argv[1], "-e") == 0;
    argv += collect;
    argc -= collect;

    if (argc < 4) {
        fprintf(stderr, "usage: bench [-e] SECONDS SCHEMA INSTANCE...\n");
        return 2;
    }

    seconds = atof(argv[1]);

    schema = lgsp_schema_compile_file(argv[2], NULL, err, sizeof(err));
    if (schema == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    for (i = 3; i < argc; i++) {
        instance = json_load_file(argv[i], 0, &error);
        if (instance == NULL) {
            fprintf(stderr, "%s: %s\n", argv[i], error.text);
            return 1;
        }

        memset(&errors, 0, sizeof(errors));
        errors.max = collect ? 10 : 0;

        /* warm the caches, as the other runners warm their JITs */
        for (k = 0; k < 20000; k++) {
            rc = lgsp_schema_validate(schema, instance, &errors);
            lgsp_schema_errors_free(&errors);
        }

        n = 0;
        batch = 1000;
        rc = 0;
        start = now();

        do {
            for (k = 0; k < batch; k++) {
                rc = lgsp_schema_validate(schema, instance, &errors);
                lgsp_schema_errors_free(&errors);
            }
            n += batch;
            elapsed = now() - start;
        } while (elapsed < seconds);

        printf("%s %.0f %s\n", base_name(argv[i]), n / elapsed,
               rc == 1 ? "valid" : "invalid");

        json_decref(instance);
    }

    lgsp_schema_free(schema);

    return 0;
}
