# Redis quotas in batches: the requests of one agency that reach the quota
# check in one turn of a worker's event loop go to Redis as one script
# call, and each is still counted exactly as if it had been alone.  The
# worker is stopped while the clients connect and send, so that on SIGCONT
# it accepts them all in one turn (multi_accept) and reads them all in the
# next: the batch is then certain, not a matter of timing.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'quota-batch-secret-' . ('z' x 32);

sub token { bearer($secret, @_) }

my $t = LGSP::Test->new(workers => 1);
$t->write_file('hs.key', $secret);

$t->start_redis;

$t->start(<<'EOF', events => 'multi_accept on;');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    lgsp_quota_zone quotas:1m;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /one     { lgsp_service SVC.ONE; lgsp_quota 7r/d;
                            empty_gif; }
        location /agencies { lgsp_service SVC.AG; lgsp_quota 4r/d;
                             empty_gif; }
        location /windows {
            lgsp_service SVC.WIN;
            lgsp_quota 3r/h;
            lgsp_quota 50r/d name=daily;
            empty_gif;
        }
    }
EOF

# the process that serves: the worker, or nginx itself without a master
sub server_pid {
    my ($worker) = $t->workers;
    return $worker // $t->{nginx};
}

# EVALSHA and EVAL calls Redis has run since the last call of this
sub script_calls {
    my $calls = 0;
    for (split /\r?\n/, $t->redis_cli('INFO', 'commandstats')) {
        $calls += $1 if /^cmdstat_eval(?:sha)?:calls=(\d+)/;
    }
    $t->redis_cli('CONFIG', 'RESETSTAT');
    return $calls;
}

# the requests [path, agency] sent while the server is stopped; their
# statuses in the same order
sub at_once {
    my (@requests) = @_;

    my $pid = server_pid();
    my @socks;

    kill 'STOP', $pid;

    for my $req (@requests) {
        my ($path, $agency) = @$req;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port,
                                      Proto => 'tcp', Timeout => 10)
            or die "connect: $!";
        print $s "GET $path HTTP/1.1\r\nHost: lgsp\r\n"
                 . 'Authorization: ' . token($agency) . "\r\n"
                 . "Connection: close\r\n\r\n";
        push @socks, $s;
    }

    # the kernel has every connection and request before the worker runs
    sleep 0.2;
    kill 'CONT', $pid;

    return map {
        local $/;
        my $answer = readline($_) // '';
        close $_;
        $answer =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
    } @socks;
}

sub count {
    my ($status, @statuses) = @_;
    return scalar grep { $_ == $status } @statuses;
}

script_calls();

subtest 'twenty requests of one agency: one script call, exact' => sub {
    my @s = at_once(map { ['/one', 'AG.ONE'] } 1 .. 20);

    is count(200, @s), 7, 'exactly 7 passed (7r/d)';
    is count(429, @s), 13, 'the other 13 got 429';
    is script_calls(), 1, 'Redis ran one script for the twenty';
    is $t->redis_cli('HGET', "'lgsp:quota:{AG.ONE}:SVC.ONE:day:86400'",
                     'c'), 7, 'the counter holds 7';
};

subtest 'two agencies in one turn: one call each, counted apart' => sub {
    my @s = at_once(map { ['/agencies', $_ % 2 ? 'AG.ODD' : 'AG.EVEN'] }
                    1 .. 20);

    is count(200, @s[grep { $_ % 2 == 0 } 0 .. 19]), 4,
       'AG.ODD: 4 of its 10 passed';
    is count(200, @s[grep { $_ % 2 == 1 } 0 .. 19]), 4,
       'AG.EVEN: 4 of its 10 passed';
    is script_calls(), 2,
       'one script per agency: a call never spans two hash tags';
};

subtest 'a request refused by one window takes nothing from another' => sub {
    my @s = at_once(map { ['/windows', 'AG.WIN'] } 1 .. 10);

    is count(200, @s), 3, '3 passed (3r/h)';
    is $t->redis_cli('HGET', "'lgsp:quota:{AG.WIN}:SVC.WIN:daily:86400'",
                     'c'), 3,
       'the daily counter counted only those 3, not the 7 refused';
    is script_calls(), 1, 'one script call';
};

subtest 'after the batches' => sub {
    is $t->get('/one', Authorization => token('AG.ONE'))->{status}, 429,
       'a lone request still sees the batch\'s count';
    is $t->get('/one', Authorization => token('AG.OTHER'))->{status}, 200,
       'another agency passes';
    unlike $t->error_log, qr/\[(?:alert|crit|emerg)\]|unexpected reply/,
           'no alert and no unexpected reply in the error log';
};

done_testing;
