# Guaranteed delivery, lgsp_deliver always: every request is queued in
# Redis and answered 202 with a status URL; the workers deliver it in the
# background through the location's own proxy_pass, with the original
# method, URI, body and content type, the LGSP's headers and
# Idempotency-Key; the status URL tells the sending agency (only it) how
# it went.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep time);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);
use LGSP::Receiver;

my $secret = 'deliver-secret-' . ('z' x 32);

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
$t->start_redis;

my $rcv = LGSP::Receiver->new($t, $t->extra_port(1));

my $http = <<'EOF';
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    lgsp_deliver_drain poll=200ms visibility=2s;
    lgsp_transaction_log logs/transactions.jsonl;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /deliveries/ { lgsp_delivery_status; }
        location = /metrics { lgsp_jwt off; lgsp_metrics; }
        location = /status { lgsp_jwt off; lgsp_status; }

        location /hotich/ {
            lgsp_service BTP.HOTICH;
            lgsp_deliver always attempts=3 backoff=300ms max_body=1k;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /later/ {
            lgsp_service BTP.LATER;
            lgsp_deliver always attempts=20 expire=2s backoff=200ms;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF

$t->start($http);

my $auth = bearer($secret, 'AG.HANAM');
my $other = bearer($secret, 'AG.HUE');

sub start_provider { $rcv->start(@_) }
sub stop_provider { $rcv->stop(@_) }
sub received { $rcv->received }

sub status {
    my ($txid, $token) = @_;
    return $t->get("/deliveries/$txid", Authorization => $token // $auth);
}

# waits until the status of txid says state (or time runs out)
sub wait_state {
    my ($txid, $state, $seconds) = @_;
    my $r;
    for (1 .. ($seconds // 10) * 10) {
        $r = status($txid);
        return $r if $r->{json} && ($r->{json}{state} // '') eq $state;
        sleep 0.1;
    }
    return $r;
}

subtest 'a queued request is answered 202 with its status URL' => sub {
    my $pid = start_provider();

    my $r = $t->post_json('/hotich/khaisinh?ma=79', { ten => 'Nguyen An' },
                          Authorization => $auth);
    is $r->{status}, 202, '202 Accepted';
    my $txid = $r->{headers}{'x-lgsp-transaction-id'} // '';
    like $txid, qr/^[0-9a-f-]{36}$/, 'the transaction id comes back';
    is $r->{headers}{location}, "/deliveries/$txid",
       'Location: the status URL';
    like $r->{headers}{'content-type'}, qr{^application/json}, 'JSON';
    is_deeply $r->{json}, { transaction => $txid, state => 'queued',
                            status_url => "/deliveries/$txid" },
              'the body says the same';

    $r = wait_state($txid, 'delivered');
    is $r->{status}, 200, 'the status URL answers';
    is $r->{json}{state}, 'delivered', 'delivered in the background';
    is $r->{json}{attempts}, 1, 'at the first attempt';
    is $r->{json}{service}, 'BTP.HOTICH', 'the service';
    is $r->{json}{agency}, 'AG.HANAM', 'the agency';
    is $r->{json}{transaction}, $txid, 'the transaction';
    like $r->{json}{created}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
         'created, in UTC';
    is $r->{json}{next_attempt}, undef, 'no next attempt';
    is $r->{json}{response}{status}, 201, "the provider's answer";
    is $r->{json}{response}{content_type}, 'application/json',
       'its content type';
    is $r->{json}{response}{body}, qq({"received":"$txid"}), 'its body';

    my @got = grep { $_->{key} eq $txid } received();
    is scalar @got, 1, 'the provider got it once';
    is $got[0]{method}, 'POST', 'the original method';
    is $got[0]{path}, '/hotich/khaisinh', 'the original path';
    is $got[0]{query}, 'ma=79', 'and query';
    is $got[0]{type}, 'application/json', 'the content type';
    is_deeply decode_json($got[0]{body}), { ten => 'Nguyen An' },
              'the body, byte for byte';
    is $got[0]{txid}, $txid, 'X-LGSP-Transaction-ID';
    is $got[0]{agency}, 'AG.HANAM', 'X-LGSP-Agency';
    is $got[0]{service}, 'BTP.HOTICH', 'X-LGSP-Service';

    is status($txid, $other)->{status}, 404,
       'another agency gets 404 for it';
    is status('0190a000-0000-7000-8000-000000000000')->{status}, 404,
       'an unknown transaction id: 404';
    is status('not-a-txid')->{status}, 404, 'a malformed one: 404';
    is $t->get('/deliveries/' . $txid)->{status}, 401,
       'without a token: 401, as anywhere';

    stop_provider($pid);
};

# the transaction records of a txid
sub records {
    my ($txid) = @_;
    return grep { $_->{txid} && $_->{txid} eq $txid }
           map { decode_json($_) }
           split /\n/, $t->read_file('logs/transactions.jsonl');
}

subtest 'a record when queued, and one per attempt' => sub {
    my $pid = start_provider();

    my $body = '{"so":"42"}';
    my $r = $t->request('POST', '/hotich/records', headers => {
        Authorization => $auth, 'Content-Type' => 'application/json' },
        body => $body);
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};
    wait_state($txid, 'delivered');

    my @rec = records($txid);
    is scalar @rec, 2, 'two records of the transaction';
    is $rec[0]{status}, 202, 'the request: answered 202';
    is $rec[0]{reason}, undef, 'as any request';
    is $rec[1]{reason}, 'delivery', 'then the attempt';
    is $rec[1]{status}, 201, "with the provider's answer";
    is $rec[1]{upstream_status}, 201, 'from the provider';
    is $rec[1]{method}, 'POST', 'the method';
    is $rec[1]{path}, '/hotich/records', 'the path';
    is $rec[1]{agency}, 'AG.HANAM', 'the agency';
    is $rec[1]{service}, 'BTP.HOTICH', 'the service';
    is $rec[1]{body_sha256}, sha256_hex($body), 'the same body';
    is $rec[0]{body_sha256}, sha256_hex($body), 'as the request received';

    stop_provider($pid);
};

subtest 'other methods and a bodiless request' => sub {
    my $pid = start_provider();

    my $r = $t->request('PUT', '/hotich/1', headers => {
        Authorization => $auth, 'Content-Type' => 'text/plain' },
        body => 'plain');
    is $r->{status}, 202, 'PUT queued';
    my $put = $r->{headers}{'x-lgsp-transaction-id'};

    $r = $t->request('DELETE', '/hotich/2',
                     headers => { Authorization => $auth });
    is $r->{status}, 202, 'DELETE queued';
    my $del = $r->{headers}{'x-lgsp-transaction-id'};

    wait_state($del, 'delivered');
    my %got = map { $_->{key} => $_ } received();
    is $got{$put}{method}, 'PUT', 'PUT delivered as PUT';
    is $got{$put}{body}, 'plain', 'with its body';
    is $got{$put}{type}, 'text/plain', 'and content type';
    is $got{$del}{method}, 'DELETE', 'DELETE delivered as DELETE';
    is $got{$del}{body}, '', 'with no body';

    stop_provider($pid);
};

subtest 'a body over max_body is refused before anything is queued' => sub {
    my $before = $t->redis_cli('XLEN', 'lgsp:deliver:BTP.HOTICH');
    my $r = $t->request('POST', '/hotich/big', headers => {
        Authorization => $auth, 'Content-Type' => 'text/plain' },
        body => 'x' x 2000);
    is $r->{status}, 413, 'refused: 413';
    like $r->{headers}{'content-type'}, qr{^application/problem\+json},
         'a problem';
    is $r->{json}{type}, 'urn:lgsp:problem:delivery-too-large', 'its type';
    is $t->redis_cli('XLEN', 'lgsp:deliver:BTP.HOTICH'), $before,
       'nothing queued';
};

subtest 'a provider that keeps failing: retried, then failed' => sub {
    my $pid = start_provider(503);

    my $r = $t->post_json('/hotich/fail', { a => 1 }, Authorization => $auth);
    is $r->{status}, 202, 'queued';
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};

    $r = wait_state($txid, 'failed', 15);
    is $r->{json}{state}, 'failed', 'failed, a dead letter';
    is $r->{json}{attempts}, 3, 'after attempts=3';
    is $r->{json}{last_error}, 'HTTP 503', 'the last error';
    is $r->{json}{response}{status}, 503, 'and answer';

    my @got = grep { $_->{key} eq $txid } received();
    is scalar @got, 3, 'three attempts reached the provider';
    # backoff=300ms, then 600ms, each less up to a quarter by jitter
    cmp_ok $got[1]{time} - $got[0]{time}, '>=', 0.2, 'the first wait';
    cmp_ok $got[2]{time} - $got[1]{time}, '>=', 0.42, 'doubled';

    like $t->error_log, qr/delivery \Q$txid\E of "BTP.HOTICH" failed after 3/,
         'the dead letter is logged';

    my @rec = grep { ($_->{reason} // '') eq 'delivery' } records($txid);
    is scalar @rec, 3, 'a record per attempt';
    is_deeply [ map { $_->{status} } @rec ], [ 503, 503, 503 ], 'each a 503';
    is $rec[0]{outcome}, 'upstream', "the provider's failure";

    stop_provider($pid);
};

subtest 'an answer that ends delivery: a 4xx is not retried' => sub {
    my $pid = start_provider(422);

    my $r = $t->post_json('/hotich/bad', { a => 1 }, Authorization => $auth);
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};

    $r = wait_state($txid, 'delivered');
    is $r->{json}{state}, 'delivered', 'delivered, with that answer';
    is $r->{json}{response}{status}, 422, 'the 422';
    is scalar(grep { $_->{key} eq $txid } received()), 1, 'once';

    stop_provider($pid);
};

subtest 'Retry-After is honoured' => sub {
    my $pid = start_provider(429, 2);

    my $r = $t->post_json('/hotich/busy', { a => 1 }, Authorization => $auth);
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};

    for (1 .. 50) {
        last if grep { $_->{key} eq $txid } received();
        sleep 0.1;
    }
    sleep 0.3;

    $r = status($txid);
    is $r->{json}{state}, 'queued', 'queued again after a 429';
    is $r->{json}{attempts}, 1, 'one attempt made';
    is $r->{json}{last_error}, 'HTTP 429', 'why';
    ok defined $r->{json}{next_attempt}, 'the next attempt is known';

    stop_provider($pid);
    $pid = start_provider();

    $r = wait_state($txid, 'delivered');
    is $r->{json}{state}, 'delivered', 'delivered once the provider takes';
    my @got = grep { $_->{key} eq $txid } received();
    is scalar @got, 2, 'at the second attempt';
    cmp_ok $got[1]{time} - $got[0]{time}, '>=', 1.9,
           'not before Retry-After: 2 (backoff is 300ms)';

    stop_provider($pid);
};

subtest 'expiry ends delivery: expired' => sub {
    my $r = $t->post_json('/later/x', { a => 1 }, Authorization => $auth);
    is $r->{status}, 202, 'queued with no provider up';
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};

    $r = wait_state($txid, 'expired', 15);
    is $r->{json}{state}, 'expired', 'expired after expire=2s';
    my @rec = grep { ($_->{reason} // '') eq 'delivery' } records($txid);
    ok @rec && !grep({ $_->{status} != 502 } @rec),
       'its attempts are recorded 502, the provider unreachable';
    is $rec[0]{upstream_status}, 502, 'as the upstream status';
    is $r->{json}{last_error}, 'the provider could not be reached',
       'why the attempts failed';
    cmp_ok $r->{json}{attempts}, '>=', 2, 'after several attempts';
};

subtest 'metrics and the status page count the queue' => sub {
    my $m = $t->get('/metrics')->{content};
    like $m, qr/^lgsp_delivery_attempts_total\{service="BTP.HOTICH",result="delivered"\} [1-9]/m,
         'delivered attempts';
    like $m, qr/^lgsp_delivery_attempts_total\{service="BTP.HOTICH",result="retry"\} [1-9]/m,
         'attempts to retry';
    like $m, qr/^lgsp_delivery_attempts_total\{service="BTP.HOTICH",result="failed"\} 1$/m,
         'the failed one';
    like $m, qr/^lgsp_delivery_dead_total\{service="BTP.HOTICH"\} 1$/m,
         'one dead letter of BTP.HOTICH';
    like $m, qr/^lgsp_delivery_dead_total\{service="BTP.LATER"\} 1$/m,
         'one of BTP.LATER (expired)';
    like $m, qr/^lgsp_delivery_queued\{service="BTP.HOTICH"\} 0$/m,
         'an empty queue';
    like $m, qr/^lgsp_delivery_oldest_seconds\{service="BTP.HOTICH"\} 0$/m,
         'with no oldest entry';

    ok !grep({ /^lgsp_requests_total\{.*BTP\.HOTICH.*5xx/ } split /\n/, $m),
       'attempts (503s here) are not counted as requests';
    like $m, qr/^lgsp_requests_total\{.*BTP\.HOTICH.*2xx.*\} [1-9]/m,
         'the queued requests are (202)';

    my $d = $t->request('GET', '/status?format=json')->{json};
    is $d->{delivery}{dead}, 2, 'the status page: two dead letters';
    is $d->{delivery}{queued}, 0, 'none queued';
};

subtest 'Redis down: 503, never a silent 202' => sub {
    kill 'TERM', $t->redis_pid;
    LGSP::Test::wait_exit($t->redis_pid);

    my $r = $t->post_json('/hotich/nored', { a => 1 }, Authorization => $auth);
    is $r->{status}, 503, 'answered 503';
    is $r->{json}{type}, 'urn:lgsp:problem:delivery-unavailable',
       'a problem that says why';

    $r = status('0190a000-0000-7000-8000-000000000000');
    is $r->{status}, 503, 'the status URL too';
};

ok $t->error_log_clean, 'no crash or alert in the error log';

$t->stop;

done_testing;
