# JWT authentication: algorithms, key forms, kid selection, claim rules,
# rejections, token sources, identity variables.

use strict;
use warnings;

use Test::More;
use JSON::XS;
use MIME::Base64 ();
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(mint raw_token b64url);

my $t = LGSP::Test->new;

# keys made at test time; only the public halves go to nginx
my %priv;
my %pub;
for my $k (qw(rsa p256 p384 p521 ed25519)) {
    ($priv{$k}, $pub{$k}) = $t->openssl_key($k, $k);
}
($priv{rsa_b}, $pub{rsa_b}) = $t->openssl_key('rsa_b', 'rsa');

my $secret = 'S' x 31 . join('', map { chr(65 + $_ % 26) } 1 .. 33);
$t->write_file('hs.secret', "$secret\n");      # echo-style trailing newline

# a JWKS made by Crypt::PK, independently of the module
my $jwks = {
    keys => [
        { %{ Crypt::PK::RSA->new($pub{rsa})->export_key_jwk('public', 1) },
          kid => 'rsa-a', use => 'sig' },
        { %{ Crypt::PK::RSA->new($pub{rsa_b})->export_key_jwk('public', 1) },
          kid => 'rsa-b', alg => 'RS256' },
        { %{ Crypt::PK::ECC->new($pub{p256})->export_key_jwk('public', 1) },
          kid => 'ec-a' },
        { %{ Crypt::PK::Ed25519->new($pub{ed25519})
                 ->export_key_jwk('public', 1) }, kid => 'ed-a' },
        { kty => 'oct', kid => 'hs-a', k => b64url($secret) },
        { %{ Crypt::PK::RSA->new($pub{rsa})->export_key_jwk('public', 1) },
          kid => 'enc-only', use => 'enc' },
    ],
};
$t->write_file('sso.jwks', JSON::XS->new->encode($jwks));

# a certificate of the p384 key
system("openssl req -new -x509 -key $priv{p384} -subj /CN=sso -days 2"
       . " -out " . $t->dir . "/conf/p384.crt 2>/dev/null") == 0
    or die 'openssl req';

my $now = time;

$t->start(<<'EOF', main => '');
    lgsp_jwt_cache zone=jwt:1m;
    large_client_header_buffers 4 128k;

    server {
        listen 127.0.0.1:%%PORT%%;

        location /hs     { lgsp_jwt on; lgsp_jwt_key_file hs.secret; empty_gif; }
        location /rsa    { lgsp_jwt on; lgsp_jwt_key_file rsa.pub; empty_gif; }
        location /p256   { lgsp_jwt on; lgsp_jwt_key_file p256.pub; empty_gif; }
        location /p384   { lgsp_jwt on; lgsp_jwt_key_file p384.crt; empty_gif; }
        location /p521   { lgsp_jwt on; lgsp_jwt_key_file p521.pub; empty_gif; }
        location /ed     { lgsp_jwt on; lgsp_jwt_key_file ed25519.pub; empty_gif; }
        location /jwks   { lgsp_jwt on; lgsp_jwt_key_file sso.jwks; empty_gif; }

        location /kid {
            lgsp_jwt on;
            lgsp_jwt_key_file rsa.pub kid=main;
            empty_gif;
        }

        location /confusion {
            lgsp_jwt on;
            lgsp_jwt_key_file rsa.pub;
            lgsp_jwt_algorithms HS256 RS256;
            empty_gif;
        }

        location /rules {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            lgsp_jwt_issuer https://sso.example.gov.vn;
            lgsp_jwt_audience lgsp;
            empty_gif;
        }

        location /leeway {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            lgsp_jwt_leeway 60s;
            empty_gif;
        }

        location /noexp {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            lgsp_jwt_require_exp off;
            empty_gif;
        }

        location /scope {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            lgsp_jwt_require_claim scope hotich.write hotich.admin;
            lgsp_jwt_require_claim groups ubnd;
            empty_gif;
        }

        location /cookie {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            lgsp_jwt_token $cookie_access_token;
            empty_gif;
        }

        location /optional {
            lgsp_jwt optional;
            lgsp_jwt_key_file hs.secret;
            add_header X-Agency "[$lgsp_agency]" always;
            empty_gif;
        }

        location /whoami {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            lgsp_agency_claim ma_dinh_danh;
            add_header X-Agency $lgsp_agency;
            add_header X-Sub $lgsp_jwt_claim_sub;
            add_header X-Roles $lgsp_jwt_claim_roles;
            add_header X-Level $lgsp_jwt_claim_level;
            empty_gif;
        }

        location /small {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.secret;
            lgsp_jwt_max_size 200;
            empty_gif;
        }
    }
