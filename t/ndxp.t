#!/usr/bin/perl

# The national platform (NDXP): the OAuth2 access token the LGSP holds for
# it (lgsp_ndxp_token_uri), fetched once for all workers, refreshed ahead
# of expiry, dropped after a 401; token endpoint down, slow or answering
# garbage: 503 problem+json, one error-log line per incident; the
# platform down: 502 problem+json; the consumer secret in no log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(encode_jwt);
use MIME::Base64 qw(encode_base64);
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(sleep);

use LGSP::Test;

my $secret = 'ndxp-test-jwt-secret-of-at-least-32-bytes';
my $consumer = 'lgsp-hanam:s3cr3t-C0nsumer-Value';
my $jwt = encode_jwt(payload => { agency => 'H29.UBND', exp => time + 600 },
                     alg => 'HS256', key => $secret);

my $t = LGSP::Test->new(workers => 2);
$t->write_file('hs.key', $secret);
$t->write_file('ndxp.secret', "$consumer\n");

my $ndxp = $t->extra_port(1);
$t->mock('mock-ndxp.pl', $ndxp, $consumer);

# one token location per case below, so each case starts without a token
my $token_locations = join '', map { <<"EOF" } qw(main many refresh garbage);
        location = /_ndxp/token/$_ {
            internal;
            proxy_method POST;
            proxy_set_header Authorization "Basic \$lgsp_ndxp_basic_auth";
            proxy_set_header Content-Type application/x-www-form-urlencoded;
            proxy_set_body "grant_type=client_credentials";
            proxy_read_timeout 1s;
            proxy_pass http://ndxp/token;
        }
EOF

my $api_locations = join '', map { <<"EOF" } qw(main many garbage);
        location /$_/bhxh/ {
            lgsp_ndxp_token_uri /_ndxp/token/$_;
            proxy_pass http://ndxp/bhxh/;
        }
EOF

$t->start(<<"EOF");
    lgsp_jwt_key_file hs.key;
    log_format full '\$request \$http_authorization \$upstream_http_authorization';
    access_log %%DIR%%/logs/access.log full;

    upstream ndxp {
        server 127.0.0.1:$ndxp;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_jwt on;
        lgsp_service BHXH.THE-BHYT;
        lgsp_allow_agency *;
        lgsp_ndxp_credentials_file ndxp.secret;
        proxy_set_header Authorization "Bearer \$lgsp_ndxp_token";
        error_page 502 503 504 \@problem;

        location \@problem {
            lgsp_problem;
        }

        location = /metrics {
            lgsp_jwt off;
            lgsp_metrics;
        }

$token_locations
$api_locations
        location /refresh/bhxh/ {
            lgsp_ndxp_token_uri /_ndxp/token/refresh refresh=50%;
            proxy_pass http://ndxp/bhxh/;
        }

        # nothing listens there
        location = /_ndxp/token/down {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%/token;
        }

        location /down/bhxh/ {
            lgsp_ndxp_token_uri /_ndxp/token/down;
            proxy_pass http://ndxp/bhxh/;
        }

        location /platform-down/bhxh/ {
            lgsp_ndxp_token_uri /_ndxp/token/main;
            proxy_pass http://127.0.0.1:%%PORT_2%%/bhxh/;
        }
    }
EOF

sub card {
    my ($prefix) = @_;
    return $t->get("/$prefix/bhxh/1.0/the-bhyt?maDinhDanh=001226000001",
                   Authorization => "Bearer $jwt");
}

