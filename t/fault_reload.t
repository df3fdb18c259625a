# Signals under load on the full path (JWT, quota, records, proxy): a
# reload (HUP) and a log reopen (USR1) fail no request; a worker killed
# with SIGKILL is replaced by the master, the others never wedge on a lock
# it held (nginx's master frees a dead worker's shared-memory mutexes),
# quota counters go on where they were, and the hash chain of the
# transaction log stays unbroken (scripts/lgsp-logverify).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;
use LGSP::Load;
use LGSP::Token qw(mint);

my $secret = 'fault-reload-secret-' . ('r' x 32);

my $t = LGSP::Test->new(workers => 2);
$t->write_file('hs.key', $secret);

# nginx's workers (user nobody) write the records into the test's folder
chmod 0755, $t->dir;
chmod 0777, $t->dir . '/logs';

my $http = <<'EOF';
    lgsp_jwt_key_file hs.key;
    lgsp_quota_zone quotas:1m;
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;

    server {
        listen 127.0.0.1:%%PORT%%;

        location /hotich {
            lgsp_service BTP.HOTICH.TRACUU;
            lgsp_jwt on;
            lgsp_allow_agency *;
            lgsp_quota 100000000r/d;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    # the agency system: a second server of the same nginx
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 '{"ok":true}'; }
    }
EOF

$t->start($http);

my %auth = (Authorization => 'Bearer '
                             . mint(alg => 'HS256', key => $secret));

sub load { LGSP::Load->start($t, clients => 4, path => '/hotich',
                             headers => \%auth) }

sub workers {
    my $master = $t->read_file('logs/nginx.pid') =~ s/\s+//gr;
    return grep { /\d/ } map { s/\s+//gr }
           split /\n/, `ps -o pid= --ppid $master`;
}

sub remaining {
    my $r = $t->get('/hotich', %auth);
    my ($left) = ($r->{headers}{ratelimit} // '') =~ /r=(\d+)/;
    return ($r->{status}, $left);
}

subtest 'reload (HUP) under load: no request fails' => sub {
    my $load = load();
    sleep 0.5;
    for (1 .. 3) {
        $t->signal('HUP');
        sleep 0.7;
    }
    my %status = $load->stop;

    my $total = 0;
    $total += $_ for values %status;
    cmp_ok $total, '>', 100, "load went on ($total requests)";
    is LGSP::Load::failures(%status), 0, 'every answer 2xx'
        or diag explain \%status;
};

subtest 'reopen (USR1) under load: no request fails' => sub {
    my $load = load();
    sleep 0.5;
    for (1 .. 3) {
        rename $t->dir . '/logs/transactions.jsonl',
               $t->dir . "/logs/transactions.jsonl.$_";
        $t->signal('USR1');
        sleep 0.5;
    }
    my %status = $load->stop;

    is LGSP::Load::failures(%status), 0, 'every answer 2xx'
        or diag explain \%status;
    ok -s $t->dir . '/logs/transactions.jsonl', 'the new file gets records';
};

subtest 'a worker killed with SIGKILL under load' => sub {
    my @before = workers();
    is scalar @before, 2, 'two workers';

    my (undef, $left_before) = remaining();
    ok defined $left_before, 'the quota answers RateLimit';

    my $load = load();
    sleep 0.5;
    kill 'KILL', $before[0];
    sleep 1;
    my %status = $load->stop;

    my @after;
    for (1 .. 40) {
        @after = workers();
        last if @after == 2 && !grep { $_ == $before[0] } @after;
        sleep 0.05;
    }
    is scalar @after, 2, 'the master started a new worker';
    ok !(grep { $_ == $before[0] } @after), 'the killed one is gone';

    # only what was in flight in the killed worker may fail: one per client
    cmp_ok LGSP::Load::failures(%status), '<=', 4,
           'at most the requests the killed worker held failed'
        or diag explain \%status;

    my $served = 0;
    $served += $status{$_} for grep { /^2/ } keys %status;

    # every worker takes requests again, none waits on a dead one's lock
    my @codes = map { (remaining())[0] } 1 .. 20;
    is_deeply [grep { $_ != 200 } @codes], [], '20 calls after: all 200';

    my (undef, $left_after) = remaining();
    cmp_ok $left_before - $left_after, '>=', $served,
           'the quota counted on through the crash, never reset';

    my $log = $t->error_log;
    unlike $log, qr/\[(?:emerg|crit)\]/, 'no critical line';
    my @alerts = grep { /\[alert\]/ } split /\n/, $log;
    is_deeply [grep { !/exited on signal 9|was locked by/ } @alerts], [],
              'the only alerts: the killed worker and a lock freed';
};

$t->stop;

subtest 'the transaction log: one unbroken chain across its files' => sub {
    my $base = $t->dir . '/logs/transactions.jsonl';
    my @files = ((map { "$base.$_" } 1 .. 3), $base);
    my $out = `$LGSP::Test::REPO/scripts/lgsp-logverify @files 2>&1`;
    is $?, 0, 'lgsp-logverify accepts the chain' or diag $out;
};

done_testing;
