# The Redis adapter feeds the metrics: lgsp_redis_up follows Redis going
# away and coming back, lgsp_redis_errors_total counts failures by kind.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(mint);

my $secret = 'metrics-redis-secret-' . ('m' x 32);
my $auth = 'Bearer ' . mint(alg => 'HS256', key => $secret);

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
my $redis_port = $t->start_redis;

$t->start(<<'EOF');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=300ms;
    lgsp_quota_zone quotas:1m;

    server {
        listen 127.0.0.1:%%PORT%%;

        location /svc {
            lgsp_service SVC.METRICS;
            lgsp_allow_agency *;
            lgsp_jwt on;
            lgsp_jwt_key_file hs.key;
            lgsp_quota 1000r/d;
            empty_gif;
        }

        location = /metrics {
            allow 127.0.0.1;
            deny all;
            lgsp_metrics;
        }
    }
EOF

sub metric {
    my ($name) = @_;
    my $text = $t->get('/metrics')->{content};
    return $text =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

is $t->get('/svc', Authorization => $auth)->{status}, 200,
    'a request counted in Redis';
is metric('lgsp_redis_up'), 1, 'lgsp_redis_up is 1 while Redis answers';

kill 'TERM', $t->{redis_pid};
waitpid $t->{redis_pid}, 0;

is $t->get('/svc', Authorization => $auth)->{status}, 200,
    'Redis gone: the local fallback answers';
is metric('lgsp_redis_up'), 0, 'lgsp_redis_up is 0';
cmp_ok metric('lgsp_redis_errors_total{kind="connection"}')
       // metric('lgsp_redis_errors_total{kind="connect"}') // 0, '>=', 1,
    'the failure is counted by kind';

$t->start_redis(port => $redis_port);

my $up;
for (1 .. 40) {
    $t->get('/svc', Authorization => $auth);
    last if ($up = metric('lgsp_redis_up')) == 1;
    sleep 0.25;
}

is $up, 1, 'lgsp_redis_up is 1 again once Redis is back';

ok $t->error_log_clean, 'no alert or crash in the error log';

done_testing;
