/*
 * Unit tests of lgsp_xml_*.c: JSON into XML and SOAP envelopes, XML and
 * SOAP into JSON with and without a schema, Faults, and hostile XML
 * (entities, DTDs, deep nesting, other encodings) refused.
 */

#include <stdlib.h>
#include <string.h>

#include "lgsp_xml.h"
#include "unit.h"


#define MB  (1024 * 1024)

#define ENV11  "<s:Envelope xmlns:s=\"" LGSP_SOAP11_NS "\"><s:Body>"
#define END11  "</s:Body></s:Envelope>"
#define ENV12  "<e:Envelope xmlns:e=\"" LGSP_SOAP12_NS "\"><e:Body>"
#define END12  "</e:Body></e:Envelope>"
#define DECL   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"


static lgsp_arena_t  arena;


static lgsp_json_t *
json(const char *text)
{
    int                  kind;
    char                 err[256];
    lgsp_json_t         *doc;
    lgsp_json_options_t  opts;

    opts.alloc = lgsp_arena_alloc;
    opts.ctx = &arena;
    opts.max_depth = 512;
    opts.borrow = 0;

    doc = lgsp_json_parse_strict(text, strlen(text), &opts, &kind, err,
                                 sizeof(err));
    if (doc == NULL) {
        printf("# bad test JSON: %s\n", err);
        exit(2);
    }

    return doc;
}


static lgsp_schema_t *
schema(const char *text)
{
    char                   err[256];
    json_t                *doc;
    lgsp_schema_t         *s;
    lgsp_schema_options_t  opts;

    memset(&opts, 0, sizeof(opts));
    doc = json_loads(text, 0, NULL);
    s = doc ? lgsp_schema_compile_json(doc, NULL, &opts, err, sizeof(err))
            : NULL;
    json_decref(doc);

    if (s == NULL) {
        printf("# bad test schema\n");
        exit(2);
    }

    return s;
}


/* JSON into XML: the text, or "!kind: message" */
static char *
to_xml(const char *text, int soap, const char *name, const char *ns)
{
    char               *s;
    lgsp_sbuf_t         out;
    lgsp_xml_wrap_t     wrap;
    lgsp_xml_result_t   res;

    memset(&out, 0, sizeof(out));
    wrap.soap = soap;
    wrap.name = name;
    wrap.name_len = strlen(name);
    wrap.ns = ns;
    wrap.ns_len = ns ? strlen(ns) : 0;

    if (lgsp_xml_from_json(json(text), &wrap, &out, &res) == LGSP_XML_OK) {
        return out.data;
    }

    free(out.data);
    s = malloc(strlen(res.message) + 16);
    sprintf(s, "!%d: %s", res.kind, res.message);

    return s;
}


/* XML into JSON: the text, or "!kind: message" */
static char *
to_json_with(const char *xml, size_t len, int unwrap,
    const lgsp_schema_t *sch, lgsp_xml_result_t *res)
{
    char             *s;
    lgsp_sbuf_t       out;
    lgsp_xml_read_t   rd;

    memset(&out, 0, sizeof(out));
    rd.max_size = 8 * MB;
    rd.max_depth = 64;
    rd.unwrap_soap = unwrap;
    rd.schema = sch;

    if (lgsp_xml_to_json(xml, len, &rd, &out, res) == LGSP_XML_OK) {
        return out.data;
    }

    free(out.data);
    s = malloc(strlen(res->message) + 16);
    sprintf(s, "!%d: %s", res->kind, res->message);

    return s;
}


static char *
to_json(const char *xml, int unwrap, const lgsp_schema_t *sch)
{
    char               *s;
    lgsp_xml_result_t   res;

    s = to_json_with(xml, strlen(xml), unwrap, sch, &res);
    lgsp_xml_result_free(&res);

    return s;
}


static int
kind_of(const char *s)
{
    return s[0] == '!' ? atoi(s + 1) : LGSP_XML_OK;
}


#define EQ(got, want, name)                                                  \
    do {                                                                     \
        char *eq_s = (got);                                                  \
        UNIT_EQ_STR(eq_s, want, name);                                       \
        free(eq_s);                                                          \
    } while (0)

