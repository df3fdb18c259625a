#!/usr/bin/perl

# Key sets as identity providers publish them and tokens as RFC 9068 and
# RFC 9864 describe them:
# - a JWKS key file with keys the module cannot use: those are skipped
#   with one notice (RFC 7517 section 5); nginx -t fails only when no
#   usable key is left;
# - a remote set of unusable keys only is refused, and taken as soon as a
#   usable key is published beside them;
# - alg "Ed25519" and "Ed448" (RFC 9864), in tokens, JWKs and
#   lgsp_jwt_algorithms, each bound to its own curve;
# - lgsp_jwt_type at+jwt, compared as RFC 8725 3.11 says, and a token
#   cached where any type passes is not taken where one is required;
# - lgsp_jwt_jwks_min_refresh counted in milliseconds.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::XS;
use MIME::Base64 qw(encode_base64url);
use Test::More;
use Time::HiRes qw(sleep time);

use LGSP::Test;
use LGSP::Token qw(b64url);

my $t = LGSP::Test->new;
my $conf = $t->dir . '/conf';

my ($ed25519) = $t->openssl_key('ed25519', 'ed25519');
system("openssl genpkey -algorithm ED448 -out $conf/ed448.key"
       . " && openssl pkey -in $conf/ed448.key -pubout -out $conf/ed448.pub")
    == 0 or die 'openssl ED448';

# the public key of an OKP private key file, as a JWK "x"
sub okp_x {
    my ($key) = @_;
    my $der = `openssl pkey -in $key -pubout -outform DER`;
    my $len = length($der) > 60 ? 57 : 32;    # Ed448 : Ed25519
    return encode_base64url(substr($der, -$len));
}

# a token signed by the openssl command (EdDSA, any alg name in the header)
sub sign {
    my ($key, $header, $claims) = @_;
    my $input = b64url($header) . '.'
              . b64url({ agency => 'H29.SO-TP', exp => time + 600,
                         %{ $claims || {} } });
    $t->write_file('input', $input);
    my $sig = `openssl pkeyutl -sign -rawin -inkey $key -in $conf/input`;
    return "$input." . encode_base64url($sig);
}

my $ed_x = okp_x("$conf/ed25519.key");
my $ed448_x = okp_x("$conf/ed448.key");

sub jwks {
    return JSON::XS->new->canonical->encode({ keys => [ @_ ] });
}

my %usable = (
    ed25519 => { kty => 'OKP', crv => 'Ed25519', alg => 'Ed25519',
                 use => 'sig', kid => 'ed-1', x => $ed_x },
    ed448   => { kty => 'OKP', crv => 'Ed448', kid => 'ed448-1',
                 x => $ed448_x },
);
my @unusable = (
    { kty => 'AKP', alg => 'ML-DSA-44', kid => 'pq-1', pub => 'AAAA' },
    { kty => 'OKP', crv => 'X25519', kid => 'ecdh-1', x => $ed_x },
    { kty => 'OKP', crv => 'Ed25519', use => 'enc', kid => 'enc-1',
      x => $ed_x },
    { kty => 'EC', crv => 'secp256k1', kid => 'k1-1', x => 'AA', y => 'AA' },
);

# --- key files ----------------------------------------------------------------

$t->write_file('mixed.jwks', jwks(@unusable, $usable{ed25519}));
$t->write_file('useless.jwks', jwks(@unusable));

sub key_file_conf {
    my ($file) = @_;
    return <<"EOF";
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_jwt on; lgsp_jwt_key_file $file; empty_gif; }
    }
EOF
}

my ($ok, $out) = $t->test_config(key_file_conf('mixed.jwks'));
ok $ok, 'nginx -t takes a JWKS file with one usable key among unusable ones'
    or diag $out;
my @notices = $out =~ /(\[notice\][^\n]*mixed\.jwks[^\n]*)/g;
is scalar(@notices), 1, 'with one notice';
like $notices[0] // '', qr/4 keys it cannot use skipped \(RFC 7517 section 5\): key "pq-1": unsupported "alg" "ML-DSA-44"; key "ecdh-1": OKP "crv" "X25519" is not Ed25519 or Ed448; key "enc-1": "use" is "enc", not "sig"; key "k1-1": EC "crv" "secp256k1" is not/,
    'naming each skipped key and why';

($ok, $out) = $t->test_config(key_file_conf('useless.jwks'));
ok !$ok, 'nginx -t fails when no usable key is left';
like $out, qr/invalid key file "\S+useless\.jwks": JWKS holds no usable signature verification key: key "pq-1"/,
    'saying why';
like $out, qr{in \S+/conf/nginx\.conf:\d+}, 'naming file and line';

($ok, $out) = $t->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            lgsp_jwt on;
            lgsp_jwt_key_file ed25519.pub;
            lgsp_jwt_algorithms Ed448;
            empty_gif;
        }
    }
EOF
ok !$ok, 'lgsp_jwt_algorithms Ed448 with only an Ed25519 key fails nginx -t';
like $out, qr/no key given by lgsp_jwt_key_file can serve/, 'saying why';

# --- the running gateway --------------------------------------------------------

$t->write_file('idp/jwks.json', jwks(@unusable));
chmod 0755, $t->dir, $conf, "$conf/idp";

