# Guaranteed delivery under failures, with real processes: a provider
# down while 200 requests arrive; nginx stopped (QUIT, and KILL) with
# deliveries queued and in flight; two nginx nodes on one Redis, one
# killed mid-delivery; Redis restarted (with AOF) while entries wait.
# Nothing is lost; an entry in flight at a crash may arrive twice, always
# with the same Idempotency-Key; each service's entries arrive in order.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);
use LGSP::Receiver;

my $secret = 'deliver-crash-secret-' . ('c' x 32);
my $auth = bearer($secret, 'AG.HANAM');

# one node; the provider is the test's extra port 1 (every node's)
my $http = <<'EOF';
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    lgsp_deliver_drain poll=100ms visibility=1s;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /deliveries/ { lgsp_delivery_status; }

        location /bhxh/ {
            lgsp_service BHXH.THE;
            lgsp_deliver always attempts=200 backoff=100ms;
            proxy_pass http://127.0.0.1:%%PROVIDER%%;
        }
    }
EOF

# a node on the given Redis and provider port
sub node {
    my ($redis, $provider) = @_;

    my $t = LGSP::Test->new(workers => 2);
    $t->write_file('hs.key', $secret);
    $t->{redis_port} = $redis;

    (my $conf = $http) =~ s/%%PROVIDER%%/$provider/g;
    return ($t, $conf);
}

# queues n requests through node t; their txids in the order sent
sub queue {
    my ($t, $n) = @_;
    my @txids;

    for my $i (1 .. $n) {
        my $r = $t->post_json("/bhxh/the?n=$i", { n => $i },
                              Authorization => $auth);
        return () unless $r->{status} == 202;
        push @txids, $r->{headers}{'x-lgsp-transaction-id'};
    }

    return @txids;
}

# waits until the provider has every txid; the keys in arrival order
sub delivered {
    my ($rcv, $txids, $seconds) = @_;
    my @keys;

    for (1 .. $seconds * 10) {
        @keys = map { $_->{key} } $rcv->received;
        my %seen = map { $_ => 1 } @keys;
        last unless grep { !$seen{$_} } @$txids;
        sleep 0.1;
    }

    return @keys;
}

# the keys of txids as first seen, and those seen more than once
sub first_seen {
    my ($keys) = @_;
    my (%n, @order);
    for (@$keys) { push @order, $_ unless $n{$_}++ }
    return (\@order, [ grep { $n{$_} > 1 } keys %n ]);
}

# kill -9 the nginx master and its workers at once: its process group
# (a list of workers read from ps missed them when ps padded their pids,
# and they lived on, orphaned, serving the test's port)
sub kill_hard {
    my ($t) = @_;
    my $master = delete $t->{nginx};
    kill 'KILL', -$master;
    LGSP::Test::wait_exit($master);
    sleep 0.2;
}

sub empty_queue {
    my ($t) = @_;
    for (1 .. 50) {
        return 1 if $t->redis_cli('XLEN', 'lgsp:deliver:BHXH.THE') eq '0';
        sleep 0.1;
    }
    return 0;
}


subtest 'provider down: 200 requests wait, then arrive once each, in order'
=> sub {
    my $t = LGSP::Test->new(workers => 2);
    my $redis = $t->start_redis;
    my ($n, $conf) = node($redis, $t->extra_port(1));
    my $rcv = LGSP::Receiver->new($n, $t->extra_port(1));

    $n->start($conf);

    my @txids = queue($n, 200);
    is scalar @txids, 200, '200 POSTs with the provider down: 200 202s';

    sleep 0.5;
    my @none = $rcv->received;
    is scalar @none, 0, "nothing arrived anywhere";
    like $n->redis_cli('XLEN', 'lgsp:deliver:BHXH.THE'), qr/^20\d$/,
         'they wait in the stream';

    $rcv->start;
    my ($order, $twice) = first_seen([ delivered($rcv, \@txids, 60) ]);

    is scalar @$order, 200, 'the provider up: all 200 delivered';
    is_deeply $twice, [], 'each exactly once';
    is_deeply $order, \@txids, 'in the order they arrived';
    ok empty_queue($n), 'the stream is empty again';

    ok $n->error_log_clean, 'no crash or alert';
    $n->stop;
    $t->stop;
};


