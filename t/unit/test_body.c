/*
 * Unit tests of lgsp_body.c: which Content-Type values are JSON, and the
 * "errors" list of a schema violation answer.
 */

#include <stdlib.h>
#include <string.h>

#include "lgsp_body.h"
#include "unit.h"


#define S(s)  s, sizeof(s) - 1


static void
test_xml_types(void)
{
    UNIT_OK(lgsp_body_is_xml_type(S("text/xml; charset=utf-8")),
            "text/xml (SOAP 1.1) is XML");
    UNIT_OK(lgsp_body_is_xml_type(S("application/soap+xml; charset=UTF-8;"
                                    " action=\"urn:a\"")),
            "application/soap+xml (SOAP 1.2) with an action is XML");
    UNIT_OK(lgsp_body_is_xml_type(S("Application/XML")), "application/xml");
    UNIT_OK(!lgsp_body_is_xml_type(S("text/xml; charset=iso-8859-1")),
            "another charset is not");
    UNIT_OK(!lgsp_body_is_xml_type(S("application/json")), "JSON is not");
    UNIT_OK(!lgsp_body_is_xml_type(S("text/html")), "HTML is not");
    UNIT_OK(!lgsp_body_is_xml_type(S("application/+xml")),
            "a bare +xml suffix is not");
    UNIT_OK(!lgsp_body_is_json_type(S("text/json")),
            "text/ is XML's alone");
}


static void
test_json_types(void)
{
    UNIT_OK(lgsp_body_is_json_type(S("application/json")),
            "application/json is JSON");
    UNIT_OK(lgsp_body_is_json_type(S("Application/JSON")),
            "type and subtype are case-insensitive");
    UNIT_OK(lgsp_body_is_json_type(S("application/problem+json")),
            "a +json suffix is JSON");
    UNIT_OK(lgsp_body_is_json_type(S("application/vnd.btp.khaisinh.v1+json")),
            "a vendor type with +json is JSON");
    UNIT_OK(lgsp_body_is_json_type(S("application/json; charset=utf-8")),
            "charset utf-8 is allowed");
    UNIT_OK(lgsp_body_is_json_type(S("application/json;charset=\"UTF-8\"")),
            "a quoted charset in capitals is allowed");
    UNIT_OK(lgsp_body_is_json_type(S("  application/json ; charset=utf-8 ")),
            "spaces around the parts are allowed");
    UNIT_OK(lgsp_body_is_json_type(S("application/json;")),
            "an empty parameter list is allowed");
    UNIT_OK(lgsp_body_is_json_type(S("application/json; profile=khaisinh")),
            "other parameters are allowed");

    UNIT_OK(!lgsp_body_is_json_type(S("")), "an empty value is not JSON");
    UNIT_OK(!lgsp_body_is_json_type(S("text/plain")), "text/plain is not");
    UNIT_OK(!lgsp_body_is_json_type(S("text/json")), "text/json is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/xml")),
            "application/xml is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/jsonp")),
            "a longer subtype is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/xjson")),
            "a subtype ending in json without + is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/+json")),
            "a bare +json suffix is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/x-www-form-urlencoded")),
            "a form is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application")),
            "a type without subtype is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/json; charset=latin1")),
            "another charset is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/json; charset=utf-16")),
            "UTF-16 is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/json; charset=\"utf-8")),
            "an unclosed quote is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/json garbage")),
            "words after the type are not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/json; charset")),
            "a parameter without value is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/json; charset=")),
            "a parameter with an empty value is not");
    UNIT_OK(!lgsp_body_is_json_type(S("application/json\0")),
            "a NUL byte is not");
}


static void
test_errors_json(void)
{
    char                 *text;
    lgsp_schema_error_t   e[2];
    lgsp_schema_errors_t  errors;

    e[0].instance_path = "/hoTen";
    e[0].schema_path = "/properties/hoTen/maxLength";
    e[0].keyword = "maxLength";
    e[0].message = "chu\xe1\xbb\x97i d\xc3\xa0i qu\xc3\xa1 \"50\"";
    e[1].instance_path = "";
    e[1].schema_path = "/required";
    e[1].keyword = "required";
    e[1].message = "missing property \"ngaySinh\"";

    errors.errors = e;
    errors.n = 2;
    errors.max = 10;

    text = lgsp_body_errors_json(&errors);
    UNIT_EQ_STR(text,
                "[{\"instancePath\":\"/hoTen\","
                "\"schemaPath\":\"/properties/hoTen/maxLength\","
                "\"keyword\":\"maxLength\","
                "\"message\":"
                "\"chu\xe1\xbb\x97i d\xc3\xa0i qu\xc3\xa1 \\\"50\\\"\"},"
                "{\"instancePath\":\"\",\"schemaPath\":\"/required\","
                "\"keyword\":\"required\","
                "\"message\":\"missing property \\\"ngaySinh\\\"\"}]",
                "errors become a JSON array, members in order, escaped");
    free(text);

    errors.n = 0;
    text = lgsp_body_errors_json(&errors);
    UNIT_EQ_STR(text, "[]", "no errors give an empty array");
    free(text);

    e[0].message = "cut \xe1\xbb";
    errors.n = 1;
    text = lgsp_body_errors_json(&errors);
    UNIT_OK(text == NULL, "a message that is not UTF-8 gives NULL");
    free(text);
}


int
main(void)
{
    test_json_types();
    test_xml_types();
    test_errors_json();

    return UNIT_DONE("body");
}
