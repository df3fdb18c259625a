/*
 * LGSP on nginx: what the quota module, which owns the lgsp_redis lines,
 * gives the other modules that keep state in the same Redis.
 */

#ifndef _NGX_HTTP_LGSP_QUOTA_H_INCLUDED_
#define _NGX_HTTP_LGSP_QUOTA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_lgsp_redis.h"


/* the Redis of the lgsp_redis lines, or NULL when there are none */
ngx_http_lgsp_redis_t *ngx_http_lgsp_quota_redis_get(ngx_conf_t *cf);


#endif /* _NGX_HTTP_LGSP_QUOTA_H_INCLUDED_ */
