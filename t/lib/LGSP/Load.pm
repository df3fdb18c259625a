package LGSP::Load;

# Load for the fault tests: forked clients that call the test's nginx in
# a loop until stopped, and count the answers by status (599: HTTP::Tiny
# could not get one, e.g. a connection reset).  A client stops by itself
# after seconds => N (600), should the test die before stopping it.
#
#   my $load = LGSP::Load->start($t, clients => 4, path => '/x',
#                                headers => { Authorization => ... });
#   ... signal nginx, kill a worker ...
#   my %status = $load->stop;      # (200 => 1234, 599 => 1)

use strict;
use warnings;

use HTTP::Tiny;
use POSIX qw(_exit);
use Time::HiRes qw(time);


sub start {
    my ($class, $t, %opt) = @_;

    my $self = bless { t => $t, pids => [], n => 0,
                       stop => $t->dir . "/load.stop.$$." . ++$LGSP::Load::n },
                     $class;
    my $url = 'http://127.0.0.1:' . $t->port . ($opt{path} // '/');
    my $end = time + ($opt{seconds} || 600);

    for my $i (1 .. $opt{clients} || 4) {
        my $pid = fork // die "fork: $!";

        if ($pid == 0) {
            my (%count, $http);

            # a connection per request: an idle keepalive connection that
            # nginx closes as a client reuses it is a race every client
            # must answer by retrying (RFC 9112 9.3.1); here any failure is
            # nginx's own
            $http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);

            # the stop file, not a signal: a request is never cut short
            until (-e $self->{stop} || time > $end) {
                my $r = $http->request($opt{method} // 'GET', $url, {
                    headers => $opt{headers} || {},
                    defined $opt{body} ? (content => $opt{body}) : (),
                });
                $count{$r->{status}}++;
            }

            open my $fh, '>', "$self->{stop}.$i" or _exit(1);
            print $fh "$_ $count{$_}\n" for keys %count;
            close $fh;
            _exit(0);
        }

        push @{ $self->{pids} }, $pid;
    }

    return $self;
}


# stops the clients; their counts, added up, by status
sub stop {
    my ($self) = @_;
    my %total;

    open my $fh, '>', $self->{stop} or die "$self->{stop}: $!";
    close $fh;

    waitpid $_, 0 for @{ $self->{pids} };

    for my $file (glob "$self->{stop}.*") {
        open my $in, '<', $file or next;
        while (<$in>) {
            my ($status, $n) = split;
            $total{$status} += $n;
        }
        close $in;
        unlink $file;
    }

    unlink $self->{stop};
    $self->{pids} = [];

    return %total;
}


# the requests answered with a status other than 2xx
sub failures {
    my (%status) = @_;
    my $n = 0;
    $n += $status{$_} for grep { !/^2/ } keys %status;
    return $n;
}


1;
