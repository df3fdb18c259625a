# JSON Schema validation: a 2 KB birth registration (khai sinh,
# conf/schemas/khaisinh.example.json) POSTed to a location that validates
# it against conf/schemas/khaisinh.json ($ref into common.json) and
# proxies it, against the same proxy path without validation, in the same
# run. Both proxy to a second server block of the same nginx that answers
# with return (empty_gif refuses POST).  Target: >= 0.9 of the path
# without validation.

use strict;
use warnings;

my $example = "$LGSP::Test::REPO/conf/schemas/khaisinh.example.json";
open my $fh, '<:raw', $example or die "$example: $!";
my $body = do { local $/; <$fh> };
close $fh;

my $lua = <<"EOF";
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[$body]==]
EOF

sub schema_case {
    my ($name, $validate) = @_;

    return {
        name => $name,
        http => <<"EOF",
    upstream agency {
        server 127.0.0.1:%%PORT_1%%;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            $validate
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://agency;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "{}"; }
    }
EOF
        path => '/khaisinh',
        lua => $lua,
        baseline => $validate ? 'schema: khaisinh 2 KB proxied, not validated'
                              : undef,
    };
}

(
    schema_case('schema: khaisinh 2 KB proxied, not validated', ''),
    schema_case('schema: khaisinh 2 KB validated, proxied',
                'lgsp_schema_request %%REPO%%/conf/schemas/khaisinh.json;'),
);
