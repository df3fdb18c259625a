/*
 * JSON Schema (draft 2020-12 and draft-07) compiler and validator.
 * Schemas are read with jansson; instances are documents of lgsp_json.h.
 * nginx-free: jansson and PCRE2.
 *
 * A schema is compiled once, at configuration time; the compiled form is
 * read-only afterwards, so nginx workers share it after fork and threads
 * may validate against it concurrently.
 */

#ifndef LGSP_SCHEMA_H
#define LGSP_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "lgsp_json.h"


typedef struct lgsp_schema_s  lgsp_schema_t;


typedef struct {
    /* 1: "format" asserts; 0: "format" is an annotation only */
    int                format_assert;
    /* URL prefix (e.g. "http://localhost:1234/") whose documents are read
     * from remote_dir instead; NULL: no such mapping */
    const char        *remote_base;
    const char        *remote_dir;
    /* the dialect of a schema without $schema: 7 for draft-07; 0 (or
     * 2020) for draft 2020-12 */
    int                dialect;
} lgsp_schema_options_t;


typedef struct {
    char              *instance_path;   /* JSON Pointer, "" for the root */
    char              *schema_path;     /* keyword location */
    char              *keyword;
    char              *message;
} lgsp_schema_error_t;


typedef struct {
    lgsp_schema_error_t  *errors;       /* filled by lgsp_schema_validate() */
    size_t                n;
    size_t                max;          /* set by the caller; 0: just 0/1 */
} lgsp_schema_errors_t;


lgsp_schema_t *lgsp_schema_compile_file(const char *path,
    const lgsp_schema_options_t *opts, char *err, size_t errlen);
lgsp_schema_t *lgsp_schema_compile_json(json_t *schema,
    const char *base_uri_or_path, const lgsp_schema_options_t *opts,
    char *err, size_t errlen);

/*
 * 1: valid, 0: invalid (errors collected up to errors->max), -1: out of
 * memory, LGSP_SCHEMA_OVER_BUDGET: past LGSP_SCHEMA_MAX_COST (below);
 * errors may be NULL
 */
int lgsp_schema_validate(const lgsp_schema_t *schema,
    const lgsp_json_t *instance, lgsp_schema_errors_t *errors);

/*
 * lgsp_schema_validate() within max_cost units of work (schema nodes
 * visited, items of "uniqueItems", values of "enum", regex steps and
 * subject bytes, bytes measured or format-checked; a unit is about 2 ns
 * of CPU).  LGSP_SCHEMA_OVER_BUDGET when the answer needs more; *cost (if
 * not NULL) gets the units spent.  A count, not a clock: the same
 * instance costs the same on every machine.
 */
#define LGSP_SCHEMA_OVER_BUDGET  (-2)

/*
 * The budget of lgsp_schema_validate() and lgsp_schema_max_cost's
 * default: a realistic 1 MB body, 529 birth registrations, costs 0.53
 * million units; a body built to use it all up takes 20 to 50 ms of CPU
 * (README, "Performance").
 */
#define LGSP_SCHEMA_MAX_COST  10000000

int lgsp_schema_validate_within(const lgsp_schema_t *schema,
    const lgsp_json_t *instance, lgsp_schema_errors_t *errors,
    uint64_t max_cost, uint64_t *cost);

/* the i-th warning of the compiler (a pattern only a backtracking matcher
 * finds slow...), NULL past the last */
const char *lgsp_schema_warning(const lgsp_schema_t *schema, size_t i);
void lgsp_schema_errors_free(lgsp_schema_errors_t *errors);
void lgsp_schema_free(lgsp_schema_t *schema);

/* the dialect the root schema uses: 2020 or 7 */
int lgsp_schema_dialect(const lgsp_schema_t *schema);

/* a jansson value as a document; NULL: out of memory (or a string, array
 * or object past LGSP_JSON_MAX_LEN) */
lgsp_json_t *lgsp_json_from_jansson(json_t *json, lgsp_json_alloc_pt alloc,
    void *ctx);

#endif /* LGSP_SCHEMA_H */
