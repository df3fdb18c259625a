# Quotas on the JWT-authenticated proxy path: a Redis quota that allows
# everything, the same quota counted in the local zone, nginx's own
# limit_req, and the same path without any limit, in the same run.
# Target: the Redis quota keeps >= 0.85 of the path without a quota and
# adds < 1 ms to its median latency.

use strict;
use warnings;

use LGSP::Token qw(mint);

sub quota_case {
    my ($name, $http, $limit) = @_;

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
            $limit
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
        path => '/x',
        baseline => $name eq 'proxy+jwt, no quota'
                    ? undef : 'proxy+jwt, no quota',
        prepare => sub {
            my ($t) = @_;
            my $secret = join '', map { chr(48 + rand 64) } 1 .. 48;

            $t->write_file('secret.pub', $secret);
            $t->start_redis(cpu => $ENV{LGSP_BENCH_AUX_CPU})
                if $http =~ /lgsp_redis/;

            return { headers => { Authorization => 'Bearer '
                                  . mint(alg => 'HS256', key => $secret) } };
        },
    };
}

(
    quota_case('proxy+jwt, no quota', '', ''),
    quota_case('proxy+jwt, redis quota',
               "    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;\n"
               . "    lgsp_quota_zone quotas:10m;\n",
               'lgsp_quota 1000000000r/d;'),
    quota_case('proxy+jwt, local zone quota',
               "    lgsp_quota_zone quotas:10m;\n",
               'lgsp_quota 1000000000r/d;'),
    quota_case('proxy+jwt, nginx limit_req',
               "    limit_req_zone \$binary_remote_addr zone=lr:10m"
               . " rate=1000000r/s;\n",
               'limit_req zone=lr burst=1000000 nodelay;'),
);
