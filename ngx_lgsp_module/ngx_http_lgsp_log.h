/*
 * LGSP on nginx: what the transaction log module gives the metrics module.
 */

#ifndef _NGX_HTTP_LGSP_LOG_H_INCLUDED_
#define _NGX_HTTP_LGSP_LOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The service a record names: the lgsp_service of the location the
 * request reached in the preaccess phase (before an error_page could move
 * it), else that of its location now; NGX_DECLINED when neither has one,
 * and service is then the location's name.
 */
ngx_int_t ngx_http_lgsp_record_service(ngx_http_request_t *r,
    ngx_str_t *service);


#endif /* _NGX_HTTP_LGSP_LOG_H_INCLUDED_ */
