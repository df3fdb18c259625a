# Quotas counted in a real Redis: exact under concurrency, shared by two
# nginx "nodes", windows, burst, several limits in one atomic script, plans,
# keys with a {agency} hash tag, AUTH and SELECT, EVAL after a script
# flush, and a failover list.

use strict;
use warnings;

use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'quota-redis-secret-' . ('y' x 32);

sub token { bearer($secret, @_) }

my $t = LGSP::Test->new(workers => 2);
$t->write_file('hs.key', $secret);
$t->write_file('redis.pass', "s3cret-pass\n");

my $redis = $t->start_redis;
my $dead = LGSP::Test::free_port();

# Redis's answers must come within lgsp_redis timeout= (100ms unless set);
# under valgrind nginx runs 20-50 times slower and needs longer to read
# them (a wrong password would show as a timeout, not as WRONGPASS)
sub slow_redis {
    my ($conf) = @_;
    $conf =~ s/(lgsp_redis [^;]*?)\s*(?:timeout=\w+)?;/$1 timeout=5s;/g
        if $ENV{LGSP_VALGRIND};
    return $conf;
}

# one nginx "node"; the http { } body both nodes run
my $http = <<'EOF';
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    lgsp_quota_zone quotas:1m;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    map $lgsp_agency $plan {
        default        3;
        AG.SUSPENDED   0;
        AG.UNLIMITED   "";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /exact   { lgsp_service SVC.EXACT; lgsp_quota 60r/d;
                            empty_gif; }
        location /nodes   { lgsp_service SVC.NODES; lgsp_quota 30r/d;
                            empty_gif; }
        location /second  { lgsp_service SVC.SECOND; lgsp_quota 2r/s;
                            empty_gif; }
        location /burst   { lgsp_service SVC.BURST; lgsp_quota 3r/h burst=2;
                            empty_gif; }
        location /plan    { lgsp_service SVC.PLAN; lgsp_quota ${plan}r/d;
                            empty_gif; }
        location /several {
            lgsp_service SVC.SEVERAL;
            lgsp_quota 2r/h;
            lgsp_quota 10r/d name=daily;
            add_header X-Remaining $lgsp_quota_remaining always;
            empty_gif;
        }
    }
EOF

$t->start(slow_redis($http));

sub statuses {
    my ($test, $path, $auth, $n) = @_;
    return join ' ', map { $test->get($path, Authorization => $auth)->{status} }
                     1 .. $n;
}

# clients in processes of their own; returns every status they got
sub concurrent {
    my ($targets, $auth, $clients, $each) = @_;

    my @pids;
    pipe my $rd, my $wr or die;

    for my $c (0 .. $clients - 1) {
        my $pid = fork // die;
        if ($pid == 0) {
            close $rd;
            my ($test, $path) = @{ $targets->[$c % @$targets] };
            my @s = map { $test->get($path, Authorization => $auth)->{status} }
                    1 .. $each;
            print $wr "@s\n";
            close $wr;
            POSIX::_exit(0);    # no DESTROY: the parent's nginx lives on
        }
        push @pids, $pid;
    }

    close $wr;
    my @all = map { split ' ' } <$rd>;
    waitpid $_, 0 for @pids;

    return @all;
}

{
    my @all = concurrent([[$t, '/exact']], token('AG.EXACT'), 10, 12);

    is scalar(@all), 120, 'two workers, 10 clients: 120 requests answered';
    is scalar(grep { $_ == 200 } @all), 60, 'exactly 60 passed (60r/d)';
    is scalar(grep { $_ == 429 } @all), 60, 'the other 60 got 429';
    is $t->redis_cli('HGET', "'lgsp:quota:{AG.EXACT}:SVC.EXACT:day:86400'",
                     'c'), 60,
       'Redis holds the count, under the agency\'s hash tag';
}

{
    my $t2 = LGSP::Test->new(workers => 2);
    $t2->write_file('hs.key', $secret);
    $t2->{redis_port} = $redis;
    $t2->start(slow_redis($http));

    my @all = concurrent([[$t, '/nodes'], [$t2, '/nodes']],
                         token('AG.NODES'), 8, 8);

    is scalar(@all), 64, 'two nodes on one Redis: 64 requests answered';
    is scalar(grep { $_ == 200 } @all), 30,
       'together they allow exactly 30 (30r/d)';
    is scalar(grep { $_ == 429 } @all), 34, 'the rest got 429';

    is $t2->get('/nodes', Authorization => token('AG.NODES'))->{status}, 429,
       'the second node refuses what the first used up';
    $t2->stop;
}

{
    # three calls in one second (Redis's clock is this machine's); under
    # valgrind they may take long enough to end in the next one, and are
    # then made again at the start of another
    my $first;
    for (1 .. ($ENV{LGSP_VALGRIND} ? 5 : 1)) {
        sleep(1.05 - (time - int(time)));
        my $second = int(time);
        $first = statuses($t, '/second', token('AG.ROLL'), 3);
        last if int(time) == $second;
    }
    sleep(1.05 - (time - int(time)));
    my $next = statuses($t, '/second', token('AG.ROLL'), 2);

    is "$first / $next", '200 200 429 / 200 200',
       'windows roll over on Redis\'s clock';
}

