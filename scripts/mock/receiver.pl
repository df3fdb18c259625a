#!/usr/bin/perl
# A mock providing system for guaranteed delivery: appends every request
# that reaches it to LOG as one JSON line (time, method, path, query,
# body and the headers the LGSP sends) and answers STATUS with a small
# JSON body; a test reads LOG to count deliveries by Idempotency-Key.
# One request at a time, so LOG is in the order requests arrived.
#
#   receiver.pl PORT LOG [STATUS] [RETRY_AFTER] [DELAY_SECONDS]

use strict;
use warnings;

use HTTP::Daemon;
use HTTP::Response;
use IO::Handle;
use JSON::PP;
use Time::HiRes qw(time sleep);

my ($port, $log, $status, $retry_after, $delay) = @ARGV;
die "usage: $0 PORT LOG [STATUS] [RETRY_AFTER] [DELAY]\n" unless $log;
$status ||= 201;

my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                          ReuseAddr => 1, Listen => 128)
    or die "listen on $port: $!";

my $json = JSON::PP->new->canonical->utf8;

open my $out, '>>', $log or die "$log: $!";
$out->autoflush(1);

$SIG{TERM} = sub { exit 0 };

# a delivery cut off by a crash must not take the mock down with it
$SIG{PIPE} = 'IGNORE';

while (my $c = $d->accept) {
    while (my $req = $c->get_request) {
        my $key = $req->header('Idempotency-Key') // '';

        print $out $json->encode({
            time    => time,
            method  => $req->method,
            path    => $req->uri->path,
            query   => $req->uri->query // '',
            body    => $req->content,
            type    => $req->header('Content-Type') // '',
            key     => $key,
            txid    => $req->header('X-LGSP-Transaction-ID') // '',
            agency  => $req->header('X-LGSP-Agency') // '',
            service => $req->header('X-LGSP-Service') // '',
        }), "\n";

        sleep $delay if $delay;

        my @headers = ('Content-Type' => 'application/json');
        push @headers, 'Retry-After' => $retry_after if $retry_after;

        $c->send_response(HTTP::Response->new($status, 'Answer', \@headers,
                                              qq({"received":"$key"})));
    }

    $c->close;
}
