# scripts/lgsp-queue, the operator's tool for guaranteed delivery, on the
# Redis the nodes use: it lists deliveries by state and service, shows
# one, brings a dead letter back to its queue (delivered then), and drops
# one that must never be delivered.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);
use LGSP::Receiver;

my $secret = 'deliver-queue-secret-' . ('q' x 32);
my $auth = bearer($secret, 'AG.HANAM');

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
my $redis = $t->start_redis;

my $rcv = LGSP::Receiver->new($t, $t->extra_port(1));

$t->start(<<'EOF');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    lgsp_deliver_drain poll=100ms;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /deliveries/ { lgsp_delivery_status; }

        location /bhxh/ {
            lgsp_service BHXH.THE;
            lgsp_deliver always attempts=2 backoff=100ms;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /later/ {
            lgsp_service BHXH.LATER;
            lgsp_deliver always backoff=1h;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }
    }
EOF

my $tool = "$LGSP::Test::REPO/scripts/lgsp-queue -p $redis";

sub state_of {
    my ($txid) = @_;
    my $r = $t->get("/deliveries/$txid", Authorization => $auth);
    return $r->{status} == 200 ? $r->{json}{state} : $r->{status};
}

sub wait_state {
    my ($txid, $state) = @_;
    for (1 .. 100) {
        return 1 if state_of($txid) eq $state;
        sleep 0.1;
    }
    return 0;
}

# a dead letter: two attempts, both 503
my $pid = $rcv->start(503);
my $r = $t->post_json('/bhxh/the', { so => 1 }, Authorization => $auth);
my $dead = $r->{headers}{'x-lgsp-transaction-id'};
ok wait_state($dead, 'failed'), 'a delivery ends failed';
$rcv->stop($pid);

# one that waits: its first attempt failed, the next is an hour away
$r = $t->post_json('/later/x', { so => 2 }, Authorization => $auth);
my $waiting = $r->{headers}{'x-lgsp-transaction-id'};
for (1 .. 50) {
    last if `$tool show $waiting` =~ /^attempts\s+1$/m;
    sleep 0.1;
}

my $out = `$tool list`;
is $?, 0, 'list';
like $out, qr/^\Q$dead\E failed\s+BHXH\.THE\s+AG\.HANAM\s+2 \S+ HTTP 503$/m,
     'list: the dead letter, its service, agency, attempts and last error';
like $out, qr/^\Q$waiting\E queued\s+BHXH\.LATER /m, 'and the waiting one';

$out = `$tool list --state failed`;
like $out, qr/\Q$dead\E/, 'list --state failed: the dead letter';
unlike $out, qr/\Q$waiting\E/, 'and not the waiting one';

$out = `$tool list --service BHXH.LATER`;
like $out, qr/\Q$waiting\E/, 'list --service: that service';
unlike $out, qr/\Q$dead\E/, 'only';

$out = `$tool show $dead`;
like $out, qr/^state\s+failed$/m, 'show: the state';
like $out, qr/^uri\s+\/bhxh\/the$/m, 'the URI';
like $out, qr/^response_status\s+503$/m, "the provider's last answer";
like $out, qr/^body\s+8 bytes$/m, 'the body kept for a retry';

$out = `$tool retry $waiting 2>&1`;
isnt $?, 0, 'retry refuses what is not a dead letter';
like $out, qr/is queued, not a dead letter/, 'and says why';

$pid = $rcv->start;
$out = `$tool retry $dead`;
is $?, 0, 'retry';
like $out, qr/\Q$dead\E queued again/, 'says so';
ok wait_state($dead, 'delivered'), 'the dead letter is delivered';
my @got = grep { $_->{key} eq $dead } $rcv->received;
is scalar @got, 3, 'two failed attempts, then the one that worked';
is $got[2]{body}, '{"so":1}', 'with its body';
$rcv->stop($pid);

$out = `$tool drop $waiting`;
is $?, 0, 'drop';
is state_of($waiting), 404, 'its status is gone';
for (1 .. 30) {
    last if $t->redis_cli('XLEN', 'lgsp:deliver:BHXH.LATER') eq '0';
    sleep 0.1;
}
is $t->redis_cli('XLEN', 'lgsp:deliver:BHXH.LATER'), '0',
   'its queue entry is skipped by the nodes';

$out = `$tool show 0190a000-0000-7000-8000-000000000000 2>&1`;
isnt $?, 0, 'show of an unknown txid fails';

ok $t->error_log_clean, 'no crash or alert in the error log';

$t->stop;

done_testing;
