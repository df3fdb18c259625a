#!/usr/bin/perl
# A mock system that records every request exactly as it arrived: header
# names as spelled on the wire (X_LGSP_Agency stays X_LGSP_Agency), in
# order, repeats kept, and the body.  Each request appends one JSON line
# to LOG; the answer is 200 with ANSWER's content (a JWKS, a token...) or,
# without ANSWER, the same JSON.  A test reads LOG to see what reached
# the system, and how many requests did.
#
#   recorder.pl PORT LOG [ANSWER]

use strict;
use warnings;

use Fcntl qw(:flock);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;

my ($port, $log, $answer_file) = @ARGV;
die "usage: $0 PORT LOG [ANSWER]\n" unless $port && $log;

my $answer;
if (defined $answer_file) {
    open my $fh, '<:raw', $answer_file or die "$answer_file: $!";
    local $/;
    $answer = <$fh>;
}

my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $port, Proto => 'tcp',
                                   ReuseAddr => 1, Listen => 128)
    or die "listen on $port: $!";

my $json = JSON::PP->new->canonical->utf8;

$SIG{CHLD} = 'IGNORE';

while (1) {
    my $c = $listen->accept or next;
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        close $listen;
        serve($c);
        exit 0;
    }

    close $c;
}


# one request per connection (nginx's proxy speaks HTTP/1.0 by default)
sub serve {
    my ($c) = @_;
    my $in = '';
    my $sel = IO::Select->new($c);

    # the head, then as much body as Content-Length announces; a body
    # announced but never sent is recorded as what came within 2 s
    until ($in =~ /\r?\n\r?\n/) {
        return unless $sel->can_read(5) && sysread($c, $in, 65536, length $in);
    }

    my ($head, $body) = split /\r?\n\r?\n/, $in, 2;
    my ($line, @lines) = split /\r?\n/, $head;
    my ($method, $target) = split / /, $line;
    my @headers = map { [ /^([^:]*):[ \t]*(.*)$/ ] } @lines;
    my ($length) = map { $_->[1] } grep { lc $_->[0] eq 'content-length' }
                   @headers;

    while (defined $length && length($body) < $length) {
        last unless $sel->can_read(2) && sysread($c, $body, 65536, length $body);
    }

    my $record = $json->encode({ method => $method, target => $target,
                                 headers => \@headers, body => $body });

    open my $fh, '>>:raw', $log or die "$log: $!";
    flock $fh, LOCK_EX;
    print $fh "$record\n";
    close $fh;

    my $content = $answer // $record;
    print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             . 'Content-Length: ' . length($content)
             . "\r\nConnection: close\r\n\r\n$content";
    close $c;
}
