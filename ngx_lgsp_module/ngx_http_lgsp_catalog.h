/*
 * LGSP on nginx: the service catalogue (ngx_http_lgsp_catalog_module).
 * It is built at configuration time from the locations with lgsp_service;
 * each module tells what it does in a location through a describer that
 * it adds from its preconfiguration handler:
 *
 *     static ngx_int_t
 *     ngx_http_lgsp_x_describe(ngx_conf_t *cf, void **loc_conf,
 *         ngx_http_lgsp_service_info_t *info)
 *     {
 *         ngx_http_lgsp_x_loc_conf_t *xlcf =
 *             loc_conf[ngx_http_lgsp_x_module.ctx_index];
 *         ...
 *     }
 *
 *     ngx_http_lgsp_catalog_describer_add(cf, ngx_http_lgsp_x_describe);
 */

#ifndef _NGX_HTTP_LGSP_CATALOG_H_INCLUDED_
#define _NGX_HTTP_LGSP_CATALOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_str_t             authentication;  /* "jwt", "jwt-optional" */
    ngx_array_t          *claims;          /* of ngx_str_t "scope=a b" */
    ngx_array_t          *quotas;          /* of ngx_str_t "100r/m" */
    ngx_str_t             schema;          /* the request schema's file */
    ngx_str_t             schema_json;     /* its document, for OpenAPI */
    ngx_array_t          *agencies;        /* of ngx_str_t; NULL: none */
} ngx_http_lgsp_service_info_t;


/* loc_conf: the merged configurations of the location, by ctx_index */
typedef ngx_int_t (*ngx_http_lgsp_describe_pt)(ngx_conf_t *cf,
    void **loc_conf, ngx_http_lgsp_service_info_t *info);


ngx_int_t ngx_http_lgsp_catalog_describer_add(ngx_conf_t *cf,
    ngx_http_lgsp_describe_pt describe);


#endif /* _NGX_HTTP_LGSP_CATALOG_H_INCLUDED_ */
