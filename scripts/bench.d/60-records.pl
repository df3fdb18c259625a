# Transaction records and metrics on the full path (JWT with its cache,
# access rights, proxy_pass to a keepalive provider): records with signed
# checkpoints (each line written at once, or buffer=64k), metrics, both,
# and neither, in the same run.  Target:
# records plus metrics keep >= 0.95 of the path without them.

use strict;
use warnings;

use LGSP::Token qw(mint);

my $records = "    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl"
              . " key=checkpoint.key checkpoint=1000;\n";
my $buffered = "    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl"
               . " key=checkpoint.key checkpoint=1000 buffer=64k;\n";

# metrics are counted where a lgsp_metrics location exists
my $metrics = <<'EOF';
        location = /metrics {
            allow 127.0.0.1;
            deny all;
            lgsp_metrics;
        }
EOF

sub records_case {
    my ($name, $http, $handler) = @_;

    return {
        name => $name,
        http => $http . <<"EOF",
    lgsp_jwt_cache zone=jwt:10m;

    upstream agency {
        server 127.0.0.1:%%PORT_1%%;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            lgsp_service BENCH.SVC;
            lgsp_allow_agency *;
            lgsp_jwt on;
            lgsp_jwt_key_file secret.pub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://agency;
        }
$handler    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_transaction_log off;
        location / { return 200 "{}"; }
    }
EOF
        path => '/x',
        baseline => $name eq 'full path, no records, no metrics'
                    ? undef : 'full path, no records, no metrics',
        prepare => sub {
            my ($t) = @_;
            my $secret = join '', map { chr(48 + rand 64) } 1 .. 48;

            $t->write_file('secret.pub', $secret);
            $t->openssl_key('checkpoint', 'ed25519');

            return { headers => { Authorization => 'Bearer '
                                  . mint(alg => 'HS256', key => $secret) } };
        },
    };
}

(
    records_case('full path, no records, no metrics', '', ''),
    records_case('full path, records', $records, ''),
    records_case('full path, metrics', '', $metrics),
    records_case('full path, records + metrics', $records, $metrics),
    records_case('full path, records buffer=64k + metrics', $buffered,
                 $metrics),
)
