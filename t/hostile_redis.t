# A hostile or broken Redis: the gateway's Redis is a fake one, written
# below, that answers the quota script with more replies than were asked
# for, with numbers no quota allows, with garbage, with half a reply (then
# stalls, then closes), or with headers that announce two billion elements
# or a gigabyte.  No worker may die: each of these is an error of that
# connection, dropped and counted; the requests waiting on it are answered
# as lgsp_quota_fallback says, and numbers from Redis are held to what the
# quota makes possible.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'hostile-redis-secret-' . ('r' x 32);
my $auth = bearer($secret, 'AG.HOSTILE');

# The fake Redis: `perl -e` runs it with its port and its mode.  It reads
# RESP commands, answers SCRIPT LOAD as Redis does, and the quota script
# (EVALSHA or EVAL) as the mode says; a real answer, per request in the
# batch, is its refusing index, then allowed, used and reset_ms per limit.
my $fake_redis = <<'EOF';
use strict;
use warnings;
use Digest::SHA qw(sha1_hex);
use IO::Select;
use IO::Socket::INET;

my ($port, $mode) = @ARGV;
my $max = '9223372036854775807';

my $listen = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
                                   Listen => 64, ReuseAddr => 1)
    or die "listen: $!";
my $select = IO::Select->new($listen);
my %in;

# one command off the front of the buffer, or none yet
sub command {
    my ($buf) = @_;

    $$buf =~ /\A\*(\d+)\r\n/ or return;
    my ($n, $pos, @args) = ($1, $+[0]);

    for (1 .. $n) {
        substr($$buf, $pos) =~ /\A\$(\d+)\r\n/ or return;
        my $len = $1;
        $pos += $+[0];
        return if length($$buf) < $pos + $len + 2;
        push @args, substr($$buf, $pos, $len);
        $pos += $len + 2;
    }

    substr($$buf, 0, $pos) = '';
    return \@args;
}

sub script_answer {
    my ($cmd) = @_;
    my @argv = @$cmd[3 + $cmd->[2] .. $#$cmd];
    my @out;

    while (@argv) {
        my $n = shift @argv;
        my @limits = splice @argv, 0, 3 * $n;

        if ($mode eq 'huge') {
            push @out, 1, ($max) x (3 * $n);
        } else {
            push @out, 0, map { ($limits[3 * $_], 1, 1000) } 0 .. $n - 1;
        }
    }

    my $reply = '*' . @out . "\r\n" . join '', map { ":$_\r\n" } @out;

    return {
        extra   => "$reply:1\r\n",
        huge    => $reply,
        garbage => "HTTP/1.1 400 Bad Request\r\n\r\n",
        digits  => "*4\r\n:0\r\n:99999999999999999999999\r\n:1\r\n:1\r\n",
        half    => substr($reply, 0, length($reply) - 3),
        array   => "*2147483647\r\n",
        bulk    => "\$999999999\r\n" . ('x' x 1000),
    }->{$mode};
}

for (;;) {
    for my $s ($select->can_read) {
        if ($s == $listen) {
            my $c = $listen->accept or next;
            $select->add($c);
            $in{fileno $c} = '';
            next;
        }

        my $buf = \$in{fileno $s};

        unless (sysread $s, $$buf, 65536, length $$buf) {
            $select->remove($s);
            close $s;
            next;
        }

        while (my $cmd = command($buf)) {
            if (uc $cmd->[0] eq 'SCRIPT') {
                syswrite $s, "\$40\r\n" . sha1_hex($cmd->[2]) . "\r\n";
                next;
            }

            syswrite $s, script_answer($cmd);

            if ($mode eq 'half') {
                sleep 1;
                $select->remove($s);
                close $s;
                last;
            }
        }
    }
}
EOF

# a gateway of two workers whose Redis is the fake one in the given mode
sub gateway {
    my ($mode) = @_;

    my $t = LGSP::Test->new(workers => 2);
    $t->write_file('hs.key', $secret);

    my $port = $t->extra_port(1);
    my $pid = $t->spawn($^X, '-e', $fake_redis, $port, $mode);
    LGSP::Test::wait_port($port, $pid) or die 'the fake Redis did not start';

    # under valgrind nginx is 20-50 times slower: a reply must not time out
    my $timeout = $ENV{LGSP_VALGRIND} ? '5s' : '300ms';

    $t->start(<<"EOF");
    lgsp_redis 127.0.0.1:%%PORT_1%% timeout=$timeout;
    lgsp_quota_zone quotas:1m;

    lgsp_jwt on;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location /local {
            lgsp_service SVC.LOCAL;
            lgsp_quota 3r/m;
            empty_gif;
        }

        location /deny {
            lgsp_service SVC.DENY;
            lgsp_quota 100r/m;
            lgsp_quota_fallback deny;
            empty_gif;
        }

        location = /metrics {
            lgsp_jwt off;
            lgsp_metrics;
        }
    }
EOF

    return $t;
}

