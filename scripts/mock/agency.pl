#!/usr/bin/perl
# A mock agency system for tests and the demo: answers every request with
# JSON that echoes what reached it (method, path, headers, body), so a test
# sees exactly what the LGSP sent upstream; "repeated" lists every value of
# a header that came more than once (headers holds the last).
#
#   agency.pl PORT [NAME] [WORKERS]

use strict;
use warnings;

use HTTP::Daemon;
use HTTP::Response;
use JSON::PP;

my ($port, $name, $workers) = @ARGV;
die "usage: $0 PORT [NAME] [WORKERS]\n" unless $port;
$name //= 'agency';
$workers //= 4;

my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                          ReuseAddr => 1, Listen => 128)
    or die "listen on $port: $!";

my $json = JSON::PP->new->canonical->utf8;
my @children;

$SIG{TERM} = sub { kill 'TERM', @children; exit 0 };

for (1 .. $workers) {
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        $SIG{TERM} = 'DEFAULT';
        serve();
        exit 0;
    }

    push @children, $pid;
}

1 while wait != -1;


sub serve {
    while (my $c = $d->accept) {
        while (my $req = $c->get_request) {
            my (%headers, %repeated);
            $req->headers->scan(sub {
                my $name = lc $_[0];

                # a header that came more than once: all its values
                push @{ $repeated{$name} }, $headers{$name}
                    if exists $headers{$name} && !$repeated{$name};
                push @{ $repeated{$name} }, $_[1] if $repeated{$name};
                $headers{$name} = $_[1];
            });

            my $body = $json->encode({
                system   => $name,
                method   => $req->method,
                path     => $req->uri->path,
                query    => $req->uri->query // '',
                headers  => \%headers,
                repeated => \%repeated,
                body     => $req->content,
            });

            my $res = HTTP::Response->new(200, 'OK',
                ['Content-Type' => 'application/json'], $body);
            $c->send_response($res);
        }

        $c->close;
    }
}