is statuses($t, '/burst', token('AG.BURST'), 7), '200 200 200 200 200 429 429',
   'burst: an idle agency gets quota plus burst';

{
    my $auth = token('AG.SEVERAL');

    is statuses($t, '/several', $auth, 3), '200 200 429',
       'several limits: the hourly one refuses the 3rd';

    my $r = $t->get('/several', Authorization => $auth);
    is $r->{json}{limit}, 'hour', 'the refusing limit is named';
    like $r->{headers}{ratelimit}, qr/^"hour";r=0;t=\d+, "daily";r=8;t=\d+$/,
         'RateLimit reports both';
    is $t->redis_cli('HGET',
                     "'lgsp:quota:{AG.SEVERAL}:SVC.SEVERAL:daily:86400'", 'c'),
       2, 'refused requests consumed nothing from the daily limit';
    is $r->{headers}{'x-remaining'}, 0,
       '$lgsp_quota_remaining is the smallest remainder';
}

is statuses($t, '/plan', token('AG.SUSPENDED'), 2), '429 429',
   'a plan of 0 refuses every request';
is statuses($t, '/plan', token('AG.UNLIMITED'), 5), '200 200 200 200 200',
   'an empty plan means no limit';
is $t->redis_cli('EXISTS',
                 "'lgsp:quota:{AG.UNLIMITED}:SVC.PLAN:plan:86400'"), 0,
   'and nothing is counted for it';
is statuses($t, '/plan', token('AG.PLAIN'), 4), '200 200 200 429',
   'the default plan applies';
is statuses($t, '/plan', token('AG.OTHER'), 4), '200 200 200 429',
   'agencies are counted apart';

{
    is $t->redis_cli('SCRIPT', 'FLUSH'), 'OK', 'Redis forgets its scripts';
    is statuses($t, '/plan', token('AG.FLUSHED'), 4), '200 200 200 429',
       'EVALSHA falls back to EVAL on NOSCRIPT, counting goes on';
    unlike $t->error_log, qr/lgsp: redis .* failed/,
           'NOSCRIPT is no incident';
}

{
    $t->signal('HUP');

    # the two old workers log "exit" as their last word
    for (1 .. 50) {
        last if (() = $t->error_log =~ /: exit$/mg) >= 2;
        sleep 0.1;
    }

    is statuses($t, '/plan', token('AG.RELOAD'), 4), '200 200 200 429',
       'after a reload, quotas are counted on';
    unlike $t->error_log, qr/open socket/,
           'old workers closed their Redis link on their way out';
}

ok $t->error_log_clean, 'no crash or alert in the error log';
$t->stop;

# --- AUTH and SELECT; a failover list ---------------------------------------

{
    my $ta = LGSP::Test->new;
    $ta->write_file('hs.key', $secret);
    $ta->write_file('redis.pass', "s3cret-pass\n");
    my $port = $ta->start_redis(password => 's3cret-pass');

    $ta->start(slow_redis(<<"EOF"));
    lgsp_redis 127.0.0.1:$dead timeout=500ms;
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% db=3 password_file=redis.pass
               timeout=500ms;
    lgsp_quota_fallback deny;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;
        location / { lgsp_service SVC.AUTH; lgsp_quota 2r/d; empty_gif; }
    }
EOF

    # with deny, a request that missed Redis would show as a 429
    is statuses($ta, '/x', token('AG.AUTH'), 3), '200 200 429',
       'a dead first server fails over to the second, which counts';
    is $ta->redis_cli('-a', 's3cret-pass', '--no-auth-warning', '-n', 3,
                      'HGET', "'lgsp:quota:{AG.AUTH}:SVC.AUTH:day:86400'",
                      'c'), 2,
       'after AUTH with the password file, in the SELECTed db 3';
    is $ta->redis_cli('-a', 's3cret-pass', '--no-auth-warning', '-n', 0,
                      'DBSIZE'), 0, 'db 0 stays empty';

    my $tb = LGSP::Test->new;
    $tb->write_file('hs.key', $secret);
    $tb->write_file('wrong.pass', "wrong\n");
    $tb->{redis_port} = $port;
    $tb->start(slow_redis(<<'EOF'));
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% password_file=wrong.pass;
    lgsp_quota_fallback deny;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;
        location / { lgsp_service SVC.AUTH; lgsp_quota 2r/d; empty_gif; }
    }
EOF

    my $r = $tb->get('/x', Authorization => token('AG.AUTH'));
    is $r->{status}, 429, 'a wrong password: Redis is unavailable (deny)';
    is $r->{json}{type}, 'urn:lgsp:problem:quota-unavailable',
       'and the problem says so';
    like $tb->error_log, qr/lgsp: redis 127\.0\.0\.1:\d+ failed: WRONGPASS/,
         'the error log says why';

    ok $ta->error_log_clean && $tb->error_log_clean, 'no crash or alert';
}

done_testing;
