# JWT authentication: HS256, RS256 and ES256, with the verified-token cache
# and without it, behind empty_gif (return would skip the access phase).

use strict;
use warnings;

use LGSP::Token qw(mint);

my %key = (HS256 => 'secret', RS256 => 'rsa', ES256 => 'p256');

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

(
    {
        name => 'empty_gif, no authentication',
        http => <<'EOF',
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { empty_gif; }
    }
EOF
        path => '/x',
    },
    map { (jwt_case($_, 1), jwt_case($_, 0)) } qw(HS256 RS256 ES256)
);
