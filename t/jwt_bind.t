#!/usr/bin/perl

# Certificate-bound access tokens (RFC 8705, lgsp_jwt_bind) over nginx's
# own TLS: a token whose cnf claim names the SHA-256 thumbprint of agency
# A's client certificate passes only on a connection that presented that
# certificate; from agency B's certificate, without a certificate or over
# plain HTTP it is 401 invalid_token, also when the verified-token cache
# already holds it.  "cert required" refuses tokens that are not bound.
# Certificates are made by the openssl command, calls made by curl --cert.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha256);
use JSON::XS;
use MIME::Base64 qw(encode_base64url);
use Test::More;

use LGSP::Test;
use LGSP::Token qw(mint);

my $t = LGSP::Test->new;
my $conf = $t->dir . '/conf';
my $secret = 'bind-test-secret-of-at-least-32-bytes!!';

$t->write_file('hs.key', $secret);

sub openssl {
    my ($args) = @_;
    system("openssl $args >/dev/null 2>&1") == 0 or die "openssl $args";
}

# a CA for the agencies, a server certificate, agencies A and B
openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        . " -keyout $conf/ca.key -out $conf/ca.pem -days 2"
        . " -subj /CN=LGSP-test-agencies");
openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        . " -keyout $conf/server.key -out $conf/server.pem -days 2"
        . " -subj /CN=127.0.0.1");

for my $agency (qw(a b)) {
    openssl("req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
            . " -keyout $conf/$agency.key -out $conf/$agency.csr"
            . " -subj /CN=agency-$agency");
    openssl("x509 -req -in $conf/$agency.csr -CA $conf/ca.pem"
            . " -CAkey $conf/ca.key -CAcreateserial -days 2"
            . " -out $conf/$agency.pem");
}

# RFC 8705 3.1: base64url SHA-256 of the certificate's DER
sub thumbprint {
    my ($agency) = @_;
    my $der = `openssl x509 -in $conf/$agency.pem -outform DER`;
    return encode_base64url(sha256($der));
}

sub token {
    my (%claims) = @_;
    return mint(alg => 'HS256', key => $secret,
                claims => { agency => 'H29.SO-TP', %claims });
}

$t->start(<<'EOF');
    lgsp_jwt_cache zone=jwt:1m;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        listen 127.0.0.1:%%PORT_1%% ssl;

        ssl_certificate server.pem;
        ssl_certificate_key server.key;
        ssl_client_certificate ca.pem;
        ssl_verify_client optional;

        location /bound/ {
            lgsp_jwt on;
            lgsp_jwt_bind cert;
            empty_gif;
        }

        location /required/ {
            lgsp_jwt on;
            lgsp_jwt_bind cert required;
            empty_gif;
        }

        location /unbound/ {
            lgsp_jwt on;
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%% ssl;

        ssl_certificate server.pem;
        ssl_certificate_key server.key;
        ssl_client_certificate ca.pem;
        ssl_verify_client on;

        lgsp_jwt on;
        lgsp_jwt_bind cert required;

        location / {
            empty_gif;
        }
    }
EOF

# a call by curl over TLS, with agency A's or B's certificate or none
sub call {
    my ($path, $token, $cert, $port) = @_;

    $port //= $t->extra_port(1);
    my $scheme = $port == $t->port ? 'http' : 'https';
    my $with = $cert ? "--cert $conf/$cert.pem --key $conf/$cert.key" : '';
    my $out = `curl -sk $with -H 'Authorization: Bearer $token' -D - \\
               $scheme://127.0.0.1:$port$path`;

    my ($status) = $out =~ m{^HTTP/\S+ (\d+)};
    my ($www) = $out =~ m{^www-authenticate: ([^\r\n]*)}mi;
    my ($body) = $out =~ m{\r\n\r\n(.*)\z}s;

    return { status => $status // 0, www => $www // '',
             json => eval { decode_json($body) } || {} };
}

my $bound_a = token(cnf => { 'x5t#S256' => thumbprint('a') });

my $r = call('/bound/x', $bound_a, 'a');
is $r->{status}, 200, "a token bound to A's certificate passes from A";

$r = call('/bound/x', $bound_a, 'b');
is $r->{status}, 401, "from B's certificate (same CA) it is 401";
like $r->{www}, qr/error="invalid_token"/, 'invalid_token';
like $r->{json}{detail} // '', qr/bound to another client certificate/,
    'the problem says why';
is $r->{json}{type} // '', 'urn:lgsp:problem:invalid-token',
    'an invalid-token problem'
    or diag explain $r->{json};

$r = call('/bound/x', $bound_a);
is $r->{status}, 401, 'without a client certificate it is 401';
like $r->{json}{detail} // '', qr/did not present/, 'saying none came';

is call('/bound/x', $bound_a, undef, $t->port)->{status}, 401,
    'over plain HTTP it is 401';

# the verified-token cache holds the token since A's call: still per request
is call('/bound/x', $bound_a, 'b')->{status}, 401,
    "cached, the token from B's certificate is still refused";
is call('/bound/x', $bound_a, 'a')->{status}, 200, 'and from A it passes';
is call('/bound/x', $bound_a)->{status}, 401,
    'and without a certificate is refused, cached';

my $plain = token();
is call('/bound/x', $plain, 'b')->{status}, 200,
    'lgsp_jwt_bind cert: a token without cnf still passes';

$r = call('/required/x', $plain, 'a');
is $r->{status}, 401, 'lgsp_jwt_bind cert required: a token without cnf is 401';
like $r->{json}{detail} // '', qr/not bound to a client certificate/,
    'saying it is not bound';
is call('/required/x', $bound_a, 'a')->{status}, 200,
    'and the bound token passes from A';

$r = call('/bound/x', token(cnf => { 'x5t#S256' => 'not-a-thumbprint' }), 'a');
is $r->{status}, 401, 'a cnf without a well-formed x5t#S256 is 401';

is call('/unbound/x', $bound_a, 'b')->{status}, 200,
    'lgsp_jwt_bind off (the default) does not look at cnf';

# ssl_verify_client on
my $port = $t->extra_port(2);
is call('/x', $bound_a, 'a', $port)->{status}, 200,
    'ssl_verify_client on: A passes with its bound token';
is call('/x', $bound_a, 'b', $port)->{status}, 401, 'B does not';
is call('/x', token(cnf => { 'x5t#S256' => thumbprint('b') }), 'b',
        $port)->{status}, 200, "B passes with a token bound to B's certificate";

ok $t->error_log_clean, 'no crash or alert in the error log'
    or diag $t->error_log;

$t->stop;

my ($ok, $out) = $t->test_config(<<'EOF');
    lgsp_jwt_key_file hs.key;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_jwt on; lgsp_jwt_bind cert optional; empty_gif; }
    }
EOF
ok !$ok, 'nginx -t refuses lgsp_jwt_bind cert optional';
like $out, qr/invalid value "cert optional": use off, cert or cert required/,
    'saying what it takes';
like $out, qr{in \S+/conf/nginx\.conf:\d+}, 'naming file and line';

done_testing;