sub metric {
    my ($t, $name) = @_;
    my $text = $t->get('/metrics')->{content} // '';
    return $text =~ /^\Q$name\E (\S+)$/m ? $1 : 0;
}

# the statuses of n requests, and the problem types of those refused
sub answers {
    my ($t, $path, $n) = @_;
    my (@status, %type);

    for (1 .. $n) {
        my $r = $t->get($path, Authorization => $auth);
        push @status, $r->{status};
        $type{ $r->{json}{type} =~ s{^urn:lgsp:problem:}{}r }++ if $r->{json};
    }

    return (\@status, \%type);
}

# what every case must show: no worker died, the error was counted
sub survived {
    my ($t, $reason) = @_;

    ok $t->error_log !~ /exited on signal/, 'no worker exited on a signal';
    ok $t->error_log_clean, 'no alert or crash in the error log';
    cmp_ok metric($t, 'lgsp_redis_errors_total{kind="protocol"}'), '>=', 1,
        'the broken connection is counted: kind="protocol"';
    ok $t->error_log =~ /lgsp: redis \S+ failed: \Q$reason\E/,
        "the error log says why: $reason";
}


subtest 'more replies than commands: the connection is dropped' => sub {
    my $t = gateway('extra');

    my ($status, $type) = answers($t, '/deny', 12);

    is $status->[0], 200, 'the first request is counted by the reply it got';
    is_deeply [ grep { $_ != 200 && $_ != 429 } @$status ], [],
        'every request is answered: 200, or 429 while Redis is dropped';
    is_deeply [ grep { $_ ne 'quota-unavailable' } keys %$type ], [],
        'a 429 is the deny fallback\'s quota-unavailable';

    survived($t, 'a reply no command asked for');
};


subtest 'numbers beyond any quota are clamped to it' => sub {
    my $t = gateway('huge');

    my $r = $t->get('/local', Authorization => $auth);

    is $r->{status}, 429, 'refused, as the script said';
    is $r->{json}{type}, 'urn:lgsp:problem:quota-exceeded', 'quota-exceeded';
    is $r->{headers}{'retry-after'}, 60,
        'Retry-After: a reset_ms of INT64_MAX is at most the 1-minute window';
    is $r->{json}{retry_after}, 60, 'so is the problem\'s retry_after';
    like $r->{headers}{ratelimit}, qr/;r=0;t=60$/,
        'RateLimit: nothing remains, for at most the window';

    ok $t->error_log !~ /exited on signal/, 'no worker exited on a signal';
    ok $t->error_log_clean, 'no alert or crash in the error log';
};


for my $case (
    [ garbage => 'not a reply type', 'an HTTP answer instead of RESP' ],
    [ digits  => 'integer out of range', 'an integer of 23 digits' ],
    [ array   => 'too many elements', 'an array header of 2147483647' ],
    [ bulk    => 'bulk string too long', 'a bulk header of 999999999' ],
    [ half    => 'command timed out',
      'half a reply, a stall, then the connection closed' ],
) {
    my ($mode, $reason, $name) = @$case;

    subtest "$name: the fallback answers" => sub {
        my $t = gateway($mode);

        my ($status, $type) = answers($t, '/deny', 4);
        is "@$status", '429 429 429 429', 'deny: every request is refused';
        is_deeply [ keys %$type ], ['quota-unavailable'],
            'as quota-unavailable';

        ($status) = answers($t, '/local', 4);
        is "@$status", '200 200 200 429',
            'local: counted in the local zone, 3r/m';

        if ($mode eq 'half') {
            ok $t->error_log !~ /exited on signal/,
                'no worker exited on a signal';
            ok $t->error_log_clean, 'no alert or crash in the error log';
            # the timeout, or the close after the stall under valgrind
            cmp_ok metric($t, 'lgsp_redis_errors_total{kind="timeout"}')
                   + metric($t, 'lgsp_redis_errors_total{kind="connection"}'),
                '>=', 1, 'the stalled connection is counted';
            return;
        }

        survived($t, $reason);
    };
}

done_testing;
