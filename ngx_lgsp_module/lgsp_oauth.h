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

/*
 * RFC 6749 2.3.1 and appendix B: each of client id and secret is
 * application/x-www-form-urlencoded (ALPHA, DIGIT and "*-._" stay, a
 * space becomes "+", any other byte %XX) before "id:secret" goes into
 * HTTP Basic.  dst gets 3 * len bytes at most; returns the length.
 */
size_t lgsp_oauth_form_encode(char *dst, const char *src, size_t len);

/*
 * The user-pass of HTTP Basic from a credentials line "id:secret" (split
 * at the first colon), each part form-encoded when form is set, else as
 * it is.  dst holds 3 * len bytes.  Returns the length.
 */
size_t lgsp_oauth_basic_user_pass(char *dst, const char *line, size_t len,
    const char *colon, int form);

#endif /* LGSP_OAUTH_H */
