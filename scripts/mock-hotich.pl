#!/usr/bin/perl

# A mock of a province's civil registry (ho tich) system, the provider
# behind the LGSP.  It registers births and echoes what the LGSP told it
# (X-LGSP-* headers), so tests and the demo can show it.
#
#   scripts/mock-hotich.pl PORT
#
#   POST /hotich/khaisinh   a birth (JSON): answers 201 with the new
#                           record's personal id number
#   any other request       200 with the X-LGSP-* headers it got

use strict;
use warnings;

use HTTP::Daemon;
use HTTP::Response;
use JSON::XS;

my $port = shift or die "usage: $0 PORT\n";

my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                          ReuseAddr => 1)
    or die "mock-hotich: cannot listen on $port: $!\n";

my $json = JSON::XS->new->canonical;
my $seq = 0;

$SIG{TERM} = sub { exit 0 };

while (my $c = $d->accept) {
    while (my $req = $c->get_request) {
        my %lgsp = (
            agency  => $req->header('X-LGSP-Agency') // '',
            service => $req->header('X-LGSP-Service') // '',
            txid    => $req->header('X-LGSP-Transaction-ID') // '',
            spoof   => $req->header('X-LGSP-Role') // '',
        );

        my ($status, $body);

        if ($req->method eq 'POST' && $req->uri->path eq '/hotich/khaisinh') {
            my $birth = eval { $json->decode($req->content) } || {};
            my $child = $birth->{nguoiDuocKhaiSinh} || {};
            $seq++;
            $status = 201;
            $body = {
                maHoSo     => $birth->{maHoSo} // '',
                soDinhDanh => sprintf('0012260%05d', $seq),
                hoTen      => $child->{hoTen} // '',
                ngaySinh   => $child->{ngaySinh} // '',
                lgsp       => \%lgsp,
            };

        } else {
            $status = 200;
            $body = { path => $req->uri->path, lgsp => \%lgsp };
        }

        my $res = HTTP::Response->new($status);
        $res->header('Content-Type' => 'application/json');
        $res->content($json->encode($body));

        # one request a connection: a single process must not wait on an
        # idle keepalive connection (nginx 1.29 and later speak HTTP/1.1
        # upstream)
        $c->force_last_request;
        $c->send_response($res);
    }

    $c->close;
}
