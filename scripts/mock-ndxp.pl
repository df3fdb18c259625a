#!/usr/bin/perl

# A mock of the national data exchange platform (NDXP), a WSO2-style
# gateway, with the national social insurance (BHXH) health insurance card
# service behind it.
#
#   scripts/mock-ndxp.pl PORT CONSUMER_KEY:CONSUMER_SECRET
#
#   POST /token                 OAuth2 client credentials (Basic auth,
#                               grant_type=client_credentials)
#   GET  /bhxh/1.0/the-bhyt?maDinhDanh=...
#                               the card of a person; needs a Bearer token
#                               this mock issued and has not revoked
#   POST /admin/mode            body "name=value&...": token=ok|garbage|
#                               error, token_delay=seconds, expires_in=N
#   POST /admin/revoke          revokes every token issued so far
#   GET  /admin/stats           {"token_fetches":N,"api_calls":N}

use strict;
use warnings;

use HTTP::Daemon;
use HTTP::Response;
use JSON::XS;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(sleep);
use URI;

my ($port, $consumer) = @ARGV;
die "usage: $0 PORT KEY:SECRET\n" unless $port && $consumer;

my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                          ReuseAddr => 1, Listen => 128)
    or die "mock-ndxp: cannot listen on $port: $!\n";

my $json = JSON::XS->new->canonical;
my $basic = 'Basic ' . encode_base64($consumer, '');

my %mode = (token => 'ok', token_delay => 0, expires_in => 3600);
my %tokens;                     # token -> expiry time
my %stats = (token_fetches => 0, api_calls => 0);
my $seq = 0;

$SIG{TERM} = sub { exit 0 };

sub answer {
    my ($c, $status, $body, %headers) = @_;

    my $res = HTTP::Response->new($status);
    $res->header('Content-Type' => 'application/json', %headers);
    $res->content(ref $body ? $json->encode($body) : $body);

    # one request a connection: a single process must not wait on an idle
    # keepalive connection (nginx 1.29 and later speak HTTP/1.1 upstream)
    $c->force_last_request;
    $c->send_response($res);
}

sub token {
    my ($c, $req) = @_;

    $stats{token_fetches}++;
    sleep $mode{token_delay} if $mode{token_delay};

    if (($req->header('Authorization') // '') ne $basic
        || ($req->content // '') !~ /\bgrant_type=client_credentials\b/)
    {
        return answer($c, 401, { error => 'invalid_client' });
    }

    return answer($c, 500, { error => 'server_error' })
        if $mode{token} eq 'error';

    return answer($c, 200, '<html><body>Maintenance</body></html>',
                  'Content-Type' => 'text/html')
        if $mode{token} eq 'garbage';

    my $token = sprintf 'ndxp-%04d-%08x', ++$seq, int rand 0xffffffff;
    $tokens{$token} = time + $mode{expires_in};

    return answer($c, 200, { access_token => $token, token_type => 'Bearer',
                             expires_in => $mode{expires_in} + 0,
                             scope => 'default' });
}

sub card {
    my ($c, $req) = @_;

    $stats{api_calls}++;

    my ($token) = ($req->header('Authorization') // '') =~ /^Bearer (\S+)$/;

    if (!$token || !$tokens{$token} || $tokens{$token} < time) {
        return answer($c, 401, { code => 900901,
                                 message => 'Invalid Credentials' },
                      'WWW-Authenticate' => 'Bearer realm="ndxp"');
    }

    my %q = URI->new($req->uri)->query_form;

    return answer($c, 200, {
        maDinhDanh => $q{maDinhDanh} // '',
        maTheBHYT  => 'TE1' . substr(($q{maDinhDanh} // '') . '0' x 12, 0, 12),
        noiDKKCB   => 'Benh vien Nhi tinh',
        giaTriTu   => '2026-01-01',
        token      => $token,
        lgsp       => {
            agency  => $req->header('X-LGSP-Agency') // '',
            service => $req->header('X-LGSP-Service') // '',
            txid    => $req->header('X-LGSP-Transaction-ID') // '',
        },
    });
}

while (my $c = $d->accept) {
    while (my $req = $c->get_request) {
        my $path = $req->uri->path;

        if ($path eq '/token' && $req->method eq 'POST') {
            token($c, $req);

        } elsif ($path =~ m{^/bhxh/1\.0/the-bhyt}) {
            card($c, $req);

        } elsif ($path eq '/admin/mode') {
            my %set = URI->new('?' . $req->content)->query_form;
            @mode{keys %set} = values %set;
            answer($c, 200, \%mode);

        } elsif ($path eq '/admin/revoke') {
            %tokens = ();
            answer($c, 200, {});

        } elsif ($path eq '/admin/stats') {
            answer($c, 200, \%stats);

        } else {
            answer($c, 404, { error => 'not found' });
        }
    }

    $c->close;
}
