/*
 * LGSP on nginx: the service catalogue.  lgsp_catalog answers with the
 * services its server publishes, as JSON or as an OpenAPI 3.1 document;
 * both are built once, at configuration time, from the locations with
 * lgsp_service and what each module says of them (ngx_http_lgsp_catalog.h).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_lgsp.h"
#include "ngx_http_lgsp_catalog.h"


#define NGX_HTTP_LGSP_CATALOG_OFF      0
#define NGX_HTTP_LGSP_CATALOG_JSON     1
#define NGX_HTTP_LGSP_CATALOG_OPENAPI  2


typedef struct {
    void                       **loc_conf;
    void                       **parent;       /* NULL at server level */
    void                       **srv_conf;
} ngx_http_lgsp_catalog_entry_t;


typedef struct {
    ngx_array_t                  describers;   /* ngx_http_lgsp_describe_pt */
    ngx_array_t                  entries;      /* every location merged */
} ngx_http_lgsp_catalog_main_conf_t;


typedef struct {
    ngx_flag_t                   wanted;       /* a location serves it */
    ngx_str_t                    json;
    ngx_str_t                    openapi;
} ngx_http_lgsp_catalog_srv_conf_t;


typedef struct {
    void                       **loc_conf;     /* this location's, all */
    ngx_uint_t                   format;
} ngx_http_lgsp_catalog_loc_conf_t;


typedef struct {
    uint32_t                     method;
    const char                  *name;
} ngx_http_lgsp_catalog_method_t;


static ngx_int_t ngx_http_lgsp_catalog_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_lgsp_catalog_build(ngx_conf_t *cf,
    ngx_http_lgsp_catalog_main_conf_t *cmcf,
    ngx_http_core_srv_conf_t *cscf);
static json_t *ngx_http_lgsp_catalog_service(ngx_conf_t *cf,
    ngx_http_lgsp_catalog_main_conf_t *cmcf, void **loc_conf);
static void ngx_http_lgsp_catalog_operation(json_t *paths, json_t *service,
    json_t *schema);
static json_t *ngx_http_lgsp_catalog_openapi(ngx_http_core_srv_conf_t *cscf,
    json_t *tenant, json_t *services, json_t *schemas);
static json_t *ngx_http_lgsp_catalog_strings(ngx_array_t *a);
static json_t *ngx_http_lgsp_catalog_string(ngx_str_t *s);
static json_t *ngx_http_lgsp_catalog_tenant(ngx_conf_t *cf, ngx_str_t *code);
static ngx_int_t ngx_http_lgsp_catalog_dump(ngx_conf_t *cf, json_t *doc,
    ngx_str_t *out);
