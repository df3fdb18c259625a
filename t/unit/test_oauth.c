/*
 * Unit tests of the OAuth client credentials (lgsp_oauth.c): the form
 * encoding of RFC 6749 2.3.1 and appendix B before HTTP Basic.
 */

#include <stdlib.h>
#include <string.h>

#include "lgsp_oauth.h"
#include "unit.h"


static char *
test_form(const char *s)
{
    char    *out;
    size_t   n;

    out = malloc(3 * strlen(s) + 1);
    n = lgsp_oauth_form_encode(out, s, strlen(s));
    out[n] = '\0';

    return out;
}


static void
test_form_encoding(void)
{
    char        *enc;
    const char  *reserved = ":/?#[]@!$&'()*+,;=% \"<>\\^`{|}~";

    enc = test_form("AZaz09-._*");
    UNIT_EQ_STR(enc, "AZaz09-._*", "unreserved bytes stay");
    free(enc);

    /* every reserved character of RFC 3986, and the others of ASCII */
    enc = test_form(reserved);
    UNIT_EQ_STR(enc, "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29*%2B%2C%3B%3D"
                     "%25+%22%3C%3E%5C%5E%60%7B%7C%7D%7E",
                "reserved characters are %-encoded, a space is +");
    free(enc);

    enc = test_form("s\xc6\xa1n");
    UNIT_EQ_STR(enc, "s%C6%A1n", "UTF-8 bytes are %-encoded");
    free(enc);
}


static void
test_basic_user_pass(void)
{
    char         out[256];
    size_t       n;
    const char  *line = "lgsp+hcm:a+b/c=d:e";

    n = lgsp_oauth_basic_user_pass(out, line, strlen(line),
                                   strchr(line, ':'), 1);
    out[n] = '\0';
    UNIT_EQ_STR(out, "lgsp%2Bhcm:a%2Bb%2Fc%3Dd%3Ae",
                "id and secret each form-encoded, split at the first colon");

    n = lgsp_oauth_basic_user_pass(out, line, strlen(line),
                                   strchr(line, ':'), 0);
    out[n] = '\0';
    UNIT_EQ_STR(out, line, "raw: as written");
}


int
main(void)
{
    test_form_encoding();
    test_basic_user_pass();

    return UNIT_DONE("oauth");
}
