/*
 * LGSP on nginx: remote JWT key sets (lgsp_jwt_jwks_uri,
 * ngx_http_lgsp_jwks_module), as the JWT module sees them.
 */

#ifndef _NGX_HTTP_LGSP_JWKS_H_INCLUDED_
#define _NGX_HTTP_LGSP_JWKS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "lgsp_jwk.h"


/* the SHA-256 of a key set document */
#define NGX_HTTP_LGSP_JWKS_DIGEST_LEN  32


/* 1 when the location being merged has a remote key set */
ngx_uint_t ngx_http_lgsp_jwks_configured(ngx_conf_t *cf);

/*
 * The location's remote key set and the digest of its document (part of
 * the verified-token cache key); *keys is NULL when the location has none
 * or none could be fetched yet.  refetch asks for an early fetch, for a
 * kid the set lacks: at most one per lgsp_jwt_jwks_min_refresh.
 * NGX_OK; NGX_AGAIN: a fetch is under way, return NGX_AGAIN from the
 * phase handler, which is called again when it has ended; NGX_ERROR.
 */
ngx_int_t ngx_http_lgsp_jwks_keys(ngx_http_request_t *r, ngx_uint_t refetch,
    lgsp_jwk_set_t **keys, u_char **digest);


#endif /* _NGX_HTTP_LGSP_JWKS_H_INCLUDED_ */