sub admin {
    my ($path, $body) = @_;
    return $t->request('POST', "/admin/$path", port => $ndxp,
                       body => $body // '')->{json};
}

sub fetches {
    return $t->request('GET', '/admin/stats', port => $ndxp)
             ->{json}{token_fetches};
}

# --- the token goes upstream ------------------------------------------------

my $before = fetches();
my $r = card('main');
is $r->{status}, 200, 'a call to the platform gets through with a token';
like $r->{json}{token}, qr/^ndxp-\d+-/,
    'the platform saw the token the LGSP fetched';
is $r->{json}{lgsp}{agency}, 'H29.UBND', 'the calling agency goes upstream';
is $r->{json}{lgsp}{service}, 'BHXH.THE-BHYT', 'so does the service code';
is $r->{json}{lgsp}{txid}, $r->{headers}{'x-lgsp-transaction-id'},
    'and the transaction id';

my $first = $r->{json}{token};
card('main') for 1 .. 5;
is card('main')->{json}{token}, $first, 'the token is reused';
is fetches() - $before, 1, 'one fetch served every call';
like $t->get('/metrics')->{content},
    qr/^lgsp_ndxp_token_expiry_timestamp_seconds 1\d{9}$/m,
    'the metrics show when the token held expires';

# --- many concurrent calls, two workers, one fetch --------------------------

admin('mode', 'token_delay=0.5');
$before = fetches();

my @kids;
for my $i (1 .. 16) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $res = card('many');
        $t->write_file("kid$i", "$res->{status} " . ($res->{json}{token} // ''));
        _exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
admin('mode', 'token_delay=0');

my %seen = map { $t->read_file("conf/kid$_") => 1 } 1 .. 16;
is scalar(keys %seen), 1, '16 concurrent calls all used one token';
like((keys %seen)[0], qr/^200 ndxp-/, 'and all got through');
is fetches() - $before, 1, 'which was fetched once, across two workers';

# --- refreshed ahead of expiry ----------------------------------------------

admin('mode', 'expires_in=4');
$r = card('refresh');
my $old = $r->{json}{token};
is card('refresh')->{json}{token}, $old, 'a token is kept while it is fresh';

# refresh=50% of 4 s: due after 2 s, while the token still has 2 s to live
sleep 2.2;
$before = fetches();
$r = card('refresh');
is $r->{status}, 200, 'a call after the refresh point gets through';
isnt $r->{json}{token}, $old, 'with a new token, fetched before the old expired';
is fetches() - $before, 1, 'by one fetch';
admin('mode', 'expires_in=3600');

# --- dropped after a 401 from the platform ----------------------------------

admin('revoke');
$before = fetches();
$r = card('main');
is $r->{status}, 401, 'the platform refuses a revoked token';
$r = card('main');
is $r->{status}, 200, 'the next call gets through';
isnt $r->{json}{token}, $first, 'with a new token';
is fetches() - $before, 1, 'fetched once after the 401';

# --- token endpoint down, answering garbage, slow ---------------------------

$r = card('down');
is $r->{status}, 503, 'token endpoint down: 503';
is $r->{headers}{'content-type'}, 'application/problem+json',
    'as a problem document';
is $r->{json}{type}, 'urn:lgsp:problem:ndxp-token-unavailable',
    'of type ndxp-token-unavailable';
is $r->{json}{instance}, $r->{headers}{'x-lgsp-transaction-id'},
    'naming the transaction id';
is card('down')->{status}, 503, 'and again';
sleep 1.2;
is card('down')->{status}, 503, 'and again after the retry time';

my $log = $t->error_log;
my @lines = $log =~ m{(fetching the NDXP token from "/_ndxp/token/down"[^\n]*)}g;
is scalar(@lines), 1, 'the error log says so once for the incident';
like $lines[0] // '', qr/failed: the location answered 502/, 'and says why';

admin('mode', 'token=garbage');
$r = card('garbage');
is $r->{status}, 503, 'a token endpoint answering garbage: 503';
is $r->{json}{type}, 'urn:lgsp:problem:ndxp-token-unavailable',
    'of type ndxp-token-unavailable';
like $t->error_log, qr{"/_ndxp/token/garbage" failed: the answer is not a JSON object},
    'the error log says why';

admin('mode', 'token=ok');
sleep 1.2;
is card('garbage')->{status}, 200, 'once the endpoint mends, calls get through';
like $t->error_log, qr{the NDXP token from "/_ndxp/token/garbage" works again},
    'and the error log says the incident is over';

# --- the platform down ------------------------------------------------------

$r = card('platform-down');
is $r->{status}, 502, 'the platform down: 502';
is $r->{json}{type}, 'urn:lgsp:problem:bad-gateway', 'as a problem document';
is $r->{json}{instance}, $r->{headers}{'x-lgsp-transaction-id'},
    'naming the transaction id';

# --- the slow endpoint: its proxy_read_timeout bounds the wait --------------

admin('mode', 'token_delay=3');
admin('revoke');
card('main');                       # the platform's 401 drops the token
$r = card('main');
is $r->{status}, 503, 'a token endpoint slower than its timeout: 503';
like $t->error_log, qr{"/_ndxp/token/main" failed: the location answered 504},
    'the error log names the timeout';

# --- the metrics see the fetches ------------------------------------------

my $m = $t->get('/metrics')->{content} // '';
like $m, qr/^lgsp_ndxp_token_refreshes_total\{result="ok"\} [1-9]/m,
    'the metrics count the fetches that worked';
like $m, qr/^lgsp_ndxp_token_refreshes_total\{result="failed"\} [1-9]/m,
    'and those that failed';
like $m, qr/^lgsp_ndxp_token_expiry_timestamp_seconds 0$/m,
    'the expiry gauge is 0 once the platform refused the token held';

# --- the secret stays secret ------------------------------------------------

my $logs = $t->error_log . $t->read_file('logs/access.log');
unlike $logs, qr/s3cr3t-C0nsumer-Value/, 'the consumer secret is in no log';
my $b64 = encode_base64($consumer, '');
unlike $logs, qr/\Q$b64\E/, 'nor its Basic form';

ok $t->error_log_clean, 'no crash or alert in the error log'
    or diag $t->error_log;

$t->stop;

my ($ok, $out) = $t->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_ndxp_token_uri /t refresh=120%; }
    }
EOF
ok !$ok, 'refresh above 100% fails nginx -t';
like $out, qr/invalid parameter "refresh=120%".*nginx\.conf:\d+/,
    'naming the parameter, the file and the line';

$t->write_file('bad.secret', "no colon here\n");
($ok, $out) = $t->test_config(<<'EOF');
    lgsp_ndxp_credentials_file bad.secret;
EOF
ok !$ok, 'a credentials file without key:secret fails nginx -t';
unlike $out, qr/no colon here/, 'without printing its content';

done_testing;