#define KIND(got, want, name)                                                \
    do {                                                                     \
        char *k_s = (got);                                                   \
        UNIT_EQ_INT(kind_of(k_s), want, name);                               \
        if (kind_of(k_s) != (want)) {                                        \
            printf("#   %s\n", k_s);                                         \
        }                                                                    \
        free(k_s);                                                           \
    } while (0)

#define HAS(got, part, name)                                                 \
    do {                                                                     \
        char *h_s = (got);                                                   \
        UNIT_OK(strstr(h_s, part) != NULL, name);                            \
        if (strstr(h_s, part) == NULL) {                                     \
            printf("#   \"%s\" lacks \"%s\"\n", h_s, part);                  \
        }                                                                    \
        free(h_s);                                                           \
    } while (0)


static void
test_json_to_xml(void)
{
    EQ(to_xml("{\"a\":\"x\",\"b\":1,\"c\":true,\"d\":2.5}", 0, "r", NULL),
       DECL "<r xmlns:xsi=\"" LGSP_XSI_NS "\"><a>x</a><b>1</b><c>true</c>"
       "<d>2.5</d></r>",
       "members become child elements in order, typed values as text");

    EQ(to_xml("{\"n\":[1,2],\"z\":null,\"o\":{\"p\":\"q\"}}", 0, "r",
              "urn:x"),
       DECL "<r xmlns=\"urn:x\" xmlns:xsi=\"" LGSP_XSI_NS "\"><n>1</n>"
       "<n>2</n><z xsi:nil=\"true\"/><o><p>q</p></o></r>",
       "arrays repeat, null is xsi:nil, the namespace is the default one");

    EQ(to_xml("{\"t\":\"a<b & \\\"c\\\" >\\r\\n\"}", 0, "r", NULL),
       DECL "<r xmlns:xsi=\"" LGSP_XSI_NS "\"><t>a&lt;b &amp; \"c\" &gt;"
       "&#13;\n</t></r>",
       "text is escaped; a carriage return survives as a reference");

    EQ(to_xml("{\"@id\":\"1\\\"\",\"#text\":\"v\",\"x\":{\"@k\":2}}", 0, "r",
              NULL),
       DECL "<r xmlns:xsi=\"" LGSP_XSI_NS "\" id=\"1&quot;\">v<x k=\"2\">"
       "</x></r>",
       "@ members are attributes, #text is text");

    EQ(to_xml("{\"ten\":\"Nguy\xe1\xbb\x85n V\xc4\x83n A\"}", 0, "r", NULL),
       DECL "<r xmlns:xsi=\"" LGSP_XSI_NS "\"><ten>Nguy\xe1\xbb\x85n"
       " V\xc4\x83n A</ten></r>",
       "Vietnamese text passes as UTF-8");

    EQ(to_xml("{\"q\":\"x\"}", 11, "GetCitizen", "urn:cd"),
       DECL "<soap:Envelope xmlns:soap=\"" LGSP_SOAP11_NS "\"><soap:Body>"
       "<GetCitizen xmlns=\"urn:cd\" xmlns:xsi=\"" LGSP_XSI_NS "\"><q>x</q>"
       "</GetCitizen></soap:Body></soap:Envelope>",
       "a SOAP 1.1 envelope");

    HAS(to_xml("{}", 12, "Op", "urn:cd"),
        "<soap:Envelope xmlns:soap=\"" LGSP_SOAP12_NS "\">",
        "a SOAP 1.2 envelope");

    EQ(to_xml("{\"x\":\"<a>&amp;</a>\"}", 0, "r", NULL),
       DECL "<r xmlns:xsi=\"" LGSP_XSI_NS "\"><x>&lt;a&gt;&amp;amp;&lt;/a&gt;"
       "</x></r>",
       "XML carried in a string stays a string");

    EQ(to_xml("{\"d\":1e300,\"e\":0.1,\"f\":-7,"
              "\"g\":123456789012345678901234567890}", 0, "r", NULL),
       DECL "<r xmlns:xsi=\"" LGSP_XSI_NS "\"><d>1e300</d><e>0.1</e>"
       "<f>-7</f><g>123456789012345678901234567890</g></r>",
       "numbers in their shortest exact form, long ones as written");

    EQ(to_xml("{\"a\":{\"1b\":1}}", 0, "r", NULL),
       "!9: /a/1b: \"1b\" is not an XML element name",
       "a member that is not an XML name is refused with its path");
    KIND(to_xml("{\"a\":\"x\\u0001\"}", 0, "r", NULL),
         LGSP_XML_UNCONVERTIBLE, "a control character is refused");
    KIND(to_xml("{\"a\":\"\xef\xbf\xbe\"}", 0, "r", NULL),
         LGSP_XML_UNCONVERTIBLE, "U+FFFE is refused");
    KIND(to_xml("{\"a\":[[1]]}", 0, "r", NULL), LGSP_XML_UNCONVERTIBLE,
         "an array in an array is refused");
    KIND(to_xml("[1]", 0, "r", NULL), LGSP_XML_UNCONVERTIBLE,
         "a document that is not an object is refused");
    KIND(to_xml("{\"@xmlns\":\"urn:evil\"}", 0, "r", NULL),
         LGSP_XML_UNCONVERTIBLE, "an xmlns attribute is refused");
    KIND(to_xml("{\"a:b\":1}", 0, "r", NULL), LGSP_XML_UNCONVERTIBLE,
         "a prefixed name is refused");
    KIND(to_xml("{\"@a\":{}}", 0, "r", NULL), LGSP_XML_UNCONVERTIBLE,
         "an object attribute is refused");
}


