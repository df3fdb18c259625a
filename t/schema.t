# JSON Schema validation of request bodies (lgsp_schema_request): each
# answer (415, 413, 400, 422) as problem+json naming the transaction id,
# bodies in memory, in temporary files and chunked, Vietnamese text
# counted in code points, the birth-registration schema of conf/schemas
# with $ref across files, and refused requests never reaching upstream.

use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha256_hex);
use JSON::XS;

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(mint);

my $json = JSON::XS->new->canonical->utf8;
my $secret = 'schema-test-secret-' . ('x' x 32);

my $t = LGSP::Test->new;

# the mock agency system: echoes what reached it
$t->start_agency(1);

$t->write_file('hs.key', $secret);

# nginx's workers (user nobody) write bodies to temporary files in the test
chmod 0755, $t->dir, $t->dir . '/tmp';

# the name of a child: 12 code points at most (Nguyễn Văn Ả has 17 bytes)
$t->write_file('name.json', <<'EOF');
{
  "type": "object",
  "required": ["hoTen"],
  "properties": {
    "hoTen": { "type": "string", "minLength": 2, "maxLength": 12 },
    "tuoi": { "type": "integer", "minimum": 0 },
    "a": { "type": "string" },
    "b": { "type": "string" },
    "c": { "type": "string" },
    "danToc": { "enum": ["Kinh", "Tày", "Thái", "Khơ Mú", "H'Mông", "Nùng",
                         "Hoa", "Dao", "Gia Rai", "Ê Đê", "Ba Na", "Xơ Đăng"] }
  }
}
EOF

$t->write_file('date.json', '{"type": "string", "format": "date"}');

# a phone number: 3 or 4 digits, perhaps a dash, then 6 or 7 digits
$t->write_file('phone.json', '{"type": "string",'
                             . ' "pattern": "^\\\\d{3,4}-?\\\\d{6,7}$"}');

