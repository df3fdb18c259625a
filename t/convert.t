# Protocol and format conversion: REST/JSON callers reach a SOAP 1.1/1.2
# or plain-XML provider (scripts/mock/soap.pl, strict about namespaces
# and SOAPAction), and SOAP callers reach a JSON provider.  Typed answers
# through a JSON Schema, repeated elements, attributes, Vietnamese text,
# Faults as problems, LGSP refusals as Faults, and hostile XML refused
# with a problem while the worker carries on.

use strict;
use warnings;

use Test::More;
use JSON::XS;
use XML::LibXML;

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(mint);

my $secret = 'convert-secret-' . ('c' x 32);

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
my $secret_file = $t->write_file('secret.txt', 'TOP-SECRET-CONTENT');

my $soap = $t->extra_port(1);
$t->mock('mock/soap.pl', $soap, $t->dir . '/logs/soap.log', $secret_file);
my $agency = $t->start_agency(2, 'json-provider');

# the provider's answer as the caller's JSON: the schema decides
$t->write_file('congdan.json', encode_json({
    type => 'object',
    required => ['hoTen', 'namSinh'],
    properties => {
        maSo    => { type => 'integer' },
        hoTen   => { type => 'string' },
        namSinh => { type => 'integer' },
        diem    => { type => 'number' },
        conSong => { type => 'boolean' },
        ghiChu  => { type => ['string', 'null'] },
        diaChi  => { type => 'string' },
        con     => { type => 'array', items => {
            type => 'object',
            properties => { ten => { type => 'string' },
                            tuoi => { type => 'integer' } } } },
    },
}));

# the request the caller sends
$t->write_file('tracuu.json', encode_json({
    type => 'object', required => ['soDinhDanh'],
    properties => { soDinhDanh => { type => 'string', maxLength => 12 } },
}));

# what goes out and comes back in the round trip
$t->write_file('echo.json', encode_json({
    type => 'object',
    properties => {
        so     => { type => 'array', items => { type => 'integer' } },
        thuc   => { type => 'number' },
        dung   => { type => 'boolean' },
        rong   => { type => 'null' },
        chu    => { type => 'string' },
        hoSoXml => { type => 'string' },
        ds     => { type => 'object', properties => {
            muc => { type => 'array', items => { type => 'string' } } } },
    },
}));

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /congdan {
            lgsp_schema_request tracuu.json;
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich
                action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json schema=congdan.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%/soap11;
        }

        location = /congdan-untyped {
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich
                action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json;
            proxy_pass http://127.0.0.1:%%PORT_1%%/soap11;
        }

        location = /congdan12 {
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich soap=1.2
                action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json schema=congdan.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%/soap12;
        }

        location = /echo {
            lgsp_convert_request json_to_soap operation=Echo
                ns=urn:lgsp:test:hotich
                action=urn:lgsp:test:hotich#Echo;
            lgsp_convert_response xml_to_json schema=echo.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%/soap11;
        }

        location = /hoso {
            lgsp_convert_request json_to_xml root=HoSo
                ns=urn:lgsp:test:hotich;
            lgsp_convert_response xml_to_json unwrap=none;
            proxy_pass http://127.0.0.1:%%PORT_1%%/xml;
        }

        location = /small {
            lgsp_convert_max_size 2k;
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich
                action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json;
            proxy_pass http://127.0.0.1:%%PORT_1%%/soap11;
        }

        # a SOAP caller in front of a REST/JSON provider
        location = /legacy {
            lgsp_service BTP.HOTICH.LEGACY;
            lgsp_jwt on;
            lgsp_allow_agency *;
            lgsp_convert_request soap_to_json schema=tracuu.json;
            lgsp_convert_response json_to_soap operation=TraCuuResponse
                ns=urn:lgsp:test:hotich;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location = /legacy12 {
            lgsp_jwt on;
            lgsp_allow_agency *;
            lgsp_convert_request soap_to_json;
            lgsp_convert_response json_to_soap operation=TraCuuResponse
                ns=urn:lgsp:test:hotich soap=1.2;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }
    }
EOF

my $S11 = 'http://schemas.xmlsoap.org/soap/envelope/';
my $S12 = 'http://www.w3.org/2003/05/soap-envelope';

# the answer, its JSON decoded as UTF-8
sub call {
    my ($path, $body) = @_;
    my $r = $t->post_json($path, $body);
    $r->{json} = eval { decode_json($r->{content}) } if $r->{json};
    return $r;
}

