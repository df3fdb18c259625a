/*
 * OAuth 2.0 client-credentials answers (RFC 6749 5.1), as the national
 * platform (NDXP) and WSO2-style gateways give them:
 *     {"access_token":"...","token_type":"Bearer","expires_in":3600}
 * nginx-free: plain C on jansson.
 */

#ifndef LGSP_OAUTH_H
#define LGSP_OAUTH_H

#include <stddef.h>


/* when the answer names no lifetime: WSO2's default */
#define LGSP_OAUTH_DEFAULT_TTL  3600

#define LGSP_OAUTH_TOKEN_MAX    4096


typedef struct {
    char          token[LGSP_OAUTH_TOKEN_MAX + 1];
    size_t        token_len;
    long long     expires_in;          /* seconds */
} lgsp_oauth_token_t;


/*
 * Parses a token answer.  The token must be an RFC 6750 b64token (it goes
 * into an Authorization header), the type Bearer when given, expires_in a
 * positive number of seconds when given.  Returns 0, or -1 with err.
 */
int lgsp_oauth_token_parse(const char *body, size_t len,
    lgsp_oauth_token_t *out, char *err, size_t errlen);

#endif /* LGSP_OAUTH_H */