EOF

sub call {
    my ($path, $token, %h) = @_;
    return $t->get($path, defined $token ? (Authorization => "Bearer $token")
                                         : (), %h);
}

sub www { $_[0]{headers}{'www-authenticate'} // '' }


subtest 'every algorithm with the key form it needs' => sub {
    my @cases = (
        [ '/hs',   'HS256', $secret ],
        [ '/hs',   'HS384', $secret ],
        [ '/hs',   'HS512', $secret ],
        [ '/rsa',  'RS256', $priv{rsa} ],
        [ '/rsa',  'RS384', $priv{rsa} ],
        [ '/rsa',  'RS512', $priv{rsa} ],
        [ '/rsa',  'PS256', $priv{rsa} ],
        [ '/rsa',  'PS384', $priv{rsa} ],
        [ '/rsa',  'PS512', $priv{rsa} ],
        [ '/p256', 'ES256', $priv{p256} ],
        [ '/p384', 'ES384', $priv{p384} ],
        [ '/p521', 'ES512', $priv{p521} ],
        [ '/ed',   'EdDSA', $priv{ed25519} ],
    );

    for my $c (@cases) {
        my ($path, $alg, $key) = @$c;
        my $r = call($path, mint(alg => $alg, key => $key));
        is $r->{status}, 200, "$alg verified at $path";
    }
};

subtest 'a key of one type never verifies another algorithm' => sub {
    is call('/p256', mint(alg => 'ES384', key => $priv{p384}))->{status}, 401,
        'ES384 token at a P-256 key';
    is call('/rsa', mint(alg => 'ES256', key => $priv{p256}))->{status}, 401,
        'ES256 token at an RSA key';
    is call('/hs', mint(alg => 'RS256', key => $priv{rsa}))->{status}, 401,
        'RS256 token at an HMAC secret';
};

subtest 'JWKS: kid chooses the key' => sub {
    is call('/jwks', mint(alg => 'RS256', key => $priv{rsa_b},
                          kid => 'rsa-b'))->{status}, 200, 'kid rsa-b';
    is call('/jwks', mint(alg => 'RS256', key => $priv{rsa},
                          kid => 'rsa-a'))->{status}, 200, 'kid rsa-a';
    is call('/jwks', mint(alg => 'ES256', key => $priv{p256},
                          kid => 'ec-a'))->{status}, 200, 'EC key from JWKS';
    is call('/jwks', mint(alg => 'EdDSA', key => $priv{ed25519},
                          kid => 'ed-a'))->{status}, 200, 'OKP key from JWKS';
    is call('/jwks', mint(alg => 'HS256', key => $secret,
                          kid => 'hs-a'))->{status}, 200, 'oct key from JWKS';

    my $r = call('/jwks', mint(alg => 'RS256', key => $priv{rsa_b},
                               kid => 'rsa-a'));
    is $r->{status}, 401, 'signed by b but naming a: refused';
    like www($r), qr/signature does not verify/, 'says why';

    is call('/jwks', mint(alg => 'RS256', key => $priv{rsa_b}))->{status},
        200, 'no kid: every key that fits the algorithm is tried';

    $r = call('/jwks', mint(alg => 'RS256', key => $priv{rsa},
                            kid => 'unknown'));
    is $r->{status}, 401, 'unknown kid refused';
    like www($r), qr/no key for algorithm RS256 and key id 'unknown'/,
        'names the kid';

    is call('/jwks', mint(alg => 'PS256', key => $priv{rsa_b},
                          kid => 'rsa-b'))->{status}, 401,
        'a JWK with "alg": RS256 serves RS256 only';

    is call('/jwks', mint(alg => 'RS256', key => $priv{rsa},
                          kid => 'enc-only'))->{status}, 401,
        'a "use": "enc" key is not a verification key';
};

subtest 'kid= names a PEM key' => sub {
    is call('/kid', mint(alg => 'RS256', key => $priv{rsa}, kid => 'main'))
        ->{status}, 200, 'matching kid';
    is call('/kid', mint(alg => 'RS256', key => $priv{rsa}, kid => 'other'))
        ->{status}, 401, 'another kid is not this key';
    is call('/kid', mint(alg => 'RS256', key => $priv{rsa}))->{status}, 200,
        'no kid: tried';
};

subtest 'algorithm confusion: HS256 signed with the RSA public key' => sub {
    open my $fh, '<', $pub{rsa} or die;
    my $pem = do { local $/; <$fh> };

    my $r = call('/confusion', mint(alg => 'HS256', key => $pem));
    is $r->{status}, 401, 'refused although HS256 is in the allow-list';
    like www($r), qr/no key for algorithm HS256/, 'no key serves HS256';

    is call('/confusion', mint(alg => 'RS256', key => $priv{rsa}))->{status},
        200, 'the RSA algorithm still works';
};

subtest 'alg none and unknown algorithms' => sub {
    my $none = raw_token({ alg => 'none' },
                         { agency => 'X', exp => $now + 60 }, '');
    my $r = call('/hs', $none);
    is $r->{status}, 401, 'alg none refused';
    like www($r), qr/algorithm 'none' is not accepted/, 'says so';

    $r = call('/hs', raw_token({ alg => 'HS1024' }, { exp => $now + 60 }));
    is $r->{status}, 401, 'unknown algorithm refused';

    $r = call('/hs', raw_token({ alg => 'HS256', crit => ['b64'], b64 => \0 },
                               { exp => $now + 60 }));
    is $r->{status}, 401, 'crit header refused';
    like www($r), qr/critical header/, 'says so';
};

subtest 'time claims and leeway' => sub {
    my %c = (alg => 'HS256', key => $secret);

    my $r = call('/hs', mint(%c, claims => { exp => $now - 10 }));
    is $r->{status}, 401, 'expired';
    like www($r), qr/error="invalid_token", error_description="token expired"/,
        'RFC 6750 header';

    is call('/leeway', mint(%c, claims => { exp => $now - 10 }))->{status},
        200, 'expired 10s ago is within a 60s leeway';
    is call('/leeway', mint(%c, claims => { exp => $now - 120 }))->{status},
        401, 'expired 120s ago is not';

    $r = call('/hs', mint(%c, claims => { nbf => $now + 100 }));
    is $r->{status}, 401, 'not yet valid';
    like www($r), qr/not valid yet/, 'says so';
    is call('/leeway', mint(%c, claims => { nbf => $now + 30 }))->{status},
        200, 'nbf within leeway';

    $r = call('/hs', mint(%c, claims => { iat => $now + 100 }));
    is $r->{status}, 401, 'issued in the future';

    is call('/hs', mint(%c, claims => { iat => $now - 5, nbf => $now - 5 }))
        ->{status}, 200, 'past iat and nbf pass';

    $r = call('/hs', mint(%c, claims => { exp => undef }));
    is $r->{status}, 401, 'exp is required by default';
    like www($r), qr/no 'exp' claim/, 'says so';
    is call('/noexp', mint(%c, claims => { exp => undef }))->{status}, 200,
        'unless lgsp_jwt_require_exp off';

    is call('/hs', mint(%c, claims => { exp => 'tomorrow' }))->{status}, 401,
        'a non-numeric exp is refused';
};

subtest 'issuer and audience' => sub {
    my %c = (alg => 'HS256', key => $secret);
    my %ok = (iss => 'https://sso.example.gov.vn', aud => 'lgsp');

    is call('/rules', mint(%c, claims => \%ok))->{status}, 200, 'both match';
    is call('/rules', mint(%c, claims => { %ok, aud => ['x', 'lgsp'] }))
        ->{status}, 200, 'audience as an array';
    is call('/rules', mint(%c, claims => { %ok, iss => 'https://evil' }))
        ->{status}, 401, 'wrong issuer';
    is call('/rules', mint(%c, claims => { %ok, aud => 'other' }))->{status},
        401, 'wrong audience';
    is call('/rules', mint(%c, claims => { %ok, aud => undef }))->{status},
        401, 'missing audience';
};

subtest 'required claims: string, array member, scope word' => sub {
    my %c = (alg => 'HS256', key => $secret);

    is call('/scope', mint(%c, claims => { scope => 'openid hotich.write',
                                           groups => ['ubnd', 'x'] }))
        ->{status}, 200, 'scope word and array member';
    is call('/scope', mint(%c, claims => { scope => 'hotich.admin',
                                           groups => 'ubnd' }))
        ->{status}, 200, 'either listed value, plain string';

    my $r = call('/scope', mint(%c, claims => { scope => 'hotich.read',
                                                groups => ['ubnd'] }));
    is $r->{status}, 403, 'scope missing: 403';
    like www($r), qr/error="insufficient_scope"/, 'insufficient_scope';
    like www($r), qr/scope="hotich.write hotich.admin"/, 'names the scopes';
    is $r->{json}{type}, 'urn:lgsp:problem:insufficient-scope', 'problem type';

    is call('/scope', mint(%c, claims => { scope => 'hotich.write' }))
        ->{status}, 403, 'every rule must match';
    is call('/scope', mint(%c, claims => { scope => 'hotich.writer',
                                           groups => 'ubnd' }))
        ->{status}, 403, 'a word is matched whole';
};

subtest 'the rejection body and headers' => sub {
    my $r = call('/hs', undef);

    is $r->{status}, 401, 'no token: 401';
    is www($r), 'Bearer realm="lgsp"', 'no error code without a token';
    is $r->{headers}{'content-type'}, 'application/problem+json',
        'problem+json';

    my $txid = $r->{headers}{'x-lgsp-transaction-id'};
    like $txid, qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        'the transaction id is a UUIDv7';
    is_deeply $r->{json}, {
        type => 'urn:lgsp:problem:invalid-token', title => 'Unauthorized',
        status => 401, detail => 'no bearer token', instance => $txid,
    }, 'body names the transaction';

    $r = $t->get('/hs', Authorization => 'Basic dXNlcjpwYXNz');
    is $r->{status}, 401, 'another scheme is no bearer token';
};

subtest 'malformed tokens' => sub {
    my $good = mint(alg => 'HS256', key => $secret);

    my %bad = (
        'truncated'           => substr($good, 0, length($good) - 10),
        'two parts'           => join('.', (split /\./, $good)[0, 1]),
        'four parts'          => "$good.x",
        'bad base64'          => "\$\$\$.abc.def",
        'non-JSON header'     => b64url('not json') . '.'
                                 . (split /\./, $good)[1] . '.abc',
        'array header'        => b64url('[1]') . '.' . b64url('{}') . '.abc',
        'non-JSON payload'    => b64url({ alg => 'HS256' }) . '.'
                                 . b64url('{') . '.abc',
        'duplicate header key' => b64url('{"alg":"none","alg":"HS256"}')
                                 . '.' . (split /\./, $good)[1] . '.abc',
    );

    for my $name (sort keys %bad) {
        my $r = call('/hs', $bad{$name});
        is $r->{status}, 401, "$name: 401";
        is $r->{json}{status}, 401, "$name: problem body";
    }
};

subtest 'size limit' => sub {
    my $big = mint(alg => 'HS256', key => $secret,
                   claims => { pad => 'x' x (64 * 1024) });
    my $r = call('/hs', $big);
    is $r->{status}, 401, 'a 64 KB token is refused';
    like www($r), qr/larger than 8192 bytes/, 'unparsed, by size';

    $r = call('/small', mint(alg => 'HS256', key => $secret,
                             claims => { pad => 'x' x 200 }));
    like www($r), qr/larger than 200 bytes/, 'lgsp_jwt_max_size';
};

subtest 'token from a cookie' => sub {
    my $tok = mint(alg => 'HS256', key => $secret);
    is $t->get('/cookie', Cookie => "access_token=$tok")->{status}, 200,
        'cookie token';
    is $t->get('/cookie', Authorization => "Bearer $tok")->{status}, 401,
        'the header is not read when another source is set';
};

subtest 'optional authentication' => sub {
    my $r = call('/optional', undef);
    is $r->{status}, 200, 'no token passes';
    is $r->{headers}{'x-agency'}, '[]', 'with no agency';

    $r = call('/optional', mint(alg => 'HS256', key => $secret));
    is $r->{headers}{'x-agency'}, '[000.00.00.H29]', 'a good token names it';

    is call('/optional', mint(alg => 'HS256', key => $secret,
                              claims => { exp => $now - 100 }))->{status},
        401, 'a bad token is refused';
};

subtest 'identity: agency claim and claim variables' => sub {
    my $r = call('/whoami', mint(alg => 'HS256', key => $secret, claims => {
        ma_dinh_danh => 'H29.01', sub => 'canbo@hanoi', roles => ['a', 'b'],
        level => 2 }));

    is $r->{status}, 200, 'accepted';
    is $r->{headers}{'x-agency'}, 'H29.01', '$lgsp_agency from the claim';
    is $r->{headers}{'x-sub'}, 'canbo@hanoi', 'string claim';
    is $r->{headers}{'x-roles'}, '["a","b"]', 'array claim as JSON';
    is $r->{headers}{'x-level'}, '2', 'number claim';

    $r = call('/whoami', mint(alg => 'HS256', key => $secret));
    is $r->{status}, 401, 'a token without the agency claim is refused';
    like www($r), qr/names no agency in claim 'ma_dinh_danh'/, 'says so';

    $r = call('/whoami', mint(alg => 'HS256', key => $secret,
                              claims => { ma_dinh_danh => 'H29 01;DROP' }));
    is $r->{status}, 401, 'an agency that is not a code is refused';
};

subtest 'control characters in claims are refused' => sub {
    for my $v ("a\r\nX-Injected: 1", "tab\there", "nul\x00x") {
        my $r = call('/hs', mint(alg => 'HS256', key => $secret,
                                 claims => { sub => $v }));
        is $r->{status}, 401, 'refused: ' . join('', map {
            sprintf($_ lt ' ' ? '\\x%02x' : '%s', $_ lt ' ' ? ord : $_)
        } split //, $v);
    }

    is call('/hs', mint(alg => 'HS256', key => $secret,
                        claims => { list => ["ok", "bad\n"] }))->{status},
        401, 'in an array member too';

    is call('/hs', mint(alg => 'HS256', key => $secret,
                        claims => { name => "Nguyễn Văn A" }))->{status},
        200, 'Vietnamese text is fine';
};

subtest 'the cache: a hit still honours exp' => sub {
    # the two calls must come before exp: under valgrind, 20-50 times
    # slower, the token lives longer
    my $life = $ENV{LGSP_VALGRIND} ? 5 : 2;
    my $tok = mint(alg => 'HS256', key => $secret,
                   claims => { exp => time + $life });

    is call('/hs', $tok)->{status}, 200, 'verified';
    is call('/hs', $tok)->{status}, 200, 'again, from the cache';

    sleep $life + 1;

    my $r = call('/hs', $tok);
    is $r->{status}, 401, 'expired while cached: refused';
    like www($r), qr/token expired/, 'as expired';
};

subtest 'the cache never crosses to another policy' => sub {
    my $tok = mint(alg => 'HS256', key => $secret,
                   claims => { scope => 'openid' });

    is call('/hs', $tok)->{status}, 200, 'valid at /hs, now cached';
    is call('/scope', $tok)->{status}, 403, 'still checked at /scope';
    is call('/rules', $tok)->{status}, 401, 'and at /rules (no iss, aud)';
};

subtest "the cache: a cached token's signature on other claims is refused"
    => sub {
    my $tok = mint(alg => 'HS256', key => $secret,
                   claims => { ma_dinh_danh => '000.00.00.H29' });

    is call('/whoami', $tok)->{headers}{'x-agency'}, '000.00.00.H29',
        'verified, now cached';

    # the cache's tree is keyed by the signature's last bytes: the forged
    # token shares its key with the cached one, and only its whole bytes
    # tell it apart
    my ($header, $payload, $signature) = split /\./, $tok;
    my $claims = JSON::XS->new->decode(
        MIME::Base64::decode_base64url($payload));
    $claims->{ma_dinh_danh} = '000.00.00.X99';
    my $forged = join '.', $header,
        b64url(JSON::XS->new->canonical->encode($claims)), $signature;

    my $r = call('/whoami', $forged);
    is $r->{status}, 401, 'the forged claims are refused';
    like www($r), qr/invalid_token/, 'as an invalid token';
    is call('/whoami', $tok)->{headers}{'x-agency'}, '000.00.00.H29',
        'the cached token still passes';
};

ok $t->error_log_clean, 'no alert or crash in the error log';

$t->stop;

done_testing;
