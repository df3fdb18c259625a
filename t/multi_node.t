# conf/examples/multi-node, run by scripts/multi-node.sh on free loopback
# ports: two LGSP nodes share one quota through Redis, and the quota
# survives the loss of the Redis primary (Sentinel promotes its replica;
# the nodes move to it through their lgsp_redis list).  The old primary,
# brought back as a replica, answers READONLY: a node that starts afresh
# with it first in its list passes over it.

use strict;
use warnings;

use Test::More;
use File::Basename qw(dirname);
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;

my $t = LGSP::Test->new;
my $run = $t->dir . '/run';
my %port = (node1 => $t->extra_port(1), node2 => $t->extra_port(2),
            primary => $t->extra_port(3), replica => $t->extra_port(4),
            sentinel => $t->extra_port(5));

{
    local $ENV{LGSP_NODE1_PORT} = $port{node1};
    local $ENV{LGSP_NODE2_PORT} = $port{node2};
    local $ENV{LGSP_REDIS_PRIMARY_PORT} = $port{primary};
    local $ENV{LGSP_REDIS_REPLICA_PORT} = $port{replica};
    local $ENV{LGSP_SENTINEL_PORT} = $port{sentinel};

    $t->spawn("$LGSP::Test::REPO/scripts/multi-node.sh",
              dirname($t->{module}), $run);
}

ok wait_for(sub { -s "$run/token" }), 'scripts/multi-node.sh starts it all'
    or BAIL_OUT("not started:\n" . $t->read_file('logs/spawn.log'));

note "each node runs:\n" . $t->read_file("$run/conf/node1.conf");

my $token = $t->read_file("$run/token");
chomp $token;

# a call to a node: status, requests left of the daily quota, problem type
sub call {
    my ($node) = @_;

    my $r = $t->request('GET', '/hotich/tracuu', port => $port{$node},
                        headers => { Authorization => "Bearer $token" });
    my ($left) = ($r->{headers}{ratelimit} // '') =~ /;r=(\d+)/;
    my $type = $r->{json} ? $r->{json}{type} =~ s/.*://r : '';

    return join ' ', $r->{status}, $left // '-', $type || ();
}

sub redis {
    my ($which, @cmd) = @_;
    my $out = `redis-cli -p $port{$which} @cmd 2>&1`;
    chomp $out;
    return $out;
}

# Sentinel's failover and a node's reload take their time
sub wait_for {
    my ($cond) = @_;
    return $t->wait_for($cond, 30);
}

ok wait_for(sub { redis('replica', 'INFO', 'replication')
                     =~ /master_link_status:up/ }),
   'the replica follows the primary';

is call('node1'), '200 5', 'node1: the first call of 6 leaves 5';
is call('node2'), '200 4', 'node2 counts on from what node1 counted';
is call('node1'), '200 3', 'node1 sees the call node2 counted';
is call('node2'), '200 2', 'and node2 the one node1 counted';

# every count on the replica before the primary is lost (WAIT would not
# do: it waits for the writes of its own connection only)
my ($written) = redis('primary', 'INFO', 'replication')
                =~ /master_repl_offset:(\d+)/;
ok wait_for(sub {
       my ($copied) = redis('replica', 'INFO', 'replication')
                      =~ /slave_repl_offset:(\d+)/;
       return ($copied // 0) >= $written;
   }), 'the replica has every count';

kill 'KILL', $t->read_file("$run/run/redis-primary.pid") =~ s/\s+//gr;
ok wait_for(sub {
       redis('sentinel', 'SENTINEL', 'get-master-addr-by-name', 'lgsp')
           =~ /\b$port{replica}\b/
   }), 'the primary is lost: Sentinel promotes the replica';

# until a node reaches the new primary it refuses rather than counts
my $answer;
ok wait_for(sub {
       $answer = call('node1');
       return $answer !~ /quota-unavailable/;
   }), 'node1 fails over to the promoted replica';
is $answer, '200 1', 'node1: the quota counts on where it stood';
# the operator brings the old primary back as a replica of the new one
$t->spawn('redis-server', "$run/conf/redis-primary.conf",
          '--replicaof', '127.0.0.1', $port{replica});
ok wait_for(sub { redis('primary', 'INFO', 'replication')
                  =~ /master_link_status:up/ }),
   'the old primary returns as a replica of the new one';

# a node that starts afresh tries it first: it answers READONLY, is
# passed over, and the quota still counts in the new primary
sub exited {
    my @exits = $t->read_file("$run/logs/node2-error.log")
                =~ /worker process \d+ exited with code 0/g;
    return scalar @exits;
}

my $exited = exited();
kill 'HUP', $t->read_file("$run/logs/node2.pid") =~ s/\s+//gr;
ok wait_for(sub { exited() >= $exited + 2 }),
   'node2 reloads: its old workers (and their links to Redis) are gone';
ok wait_for(sub { ($answer = call('node2')) !~ /quota-unavailable/ }),
   'node2 passes over the returned primary';
is $answer, '200 0', 'and takes the last call of the quota there';
like $t->request('GET', '/metrics', port => $port{node2})->{content},
     qr/^lgsp_redis_errors_total\{kind="reply"\} [1-9]/m,
     'the returned primary answered it with an error (READONLY)';

is call('node1'), '429 0 quota-exceeded', 'node1: the quota is used up';
is call('node2'), '429 0 quota-exceeded', 'node2: used up there too';

for my $node (qw(node1 node2)) {
    my $log = $t->read_file("$run/logs/$node-error.log");
    unlike $log, qr/\[(?:alert|emerg)\]|exited on signal/,
           "$node: no crash in its error log";
}

$t->stop;

done_testing;
