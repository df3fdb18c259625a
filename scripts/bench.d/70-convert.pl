# Format conversion: a 2 KB JSON request (conf/schemas/khaisinh.example.json)
# converted into a SOAP 1.1 envelope, and the provider's 4 KB SOAP answer
# (scripts/bench-convert/answer.xml) converted back into JSON typed by its
# schema, against the same proxy path without conversion (the JSON goes up
# as it is and the SOAP answer comes back as it is), in the same run.  The
# provider is a second server block of the same nginx answering with
# return.  Target: >= 0.8 of the path without conversion.

use strict;
use warnings;

my $dir = "$LGSP::Test::REPO/scripts/bench-convert";

sub convert_slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

my $request =
    convert_slurp("$LGSP::Test::REPO/conf/schemas/khaisinh.example.json");
my $answer = convert_slurp("$dir/answer.xml");

die "answer.xml cannot go in a single-quoted nginx string"
    if $answer =~ /['\\\$]/;

my $lua = <<"EOF";
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[$request]==]
EOF

sub convert_case {
    my ($name, $convert) = @_;

    return {
        name => $name,
        http => <<"EOF",
    upstream provider {
        server 127.0.0.1:%%PORT_1%%;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            $convert
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://provider;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        default_type "text/xml; charset=utf-8";
        location / { return 200 '$answer'; }
    }
EOF
        path => '/tracuu',
        lua => $lua,
        baseline => $convert ? 'convert: 2 KB JSON proxied, 4 KB SOAP back'
                             : undef,
    };
}

(
    convert_case('convert: 2 KB JSON proxied, 4 KB SOAP back', ''),
    convert_case('convert: JSON -> SOAP -> typed JSON, proxied', <<"EOF"),
lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json
                schema=$dir/answer.schema.json;
EOF
);
