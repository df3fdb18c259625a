/*
 * LGSP on nginx: what the transaction log module gives the metrics module.
 */

#ifndef _NGX_HTTP_LGSP_LOG_H_INCLUDED_
#define _NGX_HTTP_LGSP_LOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The service a record names: that of the location the request reached
 * in the preaccess phase (before an error_page could move it), else that
 * of its location now.
 */
void ngx_http_lgsp_record_service(ngx_http_request_t *r, ngx_str_t *service);


#endif /* _NGX_HTTP_LGSP_LOG_H_INCLUDED_ */
