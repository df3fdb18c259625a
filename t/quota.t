# Per-agency quotas counted in the local shared-memory zone (one node, no
# Redis): windows, burst, several limits, plans from a map, 0 and empty,
# independent keys, the 429 problem, RateLimit header fields, nginx -t.

use strict;
use warnings;

use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'quota-test-secret-' . ('x' x 32);

sub token { bearer($secret, @_) }


# --- nginx -t refuses what cannot work, naming file and line -------------

{
    my $t = LGSP::Test->new;

    my %bad = (
        'a malformed rate' => ['lgsp_quota_zone q:1m;',
                               'lgsp_quota abc;',
                               qr/invalid rate "abc".*nginx\.conf:\d+/],
        'an unknown window' => ['lgsp_quota_zone q:1m;',
                                'lgsp_quota 100r/w;',
                                qr/unknown window in rate "100r\/w".*:\d+/],
        'a rate with no number' => ['lgsp_quota_zone q:1m;',
                                    'lgsp_quota r/m;',
                                    qr/invalid rate "r\/m"/],
        'a quota with no zone and no Redis' => ['',
                              'lgsp_quota 100r/m;',
                              qr/"lgsp_quota" needs "lgsp_quota_zone" or "lgsp_redis".*nginx\.conf:\d+/],
        'local fallback with Redis but no zone' => [
                              'lgsp_redis 127.0.0.1:1;',
                              'lgsp_quota 100r/m;',
                              qr/"lgsp_quota_fallback local" \(the default\) needs "lgsp_quota_zone"/],
        'a bad burst' => ['lgsp_quota_zone q:1m;',
                          'lgsp_quota 100r/m burst=many;',
                          qr/invalid parameter "burst=many"/],
        'a name unfit for a header' => ['lgsp_quota_zone q:1m;',
                                        'lgsp_quota 100r/m name=a"b;',
                                        qr/invalid quota name/],
        'two quotas of one name' => ['lgsp_quota_zone q:1m;',
                                     'lgsp_quota 100r/m; lgsp_quota 5r/m;',
                                     qr/duplicate quota name "minute"/],
        'a zone without size' => ['lgsp_quota_zone q;',
                                  '',
                                  qr/invalid zone "q": use NAME:SIZE/],
        'an unknown redis parameter' => ['lgsp_redis 127.0.0.1:6379 dbx=1;',
                                         '',
                                         qr/invalid parameter "dbx=1"/],
        'a missing redis password file' => [
                              'lgsp_redis 127.0.0.1:6379 password_file=nope;',
                              '',
                              qr/open\(\) ".*nope" failed/],
    );

    for my $name (sort keys %bad) {
        my ($http, $loc, $re) = @{ $bad{$name} };

        my ($ok, $out) = $t->test_config(<<"EOF");
    $http
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { $loc empty_gif; }
    }
EOF
        ok !$ok, "nginx -t fails on $name";
        like $out, $re, "  and says why: $name";
    }

    my ($ok, $out) = $t->test_config(<<'EOF');
    lgsp_redis 127.0.0.1:1;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_quota 1r/s; lgsp_quota_fallback allow; empty_gif; }
        location /v { lgsp_quota $arg_rate; lgsp_quota_fallback deny;
                      empty_gif; }
    }
EOF
    ok $ok, 'Redis without a zone is fine when the fallback counts nothing'
        or diag $out;
}


# --- a node with no Redis counts in its zone ------------------------------

my $t = LGSP::Test->new(workers => 2);
$t->write_file('hs.key', $secret);

