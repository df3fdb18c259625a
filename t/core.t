# The core: transaction ids, identity headers upstream, spoofed headers.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(mint);

my $t = LGSP::Test->new(workers => 2);

my $secret = 'k' x 48;
$t->write_file('hs.secret', $secret);

# the mock agency system echoes what reached it
$t->start_agency(1);

$t->start(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;

        location /api {
            lgsp_service BTP.HOTICH.KHAISINH "title=Birth registration";
            lgsp_allow_agency *;
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            proxy_pass http://127.0.0.1:%%PORT_1%%/echo;
        }

        location /public {
            proxy_pass http://127.0.0.1:%%PORT_1%%/echo;
        }

        location /after-redirect {
            error_page 404 = /api;
            lgsp_jwt off;
            return 404;
        }

        # the first provider is down: an error_page leads the request on
        # to another service's location, where it is authenticated again
        location /first-down {
            lgsp_service MOJ.FIRST;
            lgsp_allow_agency *;
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
            error_page 502 = /api;
        }

        location /operator-agency {
            lgsp_service MOJ.OPERATOR;
            lgsp_allow_agency *;
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            proxy_set_header X-LGSP-Agency operator.set;
            proxy_set_header X-LGSP-Service "";
            proxy_pass http://127.0.0.1:%%PORT_1%%/echo;
        }

        location /vars {
            lgsp_service MOJ.TEST;
            lgsp_allow_agency *;
            add_header X-Service $lgsp_service;
            add_header X-Txid $lgsp_txid;
            empty_gif;
        }
    }
EOF

my $token = mint(alg => 'HS256', key => $secret);

subtest 'transaction ids: unique, time-ordered, UUIDv7' => sub {
    my @ids;

    for (1 .. 200) {
        my $r = $t->get('/vars');
        push @ids, $r->{headers}{'x-lgsp-transaction-id'};
        is $r->{headers}{'x-txid'}, $ids[-1], '$lgsp_txid is the header'
            if $_ == 1;
    }

    my %seen = map { $_ => 1 } @ids;
    is scalar(keys %seen), 200, '200 requests, 200 ids';
    is scalar(grep { !/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/ } @ids),
        0, 'all UUIDv7';

    # one connection per request: both workers answer; per worker the ids
    # rise, and across workers their 48-bit millisecond part never falls
    # 48 bits: this perl's integers hold them, whatever hex() warns
    no warnings 'portable';
    my @ms = map { hex(substr($_, 0, 8) . substr($_, 9, 4)) } @ids;
    is scalar(grep { $ms[$_] < $ms[$_ - 1] } 1 .. $#ms), 0,
        'time part never goes back';

    my $now_ms = int(Time::HiRes::time() * 1000);
    cmp_ok abs($now_ms - $ms[-1]), '<', 60_000, 'and is the current time';
};

subtest 'the service code' => sub {
    is $t->get('/vars')->{headers}{'x-service'}, 'MOJ.TEST', '$lgsp_service';
};

subtest 'identity travels upstream; what the client sends does not' => sub {
    my $r = $t->get('/api', Authorization => "Bearer $token",
                    'X-LGSP-Agency' => 'FAKE.AGENCY',
                    'X-LGSP-Transaction-ID' => 'forged',
                    'X-LGSP-Evil' => 'injected');

    is $r->{status}, 200, 'proxied';
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};
    my $seen = $r->{json}{headers};
    is $seen->{'x-lgsp-agency'}, '000.00.00.H29', 'agency from the token';
    is $seen->{'x-lgsp-transaction-id'}, $txid, 'our transaction id';
    ok !exists $seen->{'x-lgsp-evil'}, 'other X-LGSP-* headers removed';

    $r = $t->get('/public', 'X-LGSP-Agency' => 'FAKE.AGENCY');
    is $r->{status}, 200, 'proxied without authentication';
    ok !exists $r->{json}{headers}{'x-lgsp-agency'},
        'and with no agency at all';
};

subtest 'an internal redirect keeps the transaction' => sub {
    my $r = $t->get('/after-redirect', Authorization => "Bearer $token");

    is $r->{status}, 200, 'authenticated after the redirect';
    is $r->{json}{headers}{'x-lgsp-transaction-id'},
        $r->{headers}{'x-lgsp-transaction-id'},
        'same transaction id upstream';
};

subtest 'an error_page to another service: each header once, its word' => sub {
    my $r = $t->get('/first-down', Authorization => "Bearer $token",
                    'X-LGSP-Service' => 'FORGED');

    is $r->{status}, 200, 'the second provider answered';
    my $seen = $r->{json}{headers};
    is $seen->{'x-lgsp-service'}, 'BTP.HOTICH.KHAISINH',
        "the second location's service";
    is $seen->{'x-lgsp-agency'}, '000.00.00.H29', 'the agency';
    is $seen->{'x-lgsp-transaction-id'}, $r->{headers}{'x-lgsp-transaction-id'},
        'the transaction id';
    is_deeply $r->{json}{repeated}, {}, 'no header sent twice';
};

subtest 'proxy_set_header of an LGSP header still wins' => sub {
    my $r = $t->get('/operator-agency', Authorization => "Bearer $token");

    is $r->{status}, 200, 'proxied';
    my $seen = $r->{json}{headers};
    is $seen->{'x-lgsp-agency'}, 'operator.set', "the operator's agency";
    ok !exists $seen->{'x-lgsp-service'}, 'an empty one is not sent';
    ok $seen->{'x-lgsp-transaction-id'}, 'the transaction id is';
    is_deeply $r->{json}{repeated}, {}, 'no header sent twice';
};

ok $t->error_log_clean, 'no alert or crash in the error log';

$t->stop;

done_testing;
