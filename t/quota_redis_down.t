# Quotas while Redis is down: stopped, then hung (SIGSTOP).  Each
# lgsp_quota_fallback mode does as configured, no request waits much longer
# than the Redis timeout, nothing answers 5xx, the error log has one line
# when an incident starts and one when it ends, and counting in Redis
# resumes by itself when Redis is back, without a reload.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use List::Util qw(max);
use Time::HiRes qw(sleep time);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'quota-down-secret-' . ('z' x 32);
my $timeout = 0.3;

sub token { bearer($secret, @_) }

my $t = LGSP::Test->new(workers => 2);
$t->write_file('hs.key', $secret);
my $redis = $t->start_redis;

$t->start(<<'EOF');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=300ms;
    lgsp_quota_zone quotas:1m;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /local {
            lgsp_service SVC.LOCAL;
            lgsp_quota 3r/d;
            lgsp_quota_fallback local;
            empty_gif;
        }

        location /allow {
            lgsp_service SVC.ALLOW;
            lgsp_quota 3r/d;
            lgsp_quota_fallback allow;
            empty_gif;
        }

        location /deny {
            lgsp_service SVC.DENY;
            lgsp_quota 3r/d;
            lgsp_quota_fallback deny;
            empty_gif;
        }
    }
EOF

my (@elapsed, @status);

# a request, timed; every status is kept to look for 5xx at the end
sub call {
    my ($path, $agency) = @_;

    my $start = time;
    my $r = $t->get($path, Authorization => token($agency));
    push @elapsed, time - $start;
    push @status, $r->{status};

    return $r;
}

sub statuses {
    my ($path, $agency, $n) = @_;
    return join ' ', map { call($path, $agency)->{status} } 1 .. $n;
}

sub redis_count {
    my ($agency, $service) = @_;
    return $t->redis_cli('HGET', "'lgsp:quota:{$agency}:$service:day:86400'",
                         'c');
}

sub incidents {
    my $log = $t->error_log;
    my $failed = () = $log =~ /lgsp: redis \S+ failed:/g;
    my $back = () = $log =~ /lgsp: redis \S+ answers again/g;
    return "$failed started, $back ended";
}

# polls until a request is counted in Redis again: Redis is back
sub wait_shared {
    my ($agency) = @_;

    for (1 .. 100) {
        call('/local', $agency);
        return 1 if redis_count($agency, 'SVC.LOCAL') ne '';
        sleep 0.1;
    }

    return 0;
}

is statuses('/local', 'AG.UP', 1), '200', 'Redis up: counted';
is redis_count('AG.UP', 'SVC.LOCAL'), 1, 'in Redis';
is incidents(), '0 started, 0 ended', 'no incident yet';

# --- Redis stopped ----------------------------------------------------------

kill 'TERM', $t->redis_pid;
LGSP::Test::wait_exit($t->redis_pid);

is statuses('/local', 'AG.STOP', 5), '200 200 200 429 429',
   'stopped, fallback local: the node counts the quota itself';
is statuses('/deny', 'AG.STOP', 2), '429 429',
   'stopped, fallback deny: refused';
{
    my $r = call('/deny', 'AG.STOP');
    is $r->{json}{type}, 'urn:lgsp:problem:quota-unavailable',
       'with a problem saying quotas cannot be counted';
    is $r->{headers}{'retry-after'}, 1, 'and Retry-After: 1';

    is statuses('/allow', 'AG.STOP', 5), '200 200 200 200 200',
       'stopped, fallback allow: passed uncounted';
    $r = call('/allow', 'AG.STOP');
    is $r->{headers}{'ratelimit-policy'}, '"day";q=3;w=86400',
       'the policy is still announced';
    ok !exists $r->{headers}{ratelimit}, 'but no RateLimit state is claimed';
}

is incidents(), '1 started, 0 ended',
   'one error-log line for the outage, not one per request';

# --- Redis back: shared counting resumes without a reload --------------------

$t->start_redis(port => $redis);

ok wait_shared('AG.BACK'), 'Redis restarted: requests are counted in it again';
is incidents(), '1 started, 1 ended', 'one line when the outage ends';

# --- Redis hung ---------------------------------------------------------------

kill 'STOP', $t->redis_pid;

# a client that gives up while its request waits for the hung Redis
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port)
        or die "connect: $!";
    print $s "GET /local HTTP/1.1\r\nHost: x\r\nAuthorization: "
             . token('AG.GONE') . "\r\n\r\n";
    sleep 0.05;
    close $s;
    sleep $timeout * 2;
}

@elapsed = ();

is statuses('/local', 'AG.HUNG', 5), '200 200 200 429 429',
   'hung, fallback local: the node counts the quota itself';
is statuses('/deny', 'AG.HUNG', 2), '429 429', 'hung, fallback deny: refused';
is statuses('/allow', 'AG.HUNG', 4), '200 200 200 200',
   'hung, fallback allow: passed';

my $longest = max(@elapsed);
ok $longest < 3 * $timeout,
   'no request waited much longer than the 300ms timeout'
   or diag "longest wait ${longest}s";

is incidents(), '2 started, 1 ended', 'the hang is one more incident';

kill 'CONT', $t->redis_pid;

ok wait_shared('AG.RESUMED'), 'Redis resumed: counted in it again';
is incidents(), '2 started, 2 ended', 'and the incident ends in the log';

is scalar(grep { $_ >= 500 } @status), 0, 'no request was answered 5xx';
is call('/local', 'AG.LAST')->{status}, 200, 'nginx still serves';
ok $t->error_log_clean, 'no crash or alert in the error log';

done_testing;
