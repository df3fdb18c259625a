# Routing: the agency check after JWT, the catalogue handler, and a call
# through the NDXP path with the token held in shared memory, each beside
# the same path without the feature.

use strict;
use warnings;

use LGSP::Token qw(mint);

my $secret = join '', map { chr(65 + $_ % 26) } 1 .. 48;

sub token_headers {
    my ($t) = @_;
    $t->write_file('hs.key', $secret);
    return { headers => { Authorization => 'Bearer '
                          . mint(alg => 'HS256', key => $secret,
                                 claims => { agency => 'H29.UBND.X20' }) } };
}

# twenty entries; the caller matches the last, a prefix
my $agencies = join ' ', (map { "000.00.$_.H29" } 10 .. 28), 'H29.UBND.*';

# a provider and a token endpoint, served by the same nginx
my $provider = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location = /token {
            return 200 '{"access_token":"bench-token","token_type":"Bearer","expires_in":3600}';
        }
        location / { return 200 "ok\n"; }
    }
EOF

(
    {
        name => 'jwt HS256 cached, service without agency check',
        http => <<'EOF',
    lgsp_jwt_cache zone=jwt:10m;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.key;
            empty_gif;
        }
    }
EOF
        path => '/x',
        prepare => \&token_headers,
    },
    {
        name => 'jwt HS256 cached + lgsp_allow_agency (20 entries)',
        http => <<"EOF",
    lgsp_jwt_cache zone=jwt:10m;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            lgsp_jwt on;
            lgsp_jwt_key_file hs.key;
            lgsp_service BTP.BENCH;
            lgsp_allow_agency $agencies;
            empty_gif;
        }
    }
EOF
        path => '/x',
        prepare => \&token_headers,
        baseline => 'jwt HS256 cached, service without agency check',
    },
    {
        name => 'lgsp_catalog json (20 services)',
        http => <<'EOF' . join('', map { <<"EOS" } 1 .. 20) . "    }\n",
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /catalog { lgsp_catalog; }
EOF
        location /s$_ { lgsp_service BENCH.S$_; lgsp_allow_agency *; empty_gif; }
EOS
        path => '/catalog',
    },
    {
        name => 'proxy_pass, no token',
        http => $provider . <<'EOF',
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { proxy_pass http://127.0.0.1:%%PORT_1%%; }
    }
EOF
        path => '/x',
    },
    {
        name => 'proxy_pass with the NDXP token held',
        http => $provider . <<'EOF',
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /_token {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/token;
        }
        location / {
            lgsp_ndxp_token_uri /_token;
            proxy_set_header Authorization "Bearer $lgsp_ndxp_token";
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF
        path => '/x',
        baseline => 'proxy_pass, no token',
    },
);
