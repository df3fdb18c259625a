# The harness itself: whatever a test starts is gone when it ends, even a
# worker whose master died, what a helper script started in the
# background, and everything of a test interrupted with Ctrl-C.  A full
# run left orphaned nginx workers behind, holding ports, before.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;

my $http = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "up\n"; }
    }
EOF

sub workers_of {
    my ($master) = @_;
    return map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $master`;
}

# alive and not a zombie
sub alive {
    my ($pid) = @_;
    my $status = LGSP::Test::read_file(undef, "/proc/$pid/status");
    return $status =~ /^State:\s+[^Z]/m;
}

sub gone {
    my @pids = @_;

    return LGSP::Test->wait_for(sub { !grep { alive($_) } @pids });
}

subtest 'a worker whose master was killed' => sub {
    my $t = LGSP::Test->new(workers => 2);
    $t->start($http);

    my $master = $t->{nginx};
    my @workers = workers_of($master);
    is scalar @workers, 2, 'two workers';

    kill 'KILL', $master;
    waitpid $master, 0;
    ok alive($workers[0]), 'the workers outlive their master';

    $t->stop;
    ok gone(@workers), 'stop() ends them';
};

subtest 'what a helper script starts in the background' => sub {
    my $t = LGSP::Test->new;
    my $pidfile = $t->dir . '/sleeper.pid';

    $t->spawn('sh', '-c', "sleep 300 & echo \$! > $pidfile; wait");
    ok $t->wait_for(sub { -s $pidfile }), 'the script started its child';

    my $sleeper = $t->read_file('sleeper.pid') =~ s/\s+//gr;
    ok alive($sleeper), 'which runs';

    $t->stop;
    ok gone($sleeper), 'stop() ends it with the script';
};

subtest 'a test interrupted with Ctrl-C' => sub {
    my $t = LGSP::Test->new;
    my $out = $t->dir . '/interrupted.out';

    # another test: starts its nginx, says its pids, waits
    my $script = $t->write_file('interrupted.t', <<"EOF");
use lib '$LGSP::Test::REPO/t/lib';
use LGSP::Test;
my \$t = LGSP::Test->new;
\$t->start(<<'CONF');
$http
CONF
my \@w = map { /(\\d+)/ ? \$1 : () } `ps -o pid= --ppid \$t->{nginx}`;
open my \$fh, '>', '$out.new' or die;
print \$fh "\$t->{nginx} \@w\\n";
close \$fh;
rename '$out.new', '$out';
sleep 300;
EOF
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>>', $t->dir . '/logs/interrupted.log';
        open STDERR, '>&', \*STDOUT;
        exec $^X, $script;
    }

    ok $t->wait_for(sub { -s $out }, 30), 'its nginx runs';

    my @pids = split ' ', $t->read_file('interrupted.out');
    ok alive($_), "process $_ runs" for @pids;

    kill 'INT', $pid;
    waitpid $pid, 0;
    ok gone(@pids), 'the interrupted test stopped its nginx, workers too';
};

done_testing;