$t->start(<<'EOF');
    lgsp_quota_zone quotas:1m;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    map $lgsp_agency $plan {
        default        5;
        AG.GOLD        50;
        AG.SUSPENDED   0;
        AG.UNLIMITED   "";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /hour {
            lgsp_service SVC.HOUR;
            lgsp_quota 3r/h;
            add_header X-Remaining $lgsp_quota_remaining always;
            empty_gif;
        }

        location /other {
            lgsp_service SVC.OTHER;
            lgsp_quota 3r/h;
            empty_gif;
        }

        location /second {
            lgsp_service SVC.SECOND;
            lgsp_quota 2r/s;
            empty_gif;
        }

        location /burst {
            lgsp_service SVC.BURST;
            lgsp_quota 4r/h burst=2;
            empty_gif;
        }

        location /several {
            lgsp_service SVC.SEVERAL;
            lgsp_quota 3r/h;
            lgsp_quota 5r/d name=daily;
            empty_gif;
        }

        location /plan {
            lgsp_service SVC.PLAN;
            lgsp_quota ${plan}r/d;
            empty_gif;
        }

        location /bad-plan {
            lgsp_service SVC.BADPLAN;
            lgsp_quota $arg_rate;
            empty_gif;
        }

        location /by-key {
            lgsp_service SVC.KEY;
            lgsp_quota 2r/h key=$arg_dept;
            empty_gif;
        }

        location /exact {
            lgsp_service SVC.EXACT;
            lgsp_quota 40r/d;
            empty_gif;
        }

        location /proxied {
            lgsp_service SVC.PROXIED;
            lgsp_quota 2r/h;
            proxy_pass http://127.0.0.1:%%PORT_1%%/upstream;
        }

        location /redirect {
            lgsp_service SVC.REDIRECT;
            lgsp_quota 2r/h;
            proxy_pass http://127.0.0.1:%%PORT_1%%/missing;
            proxy_intercept_errors on;
            error_page 404 = @named;
        }

        # the same counter as /redirect: a second take would show
        location @named {
            lgsp_quota 2r/h key=SVC.REDIRECT;
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        location /upstream { lgsp_jwt off; return 200 "from upstream\n"; }
        location /missing { lgsp_jwt off; return 404; }
    }
EOF

my $a1 = token('AG.ONE');
my $a2 = token('AG.TWO');

sub statuses {
    my ($path, $auth, $n) = @_;
    return join ' ', map { $t->get($path, Authorization => $auth)->{status} }
                     1 .. $n;
}

is statuses('/hour', $a1, 5), '200 200 200 429 429',
   'exactly the quota passes in a window; the rest get 429';

{
    my $r = $t->get('/hour', Authorization => $a1);

    is $r->{status}, 429, 'still refused';
    is $r->{headers}{'content-type'}, 'application/problem+json',
       '429 is a problem+json document';
    is $r->{json}{type}, 'urn:lgsp:problem:quota-exceeded', 'problem type';
    is $r->{json}{limit}, 'hour', 'the problem names the limit';
    is $r->{json}{quota}, 3, 'and its quota';
    is $r->{json}{instance}, $r->{headers}{'x-lgsp-transaction-id'},
       'the problem names the transaction id';
    like $r->{headers}{'retry-after'}, qr/^\d+$/, 'Retry-After is given';
    ok $r->{headers}{'retry-after'} >= 1
       && $r->{headers}{'retry-after'} <= 3600,
       'Retry-After is within the window';
    is $r->{json}{retry_after}, $r->{headers}{'retry-after'},
       'the body and the header agree on when to retry';
    is $r->{headers}{'ratelimit-policy'}, '"hour";q=3;w=3600',
       'a refused answer carries RateLimit-Policy';
    like $r->{headers}{ratelimit}, qr/^"hour";r=0;t=\d+$/,
       'and RateLimit with nothing remaining';
}

{
    my $r = $t->get('/hour', Authorization => $a2);

    is $r->{status}, 200, 'another agency has its own count';
    is $r->{headers}{'ratelimit-policy'}, '"hour";q=3;w=3600',
       'an allowed answer carries RateLimit-Policy';
    like $r->{headers}{ratelimit}, qr/^"hour";r=2;t=\d+$/,
       'and RateLimit with what remains';
    is $r->{headers}{'x-remaining'}, 2, '$lgsp_quota_remaining is set';
}

is statuses('/other', $a1, 4), '200 200 200 429',
   'another service has its own count for the same agency';

is statuses('/by-key?dept=a', $a1, 3) . ' / ' . statuses('/by-key?dept=b', $a1, 3),
   '200 200 429 / 200 200 429', 'key= makes separate counters';

{
    my $r = $t->get('/proxied', Authorization => $a1);

    is $r->{status}, 200, 'a proxied request passes';
    is $r->{content}, "from upstream\n", 'and reaches the upstream';
    like $r->{headers}{ratelimit}, qr/^"hour";r=1;t=\d+$/,
         'an upstream answer carries RateLimit too';
}

is statuses('/redirect', $a1, 3), '200 200 429',
   'an internal redirect does not take the quota twice';

# the window rolls over: wait for the start of a second, then fill it
{
    # under valgrind the three calls may take long enough to end in the
    # next second; they are then made again at the start of another
    my $first;
    for (1 .. ($ENV{LGSP_VALGRIND} ? 5 : 1)) {
        sleep(1.05 - (time - int(time)));
        my $second = int(time);
        $first = statuses('/second', $a1, 3);
        last if int(time) == $second;
    }
    sleep(1.05 - (time - int(time)));
    my $next = statuses('/second', $a1, 2);

    is "$first / $next", '200 200 429 / 200 200',
       'a new window allows the full quota again';
}

is statuses('/burst', $a1, 8), '200 200 200 200 200 200 429 429',
   'an idle agency may burst: quota plus burst in the first window';

{
    is statuses('/several', $a1, 3), '200 200 200', 'both limits allow 3';

    my $r = $t->get('/several', Authorization => $a1);
    is $r->{status}, 429, 'the hourly limit refuses the 4th';
    is $r->{json}{limit}, 'hour', 'and is named';
    is $r->{headers}{'ratelimit-policy'},
       '"hour";q=3;w=3600, "daily";q=5;w=86400',
       'RateLimit-Policy lists every limit';
    like $r->{headers}{ratelimit}, qr/^"hour";r=0;t=\d+, "daily";r=2;t=\d+$/,
         'a request refused by one window consumed nothing from the other';
}

is statuses('/plan', token('AG.SUSPENDED'), 2), '429 429',
   'a plan of 0 refuses every request';
{
    my $r = $t->get('/plan', Authorization => token('AG.SUSPENDED'));
    like $r->{json}{detail}, qr/allows no requests/, 'and says so';
}

{
    my $r;
    $r = $t->get('/plan', Authorization => token('AG.UNLIMITED')) for 1 .. 8;
    is $r->{status}, 200, 'an empty plan means no limit';
    ok !exists $r->{headers}{'ratelimit-policy'},
       'and no RateLimit fields when no limit applies';
}

is statuses('/plan', token('AG.PLAIN'), 6), '200 200 200 200 200 429',
   'the default plan of the map applies';
is statuses('/plan', token('AG.GOLD'), 6), '200 200 200 200 200 200',
   'a bigger plan from the map allows more';
like $t->get('/plan', Authorization => token('AG.GOLD'))->{headers}{'ratelimit-policy'},
     qr/^"plan";q=50;w=86400$/, 'the policy shows the agency\'s own plan';

{
    my $r = $t->get('/bad-plan?rate=lots', Authorization => $a1);
    is $r->{status}, 500, 'a rate variable that is no rate is a 500';
    is $r->{json}{type}, 'urn:lgsp:problem:quota-misconfigured',
       'with a problem document';
    like $t->error_log, qr/invalid quota rate "lots"/, 'and an error line';
}

# two workers, many concurrent clients: exactly the quota passes
{
    my $tok = token('AG.EXACT');
    my @pids;

    pipe my $rd, my $wr or die;

    for my $c (1 .. 8) {
        my $pid = fork // die;
        if ($pid == 0) {
            close $rd;
            my @s = map { $t->get('/exact', Authorization => $tok)->{status} }
                    1 .. 10;
            print $wr "@s\n";
            close $wr;
            POSIX::_exit(0);    # no DESTROY: the parent's nginx lives on
        }
        push @pids, $pid;
    }

    close $wr;
    my @all = map { split ' ' } <$rd>;
    waitpid $_, 0 for @pids;

    is scalar(@all), 80, '80 requests answered';
    is scalar(grep { $_ == 200 } @all), 40, 'exactly 40 of them passed';
    is scalar(grep { $_ == 429 } @all), 40, 'the other 40 got 429';
}

ok $t->error_log_clean, 'no crash or alert in the error log';

done_testing;