static void
test_xml_to_json(void)
{
    EQ(to_json("<r><a>x</a><b>1</b></r>", 0, NULL),
       "{\"a\":\"x\",\"b\":\"1\"}", "elements become string members");

    EQ(to_json("<r xmlns='urn:x' xmlns:p='urn:p'><p:a>1</p:a><b/>"
               "<a>2</a><c>x</c><a>3</a></r>", 0, NULL),
       "{\"a\":[\"1\",\"2\",\"3\"],\"b\":\"\",\"c\":\"x\"}",
       "repeated elements (apart or not) become one array; prefixes go");

    EQ(to_json("<r id='7' xmlns:xsi='" LGSP_XSI_NS "'><a k='v'>t</a>"
               "<n xsi:nil='true'/></r>", 0, NULL),
       "{\"@id\":\"7\",\"a\":{\"@k\":\"v\",\"#text\":\"t\"},\"n\":null}",
       "attributes become @ members, text #text, nil null");

    EQ(to_json("<r a='x &amp; y &lt; &#7877; &amp;#38; &#38;'/>", 0, NULL),
       "{\"@a\":\"x & y < \xe1\xbb\x85 &#38; &\"}",
       "references in attributes are replaced, once");

    EQ(to_json("<r>mixed <b>x</b> text</r>", 0, NULL),
       "{\"#text\":\"mixed  text\",\"b\":\"x\"}",
       "mixed text becomes #text");

    EQ(to_json("<r><t>Nguy&#7877;n &amp; \"V\xc4\x83n\"\\ <![CDATA[<a>]]>"
               "</t></r>", 0, NULL),
       "{\"t\":\"Nguy\xe1\xbb\x85n & \\\"V\xc4\x83n\\\"\\\\ <a>\"}",
       "references, CDATA and UTF-8 come out as JSON text");

    EQ(to_json("<?xml version='1.0' encoding='utf-8'?><r>\t<a>1</a>\n</r>",
               0, NULL),
       "{\"a\":\"1\"}", "a UTF-8 declaration and blank text are fine");

    EQ(to_json(ENV11 "<m:R xmlns:m='urn:m'><v>1</v></m:R>" END11, 1, NULL),
       "{\"v\":\"1\"}", "unwrap: a SOAP 1.1 Body's first child");
    EQ(to_json(ENV12 "<m:R xmlns:m='urn:m'><v>1</v></m:R>" END12, 1, NULL),
       "{\"v\":\"1\"}", "unwrap: a SOAP 1.2 Body's first child");
    EQ(to_json(ENV11 END11, 1, NULL), "{}", "an empty Body is {}");
    KIND(to_json("<Envelope><Body/></Envelope>", 1, NULL), LGSP_XML_NOT_SOAP,
         "an envelope out of the SOAP namespace is not SOAP");
    KIND(to_json("<r>", 0, NULL), LGSP_XML_MALFORMED, "unclosed element");
    KIND(to_json("<r>&nbsp;</r>", 0, NULL), LGSP_XML_MALFORMED,
         "an undeclared entity is not well-formed");
    KIND(to_json("hello", 0, NULL), LGSP_XML_MALFORMED, "text is not XML");
    KIND(to_json("", 0, NULL), LGSP_XML_MALFORMED, "nothing is not XML");
}