sub soap_log { $t->read_file('logs/soap.log') }

# ---------------------------------------------------------------- typed

{
    my $r = call('/congdan', { soDinhDanh => 'typed' });

    is $r->{status}, 200, 'a typed answer: 200';
    like $r->{headers}{'content-type'}, qr{^application/json},
         'as JSON';
    is_deeply $r->{json}, {
        maSo => 42, hoTen => "Nguy\x{1ec5}n V\x{103}n \x{c1}nh",
        namSinh => 1990, diem => 8.5, conSong => JSON::XS::true,
        con => [{ ten => "Tr\x{1ea7}n B", tuoi => 7 }], ghiChu => undef,
        diaChi => "S\x{1ed1} 1 & <Ph\x{1ed1}> \"Hu\x{1ebf}\"",
    }, 'the schema types integers, numbers and booleans, keeps one child'
       . ' an array, nil null, and the text (references) as NFC UTF-8';
    is $r->{headers}{'content-length'}, length($r->{content}),
       'Content-Length is the converted length';
    like soap_log(), qr{^/soap11 "urn:lgsp:test:hotich#TraCuu" text/xml}m,
         'the provider got text/xml and the SOAPAction';

    $r = call('/congdan', { soDinhDanh => 'repeated' });
    is_deeply $r->{json}{con}, [{ ten => 'C', tuoi => 3 },
                                { ten => 'D', tuoi => 5 }],
              'repeated elements are one array';
    is $r->{json}{conSong}, JSON::XS::false, '0 is false to the schema';

    $r = call('/congdan-untyped', { soDinhDanh => 'typed' });
    is_deeply $r->{json}, {
        '@maSo' => '42', hoTen => "Nguy\x{1ec5}n V\x{103}n \x{c1}nh",
        namSinh => ' 1990 ', diem => '8.50', conSong => 'true',
        con => { ten => "Tr\x{1ea7}n B", tuoi => '7' }, ghiChu => undef,
        diaChi => "S\x{1ed1} 1 & <Ph\x{1ed1}> \"Hu\x{1ebf}\"",
    }, 'without a schema: strings, @ attributes, one child an object';

    my @chunks = ('{"soDinh', 'Danh":"typed"}');
    $r = $t->request('POST', '/congdan-untyped',
                     headers => { 'Content-Type' => 'application/json' },
                     body => sub { shift @chunks });
    is $r->{status}, 200, 'a chunked request body is converted too';
    like $r->{content}, qr/"namSinh":" 1990 "/, 'and answered';

    $r = call('/congdan12', { soDinhDanh => 'typed' });
    is $r->{status}, 200, 'SOAP 1.2: 200';
    is $r->{json}{namSinh}, 1990, 'SOAP 1.2: typed';
    ok index(soap_log(), '/soap12 - application/soap+xml; charset=utf-8;'
             . ' action="urn:lgsp:test:hotich#TraCuu"') >= 0,
       'SOAP 1.2: the action is a parameter of the media type';
}

# ------------------------------------------------------ validated first

{
    my $before = soap_log();
    my $r = call('/congdan', { soDinhDanh => 'x' x 20 });

    is $r->{status}, 422, 'the JSON is validated before conversion';
    is soap_log(), $before, 'and a refused request never reaches SOAP';
}

# ------------------------------------------------------------ the schema

{
    my $r = call('/congdan', { soDinhDanh => 'bad_type' });

    is $r->{status}, 502, 'an answer that breaks its schema: 502';
    is $r->{json}{type}, 'urn:lgsp:problem:answer-schema-violation',
       'a schema violation problem';
    like $r->{json}{detail}, qr{^/namSinh: must be an integer},
         'naming the path';
    like $r->{headers}{'x-lgsp-transaction-id'} // '', qr/^[0-9a-f-]{36}$/,
         'with the transaction id';
    is $r->{json}{instance}, $r->{headers}{'x-lgsp-transaction-id'},
       'the problem names it';
}

# ---------------------------------------------------------------- Faults