$t->start(<<'EOF');
    lgsp_jwt_cache zone=jwt:1m;
    log_format fetch $msec;

    server {
        listen 127.0.0.1:%%PORT_1%%;
        access_log %%DIR%%/logs/idp.log fetch;
        root %%DIR%%/conf/idp;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/jwks.json;
        }

        location /remote/ {
            lgsp_jwt on;
            lgsp_jwt_jwks_uri /_jwks;
            lgsp_jwt_jwks_min_refresh 2000ms;
            empty_gif;
        }

        location /ed25519/ {
            lgsp_jwt on;
            lgsp_jwt_key_file ed25519.pub;
            lgsp_jwt_algorithms Ed25519;
            empty_gif;
        }

        location /ed448/ {
            lgsp_jwt on;
            lgsp_jwt_key_file ed448.pub;
            lgsp_jwt_algorithms Ed448 EdDSA;
            empty_gif;
        }

        location /any-type/ {
            lgsp_jwt on;
            lgsp_jwt_key_file mixed.jwks;
            empty_gif;
        }

        location /at/ {
            lgsp_jwt on;
            lgsp_jwt_key_file mixed.jwks;
            lgsp_jwt_type at+jwt;
            empty_gif;
        }

        location /at/any/ {
            lgsp_jwt on;
            lgsp_jwt_key_file mixed.jwks;
            lgsp_jwt_type any;
            empty_gif;
        }
    }
EOF

sub call {
    my ($path, $token) = @_;
    return $t->get($path, Authorization => "Bearer $token");
}

sub fetches {
    return grep { /\S/ } split /\n/, $t->read_file('logs/idp.log');
}

my $ed_at = sign("$conf/ed25519.key",
                 { alg => 'Ed25519', typ => 'at+jwt', kid => 'ed-1' });

# a remote set of unusable keys only: refused, then mended
my $r = call('/remote/x', $ed_at);
is $r->{status}, 401, 'a remote set with no usable key gives no key: 401';
like $t->error_log,
    qr{fetching the JWT key set from "/_jwks" failed: JWKS holds no usable signature verification key},
    'and the error log says why the set was refused';

$t->write_file('idp/jwks.json', jwks(@unusable, $usable{ed25519}));
sleep 2.1;
is call('/remote/x', $ed_at)->{status}, 200,
    'a usable key published beside them is taken: the set is no longer refused';
like $t->error_log, qr{"/_jwks": 4 keys it cannot use skipped},
    'the four others skipped with a notice';

# RFC 9864
is call('/ed25519/x', $ed_at)->{status}, 200,
    'alg Ed25519 with an Ed25519 key passes (lgsp_jwt_algorithms Ed25519)';
is call('/ed25519/x', sign("$conf/ed25519.key", { alg => 'EdDSA' }))
    ->{status}, 401, 'EdDSA is not in that allow-list';

my $ed448 = sign("$conf/ed448.key", { alg => 'Ed448' });
is call('/ed448/x', $ed448)->{status}, 200, 'alg Ed448 with an Ed448 key passes';
is call('/ed448/x', sign("$conf/ed448.key", { alg => 'EdDSA' }))->{status},
    200, 'so does EdDSA signed by it';
$r = call('/ed448/x', sign("$conf/ed25519.key", { alg => 'Ed448' }));
is $r->{status}, 401, 'an Ed25519 signature under alg Ed448 is refused';

# lgsp_jwt_type
is call('/at/x', $ed_at)->{status}, 200, 'typ at+jwt passes lgsp_jwt_type at+jwt';
is call('/at/x', sign("$conf/ed25519.key",
                      { alg => 'Ed25519', typ => 'application/AT+JWT' }))
    ->{status}, 200, 'so does application/AT+JWT (RFC 8725 3.11)';

my $plain = sign("$conf/ed25519.key", { alg => 'Ed25519', typ => 'JWT' });
is call('/any-type/x', $plain)->{status}, 200,
    'typ JWT passes where no type is required, and is cached there';
$r = call('/at/x', $plain);
is $r->{status}, 401, 'the cached token is still refused where at+jwt is due';
like $r->{headers}{'www-authenticate'}, qr/error="invalid_token"/,
    'invalid_token';
is $r->{json}{type}, 'urn:lgsp:problem:invalid-token', 'a problem body';
like $r->{json}{detail}, qr/token type 'JWT' is not accepted here, 'at\+jwt' is/,
    'saying which type is due';

is call('/at/x', sign("$conf/ed25519.key", { alg => 'Ed25519' }))->{status},
    401, 'a token without typ is refused there too';
is call('/at/any/x', $plain)->{status}, 200,
    'lgsp_jwt_type any lifts the inherited requirement';

# lgsp_jwt_jwks_min_refresh 2000ms: no two fetches closer than 2 s, even
# when the first one ends just before a whole second
sleep 2.1;
my $before = fetches();
sleep 0.05 while time - int(time) < 0.85 || time - int(time) > 0.95;
call('/remote/x', sign("$conf/ed25519.key", { alg => 'Ed25519', kid => 'r0' }));
my $deadline = time + 5;
my $n = 0;
while (fetches() < $before + 2 && time < $deadline) {
    call('/remote/x',
         sign("$conf/ed25519.key", { alg => 'Ed25519', kid => 'r' . ++$n }));
    sleep 0.05;
}
my @at = (fetches())[-2, -1];
is scalar(fetches()), $before + 2, 'unknown kids caused a second fetch';
cmp_ok $at[1] - $at[0], '>=', 2.0,
    'no sooner than 2000 ms after the first, counted in milliseconds';

ok $t->error_log_clean, 'no crash or alert in the error log'
    or diag $t->error_log;

$t->stop;

done_testing;