static void
test_faults(void)
{
    char               *s;
    lgsp_xml_result_t   res;
    const char         *f11, *f12;

    f11 = ENV11 "<s:Fault><faultcode>s:Client</faultcode>"
          "<faultstring> Kh\xc3\xb4ng t\xc3\xacm th\xe1\xba\xa5y </faultstring>"
          "</s:Fault>" END11;

    s = to_json_with(f11, strlen(f11), 1, NULL, &res);
    UNIT_EQ_INT(res.kind, LGSP_XML_FAULT, "a SOAP 1.1 Fault is found");
    UNIT_EQ_INT(res.soap, 11, "of SOAP 1.1");
    UNIT_EQ_STR(res.fault_code, "s:Client", "faultcode");
    UNIT_EQ_STR(res.fault_string, "Kh\xc3\xb4ng t\xc3\xacm th\xe1\xba\xa5y",
                "faultstring, trimmed");
    free(s);
    lgsp_xml_result_free(&res);

    f12 = ENV12 "<e:Fault><e:Code><e:Value>e:Receiver</e:Value></e:Code>"
          "<e:Reason><e:Text xml:lang='vi'>L\xe1\xbb\x97i</e:Text></e:Reason>"
          "</e:Fault>" END12;

    s = to_json_with(f12, strlen(f12), 1, NULL, &res);
    UNIT_EQ_INT(res.kind, LGSP_XML_FAULT, "a SOAP 1.2 Fault is found");
    UNIT_EQ_INT(res.soap, 12, "of SOAP 1.2");
    UNIT_EQ_STR(res.fault_code, "e:Receiver", "Code/Value");
    UNIT_EQ_STR(res.fault_string, "L\xe1\xbb\x97i", "Reason/Text");
    free(s);
    lgsp_xml_result_free(&res);
}


static char *
fault(int soap, int client, const char *problem)
{
    lgsp_sbuf_t         out;
    lgsp_xml_result_t   res;

    memset(&out, 0, sizeof(out));

    if (lgsp_xml_fault(soap, client, json(problem), &out, &res)
        != LGSP_XML_OK)
    {
        free(out.data);
        return strdup("!");
    }

    return out.data;
}


static void
test_fault_writer(void)
{
    const char  *p;

    p = "{\"type\":\"urn:lgsp:problem:quota\",\"title\":\"Too Many\","
        "\"status\":429,\"detail\":\"quota <100r/m> spent\","
        "\"instance\":\"0190-txid\"}";

    EQ(fault(11, 1, p),
       DECL "<soap:Envelope xmlns:soap=\"" LGSP_SOAP11_NS "\"><soap:Body>"
       "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>quota"
       " &lt;100r/m&gt; spent</faultstring><detail><problem"
       " xmlns=\"urn:lgsp:problem\" xmlns:xsi=\"" LGSP_XSI_NS "\"><type>"
       "urn:lgsp:problem:quota</type><title>Too Many</title><status>429"
       "</status><detail>quota &lt;100r/m&gt; spent</detail><instance>"
       "0190-txid</instance></problem></detail></soap:Fault></soap:Body>"
       "</soap:Envelope>",
       "a 1.1 Fault carries the problem and its transaction id");

    HAS(fault(12, 0, p), "<soap:Code><soap:Value>soap:Receiver</soap:Value>"
        "</soap:Code><soap:Reason><soap:Text xml:lang=\"en\">quota",
        "a 1.2 Fault has Code and Reason");

    {
        char               *xml, *s;
        lgsp_xml_result_t   res;

        xml = fault(12, 1, p);
        s = to_json_with(xml, strlen(xml), 1, NULL, &res);
        UNIT_EQ_STR(res.fault_code, "soap:Sender",
                    "a Fault written reads back: code");
        UNIT_EQ_STR(res.fault_string, "quota <100r/m> spent",
                    "a Fault written reads back: reason");
        lgsp_xml_result_free(&res);
        free(s);
        free(xml);
    }
}


