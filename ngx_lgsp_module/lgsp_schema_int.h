/*
 * The compiled form of a JSON Schema, shared by the compiler
 * (lgsp_schema_compile.c) and the validator (lgsp_schema_validate.c).
 * Each schema object becomes one lgsp_node_t whose keywords are already
 * checked, resolved and linked, so validation never looks at the schema
 * document: the values it compares with (const, enum, the numeric
 * limits) are converted into lgsp_json.h documents in the schema's arena.
 */

#ifndef LGSP_SCHEMA_INT_H
#define LGSP_SCHEMA_INT_H

#include <stdint.h>
#include <stddef.h>
#include <jansson.h>

#include "lgsp_schema.h"
#include "lgsp_regex.h"


#define LGSP_DIALECT_2020   2020
#define LGSP_DIALECT_7      7

/* instance types, as a mask */
#define LGSP_T_NULL         0x01
#define LGSP_T_BOOLEAN      0x02
#define LGSP_T_OBJECT       0x04
#define LGSP_T_ARRAY        0x08
#define LGSP_T_NUMBER       0x10
#define LGSP_T_STRING       0x20
#define LGSP_T_INTEGER      0x40

/* keywords whose presence is a flag rather than a pointer */
#define LGSP_K_TYPE         0x00000001
#define LGSP_K_MAX_LENGTH   0x00000002
#define LGSP_K_MIN_LENGTH   0x00000004
#define LGSP_K_MAX_ITEMS    0x00000008
#define LGSP_K_MIN_ITEMS    0x00000010
#define LGSP_K_MAX_PROPS    0x00000020
#define LGSP_K_MIN_PROPS    0x00000040
#define LGSP_K_UNIQUE       0x00000080
#define LGSP_K_MAX_CONTAINS 0x00000100
#define LGSP_K_MIN_CONTAINS 0x00000200

/* what a visit of a node must look at besides its type: one word read,
 * where the pointers would be a load each on every node visited */
#define LGSP_C_REF          0x01
#define LGSP_C_DYNAMIC_REF  0x02
#define LGSP_C_CONST        0x04
#define LGSP_C_ENUM         0x08
#define LGSP_C_IN_PLACE     0x10    /* allOf, anyOf, oneOf, not, if */
#define LGSP_C_OWN_EVAL     0x20    /* unevaluatedProperties or -Items */
#define LGSP_C_SCOPE        0x40    /* its resource has dynamic anchors */


typedef struct lgsp_node_s      lgsp_node_t;
typedef struct lgsp_resource_s  lgsp_resource_t;


/* a subschema and the keyword location step that leads to it */
typedef struct {
    lgsp_node_t        *node;
    const char         *seg;        /* e.g. "properties/name", escaped */
} lgsp_link_t;


/* a property name */
typedef struct {
    const char         *key;
    size_t              len;
    uint32_t            hash;       /* lgsp_json_key_hash() */
} lgsp_name_t;


/* properties, dependentSchemas: sorted by length, then bytes */
typedef struct {
    const char         *key;
    size_t              len;
    uint32_t            hash;
    lgsp_link_t         link;
    int                 required;   /* also named in "required" */
} lgsp_prop_t;


typedef struct {
    lgsp_regex_t       *re;
    lgsp_link_t         link;
} lgsp_pattern_prop_t;


/* dependentRequired: when key is present, every one of names must be */
typedef struct {
    const char         *key;
    size_t              len;
    uint32_t            hash;
    lgsp_name_t        *names;
    size_t              n_names;
    const char         *seg;
} lgsp_dep_required_t;


typedef struct {
    const char         *name;
    lgsp_node_t        *node;
} lgsp_dyn_anchor_t;


/* a schema resource: what the dynamic scope of $dynamicRef is made of */
struct lgsp_resource_s {
    const char         *uri;
    lgsp_dyn_anchor_t  *dyn_anchors;
    size_t              n_dyn_anchors;
};


struct lgsp_node_s {
    uint32_t            has;            /* LGSP_K_* */
    uint32_t            checks;         /* LGSP_C_* */
    uint8_t             is_boolean;
    uint8_t             truth;          /* the value of a boolean schema */
    uint8_t             types;          /* LGSP_T_* mask of "type" */
    uint8_t             format;         /* LGSP_FORMAT_* when asserted */

    lgsp_resource_t    *resource;

    lgsp_link_t         ref;
    lgsp_link_t         dynamic_ref;
    const char         *dynamic_name;   /* NULL: $dynamicRef acts as $ref */

    lgsp_link_t        *all_of;
    size_t              n_all_of;
    lgsp_link_t        *any_of;
    size_t              n_any_of;
    lgsp_link_t        *one_of;
    size_t              n_one_of;
    lgsp_link_t         not;
    lgsp_link_t         if_;
    lgsp_link_t         then_;
    lgsp_link_t         else_;

    lgsp_prop_t        *props;
    size_t              n_props;
    lgsp_pattern_prop_t *pattern_props;
    size_t              n_pattern_props;
    lgsp_link_t         additional_props;
    lgsp_link_t         property_names;
    lgsp_link_t         unevaluated_props;
    lgsp_prop_t        *dep_schemas;
    size_t              n_dep_schemas;
    lgsp_dep_required_t *dep_required;
    size_t              n_dep_required;
    lgsp_name_t        *required;
    size_t              n_required;
    /* every required name is a property: counting them as the properties
     * are validated replaces looking each one up */
    int                 required_in_props;

    lgsp_link_t        *prefix_items;
    size_t              n_prefix_items;
    lgsp_link_t         items;          /* items past the prefix */
    lgsp_link_t         contains;
    lgsp_link_t         unevaluated_items;

    const lgsp_json_t  *const_value;
    const lgsp_json_t  *enum_values;    /* an array */
    const char         *const_text;     /* for messages */
    const char         *enum_text;
    const lgsp_json_t  *multiple_of;
    const lgsp_json_t  *maximum;
    const lgsp_json_t  *exclusive_maximum;
    const lgsp_json_t  *minimum;
    const lgsp_json_t  *exclusive_minimum;

    size_t              max_length;
    size_t              min_length;
    size_t              max_items;
    size_t              min_items;
    size_t              max_props;
    size_t              min_props;
    size_t              max_contains;
    size_t              min_contains;

    lgsp_regex_t       *pattern;
    const char         *format_name;
};


struct lgsp_schema_s {
    lgsp_node_t        *root;
    int                 dialect;
    lgsp_arena_t        arena;          /* lives as long as the schema */
    json_t             *documents;      /* array: keeps the documents alive */
    lgsp_regex_t      **regexes;
    size_t              n_regexes;
    char              **warnings;
    size_t              n_warnings;
};


/* validation against one node; used for meta-schema checks too */
int lgsp_schema_validate_node(const lgsp_node_t *node,
    const lgsp_json_t *instance, lgsp_schema_errors_t *errors);

/* the built-in meta-schema documents: NULL when uri is not one of them */
const char *lgsp_schema_builtin(const char *uri);

#endif /* LGSP_SCHEMA_INT_H */