static char *ngx_http_lgsp_catalog(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_lgsp_catalog_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_lgsp_catalog_create_srv_conf(ngx_conf_t *cf);
static void *ngx_http_lgsp_catalog_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lgsp_catalog_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_lgsp_catalog_init(ngx_conf_t *cf);


/* what limit_except may allow; HEAD goes with GET */
static ngx_http_lgsp_catalog_method_t  ngx_http_lgsp_catalog_methods[] = {
    { NGX_HTTP_GET, "GET" },
    { NGX_HTTP_POST, "POST" },
    { NGX_HTTP_PUT, "PUT" },
    { NGX_HTTP_PATCH, "PATCH" },
    { NGX_HTTP_DELETE, "DELETE" },
    { 0, NULL }
};


static ngx_command_t  ngx_http_lgsp_catalog_commands[] = {

    { ngx_string("lgsp_catalog"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_lgsp_catalog,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lgsp_catalog_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_lgsp_catalog_init,            /* postconfiguration */

    ngx_http_lgsp_catalog_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_lgsp_catalog_create_srv_conf, /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lgsp_catalog_create_loc_conf, /* create location configuration */
    ngx_http_lgsp_catalog_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_catalog_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_catalog_module_ctx,     /* module context */
    ngx_http_lgsp_catalog_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_int_t
ngx_http_lgsp_catalog_describer_add(ngx_conf_t *cf,
    ngx_http_lgsp_describe_pt describe)
{
    ngx_http_lgsp_describe_pt          *d;
    ngx_http_lgsp_catalog_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_catalog_module);

    d = ngx_array_push(&cmcf->describers);
    if (d == NULL) {
        return NGX_ERROR;
    }

    *d = describe;

    return NGX_OK;
}


static ngx_int_t
ngx_http_lgsp_catalog_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_buf_t                         *b;
    ngx_str_t                         *doc;
    ngx_chain_t                        out;
    ngx_http_lgsp_catalog_srv_conf_t  *cscf;
    ngx_http_lgsp_catalog_loc_conf_t  *clcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_lgsp_catalog_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_lgsp_catalog_module);

    doc = (clcf->format == NGX_HTTP_LGSP_CATALOG_OPENAPI) ? &cscf->openapi
                                                          : &cscf->json;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = doc->len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* built once: the answer points at the configuration's copy */
    b->pos = doc->data;
    b->last = doc->data + doc->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_lgsp_catalog_build(ngx_conf_t *cf,
    ngx_http_lgsp_catalog_main_conf_t *cmcf, ngx_http_core_srv_conf_t *cscf)
{
    json_t                            *services, *schemas, *service, *doc;
    json_t                            *tenant;
    ngx_int_t                          rc;
    ngx_uint_t                         i;
    ngx_http_lgsp_loc_conf_t          *llcf, *plcf;
    ngx_http_core_loc_conf_t          *clcf, *pclcf;
    ngx_http_lgsp_catalog_entry_t     *e;
    ngx_http_lgsp_catalog_srv_conf_t  *lscf;

    lscf = cscf->ctx->srv_conf[ngx_http_lgsp_catalog_module.ctx_index];

    if (!lscf->wanted) {
        return NGX_OK;
    }

    services = json_array();
    schemas = json_array();
    tenant = NULL;
    e = cmcf->entries.elts;
    rc = NGX_ERROR;

    if (services == NULL || schemas == NULL) {
        goto done;
    }

    for (i = 0; i < cmcf->entries.nelts; i++) {
        if (e[i].srv_conf != cscf->ctx->srv_conf) {
            continue;
        }

        llcf = e[i].loc_conf[ngx_http_lgsp_module.ctx_index];
        clcf = e[i].loc_conf[ngx_http_core_module.ctx_index];

        if (llcf->service.len == 0 || clcf->name.len == 0 || clcf->noname
            || clcf->named || clcf->internal)
        {
            continue;
        }

        /* a nested location that only inherits the code is not listed */
        if (e[i].parent) {
            plcf = e[i].parent[ngx_http_lgsp_module.ctx_index];
            pclcf = e[i].parent[ngx_http_core_module.ctx_index];

            if (pclcf->name.len && plcf->service.data == llcf->service.data)
            {
                continue;
            }
        }

        service = ngx_http_lgsp_catalog_service(cf, cmcf, e[i].loc_conf);

        if (service == NULL || json_array_append_new(services, service) != 0)
        {
            goto done;
        }

        /* the schema goes to OpenAPI only, beside its service */
        if (json_array_append_new(schemas,
                                  json_object_get(service, "schema_document")
                                  ? json_incref(json_object_get(service,
                                                  "schema_document"))
                                  : json_null())
            != 0)
        {
            goto done;
        }

        json_object_del(service, "schema_document");
    }

    llcf = cscf->ctx->loc_conf[ngx_http_lgsp_module.ctx_index];
    tenant = ngx_http_lgsp_catalog_tenant(cf, &llcf->tenant);

    doc = json_pack("{s:s%,s:o,s:O}", "node", cscf->server_name.data,
                    cscf->server_name.len, "tenant", json_copy(tenant),
                    "services", services);

    if (ngx_http_lgsp_catalog_dump(cf, doc, &lscf->json) != NGX_OK) {
        goto done;
    }

    doc = ngx_http_lgsp_catalog_openapi(cscf, tenant, services, schemas);

    if (ngx_http_lgsp_catalog_dump(cf, doc, &lscf->openapi) != NGX_OK) {
        goto done;
    }

    rc = NGX_OK;

done:

    json_decref(services);
    json_decref(schemas);
    json_decref(tenant);

    return rc;
}


static json_t *
ngx_http_lgsp_catalog_service(ngx_conf_t *cf,
    ngx_http_lgsp_catalog_main_conf_t *cmcf, void **loc_conf)
{
    json_t                          *s, *methods, *doc;
    ngx_uint_t                       i;
    ngx_http_lgsp_loc_conf_t        *llcf;
    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_lgsp_describe_pt       *describe;
    ngx_http_lgsp_service_info_t     info;
    ngx_http_lgsp_catalog_method_t  *m;

    llcf = loc_conf[ngx_http_lgsp_module.ctx_index];
    clcf = loc_conf[ngx_http_core_module.ctx_index];

    ngx_memzero(&info, sizeof(ngx_http_lgsp_service_info_t));
    ngx_str_set(&info.authentication, "none");

    describe = cmcf->describers.elts;

    for (i = 0; i < cmcf->describers.nelts; i++) {
        if (describe[i](cf, loc_conf, &info) != NGX_OK) {
            return NULL;
        }
    }

    methods = json_array();
    if (methods == NULL) {
        return NULL;
    }

    for (m = ngx_http_lgsp_catalog_methods; m->name; m++) {
        if (!(clcf->limit_except & m->method)) {
            json_array_append_new(methods, json_string(m->name));
        }
    }

    s = json_pack("{s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o}",
                  "code", ngx_http_lgsp_catalog_string(&llcf->service),
                  "title", ngx_http_lgsp_catalog_string(&llcf->service_title),
                  "tenant", llcf->tenant.len
                            ? ngx_http_lgsp_catalog_string(&llcf->tenant)
                            : json_null(),
                  "path", ngx_http_lgsp_catalog_string(&clcf->name),
                  "match", clcf->regex ? "regex"
                           : clcf->exact_match ? "exact" : "prefix",
                  "methods", methods,
                  "authentication",
                  ngx_http_lgsp_catalog_string(&info.authentication),
                  "claims", ngx_http_lgsp_catalog_strings(info.claims),
                  "quotas", ngx_http_lgsp_catalog_strings(info.quotas),
                  "schema", info.schema.len
                            ? ngx_http_lgsp_catalog_string(&info.schema)
                            : json_null(),
                  "agencies", ngx_http_lgsp_catalog_strings(info.agencies));

    if (s && info.schema_json.len) {
        doc = json_loadb((char *) info.schema_json.data, info.schema_json.len,
                         0, NULL);
        if (doc) {
            json_object_set_new(s, "schema_document", doc);
        }
    }

    return s;
}


/*
 * OpenAPI 3.1 (JSON Schema 2020-12 inside): an operation per method and
 * prefix or exact path; regex locations have no OpenAPI path.
 */
/* the tenant of a server's catalogue: {"code", "title"}, or null */
static json_t *
ngx_http_lgsp_catalog_tenant(ngx_conf_t *cf, ngx_str_t *code)
{
    if (code->len == 0) {
        return json_null();
    }

    return json_pack("{s:o,s:o}", "code", ngx_http_lgsp_catalog_string(code),
                     "title", ngx_http_lgsp_catalog_string(
                                  ngx_http_lgsp_tenant_title(cf, code)));
}


static json_t *
ngx_http_lgsp_catalog_openapi(ngx_http_core_srv_conf_t *cscf, json_t *tenant,
    json_t *services, json_t *schemas)
{
    json_t  *paths, *service, *doc;
    size_t   i;

    paths = json_object();
    if (paths == NULL) {
        return NULL;
    }

    json_array_foreach(services, i, service) {
        if (ngx_strcmp(json_string_value(json_object_get(service, "match")),
                       "regex")
            != 0)
        {
            ngx_http_lgsp_catalog_operation(paths, service,
                                            json_array_get(schemas, i));
        }
    }

    doc = json_pack("{s:s,s:{s:s%,s:s},s:o,s:{s:{s:{s:s,s:s,s:s}},"
                     "s:{s:{s:s,s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s},"
                     "s:{s:s}}}}}}",
                     "openapi", "3.1.0",
                     "info", "title", cscf->server_name.data,
                     cscf->server_name.len, "version", "1",
                     "paths", paths,
                     "components",
                     "securitySchemes", "lgspJwt", "type", "http",
                     "scheme", "bearer", "bearerFormat", "JWT",
                     "schemas", "Problem", "type", "object",
                     "properties",
                     "type", "type", "string",
                     "title", "type", "string",
                     "status", "type", "integer",
                     "detail", "type", "string",
                     "instance", "type", "string");

    /* an extension member: OpenAPI has no word for a tenant */
    if (doc && !json_is_null(tenant)) {
        json_object_set(json_object_get(doc, "info"), "x-lgsp-tenant",
                        tenant);
    }

    return doc;
}


static void
ngx_http_lgsp_catalog_operation(json_t *paths, json_t *service,
    json_t *schema)
{
    char        method[8];
    json_t     *path, *op, *m, *security, *problem;
    size_t      i, n;
    const char *auth;

    path = json_object_get(paths, json_string_value(json_object_get(service,
                                                                     "path")));
    if (path == NULL) {
        path = json_object();
        json_object_set_new(paths,
                            json_string_value(json_object_get(service,
                                                              "path")),
                            path);
    }

    auth = json_string_value(json_object_get(service, "authentication"));

    security = (ngx_strcmp(auth, "jwt") == 0)
               ? json_pack("[{s:[]}]", "lgspJwt")
               : (ngx_strcmp(auth, "jwt-optional") == 0)
                 ? json_pack("[{},{s:[]}]", "lgspJwt")
                 : json_array();

    problem = json_pack("{s:s,s:{s:{s:{s:s}}}}",
                        "description", "refused: a problem document (RFC 9457)",
                        "content", "application/problem+json", "schema",
                        "$ref", "#/components/schemas/Problem");

    json_array_foreach(json_object_get(service, "methods"), i, m) {
        for (n = 0; n < sizeof(method) - 1 && json_string_value(m)[n]; n++) {
            method[n] = ngx_tolower(json_string_value(m)[n]);
        }

        method[n] = '\0';

        op = json_pack("{s:s++,s:O,s:O,s:O,s:O,s:O,s:{s:{s:s},s:O,s:O}}",
                       "operationId",
                       json_string_value(json_object_get(service, "code")),
                       ".", method,
                       "summary", json_object_get(service, "title"),
                       "security", security,
                       "x-lgsp-service", json_object_get(service, "code"),
                       "x-lgsp-agencies", json_object_get(service, "agencies"),
                       "x-lgsp-quotas", json_object_get(service, "quotas"),
                       "responses",
                       "default", "description", "the provider's answer",
                       "4XX", problem, "5XX", problem);

        if (op && json_is_object(schema)
            && (ngx_strcmp(method, "post") == 0
                || ngx_strcmp(method, "put") == 0
                || ngx_strcmp(method, "patch") == 0))
        {
            json_object_set_new(op, "requestBody",
                                json_pack("{s:b,s:{s:{s:O}}}",
                                          "required", 1, "content",
                                          "application/json", "schema",
                                          schema));
        }

        if (op) {
            json_object_set_new(path, method, op);
        }
    }

    json_decref(security);
    json_decref(problem);
}


static json_t *
ngx_http_lgsp_catalog_strings(ngx_array_t *a)
{
    json_t      *list;
    ngx_str_t   *s;
    ngx_uint_t   i;

    list = json_array();

    if (list == NULL || a == NULL) {
        return list;
    }

    s = a->elts;

    for (i = 0; i < a->nelts; i++) {
        json_array_append_new(list, ngx_http_lgsp_catalog_string(&s[i]));
    }

    return list;
}


static json_t *
ngx_http_lgsp_catalog_string(ngx_str_t *s)
{
    return json_stringn_nocheck(s->data ? (char *) s->data : "", s->len);
}


/* the document into the configuration pool; NULL (no memory) fails */
static ngx_int_t
ngx_http_lgsp_catalog_dump(ngx_conf_t *cf, json_t *doc, ngx_str_t *out)
{
    char  *text;

    if (doc == NULL) {
        return NGX_ERROR;
    }

    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);

    if (text == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(text);
    out->data = ngx_pnalloc(cf->pool, out->len + 1);

    if (out->data == NULL) {
        free(text);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, text, out->len);
    out->data[out->len++] = '\n';
    free(text);

    return NGX_OK;
}


static char *
ngx_http_lgsp_catalog(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lgsp_catalog_loc_conf_t *lclcf = conf;

    ngx_str_t                         *value;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_lgsp_catalog_srv_conf_t  *lscf;

    if (lclcf->format != NGX_HTTP_LGSP_CATALOG_OFF) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lclcf->format = NGX_HTTP_LGSP_CATALOG_JSON;

    if (cf->args->nelts == 2) {
        if (ngx_strcmp(value[1].data, "openapi") == 0) {
            lclcf->format = NGX_HTTP_LGSP_CATALOG_OPENAPI;

        } else if (ngx_strcmp(value[1].data, "json") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid format \"%V\": use json or openapi",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    lscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_lgsp_catalog_module);
    lscf->wanted = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_lgsp_catalog_handler;

    return NGX_CONF_OK;
}


static void *
ngx_http_lgsp_catalog_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_catalog_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_catalog_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&conf->describers, cf->pool, 4,
                       sizeof(ngx_http_lgsp_describe_pt))
        != NGX_OK
        || ngx_array_init(&conf->entries, cf->pool, 16,
                          sizeof(ngx_http_lgsp_catalog_entry_t))
           != NGX_OK)
    {
        return NULL;
    }

    return conf;
}


