# nginx -t refuses JWT configurations that cannot work, naming file and line.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use LGSP::Test;

my $t = LGSP::Test->new;

$t->openssl_key('rsa', 'rsa');
$t->openssl_key('small', 'rsa1024');
$t->openssl_key('k1', 'secp256k1');
$t->write_file('short.secret', "too-short\n");
$t->write_file('long.secret', 'x' x 40);
$t->write_file('bad.jwks', '{"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]}');
$t->write_file('nokeys.jwks', '{"keys": []}');
$t->write_file('broken.json', '{"keys": [');
$t->write_file('enc.jwks', '{"keys": [{"kty": "oct", "use": "enc",'
                           . ' "k": "' . ('QUFB' x 12) . '"}]}');
$t->write_file('badalg.jwks', '{"keys": [{"kty": "oct", "alg": "RS256",'
                              . ' "k": "' . ('QUFB' x 12) . '"}]}');

sub conf {
    my ($directives) = @_;
    return <<"EOF";
    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            lgsp_jwt on;
            $directives
            empty_gif;
        }
    }
EOF
}

my @refused = (
    [ 'a missing key file',
      'lgsp_jwt_key_file missing.pem;', qr/cannot open .*missing\.pem/ ],
    [ 'a private key',
      'lgsp_jwt_key_file rsa.key;', qr/holds a private key/ ],
    [ 'an RSA key under 2048 bits',
      'lgsp_jwt_key_file small.pub;', qr/RSA key of 1024 bits is too small/ ],
    [ 'an EC curve JWT does not use',
      'lgsp_jwt_key_file k1.pub;', qr/EC curve secp256k1 is not one of/ ],
    [ 'an HMAC secret under 32 bytes',
      'lgsp_jwt_key_file short.secret;', qr/its 9 bytes are too short/ ],
    [ 'a JWK that is not base64url',
      'lgsp_jwt_key_file bad.jwks;', qr/key #0: member "n" is not base64url/ ],
    [ 'an empty JWKS',
      'lgsp_jwt_key_file nokeys.jwks;', qr/non-empty array/ ],
    [ 'a JWKS that is not JSON',
      'lgsp_jwt_key_file broken.json;', qr/not valid JSON/ ],
    [ 'a JWKS with only encryption keys',
      'lgsp_jwt_key_file enc.jwks;', qr/no usable signature verification key: key #0: "use" is "enc"/ ],
    [ 'a JWK whose alg does not fit its type',
      'lgsp_jwt_key_file badalg.jwks;', qr/"alg" RS256 does not fit/ ],
    [ 'an unknown algorithm',
      'lgsp_jwt_key_file rsa.pub; lgsp_jwt_algorithms RS256 XS256;',
      qr/unknown algorithm "XS256"/ ],
    [ 'the none algorithm',
      'lgsp_jwt_key_file rsa.pub; lgsp_jwt_algorithms none;',
      qr/unsigned tokens are never accepted/ ],
    [ 'an allow-list no key can serve',
      'lgsp_jwt_key_file rsa.pub; lgsp_jwt_algorithms ES256 HS256;',
      qr/no key given by lgsp_jwt_key_file can serve/ ],
    [ 'HS512 with a 40-byte secret',
      'lgsp_jwt_key_file long.secret; lgsp_jwt_algorithms HS512;',
      qr/no key given by lgsp_jwt_key_file can serve/ ],
    [ 'lgsp_jwt on without a key',
      '', qr/lgsp_jwt is on, but no lgsp_jwt_key_file/ ],
    [ 'lgsp_jwt twice',
      'lgsp_jwt_key_file rsa.pub; lgsp_jwt off;', qr/"lgsp_jwt" directive is duplicate/ ],
    [ 'a bad kid parameter',
      'lgsp_jwt_key_file rsa.pub id=x;', qr/invalid parameter "id=x"/ ],
    [ 'a bad leeway',
      'lgsp_jwt_key_file rsa.pub; lgsp_jwt_leeway soon;', qr/invalid value/ ],
);

for my $case (@refused) {
    my ($name, $directives, $message) = @$case;
    my ($ok, $out) = $t->test_config(conf($directives));

    ok !$ok, "refused: $name";
    like $out, $message, "  says why";
    like $out, qr{in \S+/conf/nginx\.conf:\d+}, "  names file and line";
}

my ($ok, $out) = $t->test_config(<<'EOF');
    lgsp_jwt_cache zone=jwt;
    server { listen 127.0.0.1:%%PORT%%; }
EOF
ok !$ok, 'refused: a cache zone without a size';
like $out, qr/invalid zone size/, '  says why';

($ok, $out) = $t->test_config(<<'EOF');
    lgsp_jwt_cache jwt:1m;
    server { listen 127.0.0.1:%%PORT%%; }
EOF
ok !$ok, 'refused: a cache without zone=';

($ok, $out) = $t->test_config(conf('lgsp_jwt_key_file rsa.pub;'
                                   . ' lgsp_jwt_key_file long.secret kid=hs;'
                                   . ' lgsp_jwt_algorithms RS256 HS256;'));
ok $ok, 'accepted: RSA and HMAC keys with an allow-list they serve'
    or diag $out;

($ok, $out) = $t->test_config(<<'EOF');
    lgsp_jwt_key_file rsa.pub;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_jwt on; empty_gif; }
        location /open { empty_gif; }
    }
EOF
ok $ok, 'accepted: keys inherited from http level' or diag $out;

done_testing;
