#!/usr/bin/perl

# Routing: access rights of agencies to services (lgsp_allow_agency),
# closed by default, with prefixes and nginx-style inheritance; the
# identity headers that go upstream, client spoofs removed; nginx's own
# errors as problem+json (lgsp_problem).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(encode_jwt);
use Test::More;

use LGSP::Test;

my $secret = 'routing-test-secret-of-at-least-32-bytes!';

sub token {
    my ($agency) = @_;
    return encode_jwt(payload => { agency => $agency, exp => time + 600 },
                      alg => 'HS256', key => $secret);
}

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);

# the provider: echoes the X-LGSP-* headers the LGSP sent it
$t->mock('mock-hotich.pl', $t->extra_port(1));

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_jwt on;
        error_page 502 503 504 @problem;

        location @problem {
            lgsp_problem;
        }

        # published, but nobody named: closed
        location /closed {
            lgsp_service BTP.CLOSED;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH "title=Dang ky khai sinh";
            lgsp_allow_agency H29.UBND.* 000.00.00.G12;
            proxy_pass http://127.0.0.1:%%PORT_1%%;

            # its own line: the list above is not inherited
            location /hotich/trichluc {
                lgsp_service BTP.HOTICH.TRICHLUC;
                lgsp_allow_agency 000.00.00.G12;
                proxy_pass http://127.0.0.1:%%PORT_1%%;
            }

            # no line: the list above is inherited
            location /hotich/cai-chinh {
                lgsp_service BTP.HOTICH.CAICHINH;
                proxy_pass http://127.0.0.1:%%PORT_1%%;
            }
        }

        location /open {
            lgsp_jwt optional;
            lgsp_service BTP.DANHMUC;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /down {
            lgsp_service BHXH.THE;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        # not a service: no agency rule applies
        location /plain {
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF

sub lgsp_seen {
    my ($r) = @_;
    my $l = $r->{json}{lgsp} || {};
    return join ' ', map { "$_=" . ($l->{$_} // '') }
                         qw(agency service txid spoof);
}

sub call {
    my ($path, $agency, %headers) = @_;
    $headers{Authorization} = 'Bearer ' . token($agency) if defined $agency;
    return $t->get($path, %headers);
}

my $r = call('/closed', 'H29.UBND.HN');
is $r->{status}, 403, 'a service with no lgsp_allow_agency is closed';
is $r->{headers}{'content-type'}, 'application/problem+json',
    'the refusal is a problem document';
is $r->{json}{type}, 'urn:lgsp:problem:agency-not-allowed',
    'the problem type names the cause';
is $r->{json}{instance}, $r->{headers}{'x-lgsp-transaction-id'},
    'the refusal names the transaction id';
like $r->{json}{detail},
    qr/"H29\.UBND\.HN" may not call service "BTP\.CLOSED"/,
    'the detail names agency and service';

$r = call('/hotich', 'H29.UBND.HN');
is $r->{status}, 200, 'an agency under an allowed prefix passes';
like lgsp_seen($r), qr/agency=H29\.UBND\.HN service=BTP\.HOTICH\.KHAISINH /,
    'agency and service code go upstream';

is call('/hotich', '000.00.00.G12')->{status}, 200,
    'an exactly named agency passes';
is call('/hotich', '000.00.00.G13')->{status}, 403,
    'an agency that is not named is refused';
is call('/hotich', 'H29.UBND')->{status}, 403,
    'a prefix does not match a shorter code';
is call('/hotich', 'H30.UBND.HN')->{status}, 403,
    'an agency of another tree is refused';

is call('/hotich/trichluc', 'H29.UBND.HN')->{status}, 403,
    'a level with its own lgsp_allow_agency does not inherit';
is call('/hotich/trichluc', '000.00.00.G12')->{status}, 200,
    'and allows what it names';
is call('/hotich/cai-chinh', 'H29.UBND.HN')->{status}, 200,
    'a level without lgsp_allow_agency inherits';
is call('/hotich/cai-chinh', 'H30.X')->{status}, 403,
    'and refuses what the level above refuses';

$r = call('/open');
is $r->{status}, 200,
    'lgsp_allow_agency * opens a service to anonymous calls';
like lgsp_seen($r), qr/agency= service=BTP\.DANHMUC /,
    'an anonymous call carries no agency upstream';

is call('/hotich', undef)->{status}, 401,
    'JWT runs first: no token is 401, not 403';

$r = call('/hotich', 'H29.UBND.HN', 'X-LGSP-Agency' => '000.00.00.G12',
          'X-LGSP-Service' => 'FAKE', 'X-LGSP-Role' => 'admin',
          'X-LGSP-Transaction-ID' => 'forged');
like lgsp_seen($r), qr/agency=H29\.UBND\.HN service=BTP\.HOTICH\.KHAISINH /,
    'agency and service sent by the client are replaced';
like lgsp_seen($r), qr/spoof=$/,
    'any other client X-LGSP-* header is removed';
unlike lgsp_seen($r), qr/txid=forged/, 'a client txid is not taken';
like lgsp_seen($r), qr/txid=\Q$r->{headers}{'x-lgsp-transaction-id'}\E /,
    'the provider sees the txid the caller gets back';

$r = call('/plain', 'H29.UBND.HN');
is $r->{status}, 200, 'a location without lgsp_service has no agency rule';
like lgsp_seen($r), qr/service= /, 'and sends no service code';

$r = call('/down', 'H29.UBND.HN');
is $r->{status}, 502, 'a provider that is down gives 502';
is $r->{headers}{'content-type'}, 'application/problem+json',
    'as a problem document (lgsp_problem)';
is $r->{json}{type}, 'urn:lgsp:problem:bad-gateway', 'of type bad-gateway';
is $r->{json}{instance}, $r->{headers}{'x-lgsp-transaction-id'},
    'naming the transaction id';

ok $t->error_log_clean, "no crash or alert in the error log"
    or diag $t->error_log;
$t->stop;

my ($ok, $out) = $t->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_allow_agency H29.UBND.* "bad code"; }
    }
EOF
ok !$ok, 'a bad agency entry fails nginx -t';
like $out, qr/invalid agency "bad code".*nginx\.conf:\d+/,
    'naming the entry, the file and the line';

($ok, $out) = $t->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_allow_agency H29*X; }
    }
EOF
ok !$ok, 'a star inside an entry fails nginx -t';

done_testing;
