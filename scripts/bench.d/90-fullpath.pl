# The whole LGSP path as a real service runs it, against the same POST
# through a bare keepalive proxy_pass, both to a separate nginx (started
# by the bench on wrk's core) that answers with return: the 2 KB birth
# registration (conf/schemas/khaisinh.example.json) POSTed by an agency
# with a cached RS256 token, verified against a JWKS of 4 keys with
# issuer, audience, agency claim and a required scope; access rights; a
# Redis quota; the request schema; buffered records with checkpoints; the
# metrics zone.  Then both again with two workers on both cores.
# Targets (issue 18): the full path >= 0.8 of the bare proxy, p50 added
# under 0.5 ms; with two workers, a ratio within 0.05 of one worker's.

use strict;
use warnings;

use Crypt::PK::RSA;
use JSON::XS;

use LGSP::Token qw(mint);

my $lua = main::post_json_lua('conf/schemas/khaisinh.example.json');

my $upstream = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT%%;
        keepalive_requests 100000;
        location / { return 200 "{}"; }
    }
EOF

# a pool of idle connections as large as wrk's 50: a smaller one closes
# and opens upstream connections under load, which both cases pay and
# which hides what the LGSP costs
my $proxy = <<'EOF';
    upstream agency {
        server 127.0.0.1:%%UPSTREAM_PORT%%;
        keepalive 64;
    }
EOF

my $proxy_pass = <<'EOF';
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://agency;
EOF

my $bare = <<"EOF";
$proxy
    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
$proxy_pass        }
    }
EOF

my $full = <<"EOF";
    lgsp_jwt_key_file sso.jwks;
    lgsp_jwt_algorithms RS256;
    lgsp_jwt_issuer https://sso.bench.gov.vn;
    lgsp_jwt_audience lgsp;
    lgsp_agency_claim agency;
    lgsp_jwt_cache zone=jwt:10m;

    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    lgsp_quota_zone quotas:10m;

    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl
                         key=checkpoint.key checkpoint=1000 buffer=64k;
$proxy
    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency 000.00.29.H29 000.00.31.H29 H30.*;
            lgsp_jwt on;
            lgsp_jwt_require_claim scope hotich.write;
            lgsp_quota 1000000000r/d;
            lgsp_schema_request %%REPO%%/conf/schemas/khaisinh.json;
$proxy_pass        }

        location = /metrics {
            allow 127.0.0.1;
            deny all;
            lgsp_metrics;
        }
    }
EOF

# four RSA keys in the set, the token signed by the third
sub prepare_full {
    my ($t) = @_;
    my (@keys, $signer);

    for my $n (1 .. 4) {
        my ($private) = $t->openssl_key("sso-$n", 'rsa');
        my $jwk = Crypt::PK::RSA->new($private)->export_key_jwk('public', 1);

        $jwk->{kid} = "sso-$n";
        $jwk->{alg} = 'RS256';
        $jwk->{use} = 'sig';
        push @keys, $jwk;
        $signer = $private if $n == 3;
    }

    $t->write_file('sso.jwks', JSON::XS->new->canonical->encode(
        { keys => \@keys }));
    $t->openssl_key('checkpoint', 'ed25519');
    $t->start_redis(cpu => $ENV{LGSP_BENCH_AUX_CPU});

    my $token = mint(alg => 'RS256', key => $signer, kid => 'sso-3',
                     claims => { iss => 'https://sso.bench.gov.vn',
                                 aud => 'lgsp', agency => '000.00.29.H29',
                                 scope => 'hotich.read hotich.write',
                                 exp => time + 86400 });

    return { headers => { Authorization => "Bearer $token" } };
}

sub fullpath_cases {
    my ($workers) = @_;
    my $suffix = $workers > 1 ? ", $workers workers" : '';

    return ({
        name => "bare proxy POST$suffix",
        http => $bare,
        upstream => $upstream,
        workers => $workers,
        path => '/khaisinh',
        lua => $lua,
    }, {
        name => "full path$suffix",
        http => $full,
        upstream => $upstream,
        workers => $workers,
        path => '/khaisinh',
        lua => $lua,
        prepare => \&prepare_full,
        baseline => "bare proxy POST$suffix",
        $workers > 1 ? (compare => 'full path') : (),
    });
}

# the full path with one step left out, each against the bare proxy: what
# each step costs among the others (the steps alone are in the files
# before this one)
my %without = (
    'quota' => qr/^\s*lgsp_quota .*\n/m,
    'schema' => qr/^\s*lgsp_schema_request .*\n/m,
    'records' => qr/^\s*lgsp_transaction_log [^;]*;\n/m,
);

sub without_cases {
    my @cases;

    for my $step (sort keys %without) {
        (my $http = $full) =~ s/$without{$step}//g;

        push @cases, {
            name => "full path without $step",
            http => $http,
            upstream => $upstream,
            path => '/khaisinh',
            lua => $lua,
            prepare => \&prepare_full,
            baseline => 'bare proxy POST',
        };
    }

    return @cases;
}

(fullpath_cases(1), without_cases(), fullpath_cases(2));
