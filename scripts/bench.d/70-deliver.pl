# Guaranteed delivery: the fallback path while the provider is up (its
# cost: the body read before proxying, nothing queued), against the same
# POST without lgsp_deliver; and queueing with always, requests/s into
# the Redis queue (the provider down: the drainer waits on its head).
# Draining throughput is scripts/bench-drain's.

use strict;
use warnings;

use LGSP::Token qw(mint);

my $body = '{"ho_ten":"Nguyen Van An","ngay_sinh":"2026-01-02",'
           . '"noi_sinh":"Ha Nam","cha":"Nguyen Van Binh",'
           . '"me":"Tran Thi Cuc"}';

sub deliver_case {
    my ($name, $deliver, $provider) = @_;

    return {
        name => $name,
        http => <<"EOF",
    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    lgsp_jwt_cache zone=jwt:10m;

    upstream agency {
        server 127.0.0.1:$provider;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location /deliveries/ { lgsp_delivery_status; }

        location / {
            lgsp_service BENCH.DELIVER;
            lgsp_allow_agency *;
            lgsp_jwt on;
            lgsp_jwt_key_file secret.pub;
            $deliver
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
        lua => "wrk.method = 'POST'\n"
               . "wrk.headers['Content-Type'] = 'application/json'\n"
               . "wrk.body = '$body'\n",
        baseline => $name =~ /without/ ? undef
                    : 'deliver: POST proxied, without lgsp_deliver',
        prepare => sub {
            my ($t) = @_;
            my $secret = join '', map { chr(48 + rand 64) } 1 .. 48;

            $t->write_file('secret.pub', $secret);
            $t->start_redis(cpu => $ENV{LGSP_BENCH_AUX_CPU});

            return { headers => { Authorization => 'Bearer '
                                  . mint(alg => 'HS256', key => $secret) } };
        },
    };
}

(
    deliver_case('deliver: POST proxied, without lgsp_deliver', '',
                 '%%PORT_1%%'),
    deliver_case('deliver: POST proxied, lgsp_deliver fallback',
                 'lgsp_deliver fallback;', '%%PORT_1%%'),
    # nothing listens on PORT_2: every request is queued and answered 202
    deliver_case('deliver: POST queued, lgsp_deliver always',
                 'lgsp_deliver always backoff=10m;', '%%PORT_2%%'),
);