static void
test_schema_typed(void)
{
    lgsp_schema_t  *s;

    s = schema("{\"type\":\"object\",\"properties\":{"
               "\"soDinhDanh\":{\"type\":\"string\"},"
               "\"namSinh\":{\"type\":\"integer\"},"
               "\"diem\":{\"type\":\"number\"},"
               "\"conSong\":{\"type\":\"boolean\"},"
               "\"ghiChu\":{\"type\":[\"string\",\"null\"]},"
               "\"con\":{\"type\":\"array\","
               "\"items\":{\"$ref\":\"#/$defs/p\"}},"
               "\"@ma\":{\"type\":\"integer\"}},"
               "\"$defs\":{\"p\":{\"type\":\"object\",\"properties\":{"
               "\"ten\":{\"type\":\"string\"},"
               "\"tuoi\":{\"type\":\"integer\"}}}},"
               "\"additionalProperties\":false}");

    EQ(to_json("<r ma=' 12 ' xmlns:xsi='" LGSP_XSI_NS "'>"
               "<soDinhDanh>001</soDinhDanh><NAMSINH>+1990</NAMSINH>"
               "<diem>8.50</diem><conSong>1</conSong><ghiChu xsi:nil='true'/>"
               "<con><ten>A</ten><tuoi>07</tuoi></con></r>", 0, s),
       "{\"@ma\":12,\"soDinhDanh\":\"001\",\"namSinh\":1990,\"diem\":8.50,"
       "\"conSong\":true,\"ghiChu\":null,\"con\":[{\"ten\":\"A\","
       "\"tuoi\":7}]}",
       "the schema decides types, names and one-element arrays");

    EQ(to_json("<r><con><ten>A</ten></con><con><ten>B</ten></con></r>", 0, s),
       "{\"con\":[{\"ten\":\"A\"},{\"ten\":\"B\"}]}", "two items");

    EQ(to_json("<r><con/></r>", 0, s), "{\"con\":[{}]}",
       "an empty item of an object schema is an empty object");

    EQ(to_json("<r><namSinh>199O</namSinh></r>", 0, s),
       "!8: /namSinh: must be an integer (it is a string)",
       "text that is not the schema's type fails validation with its path");

    KIND(to_json("<r><la>1</la></r>", 0, s), LGSP_XML_INVALID,
         "a member the schema does not allow");

    EQ(to_json("<r><soDinhDanh>1</soDinhDanh><soDinhDanh>2</soDinhDanh></r>",
               0, s),
       "!8: /soDinhDanh: must be a string (it is an array)",
       "a repeated element the schema wants single");

    EQ(to_json("<r><NamSinh>1</NamSinh><namsinh>2</namsinh></r>", 0, s),
       "!8: two members named \"namSinh\"",
       "two names the schema spells alike: one key twice, refused");

    EQ(to_json("<r><diem>1e1234567890123456789</diem></r>", 0, s),
       "!9: the number 1e1234567890123456789 is refused: malformed JSON at"
       " byte 1: exponent of more than 18 digits",
       "a number the validator cannot read is refused, not a 500");

    lgsp_schema_free(s);
}


/* JSON -> SOAP -> JSON gives the same JSON back, with a schema */
static void
test_round_trip(void)
{
    char           *xml;
    const char     *doc;
    lgsp_schema_t  *s;

    s = schema("{\"type\":\"object\",\"properties\":{"
               "\"a\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
               "\"b\":{\"type\":\"number\"},\"c\":{\"type\":\"boolean\"},"
               "\"d\":{\"type\":\"null\"},\"e\":{\"type\":\"string\"},"
               "\"f\":{\"type\":\"object\",\"properties\":{"
               "\"g\":{\"type\":\"array\","
               "\"items\":{\"type\":\"string\"}}}}}}");

    doc = "{\"a\":[5],\"b\":-1.25,\"c\":false,\"d\":null,"
          "\"e\":\"<x a=\\\"1\\\">&amp;</x> \xe1\xbb\x87\\t\","
          "\"f\":{\"g\":[\"\"]}}";

    xml = to_xml(doc, 11, "Op", "urn:op");
    EQ(to_json(xml, 1, s), doc, "the round trip keeps every value");
    free(xml);

    xml = to_xml(doc, 12, "Op", "urn:op");
    EQ(to_json(xml, 1, s), doc, "also through SOAP 1.2");
    free(xml);

    lgsp_schema_free(s);
}