{
    my $r = call('/congdan', { soDinhDanh => 'fault' });

    is $r->{status}, 502, 'a SOAP 1.1 Fault: 502';
    is $r->{json}{type}, 'urn:lgsp:problem:soap-fault', 'a soap-fault problem';
    is $r->{json}{faultcode}, 'env:Server', 'with faultcode';
    is $r->{json}{faultstring}, "Kh\x{f4}ng t\x{ec}m th\x{1ea5}y c\x{f4}ng"
       . " d\x{e2}n", 'and faultstring';

    $r = call('/congdan12', { soDinhDanh => 'fault' });
    is $r->{status}, 502, 'a SOAP 1.2 Fault: 502';
    is $r->{json}{Code}, 'env:Receiver', 'with Code';
    like $r->{json}{Reason}, qr/^Kh\x{f4}ng/, 'and Reason';
    ok !exists $r->{json}{faultcode}, 'not the 1.1 names';
}

# ---------------------------------------------------------- round trips

{
    my $doc = {
        so => [5], thuc => -1.25, dung => JSON::XS::false, rong => undef,
        chu => "<a href=\"x\">&amp;</a> \x{1ec7}\t\x{1f600}",
        hoSoXml => '<KhaiSinh xmlns="urn:hotich"><ten>A</ten></KhaiSinh>',
        ds => { muc => [''] },
    };
    my $r = call('/echo', JSON::XS->new->utf8->canonical->encode($doc));

    is $r->{status}, 200, 'JSON -> SOAP -> JSON: 200';
    is_deeply $r->{json}, $doc, 'types, a one-item array, null, escaping and'
        . ' XML carried as a string all come back as they went';
    is ref $r->{json}{hoSoXml}, '', 'the XML string stays a string';
}

# -------------------------------------------------------------- plain XML

{
    my $r = call('/hoso', { '@loai' => 'khaisinh', ten => ['A', 'B'],
                            ngay => '2024-01-02' });

    is $r->{status}, 200, 'json_to_xml: 200';
    is_deeply $r->{json}, { '@trangThai' => 'ok', ten => ['A', 'B'],
                            ngay => '2024-01-02' },
              'the plain XML provider saw HoSo in its namespace';
}

# --------------------------------------------------- JSON that XML cannot

{
    my $r = call('/congdan-untyped', { '1so' => 'x' });
    is $r->{status}, 400, 'a member name XML cannot carry: 400';
    is $r->{json}{type}, 'urn:lgsp:problem:request-not-convertible',
       'not convertible';
    like $r->{json}{detail}, qr{/1so}, 'naming the member';

    $r = call('/congdan-untyped', '{"a":');
    is $r->{status}, 400, 'malformed JSON: 400';
    is $r->{json}{type}, 'urn:lgsp:problem:malformed-json', 'malformed-json';

    $r = $t->request('POST', '/congdan-untyped', body => '<a/>',
                     headers => { 'Content-Type' => 'text/xml' });
    is $r->{status}, 415, 'XML sent to a JSON location: 415';
}

# ------------------------------------------------------ hostile answers

my %hostile = (
    laughs => [qr/document type declaration/, 'billion laughs'],
    xxe    => [qr/document type declaration/, 'an external entity'],
    dtd    => [qr/document type declaration/, 'an external DTD'],
    deep   => [qr/deeper than 128 levels/, '10 000-deep nesting'],
    latin1 => [qr/encoding ISO-8859-1; only UTF-8/, 'ISO-8859-1'],
    utf16  => [qr/not XML in UTF-8/, 'UTF-16'],
    huge   => [qr/longer than the 8388608 bytes/, 'a 100 MB answer'],
    gzip   => [qr/compressed \(Content-Encoding: gzip\)/,
               'a compressed answer'],
);

for my $id (sort keys %hostile) {
    my ($detail, $name) = @{ $hostile{$id} };
    my $r = call('/congdan-untyped', { soDinhDanh => $id });

    is $r->{status}, 502, "$name: 502";
    like $r->{headers}{'content-type'}, qr{^application/problem\+json},
         "$name: a problem";
    like $r->{json}{detail} // '', $detail, "$name: saying why";
    unlike $r->{content}, qr/TOP-SECRET|fetched/, "$name: nothing read";
}

unlike soap_log(), qr{^/dtd}m, 'the external DTD was never fetched';

{
    my $r = call('/small', { soDinhDanh => 'repeated' });
    is $r->{status}, 200, 'a small answer under lgsp_convert_max_size 2k';

    $r = call('/congdan', { soDinhDanh => 'typed' });
    is $r->{status}, 200, 'the worker still answers after hostile XML';
    ok $t->error_log_clean, 'no crash, alert or emergency in error.log';
}

# --------------------------------------------- a SOAP caller, JSON behind

