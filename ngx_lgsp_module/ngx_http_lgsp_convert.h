/*
 * LGSP on nginx: format conversion (ngx_http_lgsp_convert_module), as the
 * delivery module sees it.
 */

#ifndef _NGX_HTTP_LGSP_CONVERT_H_INCLUDED_
#define _NGX_HTTP_LGSP_CONVERT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The request body as the caller sent it, into *body when this module
 * has converted it (NGX_OK), else NGX_DECLINED: a request queued after
 * its provider failed is queued as it came, and its delivery converts it
 * as the location says.
 */
ngx_int_t ngx_http_lgsp_convert_original_body(ngx_http_request_t *r,
    ngx_str_t *body);


#endif /* _NGX_HTTP_LGSP_CONVERT_H_INCLUDED_ */
