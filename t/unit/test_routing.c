/*
 * Unit tests of the routing cores: agency access lists (lgsp_acl.c) and
 * OAuth token answers of the national platform (lgsp_oauth.c).
 */

#include <string.h>

#include "lgsp_acl.h"
#include "lgsp_oauth.h"
#include "unit.h"


#define S(s)  s, sizeof(s) - 1


static void
test_acl_entries(void)
{
    UNIT_OK(lgsp_acl_entry_valid(S("*")), "a lone star is valid");
    UNIT_OK(lgsp_acl_entry_valid(S("000.00.00.H29")), "a code is valid");
    UNIT_OK(lgsp_acl_entry_valid(S("000.00.*")), "a prefix is valid");
    UNIT_OK(!lgsp_acl_entry_valid(S("")), "an empty entry is invalid");
    UNIT_OK(!lgsp_acl_entry_valid(S("a*b")), "a star inside is invalid");
    UNIT_OK(!lgsp_acl_entry_valid(S("H29 ")), "a space is invalid");
    UNIT_OK(!lgsp_acl_entry_valid(S("H29\r\n")), "CR LF is invalid");
}


static void
test_acl_match(void)
{
    UNIT_OK(lgsp_acl_entry_match(S("*"), S("H29")), "star matches all");
    UNIT_OK(lgsp_acl_entry_match(S("*"), S("")), "star matches anonymous");
    UNIT_OK(!lgsp_acl_entry_match(S("H29*"), S("")),
            "a prefix never matches an anonymous caller");
    UNIT_OK(lgsp_acl_entry_match(S("H29.BTP"), S("H29.BTP")),
            "a code matches itself");
    UNIT_OK(!lgsp_acl_entry_match(S("H29.BTP"), S("H29.BTPX")),
            "a code is not a prefix");
    UNIT_OK(!lgsp_acl_entry_match(S("H29.BTP"), S("H29")),
            "a shorter agency does not match a code");
    UNIT_OK(lgsp_acl_entry_match(S("H29.*"), S("H29.BTP")),
            "a prefix matches a longer code");
    UNIT_OK(lgsp_acl_entry_match(S("H29.*"), S("H29.")),
            "a prefix matches itself");
    UNIT_OK(!lgsp_acl_entry_match(S("H29.*"), S("H29")),
            "a prefix does not match a shorter code");
    UNIT_OK(!lgsp_acl_entry_match(S("H29.*"), S("H30.BTP")),
            "a prefix does not match another tree");
}


static void
test_oauth(void)
{
    char                err[128];
    lgsp_oauth_token_t  t;

    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"abc.DEF-1\","
                "\"token_type\":\"Bearer\",\"expires_in\":120,"
                "\"scope\":\"default\"}"), &t, err, sizeof(err)),
                0, "a WSO2 answer parses");
    UNIT_EQ_STR(t.token, "abc.DEF-1", "the token is taken");
    UNIT_EQ_INT(t.expires_in, 120, "the lifetime is taken");

    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"x==\"}"), &t,
                                       err, sizeof(err)),
                0, "type and lifetime may be left out");
    UNIT_EQ_INT(t.expires_in, LGSP_OAUTH_DEFAULT_TTL,
                "no lifetime is an hour");

    UNIT_EQ_INT(lgsp_oauth_token_parse(S("<html>502</html>"), &t, err,
                                       sizeof(err)),
                -1, "HTML is refused");
    UNIT_EQ_STR(err, "the answer is not a JSON object", "and says why");

    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"a\\r\\nX: 1\"}"),
                                       &t, err, sizeof(err)),
                -1, "a token that would split a header is refused");
    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"a=b\"}"), &t,
                                       err, sizeof(err)),
                -1, "padding inside a token is refused");
    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"\"}"), &t,
                                       err, sizeof(err)),
                -1, "an empty token is refused");
    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"a\","
                                         "\"token_type\":\"mac\"}"),
                                       &t, err, sizeof(err)),
                -1, "a token of another type is refused");
    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"a\","
                                         "\"expires_in\":0}"),
                                       &t, err, sizeof(err)),
                -1, "a lifetime of zero is refused");
    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"access_token\":\"a\","
                                         "\"expires_in\":\"3600\"}"),
                                       &t, err, sizeof(err)),
                -1, "a lifetime as a string is refused");
    UNIT_EQ_INT(lgsp_oauth_token_parse(S("{\"error\":\"invalid_client\"}"),
                                       &t, err, sizeof(err)),
                -1, "an OAuth error is refused");
}


int
main(void)
{
    test_acl_entries();
    test_acl_match();
    test_oauth();

    return UNIT_DONE("routing");
}