my $token = mint(alg => 'HS256', key => $secret);

sub soap_call {
    my ($path, $v, $inner, %headers) = @_;

    my $ns = $v == 12 ? $S12 : $S11;
    my $type = $v == 12 ? 'application/soap+xml; charset=utf-8'
                        : 'text/xml; charset=utf-8';
    my $env = qq{<s:Envelope xmlns:s="$ns"><s:Body>$inner</s:Body>}
              . qq{</s:Envelope>};

    my $r = $t->request('POST', $path, body => $env,
                        headers => { 'Content-Type' => $type, %headers });
    $r->{doc} = eval { XML::LibXML->new->parse_string($r->{content}) };

    return $r;
}

sub xpath {
    my ($r, $path) = @_;
    return '' unless $r->{doc};
    my $xc = XML::LibXML::XPathContext->new($r->{doc});
    $xc->registerNs(s11 => $S11);
    $xc->registerNs(s12 => $S12);
    $xc->registerNs(m => 'urn:lgsp:test:hotich');
    $xc->registerNs(p => 'urn:lgsp:problem');
    return $xc->findvalue($path);
}

{
    my $r = soap_call('/legacy', 11,
        '<q:TraCuu xmlns:q="urn:x"><q:soDinhDanh>001</q:soDinhDanh></q:TraCuu>',
        Authorization => "Bearer $token", SOAPAction => '"urn:x#TraCuu"');

    is $r->{status}, 200, 'soap_to_json: 200';
    like $r->{headers}{'content-type'}, qr{^text/xml}, 'a SOAP 1.1 answer';
    is xpath($r, '/s11:Envelope/s11:Body/m:TraCuuResponse/m:system'),
       'json-provider', 'the JSON answer in the operation element';
    is xpath($r, '//m:TraCuuResponse/m:headers/m:content-type'),
       'application/json', 'the provider got application/json';
    is_deeply decode_json(xpath($r, '//m:TraCuuResponse/m:body')),
              { soDinhDanh => '001' }, 'the SOAP body as JSON';

    $r = soap_call('/legacy', 11,
        '<q:TraCuu xmlns:q="urn:x"><q:soDinhDanh>0123456789abc</q:soDinhDanh>'
        . '</q:TraCuu>', Authorization => "Bearer $token");
    is $r->{status}, 500, 'a converted request that breaks its schema:'
       . ' a SOAP 1.1 Fault (500)';
    is xpath($r, '//s11:Fault/faultcode'), 'soap:Client', 'the client\'s';
    like xpath($r, '//s11:Fault/faultstring'), qr{/soDinhDanh},
         'naming the path';

    $r = soap_call('/legacy', 11, '<q:TraCuu xmlns:q="urn:x"/>');
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};
    is $r->{status}, 500, 'an LGSP refusal (no token) to a SOAP caller: 500';
    is xpath($r, '//s11:Fault/faultcode'), 'soap:Client', 'a Client Fault';
    is xpath($r, '//s11:Fault/detail/p:problem/p:instance'), $txid,
       'with the transaction id';
    is xpath($r, '//s11:Fault/detail/p:problem/p:status'), '401',
       'and the status the LGSP gave';

    $r = soap_call('/legacy12', 12, '<q:T xmlns:q="urn:x"/>');
    is $r->{status}, 400, 'to a SOAP 1.2 caller: 400';
    is xpath($r, '//s12:Fault/s12:Code/s12:Value'), 'soap:Sender',
       'a Sender Fault';
    is xpath($r, '//s12:Fault/s12:Detail/p:problem/p:instance'),
       $r->{headers}{'x-lgsp-transaction-id'}, 'with the transaction id';

    $r = $t->request('POST', '/legacy', body => '<!DOCTYPE r [<!ENTITY x'
                     . qq{ SYSTEM "file://$secret_file">]><r>&x;</r>},
                     headers => { 'Content-Type' => 'text/xml',
                                  Authorization => "Bearer $token" });
    $r->{doc} = eval { XML::LibXML->new->parse_string($r->{content}) };
    is $r->{status}, 500, 'a SOAP caller\'s DOCTYPE: a Fault';
    like xpath($r, '//s11:Fault/faultstring'), qr/document type declaration/,
         'saying why';
    unlike $r->{content}, qr/TOP-SECRET/, 'the file was not read';
}

ok $t->error_log_clean, 'error.log clean at the end';

done_testing;