for my $signal (qw(QUIT KILL)) {

    subtest "nginx stopped by $signal with deliveries in flight" => sub {
        my $t = LGSP::Test->new;
        my $redis = $t->start_redis;
        my ($n, $conf) = node($redis, $t->extra_port(1));
        my $rcv = LGSP::Receiver->new($n, $t->extra_port(1));

        $n->start($conf);

        # a slow provider: one entry is always in flight
        my $pid = $rcv->start(201, 0, 0.4);
        my @txids = queue($n, 10);
        is scalar @txids, 10, 'ten queued';

        for (1 .. 50) { last if $rcv->received >= 2; sleep 0.1 }

        if ($signal eq 'QUIT') {
            my $master = $n->{nginx};
            $n->signal('QUIT');
            LGSP::Test::wait_exit($master);
            delete $n->{nginx};

            # the delivery in flight ends, the drain timers do not hold
            # the workers back (wait_exit would have killed them)
            like $n->error_log, qr/\[notice\] $master#$master: exit$/m,
                 'nginx left gracefully';

        } else {
            kill_hard($n);
        }

        my $got = $rcv->received;
        cmp_ok $got, '<', 10, "stopped by $signal midway ($got arrived)";

        $n->start($conf);

        my ($order, $twice) = first_seen([ delivered($rcv, \@txids, 30) ]);
        is scalar @$order, 10, 'started again: nothing lost';
        cmp_ok scalar @$twice, '<=', 1,
               'at most the one in flight arrived twice';
        is_deeply $order, \@txids, 'in order';
        ok empty_queue($n), 'the stream is empty';

        $rcv->stop($pid);
        $n->stop;
        $t->stop;
    };
}


subtest 'two nodes on one Redis: one killed mid-delivery, the other takes over'
=> sub {
    my $t = LGSP::Test->new;
    my $redis = $t->start_redis;
    my ($a, $conf_a) = node($redis, $t->extra_port(1));
    my ($b, $conf_b) = node($redis, $t->extra_port(1));
    my $rcv = LGSP::Receiver->new($a, $t->extra_port(1));

    $a->start($conf_a);

    my $pid = $rcv->start(201, 0, 0.5);
    my @txids = queue($a, 6);
    is scalar @txids, 6, 'six queued through node A';

    for (1 .. 50) { last if $rcv->received >= 1; sleep 0.1 }

    $b->start($conf_b);
    kill_hard($a);

    my ($order, $twice) = first_seen([ delivered($rcv, \@txids, 30) ]);
    is scalar @$order, 6, 'node B delivered what A left: nothing lost';
    cmp_ok scalar @$twice, '<=', 1, 'at most the one A had in flight twice';
    is_deeply $order, \@txids, 'in order';
    ok empty_queue($b), 'the stream is empty';

    $rcv->stop($pid);
    $b->stop;
    $t->stop;
};


subtest 'Redis restarted with AOF while entries wait: nothing lost' => sub {
    my $t = LGSP::Test->new;
    my $redis = $t->start_redis(aof => 1);
    my ($n, $conf) = node($redis, $t->extra_port(1));
    my $rcv = LGSP::Receiver->new($n, $t->extra_port(1));

    $n->start($conf);

    my @txids = queue($n, 20);
    is scalar @txids, 20, 'twenty queued, provider down';

    sleep 1.2;    # appendfsync everysec
    kill 'TERM', $t->redis_pid;
    LGSP::Test::wait_exit($t->redis_pid);
    $t->start_redis(port => $redis, aof => 1);

    my $pid = $rcv->start;
    my ($order, $twice) = first_seen([ delivered($rcv, \@txids, 30) ]);
    is scalar @$order, 20, 'all delivered after the restart';
    is_deeply $twice, [], 'once each';
    is_deeply $order, \@txids, 'in order';

    unlike $n->error_log, qr/runs without AOF/,
           'no warning about persistence: AOF is on';

    $rcv->stop($pid);
    $n->stop;
    $t->stop;
};

done_testing;