# no member named "evil" at any depth: a recursive schema inside "not"
$t->write_file('no-evil.json', <<'EOF');
{
  "not": { "$ref": "#/$defs/evil" },
  "$defs": {
    "evil": {
      "anyOf": [
        { "required": ["evil"] },
        { "required": ["c"], "properties": { "c": { "$ref": "#/$defs/evil" } } }
      ]
    }
  }
}
EOF

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_quota_zone quotas:1m;
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;

    log_format upstream '$request_uri $status $upstream_addr';

    server {
        listen 127.0.0.1:%%PORT%%;

        # which requests reached the agency: "-" when none did
        access_log %%DIR%%/logs/upstream.log upstream;

        location = /catalog { lgsp_catalog; }
        location = /openapi.json { lgsp_catalog openapi; }

        location /khaisinh {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency *;
            lgsp_schema_request %%REPO%%/conf/schemas/khaisinh.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        # a body past client_body_buffer_size goes to a temporary file
        location /file/khaisinh {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency *;
            lgsp_schema_request %%REPO%%/conf/schemas/khaisinh.json;
            client_body_buffer_size 1k;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        # every body in a temporary file, even a small one
        location /file-only/name {
            lgsp_schema_request name.json;
            client_body_in_file_only clean;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /name {
            lgsp_schema_request name.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%;

            # validation turned off below a validated location
            location /name/raw {
                lgsp_schema_request off;
                proxy_pass http://127.0.0.1:%%PORT_1%%;
            }
        }

        # validation needs the whole body first: buffering comes back on
        location /unbuffered {
            lgsp_schema_request name.json;
            proxy_request_buffering off;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /limits {
            lgsp_schema_request name.json;
            lgsp_schema_max_body 200;
            lgsp_schema_max_depth 3;
            lgsp_schema_max_errors 2;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /phone {
            lgsp_schema_request phone.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /no-evil {
            lgsp_schema_request no-evil.json;
            lgsp_schema_max_depth 2048;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /date/annotation {
            lgsp_schema_request date.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /date/assert {
            lgsp_schema_format_assert on;
            lgsp_schema_request date.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        # authentication (access phase) and the quota come first
        location /guarded {
            lgsp_jwt on;
            lgsp_quota 1r/m;
            lgsp_schema_request name.json;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF

my $example = $t->read_file("$LGSP::Test::REPO/conf/schemas/khaisinh.example.json");
my $birth = $json->decode($example);

# a copy of the birth registration with changes made by $edit
sub birth {
    my ($edit) = @_;
    my $b = $json->decode($json->encode($birth));
    $edit->($b) if $edit;
    return $json->encode($b);
}

# the answer, its JSON decoded as UTF-8 (Vietnamese text as characters)
sub post {
    my ($path, $body, %headers) = @_;

    $headers{'Content-Type'} //= 'application/json';
    my $r = $t->request('POST', $path, headers => \%headers, body => $body);
    $r->{json} &&= $json->decode($r->{content});

    return $r;
}

# what the agency saw, when the request reached it
sub upstream_body {
    my ($r) = @_;
    return ($r->{json} && $r->{json}{system}) ? $r->{json}{body} : undef;
}

sub is_problem {
    my ($r, $status, $type, $name) = @_;

    is $r->{status}, $status, "$name: $status";
    is $r->{headers}{'content-type'}, 'application/problem+json',
        "$name: a problem document";
    is $r->{json}{type}, "urn:lgsp:problem:$type", "$name: type $type";
    ok defined $r->{json}{instance}
       && $r->{json}{instance} eq ($r->{headers}{'x-lgsp-transaction-id'}
                                   // ''),
        "$name: names the transaction id";
}

# raw HTTP/1.1 with a chunked body; returns (status, body)
sub chunked {
    my ($path, @chunks) = @_;

    my $req = "POST $path HTTP/1.1\r\nHost: localhost\r\n"
              . "Content-Type: application/json\r\n"
              . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    $req .= sprintf("%x\r\n%s\r\n", length $_, $_) for @chunks;
    $req .= "0\r\n\r\n";

    return parse_answer($t->raw($req));
}

sub parse_answer {
    my ($answer) = @_;

    my ($head, $body) = split /\r\n\r\n/, $answer, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};

    if (($head // '') =~ /^Transfer-Encoding: chunked/mi) {
        my $plain = '';
        while ($body =~ s/^([0-9a-f]+)\r\n//i) {
            my $n = hex $1;
            last if $n == 0;
            $plain .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $plain;
    }

    return ($status // 0, $body // '');
}


# --- a valid document goes upstream untouched ---------------------------

my $r = post('/khaisinh', $example);
my $valid_txid = $r->{headers}{'x-lgsp-transaction-id'};
is $r->{status}, 200, 'a valid birth registration is proxied';
is upstream_body($r), $example, 'the agency receives the body byte for byte';

$r = post('/khaisinh', $example,
          'Content-Type' => 'application/json; charset=UTF-8');
is $r->{status}, 200, 'charset UTF-8 is accepted';

$r = post('/khaisinh', $example,
          'Content-Type' => 'application/vnd.btp.khaisinh+json');
is $r->{status}, 200, 'an application/*+json type is accepted';

$r = $t->get('/khaisinh');
is $r->{status}, 200, 'a GET without a body is not validated';

$r = $t->request('DELETE', '/khaisinh');
is $r->{status}, 200, 'a DELETE without a body is not validated';


# --- 415: not JSON ------------------------------------------------------

$r = post('/khaisinh', $example, 'Content-Type' => 'text/plain');
is_problem($r, 415, 'unsupported-media-type', 'a text/plain body');
like $r->{json}{detail}, qr{application/json}, '  the detail names the type';

$r = post('/khaisinh', $example,
          'Content-Type' => 'application/json; charset=iso-8859-1');
is_problem($r, 415, 'unsupported-media-type', 'a charset other than UTF-8');

$r = $t->raw("POST /khaisinh HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}");
like $r, qr{^HTTP/1\.1 415 .*"detail":"the request carries a body without}s,
    'a body without Content-Type is refused with 415';


# --- 400: a document is missing, malformed, repeats a key, nests deep ----

$r = post('/khaisinh', '');
is_problem($r, 400, 'body-missing', 'a POST with an empty body');

$r = $t->request('PUT', '/khaisinh');
is_problem($r, 400, 'body-missing', 'a PUT without a body');

$r = post('/khaisinh', '{"maHoSo": "X1", "coQuanDangKy": }');
is_problem($r, 400, 'malformed-json', 'malformed JSON');
like $r->{json}{detail}, qr/malformed JSON at byte 34/,
    '  the detail gives the byte offset';

$r = post('/khaisinh', '{"maHoSo": "A", "maHoSo": "B"}');
is_problem($r, 400, 'duplicate-key', 'a duplicate object key');
like $r->{json}{detail}, qr/duplicate object key at byte \d+/,
    '  the detail says where';

$r = post('/limits', '{"hoTen": "Lan", "a": [[["x"]]]}');
is_problem($r, 400, 'too-deep', 'nesting past lgsp_schema_max_depth');
like $r->{json}{detail}, qr/deeper than 3 levels at byte \d+/,
    '  the detail gives the limit and where';

$r = post('/limits', '{"hoTen": "Lan", "a": [["x"]]}');
is $r->{status}, 422, 'nesting at lgsp_schema_max_depth is parsed';

$r = post('/name', "{\"hoTen\": \"Lan\"} trailing");
is_problem($r, 400, 'malformed-json', 'text after the document');

$r = post('/name', "{\"hoTen\": \"L\xff\"}");
is_problem($r, 400, 'malformed-json', 'a body that is not UTF-8');


# --- 422: the document breaks the schema ---------------------------------

$r = post('/khaisinh', birth(sub {
    my ($b) = @_;
    $b->{me}{soCCCD} = '0011920543';             # 10 digits, not 12
    delete $b->{cha}{soCCCD};                    # a citizen without CCCD
    $b->{nguoiDuocKhaiSinh}{gioiTinh} = 'Khác';
    delete $b->{ngayDangKy};
}));
is_problem($r, 422, 'schema-violation', 'a birth registration with errors');
my $invalid_txid = $r->{json}{instance};

my %errors = map { ($_->{instancePath} => $_) } @{ $r->{json}{errors} || [] };
is scalar @{ $r->{json}{errors} || [] }, 4, '  every error is listed';
is_deeply [sort keys %{ $errors{'/me/soCCCD'} || {} }],
    [qw(instancePath keyword message schemaPath)],
    '  each error has instancePath, schemaPath, keyword, message';
is $errors{'/me/soCCCD'}{keyword}, 'pattern',
    '  a CCCD of 10 digits breaks the pattern in common.json';
like $errors{'/me/soCCCD'}{schemaPath}, qr{^/properties/me/\$ref/},
    '  the schema path goes through the $ref';
like $errors{'/cha'}{message}, qr/"soCCCD"/,
    '  a Vietnamese parent must give a CCCD number';
is $errors{'/nguoiDuocKhaiSinh/gioiTinh'}{keyword}, 'enum',
    '  gioiTinh must be Nam or Nữ';
like $errors{''}{message}, qr/"ngayDangKy"/,
    '  a missing required member is named';
like $r->{json}{detail},
    qr/^the request body does not match the schema of service "BTP\.HOTICH\.KHAISINH": .+ \(and 3 more in "errors"\)$/,
    '  the detail names the service and the first error';
is $r->{json}{status}, 422, '  the document repeats the status';

$r = post('/khaisinh', birth(sub { $_[0]{me}{hoTen} = 'Trần Thị 2' }));
is $r->{status}, 422, 'a digit in a name breaks the \p{L} pattern';

$r = post('/khaisinh', birth(sub { $_[0]{nguoiDiKhaiSinh}{quanHe} = 'Bạn' }));
is $r->{json}{errors}[0]{instancePath}, '/nguoiDiKhaiSinh/quanHe',
    'a declarant must be a relative';

$r = post('/khaisinh', birth(sub { $_[0]{cha}{ngheNghiep} = 'Kỹ sư' }));
is $r->{json}{errors}[0]{keyword}, 'unevaluatedProperties',
    'a member the schema does not know is refused';

$r = post('/limits', '{"tuoi": -1, "a": 1, "b": 2, "c": 3}');
is $r->{status}, 422, 'many errors';
is scalar @{ $r->{json}{errors} }, 2, '  at most lgsp_schema_max_errors';

$r = post('/name', '"Lan"');
is $r->{status}, 422, 'a document that is not an object is validated too';


# --- Vietnamese text: lengths in code points ------------------------------

my $name12 = "Nguy\x{1ec5}n V\x{103}n \x{1ea2}";         # Nguyễn Văn Ả
my $name14 = "Nguy\x{1ec5}n V\x{103}n \x{1ea2}nh";       # Nguyễn Văn Ảnh

$r = post('/name', $json->encode({ hoTen => $name12 }));
is $r->{status}, 200,
    'maxLength 12 allows "Nguyễn Văn Ả": 12 code points, 17 bytes';

$r = post('/name', $json->encode({ hoTen => $name14 }));
is $r->{status}, 422, 'maxLength 12 refuses "Nguyễn Văn Ảnh"';
like $r->{json}{errors}[0]{message}, qr/at most 12 characters long \(it has 14\)/,
    '  the message counts characters';

$r = post('/name', $json->encode({ hoTen => "\x{1ea2}" }));
is $r->{status}, 422, 'minLength 2 refuses one 3-byte character';

# the enum's text is cut after 76 bytes, which fall inside "Ê"
$r = post('/name', $json->encode({ hoTen => 'Lan',
                                  danToc => "M\x{01b0}\x{1edd}ng" }));
is $r->{status}, 422, 'a value out of a long Vietnamese enum is refused';
like $r->{json}{errors}[0]{message},
    qr/^must be one of \["Kinh",.*"Gia Rai","\.\.\.$/,
    '  the message shortens the list between characters, not inside one';

$r = post('/khaisinh', birth(sub { $_[0]{nguoiDiKhaiSinh}{quanHe} = 'X' }));
like $r->{json}{errors}[0]{message}, qr/"Ng\x{01b0}\x{1edd}i th\x{00e2}n/,
    'Vietnamese in a message arrives as UTF-8';


# --- lgsp_schema_format_assert -------------------------------------------

$r = post('/date/annotation', '"2024-02-30"');
is $r->{status}, 200, 'format is an annotation by default';

$r = post('/date/assert', '"2024-02-30"');
is $r->{status}, 422, 'lgsp_schema_format_assert on: 30 February is refused';
is $r->{json}{errors}[0]{keyword}, 'format', '  by the format keyword';

$r = post('/date/assert', '"2024-02-29"');
is $r->{status}, 200, 'lgsp_schema_format_assert on: a leap day passes';


# --- 413: past lgsp_schema_max_body --------------------------------------

my $big = $json->encode({ hoTen => 'Lan', a => 'x' x 300 });

$r = post('/limits', $big);
is_problem($r, 413, 'body-too-large', 'a Content-Length past the limit');
is $r->{json}{maxBytes}, 200, '  the problem gives the limit';
like $r->{json}{detail}, qr/has \d+ bytes; this service accepts at most 200/,
    '  the detail gives both sizes';

$r = post('/name/raw', $big);
is $r->{status}, 200, 'lgsp_schema_request off below: not validated';


# --- chunked bodies --------------------------------------------------------

my ($status, $body) = chunked('/khaisinh', unpack '(a500)*', $example);
is $status, 200, 'a chunked valid body is proxied';
is eval { $json->decode($body)->{body} }, $example,
    '  and reaches the agency whole';

($status, $body) = chunked('/khaisinh', '{"maHoSo":', ' 1}');
is $status, 422, 'a chunked invalid body is refused';

($status, $body) = chunked('/limits', ('{"hoTen": "Lan", "a": "'),
                           ('x' x 150), ('y' x 150), '"}');
is $status, 413, 'a chunked body is stopped at lgsp_schema_max_body';
like $body, qr/longer than the 200 bytes/, '  the detail gives the limit';
my $too_large_txid = eval { $json->decode($body)->{instance} };

($status, $body) = chunked('/limits', ('x' x 199));
is $status, 400, 'a chunked body at the limit is read and parsed';

($status, $body) = chunked('/khaisinh');
is $status, 400, 'an empty chunked POST is a missing body';


# --- bodies in temporary files ---------------------------------------------

$r = post('/file/khaisinh', $example);
is $r->{status}, 200, 'a body buffered to a temporary file is validated';
is upstream_body($r), $example, '  and sent upstream whole';

$r = post('/file/khaisinh', birth(sub { $_[0]{me}{soCCCD} = 'x' }));
is $r->{status}, 422, 'an invalid body in a temporary file is refused';

$r = post('/file-only/name', $json->encode({ hoTen => $name12 }));
my $file_txid = $r->{headers}{'x-lgsp-transaction-id'};
is $r->{status}, 200, 'client_body_in_file_only: a valid body passes';
is upstream_body($r), $json->encode({ hoTen => $name12 }),
    '  and reaches the agency';

$r = post('/file-only/name', $json->encode({ hoTen => $name14 }));
is $r->{status}, 422, 'client_body_in_file_only: an invalid body is refused';

like $t->error_log, qr/a client request body is buffered to a temporary file/,
    'nginx did buffer bodies to files';


# --- proxy_request_buffering off ------------------------------------------

($status, $body) = chunked('/unbuffered', '{"hoTen":', ' "Lan"}');
is $status, 200, 'proxy_request_buffering off: a valid body passes';
is eval { $json->decode($body)->{body} }, '{"hoTen": "Lan"}',
    '  and reaches the agency whole';

($status, $body) = chunked('/unbuffered', '{"hoTen":', ' 1}');
is $status, 422, 'proxy_request_buffering off: an invalid body is refused';


# --- a refused body is discarded: the connection goes on -------------------

my $two = "POST /name HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
          . "Content-Length: 15\r\n\r\n{\"hoTen\":\"Lan\"}"
          . "POST /name HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          . "Content-Length: 15\r\nConnection: close\r\n\r\n{\"hoTen\":\"Lan\"}";
my $answers = $t->raw($two);
like $answers, qr{^HTTP/1\.1 415 .*HTTP/1\.1 200 }s,
    'after a refused body, the next request on the connection is served';


# --- order: authentication, then the quota, then the body ------------------

my $token = 'Bearer ' . mint(alg => 'HS256', key => $secret,
                             claims => { agency => 'H29.UBND.01' });

$r = post('/guarded', 'not json', 'Content-Type' => 'text/plain');
is $r->{status}, 401, 'an unauthenticated request is refused before its body';

$r = post('/guarded', '{"hoTen": 1}', Authorization => $token);
is $r->{status}, 422, 'an authenticated request is validated';

$r = post('/guarded', '{"hoTen": 1}', Authorization => $token);
is $r->{status}, 429, 'the quota is taken before the body is validated';


# --- a pattern's counts may meet past an optional step -------------------

for my $phone (qw(091234567 0912345678 091-234567 0912-3456789)) {
    $r = post('/phone', qq{"$phone"});
    is $r->{status}, 200, "the pattern ^\\d{3,4}-?\\d{6,7}\$ matches $phone";
}

for my $phone (qw(09123456 09-1234567 091234567890)) {
    $r = post('/phone', qq{"$phone"});
    is $r->{status}, 422, "and refuses $phone";
}


# --- past the validator's depth "not" turns no failure into a pass ------

for my $depth (10, 600) {
    my $evil = '{"c":' x $depth . '{"evil":1}' . '}' x $depth;
    $r = post('/no-evil', $evil);
    is_problem($r, 422, 'schema-violation', "\"evil\" $depth levels deep");
    is upstream_body($r), undef, "  \"evil\" $depth levels deep goes nowhere";
}

$r = post('/no-evil', '{"c":' x 10 . '{"good":1}' . '}' x 10);
is $r->{status}, 200, 'a body without "evil" passes';


# --- the catalogue names the schema; OpenAPI carries its document ----------

$r = $t->get('/catalog');
my ($service) = grep { $_->{code} eq 'BTP.HOTICH.KHAISINH'
                       && $_->{path} eq '/khaisinh' }
                     @{ $json->decode($r->{content})->{services} || [] };
like $service->{schema}, qr{conf/schemas/khaisinh\.json$},
    'the catalogue names the schema of a service';

$r = $t->get('/openapi.json');
my $op = $json->decode($r->{content})->{paths}{'/khaisinh'}{post};
is $op->{requestBody}{content}{'application/json'}{schema}{title},
    "\x{0110}\x{0103}ng k\x{00fd} khai sinh",
    'OpenAPI gives the schema as the request body of a POST';


# --- refused requests never reached the agency -----------------------------

$t->stop;

my %reached;
for (split /\n/, $t->read_file('logs/upstream.log')) {
    my ($uri, $code, $addr) = split / /;
    next if $uri =~ m{^/(catalog|openapi\.json)$};
    push @{ $reached{$code} }, $addr;
}

ok @{ $reached{200} || [] } >= 10, 'valid requests were logged as proxied';
ok !(grep { $_ eq '-' } @{ $reached{200} || [] }),
    'every 200 came from the agency';

my @refused = map { @{ $reached{$_} || [] } } qw(400 401 413 415 422 429);
ok @refused >= 30, 'refusals were logged';
ok !(grep { $_ ne '-' } @refused), 'no refused request reached the agency';

my %record = map { my $rec = $json->decode($_); ($rec->{txid} => $rec) }
             split /\n/, $t->read_file('logs/transactions.jsonl');

is $record{$valid_txid}{outcome}, 'ok', 'the record of a valid body: ok';
is $record{$valid_txid}{body_sha256}, sha256_hex($example),
    '  with the SHA-256 of the body as received';
is $record{$file_txid}{body_sha256},
    sha256_hex($json->encode({ hoTen => $name12 })),
    '  and of a body proxied from its temporary file';
is $record{$invalid_txid}{outcome}, 'schema',
    'the record of a schema violation: outcome schema';
is $record{$invalid_txid}{reason}, 'invalid', '  reason invalid';
is $record{$too_large_txid}{reason}, 'too_large',
    'the record of a chunked body past the limit: reason too_large';
is $record{$too_large_txid}{body_sha256}, undef,
    '  and no hash of a body that was not kept whole';

ok $t->error_log_clean, 'no crash, alert or emergency in the error log';

done_testing;
