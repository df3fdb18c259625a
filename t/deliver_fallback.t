# Guaranteed delivery, lgsp_deliver fallback: the request is proxied as
# usual; when the provider cannot be reached, times out or answers 502,
# 503 or 504, it is queued instead and the caller gets 202.  With Redis
# down the caller gets the provider's failure, as without fallback.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);
use LGSP::Receiver;

my $secret = 'deliver-fallback-secret-' . ('f' x 32);
my $auth = bearer($secret, 'AG.HANAM');

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
$t->start_redis;

my $rcv = LGSP::Receiver->new($t, $t->extra_port(1));

$t->start(<<'EOF');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    lgsp_deliver_drain poll=100ms visibility=2s;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /deliveries/ { lgsp_delivery_status; }

        location /fb/ {
            lgsp_service SVC.FALLBACK;
            lgsp_deliver fallback backoff=200ms;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            proxy_read_timeout 1s;
        }
    }
EOF

sub post { $t->post_json('/fb/ho-so?x=1', { ho => 'so' }, Authorization => $auth) }

sub queued { $t->redis_cli('XLEN', 'lgsp:deliver:SVC.FALLBACK') }

sub wait_delivered {
    my ($txid) = @_;
    my $r;
    for (1 .. 100) {
        $r = $t->get("/deliveries/$txid", Authorization => $auth);
        last if $r->{json} && ($r->{json}{state} // '') eq 'delivered';
        sleep 0.1;
    }
    return $r;
}

subtest 'the provider up: proxied as usual, nothing queued' => sub {
    my $pid = $rcv->start;

    my $r = post();
    is $r->{status}, 201, "the provider's own answer";
    like $r->{content}, qr/^\{"received":/, 'and body';
    is $r->{headers}{location}, undef, 'no status URL';
    is queued(), '0', 'nothing queued';

    $rcv->stop($pid);
};

subtest 'the provider down: queued, 202, delivered once it is up' => sub {
    my $r = post();
    is $r->{status}, 202, '202 instead of 502';
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};
    is $r->{headers}{location}, "/deliveries/$txid", 'the status URL';
    is $r->{json}{state}, 'queued', 'queued';

    my $pid = $rcv->start;
    $r = wait_delivered($txid);
    is $r->{json}{state}, 'delivered', 'delivered once the provider is up';

    my @got = grep { $_->{key} eq $txid } $rcv->received;
    is scalar @got, 1, 'once';
    is $got[0]{method}, 'POST', 'as a POST';
    is $got[0]{path}, '/fb/ho-so', 'to the same path';
    is $got[0]{query}, 'x=1', 'with its query';
    is $got[0]{body}, '{"ho":"so"}', 'and body';

    $rcv->stop($pid);
};

for my $status (502, 503, 504) {
    subtest "the provider answers $status: queued" => sub {
        my $pid = $rcv->start($status);

        my $r = post();
        is $r->{status}, 202, "202 instead of the $status";
        ok $r->{headers}{location}, 'with a status URL';
        my $txid = $r->{headers}{'x-lgsp-transaction-id'};

        # the attempts meet the same answer: each is one request, not a
        # second one through the location's error page
        my $s;
        for (1 .. 50) {
            $s = $t->get("/deliveries/$txid", Authorization => $auth)->{json};
            last if $s->{attempts} >= 2;
            sleep 0.1;
        }
        is $s->{last_error}, "HTTP $status", "the attempts got the $status";
        my $tries = grep { $_->{key} eq $txid } $rcv->received;
        my $now = $t->get("/deliveries/$txid", Authorization => $auth)->{json};
        ok $tries == $now->{attempts} || $tries == $now->{attempts} + 1,
           "one provider request per attempt ($tries, $now->{attempts})";

        # out of the way of the next case: the queue is in order
        $t->redis_cli('DEL', "lgsp:delivery:$txid");

        $rcv->stop($pid);
    };
}

subtest 'the provider times out: queued' => sub {
    my $pid = $rcv->start(201, 0, 3);

    my $r = post();
    is $r->{status}, 202, '202 after proxy_read_timeout';

    $rcv->stop($pid);
};

subtest 'other failures are the provider\'s answer' => sub {
    my $pid = $rcv->start(500);

    my $before = queued();
    my $r = post();
    is $r->{status}, 500, 'a 500 passes through';
    is queued(), $before, 'and is not queued';

    $rcv->stop($pid);
};

subtest 'Redis down: the provider\'s failure, never a silent 202' => sub {
    kill 'TERM', $t->redis_pid;
    LGSP::Test::wait_exit($t->redis_pid);

    my $r = post();
    is $r->{status}, 502, '502, as without fallback';

    my $pid = $rcv->start(503);
    $r = post();
    is $r->{status}, 503, "the provider's 503";
    $rcv->stop($pid);
};

ok $t->error_log_clean, 'no crash or alert in the error log';

$t->stop;

done_testing;