static void *
ngx_http_lgsp_catalog_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_catalog_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_catalog_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->wanted = 0;
     *     conf->json = { 0, NULL };
     *     conf->openapi = { 0, NULL };
     */

    return conf;
}


static void *
ngx_http_lgsp_catalog_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_catalog_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_catalog_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->loc_conf = NULL;
     *     conf->format = NGX_HTTP_LGSP_CATALOG_OFF;
     */

    return conf;
}


/*
 * Merging visits every location once, parents first, with cf->ctx set to
 * the location's configurations: the catalogue's list of them.
 */
static char *
ngx_http_lgsp_catalog_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_lgsp_catalog_loc_conf_t *prev = parent;
    ngx_http_lgsp_catalog_loc_conf_t *conf = child;

    ngx_http_conf_ctx_t                *ctx;
    ngx_http_lgsp_catalog_entry_t      *e;
    ngx_http_lgsp_catalog_main_conf_t  *cmcf;

    ctx = cf->ctx;
    conf->loc_conf = ctx->loc_conf;

    cmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_lgsp_catalog_module);

    e = ngx_array_push(&cmcf->entries);
    if (e == NULL) {
        return NGX_CONF_ERROR;
    }

    e->loc_conf = ctx->loc_conf;
    e->parent = prev->loc_conf;
    e->srv_conf = ctx->srv_conf;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_lgsp_catalog_init(ngx_conf_t *cf)
{
    ngx_uint_t                          s;
    ngx_http_core_srv_conf_t          **cscfp;
    ngx_http_core_main_conf_t          *cmcf;
    ngx_http_lgsp_catalog_main_conf_t  *lcmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    lcmcf = ngx_http_conf_get_module_main_conf(cf,
                                               ngx_http_lgsp_catalog_module);

    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        if (ngx_http_lgsp_catalog_build(cf, lcmcf, cscfp[s]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "lgsp_catalog: cannot build the catalogue of"
                               " server \"%V\"", &cscfp[s]->server_name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
