#!/usr/bin/perl

# A mock of the national social insurance (BHXH) system that issues a
# child's health insurance card, the receiving end of the demo's liên
# thông flow.  It keeps the Idempotency-Key of every card it issued, so a
# delivery that comes twice issues one card.
#
#   scripts/mock-bhxh.pl PORT
#
#   POST /bhxh/cap-the-bhyt   a child (JSON): answers 201 with the card
#   any other request         404

use strict;
use warnings;

use HTTP::Daemon;
use HTTP::Response;
use JSON::XS;

my $port = shift or die "usage: $0 PORT\n";

my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                          ReuseAddr => 1)
    or die "mock-bhxh: cannot listen on $port: $!\n";

my $json = JSON::XS->new->canonical;
my %issued;

$SIG{TERM} = sub { exit 0 };

while (my $c = $d->accept) {
    while (my $req = $c->get_request) {
        my ($status, $body);

        if ($req->method eq 'POST'
            && $req->uri->path eq '/bhxh/cap-the-bhyt')
        {
            my $child = eval { $json->decode($req->content) } || {};
            my $key = $req->header('Idempotency-Key') // '';

            my $n = keys %issued;

            $issued{$key} //= {
                soTheBhyt  => sprintf('TE1%012d', $n + 1),
                maDinhDanh => $child->{maDinhDanh} // '',
                hoTen      => $child->{hoTen} // '',
            };

            $status = 201;
            $body = { %{ $issued{$key} },
                      agency => $req->header('X-LGSP-Agency') // '' };

        } else {
            $status = 404;
            $body = { path => $req->uri->path };
        }

        my $res = HTTP::Response->new($status);
        $res->header('Content-Type' => 'application/json');
        $res->content($json->encode($body));

        $c->force_last_request;
        $c->send_response($res);
    }

    $c->close;
}
