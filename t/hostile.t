# Hostile input against ONE realistic full-path configuration (JWT, Redis
# quota, JSON Schema, proxy to an agency system, transaction records,
# operator handlers): each attack gets its status and a problem body that
# names the transaction id, never reaches the agency system, and leaves an
# error log with no crash, alert or critical line.  Each attack is covered
# piecemeal in its feature's test; this file shows them together.

use strict;
use warnings;

use Test::More;
use HTTP::Tiny;
use JSON::XS;

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(mint raw_token b64url);

my $secret = 'hostile-test-secret-' . ('s' x 32);

my $t = LGSP::Test->new(workers => 2);

$t->start_redis;
$t->start_agency(1);
$t->write_file('hs.key', $secret);
my (undef, $rsa_pub) = $t->openssl_key('rsa', 'rsa');
my ($rsa_priv) = "$rsa_pub" =~ s/\.pub$/.key/r;

chmod 0755, $t->dir, $t->dir . '/tmp';

# a birth registration: the child's name, a pattern that backtracks
# catastrophically in a naive engine, and a bounded number
$t->write_file('khaisinh.json', <<'EOF');
{
  "type": "object",
  "required": ["hoTen"],
  "properties": {
    "hoTen": { "type": "string", "maxLength": 100 },
    "maHoSo": { "type": "string", "pattern": "^(a+)+$" },
    "soCon": { "type": "integer", "maximum": 20 }
  }
}
EOF

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key kid=hs;
    lgsp_jwt_key_file rsa.pub kid=rsa;
    lgsp_jwt_algorithms HS256 RS256;
    lgsp_jwt_issuer https://sso.example.gov.vn;
    lgsp_jwt_audience lgsp;
    lgsp_agency_claim agency;

    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    lgsp_quota_zone quotas:1m;
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;

    large_client_header_buffers 4 64k;

    # which requests reached the agency: "-" when none did
    log_format upstream '$lgsp_txid $status $upstream_addr';

    server {
        listen 127.0.0.1:%%PORT%%;

        access_log %%DIR%%/logs/upstream.log upstream;

        error_page 400 403 404 405 413 494 500 502 503 504 @lgsp_problem;
        location @lgsp_problem { lgsp_problem; }

        location /hotich/khaisinh {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_jwt on;
            lgsp_jwt_require_claim scope hotich.write;
            lgsp_allow_agency 000.00.31.H29;
            lgsp_quota 10000r/m;
            lgsp_schema_request khaisinh.json;
            lgsp_schema_max_depth 32;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        # operator handlers: the README's protection, by address or claim
        location = /metrics {
            allow 127.0.0.1;
            deny all;
            lgsp_metrics;
        }

        location = /status {
            lgsp_jwt on;
            lgsp_jwt_require_claim role operator;
            lgsp_status;
        }

        location = /catalog {
            allow 127.0.0.1;
            deny all;
            lgsp_catalog;
        }
    }
EOF

my $now = time;
my %claims = (iss => 'https://sso.example.gov.vn', aud => 'lgsp',
              agency => '000.00.31.H29', scope => 'hotich.write',
              exp => $now + 600);

sub token {
    my (%over) = @_;
    my $header = delete $over{header};
    return mint(alg => 'HS256', key => $secret, kid => 'hs',
                claims => { %claims, %over }, header => $header);
}

my $good_body = { hoTen => 'Nguyen Van A', maHoSo => 'aaaa', soCon => 1 };

sub call {
    my ($token, %opt) = @_;

    my %h = (%{ $opt{headers} || {} });
    $h{Authorization} = "Bearer $token" if defined $token;
    $h{'Content-Type'} //= 'application/json';

    my $body = $opt{body} // $good_body;
    $body = JSON::XS->new->canonical->encode($body) if ref $body;

    return $t->request('POST', $opt{path} // '/hotich/khaisinh',
                       headers => \%h, body => $body);
}

# the upstream log's line of a transaction: its status and upstream
sub upstream_of {
    my ($txid) = @_;
    my ($line) = grep { /^\Q$txid\E / } split /\n/,
                      $t->read_file('logs/upstream.log');
    return $line // '';
}

# a refusal: status, problem type, txid named, and no upstream contact
sub refused {
    my ($r, $status, $type, $name) = @_;

    my $txid = $r->{headers}{'x-lgsp-transaction-id'} // '';

    subtest $name => sub {
        is $r->{status}, $status, "status $status";
        like $r->{headers}{'content-type'} // '',
             qr{^application/problem\+json}, 'a problem document';
        is $r->{json}{status}, $status, 'the body says the status';
        like $r->{json}{type} // '', qr/\Q$type\E/, "type $type";
        ok length $txid, 'a transaction id in the header';
        is $r->{json}{instance}, $txid, 'the body names it';

        # the access log line is written after the response (a while
        # later under valgrind)
        my $line = '';
        for (1 .. ($ENV{LGSP_VALGRIND} ? 200 : 20)) {
            last if ($line = upstream_of($txid)) ne '';
            select undef, undef, undef, 0.05;
        }
        like $line, qr/ -$/, 'the agency system was not contacted';
    };
}

subtest 'a valid call goes through, so the refusals below mean something'
    => sub {
    my $r = call(token());
    is $r->{status}, 200, '200 from the agency system';
    my $echo = decode_json($r->{content});
    is $echo->{headers}{'x-lgsp-agency'}, '000.00.31.H29',
       'the agency named by the token';
};

# --- tokens ---------------------------------------------------------------

refused(call(raw_token({ alg => 'none' }, { %claims }, '')), 401,
        'invalid-token', 'alg none');

{
    open my $fh, '<', $rsa_pub or die;
    my $pem = do { local $/; <$fh> };
    refused(call(mint(alg => 'HS256', key => $pem, kid => 'rsa',
                      claims => \%claims)),
            401, 'invalid-token',
            'algorithm confusion: HS256 signed with the RSA public key');
}

refused(call(token(header => { crit => ['x-lgsp-unknown'],
                               'x-lgsp-unknown' => 1 })),
        401, 'invalid-token', 'a crit header that is not understood');

refused(call(token(pad => 'x' x 20000)), 401, 'invalid-token',
        'a token larger than lgsp_jwt_max_size');

refused(call('A' x 200000), 400, 'bad-request',
        'a header larger than large_client_header_buffers');

{
    my $good = token();
    refused(call(substr($good, 0, length($good) - 7)), 401, 'invalid-token',
            'a truncated token');
    refused(call(substr($good, 0, index($good, '.') + 5)), 401,
            'invalid-token', 'a token cut inside its payload');
}

for my $kid ('../../../../etc/passwd', "1' OR '1'='1", "hs\0x", '%2e%2e/hs',
             'hs/../hs')
{
    refused(call(mint(alg => 'HS256', key => $secret, kid => $kid,
                      claims => { %claims, aud => 'other' })),
            401, 'invalid-token',
            'kid ' . ($kid =~ s/\0/\\0/r) . ' names no file and no key');
}

refused(call(raw_token({ alg => 'HS256' },
                       '{"a":' x 100000 . '1' . '}' x 100000)),
        400, 'bad-request', 'a payload nested 100000 deep: too large to read');

refused(call(raw_token({ alg => 'HS256' }, '[' x 2500 . ']' x 2500)),
        401, 'invalid-token',
        'a payload nested 2500 deep, past the parser\'s depth limit');

refused(call(raw_token('{"alg":"HS256","alg":"none"}', \%claims)), 401,
        'invalid-token', 'duplicate keys in the header');

refused(call(token(agency => "000.00.31.H29\r\nX-LGSP-Agency: evil")), 401,
        'invalid-token', 'CR/LF in the agency claim');

refused(call(token(sub => "x\nInjected: 1")), 401, 'invalid-token',
        'a newline in any claim');

refused(call(token(exp => '99999999999999999999999999999999')), 401,
        'invalid-token', 'exp as a long string of digits');

refused(call(token(exp => 1e300)), 401, 'invalid-token',
        'exp as a huge number') if 1e300 != 9**9**9;

refused(call(token(scope => 'other')), 403, 'insufficient-scope',
        'a token without the scope');

# --- bodies ---------------------------------------------------------------

refused(call(token(), body => '[' x 100000 . ']' x 100000), 400,
        'too-deep', 'a body nested 100000 deep');

refused(call(token(), body => '{"hoTen":"a","hoTen":"b"}'), 400,
        'duplicate-key', 'duplicate keys in the body');

refused(call(token(), body => { hoTen => 'x' x 200000 }), 422,
        'schema', 'a string far beyond maxLength');

# a number, compared exactly: far past "maximum": 20
refused(call(token(), body => '{"hoTen":"a","soCon":1' . '0' x 5000 . '}'),
        422, 'schema', 'a 5000-digit number');

refused(call(token(), body => { hoTen => 'a', maHoSo => 'a' x 40 . '!' }),
        422, 'validation-too-costly',
        'a ReDoS input against ^(a+)+$ answers, refused past the budget');

refused(call(token(), body => "{\"hoTen\":\"\xff\xfe\"}"), 400,
        'malformed-json', 'bytes that are not UTF-8');

# --- identity -------------------------------------------------------------

subtest 'spoofed identity headers are removed before the agency sees them'
    => sub {
    my $r = call(token(), headers => {
        'X-LGSP-Agency'         => 'BO.CONG.AN',
        'X-LGSP-Service'        => 'OTHER.SERVICE',
        'X-LGSP-Transaction-ID' => 'forged',
    });
    is $r->{status}, 200, 'the call goes through';

    my $h = decode_json($r->{content})->{headers};
    is $h->{'x-lgsp-agency'}, '000.00.31.H29', 'agency: the token\'s';
    is $h->{'x-lgsp-service'}, 'BTP.HOTICH.KHAISINH', 'service: the LGSP\'s';
    isnt $h->{'x-lgsp-transaction-id'}, 'forged', 'txid: the LGSP\'s';
    is $h->{'x-lgsp-transaction-id'},
       $r->{headers}{'x-lgsp-transaction-id'}, 'the one the caller got';
};

refused(call(undef, headers => { 'X-LGSP-Agency' => '000.00.31.H29' }),
        401, 'invalid-token', 'a spoofed agency header without a token');

refused(call(token(agency => 'BO.CONG.AN')), 403, 'agency-not-allowed',
        'an agency the service does not allow');

# --- operator handlers ----------------------------------------------------

# "outside": another loopback address than the one the handlers allow
sub from_outside {
    my ($path, %headers) = @_;

    my $http = HTTP::Tiny->new(local_address => '127.0.0.2', timeout => 10);
    my $r = $http->get('http://127.0.0.1:' . $t->port . $path,
                       { headers => \%headers });
    $r->{json} = eval { decode_json($r->{content}) };

    return $r;
}

for my $path ('/metrics', '/catalog') {
    my $r = from_outside($path);
    is $r->{status}, 403, "$path from outside: 403";
    like $r->{headers}{'content-type'} // '', qr{problem\+json},
         "$path from outside: a problem document";
    unlike $r->{content}, qr/lgsp_requests|BTP\.HOTICH/,
           "$path from outside: nothing of the figures or services";
    is $t->get($path)->{status}, 200, "$path from the allowed address: 200";
}

{
    my $r = from_outside('/status');
    is $r->{status}, 401, '/status without a token: 401';
    $r = from_outside('/status', Authorization => 'Bearer ' . token());
    is $r->{status}, 403, '/status with an agency token: 403';
    is from_outside('/status',
                    Authorization => 'Bearer ' . token(role => 'operator'),
                    Accept => 'application/json')->{status}, 200,
       '/status with an operator token: 200';
}

# --- afterwards -----------------------------------------------------------

subtest 'the gateway is unharmed' => sub {
    is call(token())->{status}, 200, 'a valid call still goes through';
    ok $t->error_log_clean, 'no crash, alert or critical line';
    unlike $t->error_log, qr/etc\/passwd.*(?:open|No such file)/,
           'no kid was ever opened as a file';
};

$t->stop;

subtest 'every transaction was recorded, and the chain is whole' => sub {
    my $log = $t->dir . '/logs/transactions.jsonl';
    my $out = `$LGSP::Test::REPO/scripts/lgsp-logverify $log 2>&1`;
    is $?, 0, 'lgsp-logverify accepts the log' or diag $out;
    my @lines = grep { length } split /\n/, $t->read_file($log);
    cmp_ok scalar @lines, '>=', 30, 'a record per transaction';
};

done_testing;
