#!/usr/bin/perl
# A mock agency system that fails on purpose, for the fault tests; the
# path says how:
#   /hang     reads the request and never answers (until the LGSP gives up)
#   /reset    reads the request and resets the connection (TCP RST)
#   /slow/MS  answers 200 after MS milliseconds
#   /garbage  answers bytes that are not HTTP
#   anything else: 200 at once
# Each connection is served by its own child, so a hung one holds no other.
#
#   faulty.pl PORT

use strict;
use warnings;

use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(sleep);

my ($port) = @ARGV;
die "usage: $0 PORT\n" unless $port;

my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $port, Listen => 128,
                                   ReuseAddr => 1)
    or die "listen on $port: $!";

$SIG{CHLD} = sub { 1 while waitpid(-1, WNOHANG) > 0 };
$SIG{TERM} = sub { kill 'TERM', -$$; exit 0 };
setpgrp(0, 0);

while (1) {
    my $c = $server->accept or next;
    my $pid = fork;

    if (defined $pid && $pid == 0) {
        $SIG{TERM} = 'DEFAULT';
        close $server;
        serve($c);
        exit 0;
    }

    close $c;
}


sub serve {
    my ($c) = @_;

    # the request line and headers; bodies are not needed here
    my $head = '';
    while (defined(my $line = <$c>)) {
        $head .= $line;
        last if $line =~ /^\r?\n$/;
    }

    my ($path) = $head =~ m{^\S+ (\S+)};
    $path //= '/';

    if ($path =~ m{^/hang}) {
        sleep 3600;

    } elsif ($path =~ m{^/reset}) {
        setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
        close $c;

    } elsif ($path =~ m{^/garbage}) {
        print $c "\x00\xffnot http at all\r\n\r\n";
        close $c;

    } else {
        sleep $1 / 1000 if $path =~ m{^/slow/(\d+)};
        my $body = qq({"path":"$path"});
        print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 . 'Content-Length: ' . length($body) . "\r\n"
                 . "Connection: close\r\n\r\n$body";
        close $c;
    }
}