static void
test_hostile(void)
{
    char        *big, *s;
    size_t       i, n;
    lgsp_xml_result_t  res;

    EQ(to_json("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
               "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
               "]><r>&lol2;</r>", 0, NULL),
       "!3: the XML has a document type declaration (<!DOCTYPE>); DTDs and"
       " entity declarations are refused",
       "billion laughs: the DOCTYPE is refused");

    KIND(to_json("<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                 "<r>&x;</r>", 0, NULL),
         LGSP_XML_REFUSED, "an external entity is refused");
    KIND(to_json("<!DOCTYPE r SYSTEM 'http://127.0.0.1:1/x.dtd'><r/>", 0,
                 NULL),
         LGSP_XML_REFUSED, "an external DTD is refused");
    KIND(to_json(ENV11 "<!DOCTYPE r><r/>" END11, 1, NULL), LGSP_XML_MALFORMED,
         "a DOCTYPE inside is not well-formed");

    EQ(to_json("<?xml version='1.0' encoding='ISO-8859-1'?><r>\xe9</r>", 0,
               NULL),
       "!3: the XML declares the encoding ISO-8859-1; only UTF-8 is"
       " accepted", "a Latin-1 declaration is refused");
    KIND(to_json("<?xml version=\"1.0\" encoding=\"UTF-16\"?><r/>", 0, NULL),
         LGSP_XML_REFUSED, "a UTF-16 declaration is refused");
    KIND(to_json_with("\xff\xfe<\0r\0/\0>\0", 10, 0, NULL, &res),
         LGSP_XML_MALFORMED, "UTF-16 with a byte order mark is refused");
    KIND(to_json_with("<\0r\0/\0>\0", 8, 0, NULL, &res), LGSP_XML_MALFORMED,
         "UTF-16 without a mark is refused");
    KIND(to_json("<r>\xc3\x28</r>", 0, NULL), LGSP_XML_MALFORMED,
         "bytes that are not UTF-8 are refused");
    EQ(to_json("\xef\xbb\xbf<r>1</r>", 0, NULL), "\"1\"",
       "a UTF-8 byte order mark is fine");

    n = 10000;
    big = malloc(n * 7 + 1);
    for (i = 0; i < n; i++) {
        memcpy(big + i * 3, "<a>", 3);
        memcpy(big + n * 3 + i * 4, "</a>", 4);
    }
    big[n * 7] = '\0';

    EQ(to_json(big, 0, NULL),
       "!4: the XML nests elements deeper than 64 levels",
       "10 000 levels are refused");
    free(big);

    n = 8 * MB + 1;
    big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "<r>", 3);
    memcpy(big + n - 4, "</r>", 4);
    big[n] = '\0';
    s = to_json_with(big, n, 0, NULL, &res);
    UNIT_EQ_INT(res.kind, LGSP_XML_TOO_LARGE, "past max_size is refused");
    free(s);
    free(big);

    /* many siblings of many names, grouped by a hash table */
    n = 200000;
    big = malloc(n * 16 + 16);
    strcpy(big, "<r>");
    for (i = 0; i < n; i++) {
        sprintf(big + strlen(big), "<e%zu/>", i % 50000);
    }
    strcat(big, "</r>");
    s = to_json(big, 0, NULL);
    UNIT_OK(s[0] == '{', "200 000 siblings convert");
    free(s);
    free(big);
}


int
main(void)
{
    test_json_to_xml();
    test_xml_to_json();
    test_faults();
    test_fault_writer();
    test_schema_typed();
    test_round_trip();
    test_hostile();

    lgsp_arena_free(&arena);

    return UNIT_DONE("xml");
}
