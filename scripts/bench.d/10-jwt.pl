# JWT authentication: HS256, RS256 and ES256, with the verified-token cache
# and without it, behind empty_gif (return would skip the access phase);
# and cached, with a service's realistic configuration, against empty_gif
# of an nginx without the module (05-idle.pl), and against that empty_gif
# sent the same token: nginx itself reads a 700-byte header however the
# module is configured, or whether it is loaded at all.

use strict;
use warnings;

use Crypt::PK::ECC;
use Crypt::PK::RSA;
use JSON::XS;

use LGSP::Token qw(mint);

my %key = (HS256 => 'secret', RS256 => 'rsa', ES256 => 'p256');

my $empty_gif = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { empty_gif; }
    }
EOF

sub jwt_case {
    my ($alg, $cache) = @_;

    return {
        name => "jwt $alg " . ($cache ? 'cached' : 'no cache'),
        http => ($cache ? "    lgsp_jwt_cache zone=jwt:10m;\n" : '') . <<"EOF",
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            lgsp_jwt on;
            lgsp_jwt_key_file $key{$alg}.pub;
            empty_gif;
        }
    }
EOF
        path => '/x',
        baseline => 'empty_gif, no authentication',
        prepare => sub {
            my ($t) = @_;
            my $token;

            if ($alg eq 'HS256') {
                my $secret = join '', map { chr(48 + rand 64) } 1 .. 48;
                $t->write_file('secret.pub', $secret);
                $token = mint(alg => $alg, key => $secret);
            } else {
                my ($priv) = $t->openssl_key($key{$alg},
                                             $alg eq 'RS256' ? 'rsa' : 'p256');
                $token = mint(alg => $alg, key => $priv);
            }

            return { headers => { Authorization => "Bearer $token" } };
        },
    };
}

# The realistic configuration of a service: a JWKS of 4 keys (HS256: its
# secret), issuer, audience, agency claim, a required scope, the service
# and its allowed agencies; the token is signed by the third key.
sub jwt_realistic_case {
    my ($alg) = @_;

    return {
        name => "jwt $alg cached, realistic",
        http => <<"EOF",
    lgsp_jwt_cache zone=jwt:10m;

    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency 000.00.00.H29 000.00.00.H30;
            lgsp_jwt on;
            lgsp_jwt_key_file keys.jwk;
            lgsp_jwt_algorithms $alg;
            lgsp_jwt_issuer https://sso.example.gov.vn;
            lgsp_jwt_audience lgsp;
            lgsp_agency_claim agency;
            lgsp_jwt_require_claim scope hotich.write;
            empty_gif;
        }
    }
EOF
        path => '/x',
        baseline => ['empty_gif, module not loaded',
                     "empty_gif, module not loaded, $alg token"],
        prepare => sub { realistic_token($_[0], $alg) },
    }, {
        name => "empty_gif, module not loaded, $alg token",
        http => $empty_gif,
        path => '/x',
        load_module => 0,
        prepare => sub { realistic_token($_[0], $alg) },
    };
}


# the keys of the realistic configuration, and the Authorization header
# its client sends
sub realistic_token {
    my ($t, $alg) = @_;
    my (@jwks, $signer);

    for my $i (1 .. 4) {
        last if $alg eq 'HS256';

        my $pk = $alg eq 'RS256'
            ? Crypt::PK::RSA->new->generate_key(256)
            : Crypt::PK::ECC->new->generate_key('secp256r1');
        push @jwks, { %{ $pk->export_key_jwk('public', 1) },
                      kid => "k$i", alg => $alg, use => 'sig' };
        $signer = $t->write_file('signer.key',
                                 $pk->export_key_pem('private'))
            if $i == 3;
    }

    if ($alg eq 'HS256') {
        $signer = join '', map { chr(48 + rand 64) } 1 .. 48;
        $t->write_file('keys.jwk', $signer);
    } else {
        $t->write_file('keys.jwk',
            JSON::XS->new->canonical->encode({ keys => \@jwks }));
    }

    my $token = mint(alg => $alg, key => $signer,
                     $alg eq 'HS256' ? () : (kid => 'k3'),
                     claims => {
                         iss => 'https://sso.example.gov.vn',
                         aud => 'lgsp',
                         agency => '000.00.00.H29',
                         scope => 'hotich.read hotich.write',
                         iat => time,
                     });

    return { headers => { Authorization => "Bearer $token" } };
}

(
    {
        name => 'empty_gif, no authentication',
        http => $empty_gif,
        path => '/x',
    },
    (map { (jwt_case($_, 1), jwt_case($_, 0)) } qw(HS256 RS256 ES256)),
    (map { jwt_realistic_case($_) } qw(HS256 RS256 ES256))
);
