# lgsp_deliver, lgsp_deliver_drain and lgsp_delivery_status are checked
# by nginx -t, which names file and line: a bad mode, time, count or size,
# and a delivering location without its service, Redis or status URL, or
# a fallback in a regex location (the error page comes back by name).

use strict; use warnings; use lib 't/lib'; use LGSP::Test; use Test::More;
my $t = LGSP::Test->new; $t->start_redis;
for my $case (
  ['lgsp_deliver sometimes;', qr/invalid mode "sometimes"/],
  ['lgsp_deliver always expire=x;', qr/invalid time in "expire=x"/],
  ['lgsp_deliver always backoff=0;', qr/invalid time in "backoff=0"/],
  ['lgsp_deliver always attempts=0;', qr/attempts are 1 to 1000/],
  ['lgsp_deliver always max_body=4m;', qr/at most 3m/],
  ['lgsp_deliver always color=red;', qr/invalid parameter "color=red"/],
) {
  my ($ok, $out) = $t->test_config(<<"E");
    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    server { listen 127.0.0.1:%%PORT%%; location /d/ { lgsp_delivery_status; }
      location /x/ { lgsp_service S; $case->[0] proxy_pass http://127.0.0.1:1; } }
E
  ok !$ok, "refused: $case->[0]"; like $out, $case->[1], 'says why'; like $out, qr/nginx.conf:\d+/, 'names file and line';
}
my ($ok, $out) = $t->test_config(<<'E');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    lgsp_deliver_drain poll=100ms visibility=2s concurrency=4;
    server { listen 127.0.0.1:%%PORT%%; location /d/ { lgsp_delivery_status; }
      location /x/ { lgsp_service S; lgsp_deliver fallback attempts=3 expire=1h backoff=1s max_body=10k; proxy_pass http://127.0.0.1:1; } }
E
ok $ok, 'a good configuration' or diag $out;
($ok, $out) = $t->test_config("lgsp_deliver_drain poll=0;");
like $out, qr/invalid parameter "poll=0"/, 'drain: bad poll';
($ok, $out) = $t->test_config(<<'E');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    server { listen 127.0.0.1:%%PORT%%; location /x/ { lgsp_service S; lgsp_deliver always; proxy_pass http://127.0.0.1:1; } }
E
like $out, qr/needs a location with "lgsp_delivery_status"/, 'no status location';
($ok, $out) = $t->test_config(<<'E');
    server { listen 127.0.0.1:%%PORT%%; location /d/ { lgsp_delivery_status; } location /x/ { lgsp_service S; lgsp_deliver always; proxy_pass http://127.0.0.1:1; } }
E
like $out, qr/needs "lgsp_redis"/, 'no redis';
($ok, $out) = $t->test_config(<<'E');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    server { listen 127.0.0.1:%%PORT%%; location /d/ { lgsp_delivery_status; } location /x/ { lgsp_deliver always; proxy_pass http://127.0.0.1:1; } }
E
like $out, qr/needs "lgsp_service"/, 'no service';
($ok, $out) = $t->test_config(<<'E');
    lgsp_redis 127.0.0.1:%%REDIS_PORT%%;
    server { listen 127.0.0.1:%%PORT%%; location /d/ { lgsp_delivery_status; } location ~ ^/x/ { lgsp_service S; lgsp_deliver fallback; proxy_pass http://127.0.0.1:1; } }
E
like $out, qr/needs a prefix, exact or named location/, 'fallback in a regex location';
$t->stop; done_testing;
