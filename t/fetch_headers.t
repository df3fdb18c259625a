#!/usr/bin/perl

# Documents the module fetches by subrequest (the JWKS from the SSO, the
# NDXP token) are the LGSP's own requests: none of the caller's headers
# (Authorization, Cookie, X-LGSP-*, anything else) and none of its body go
# with them, whatever the fetch location says: these locations have no
# proxy_pass_request_headers off.  The SSO and NDXP are recorders that
# keep every request as it arrived; the provider still gets the caller's
# own headers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use JSON::XS;
use MIME::Base64 qw(encode_base64);
use Test::More;

use LGSP::Test;

my $t = LGSP::Test->new;

my $key = Crypt::PK::RSA->new->generate_key(256);
my $consumer = 'lgsp-hanam:s3cr3t-C0nsumer-Value';

$t->write_file('jwks.json', encode_json({ keys => [
    { %{ $key->export_key_jwk('public', 1) }, kid => 'sso-1',
      use => 'sig', alg => 'RS256' } ] }));
$t->write_file('token.json', encode_json({ access_token => 'ndxp-token-1',
                                           token_type => 'Bearer',
                                           expires_in => 3600 }));
$t->write_file('ndxp.secret', "$consumer\n");

my %log = map { $_ => $t->dir . "/logs/$_.jsonl" } qw(sso ndxp provider);

$t->mock('mock/recorder.pl', $t->extra_port(1), $log{sso},
         $t->dir . '/conf/jwks.json');
$t->mock('mock/recorder.pl', $t->extra_port(2), $log{ndxp},
         $t->dir . '/conf/token.json');
$t->mock('mock/recorder.pl', $t->extra_port(3), $log{provider});

$t->start(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;

        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/jwks;
        }

        location /api/ {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_jwt on;
            lgsp_jwt_jwks_uri /_jwks;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_3%%;
        }

        location = /_ndxp/token {
            internal;
            lgsp_ndxp_credentials_file ndxp.secret;
            proxy_method POST;
            proxy_set_header Authorization "Basic $lgsp_ndxp_basic_auth";
            proxy_set_header Content-Type application/x-www-form-urlencoded;
            proxy_set_body "grant_type=client_credentials";
            proxy_pass http://127.0.0.1:%%PORT_2%%/token;
        }

        location /ndxp/ {
            lgsp_service BHXH.THE-BHYT.TRACUU;
            lgsp_allow_agency *;
            lgsp_ndxp_token_uri /_ndxp/token;
            proxy_set_header Authorization "Bearer $lgsp_ndxp_token";
            proxy_pass http://127.0.0.1:%%PORT_3%%;
        }
    }
EOF

my $token = encode_jwt(payload => { agency => 'H29.SO-TP', exp => time + 600 },
                       alg => 'RS256', key => $key,
                       extra_headers => { kid => 'sso-1' });

my $body = '{"hoTen":"Nguyen Van A","soCCCD":"001099000001"}';
my %caller = (
    'Authorization'   => "Bearer $token",
    'Cookie'          => 'session=caller-session-cookie',
    'X-LGSP-Agency'   => 'BO.CONG.AN',
    'X-Custom-Secret' => 'caller-custom-secret',
    'User-Agent'      => 'caller-agent/1.0',
    'Content-Type'    => 'application/json',
);

sub requests {
    my ($name) = @_;
    return map { decode_json($_) } split /\n/, $t->read_file($log{$name});
}

sub names {
    my ($req) = @_;
    return [ sort map { lc $_->[0] } @{ $req->{headers} } ];
}

# nothing of the caller anywhere in what the fetch sent
sub carries_nothing_of_the_caller {
    my ($req, $what) = @_;

    my $text = encode_json($req);
    my @found = grep { index($text, $_) >= 0 }
                ($token, 'caller-session-cookie', 'BO.CONG.AN',
                 'caller-custom-secret', 'caller-agent', 'Nguyen Van A');

    is_deeply \@found, [], "$what: no value of the caller's"
        or diag explain $req;
}

subtest 'the JWKS fetch' => sub {
    my $r = $t->request('POST', '/api/khaisinh', headers => \%caller,
                        body => $body);
    is $r->{status}, 200, 'the call passes with a key of the fetched set';

    my @fetches = requests('sso');
    is scalar(@fetches), 1, 'one fetch' or return;

    my $req = $fetches[0];
    is $req->{method}, 'GET', 'a GET';
    is_deeply names($req), [qw(connection host)],
        'with no header but Host and Connection' or diag explain $req;
    is $req->{body}, '', 'and no body';
    carries_nothing_of_the_caller($req, 'the JWKS fetch');
};

subtest 'the NDXP token fetch' => sub {
    my $r = $t->request('POST', '/ndxp/bhxh/the', headers => \%caller,
                        body => $body);
    is $r->{status}, 200, 'the call passes with the fetched token';

    my @fetches = requests('ndxp');
    is scalar(@fetches), 1, 'one fetch' or return;

    my $req = $fetches[0];
    my %h = map { lc $_->[0] => $_->[1] } @{ $req->{headers} };

    is $req->{method}, 'POST', 'a POST';
    is_deeply names($req),
        [qw(authorization connection content-length content-type host)],
        'with only the headers the location sets' or diag explain $req;
    is $h{authorization}, 'Basic ' . encode_base64($consumer, ''),
        'Authorization: the consumer key, not the caller\'s token';
    is $req->{body}, 'grant_type=client_credentials',
        'the location\'s body, not the caller\'s';
    carries_nothing_of_the_caller($req, 'the token fetch');
};

subtest 'the provider still gets what the caller sent' => sub {
    my @calls = requests('provider');
    is scalar(@calls), 2, 'both calls reached it';

    my %h = map { lc $_->[0] => $_->[1] } @{ $calls[1]{headers} };
    is $h{'x-custom-secret'}, 'caller-custom-secret', 'the caller\'s header';
    is $h{authorization}, 'Bearer ndxp-token-1', 'the NDXP token upstream';
    is $calls[1]{body}, $body, 'the caller\'s body';
};

ok $t->error_log_clean, 'no crash or alert';

$t->stop;

done_testing;
