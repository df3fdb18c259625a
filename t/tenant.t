#!/usr/bin/perl

# Tenants (lgsp_tenant): one LGSP serving several ministries and provinces.
# Every transaction counts for its tenant: records carry "tenant", metrics
# a tenant label, the catalogue names it; lgsp_metrics and lgsp_status
# with tenant= show one tenant alone (the viewer's, from a JWT claim); a
# tenant-wide quota keeps a noisy tenant from taking another's share; and
# nginx -t refuses a tenant with two titles or a service in two tenants.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::XS;
use Test::More;
use Time::HiRes qw(sleep);

use LGSP::Test;
use LGSP::Token;

my $secret = 'tenant-test-secret-of-at-least-32-bytes';

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_quota_zone quotas:1m;
    lgsp_transaction_log logs/transactions.jsonl;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name lgsp.hanam.gov.vn;
        lgsp_tenant H29 "title=UBND tỉnh Hà Nam";

        add_header X-Tenant $lgsp_tenant always;

        location = /catalog { lgsp_catalog; }
        location = /openapi.json { lgsp_catalog openapi; }

        location /hotich {
            lgsp_service H29.HOTICH "title=Hộ tịch";
            lgsp_jwt on;
            lgsp_allow_agency *;
            # a tenant-wide ceiling, beside nothing per agency
            lgsp_quota 4r/m key=$lgsp_tenant name=tenant per=key;
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        server_name lgsp.byt.gov.vn;
        lgsp_tenant BYT "title=Bộ Y tế";

        add_header X-Tenant $lgsp_tenant always;

        location = /catalog { lgsp_catalog; }

        location /khambenh {
            lgsp_service BYT.KHAMBENH;
            lgsp_jwt on;
            lgsp_allow_agency *;
            lgsp_quota 4r/m key=$lgsp_tenant name=tenant per=key;
            empty_gif;
        }

        location /nested {
            # a location may name the tenant again: the same title or none
            lgsp_tenant BYT;
            lgsp_service BYT.NESTED;
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        server_name ops.lgsp.gov.vn;

        location = /metrics { lgsp_metrics; }
        location = /status { lgsp_status; }

        # each tenant's staff: the tenant is the viewer's own JWT claim
        location = /my/metrics {
            lgsp_jwt on;
            lgsp_metrics tenant=$lgsp_jwt_claim_tenant;
        }

        location = /my/status {
            lgsp_jwt on;
            lgsp_status tenant=$lgsp_jwt_claim_tenant;
        }

        location = /h29/metrics { lgsp_metrics tenant=H29; }
        location = /h29/status { lgsp_status tenant=H29; }
    }
EOF

my $hanam = $t->port;
my $byt = $t->extra_port(1);
my $ops = $t->extra_port(2);

sub call {
    my ($port, $path, $agency) = @_;
    return $t->request('GET', $path, port => $port, headers => {
        Authorization => LGSP::Token::bearer($secret, $agency) });
}

# traffic: Ha Nam 3 ok, Bo Y te 2 ok and one without a token
my @r = map { call($hanam, '/hotich/x', '000.00.00.H29') } 1 .. 3;
is_deeply [map { $_->{status} } @r], [200, 200, 200], 'Ha Nam: 3 served';
is $r[0]{headers}{'x-tenant'}, 'H29', '$lgsp_tenant: the server\'s tenant';

is call($byt, '/khambenh/1', '000.00.00.G10')->{status}, 200, 'BYT served';
is call($byt, '/khambenh/2', '000.00.00.G10')->{status}, 200, 'again';
my $anon = $t->request('GET', '/khambenh/3', port => $byt);
is $anon->{status}, 401, 'BYT: no token, refused';
is $anon->{headers}{'x-tenant'}, 'BYT', 'and counted for BYT';

# a noisy tenant: Ha Nam's agencies together reach the ceiling of 4 a
# minute; Bo Y te keeps its own share
is call($hanam, '/hotich/y', '000.00.00.H30')->{status}, 200,
   'Ha Nam: the 4th call of the minute, from another agency';
is call($hanam, '/hotich/y', '000.00.00.H31')->{status}, 429,
   'Ha Nam: the 5th is refused, whatever the agency';
is call($byt, '/khambenh/4', '000.00.00.G10')->{status}, 200,
   'BYT: its third call still passes';

# records
my @records = map { decode_json($_) }
              $t->log_lines('logs/transactions.jsonl', 9);
my %by_tenant;
$by_tenant{$_->{tenant} // 'null'}++ for @records;
is_deeply \%by_tenant, { H29 => 5, BYT => 4 },
          'records: each carries its tenant';
is $records[0]{tenant}, 'H29', 'the first record is Ha Nam\'s';

# metrics: every transaction series carries the tenant as first label
my $m = $t->request('GET', '/metrics', port => $ops)->{content};
like $m, qr/^lgsp_requests_total\{tenant="H29",service="H29.HOTICH",agency="000.00.00.H29",status="2xx",outcome="ok"\} 3$/m,
     'metrics: Ha Nam\'s requests under tenant="H29"';
like $m, qr/^lgsp_requests_total\{tenant="BYT",service="BYT.KHAMBENH",agency="",status="4xx",outcome="auth"\} 1$/m,
     'BYT\'s refusal under tenant="BYT"';
like $m, qr/^lgsp_jwt_rejections_total\{tenant="BYT",reason="missing"\} 1$/m,
     'rejections carry the tenant';
like $m, qr/^lgsp_quota_rejections_total\{tenant="H29",service="H29.HOTICH",agency="000.00.00.H31"\} 1$/m,
     'the quota refusal is Ha Nam\'s';
like $m, qr/^lgsp_request_duration_seconds_count\{tenant="BYT",service="BYT.KHAMBENH"\} 4$/m,
     'histograms carry the tenant';
my @untagged = grep { /^lgsp_(requests_total|\w+_rejections_total|\w+_duration_seconds\w*)\{/ && !/^\w+\{tenant="/ }
               split /\n/, $m;
is_deeply \@untagged, [], 'no transaction series without a tenant';

# one tenant's view: fixed, or from the viewer's JWT claim
my $scoped = $t->request('GET', '/h29/metrics', port => $ops)->{content};
like $scoped, qr/^lgsp_requests_total\{tenant="H29",/m, 'tenant=H29: its series';
unlike $scoped, qr/tenant="BYT"/, 'and none of BYT\'s';
unlike $scoped, qr/^lgsp_(redis_up|records_lost_total|metrics_series)\b/m,
       'nor the platform\'s own metrics';

my $viewer = 'Bearer ' . LGSP::Token::mint(alg => 'HS256', key => $secret,
    claims => { agency => '000.00.00.G10', tenant => 'BYT' });
my $mine = $t->request('GET', '/my/metrics', port => $ops,
                       headers => { Authorization => $viewer });
is $mine->{status}, 200, 'a BYT viewer reads /my/metrics';
like $mine->{content}, qr/tenant="BYT"/, 'and sees BYT';
unlike $mine->{content}, qr/tenant="H29"/, 'and not Ha Nam';

my $nobody = 'Bearer ' . LGSP::Token::mint(alg => 'HS256', key => $secret,
    claims => { agency => '000.00.00.G10' });
my $none = $t->request('GET', '/my/metrics', port => $ops,
                       headers => { Authorization => $nobody });
is $none->{status}, 403, 'a viewer with no tenant claim: 403';
is $none->{json}{type}, 'urn:lgsp:problem:no-tenant', 'named no-tenant';
unlike $none->{content}, qr/lgsp_requests_total/, 'and shown nothing';

# the status page's figures, scoped
my $all = $t->request('GET', '/status?format=json', port => $ops)->{json};
is $all->{total}, 9, 'status: 9 transactions in all';
is $all->{today}, 9, 'today: 9';
ok !exists $all->{tenant}, 'the operator\'s view names no tenant';

my $st = $t->request('GET', '/my/status?format=json', port => $ops,
                     headers => { Authorization => $viewer })->{json};
is $st->{tenant}, 'BYT', 'a BYT viewer: the view names BYT';
is $st->{total}, 4, 'its 4 transactions';
is $st->{today}, 4, 'today: 4';
# the 4 may straddle a minute's end
is $st->{per_minute}[-1] + $st->{per_minute}[-2], 4,
   'the last two minutes: 4';
is $st->{rejected}, 1, 'its one rejection';
is_deeply [map { $_->{name} } @{ $st->{services} }], ['BYT.KHAMBENH'],
          'its own services only';
ok !exists $st->{redis} && !exists $st->{records_lost},
   'not the platform\'s own state';
is_deeply $st->{delivery}, { queued => 0, oldest_seconds => 0, dead => 0 },
          'its own delivery queues (none here)';

my $page = $t->request('GET', '/my/status', port => $ops,
                       headers => { Authorization => $viewer });
like $page->{content}, qr/id='tenant'/, 'the page has room for the tenant';

# the page itself, as a browser shows it
SKIP: {
    my $dom = $t->chromium_dom("http://127.0.0.1:$ops/h29/status");
    skip 'chromium is not installed', 4 unless defined $dom;

    like $dom, qr/<body data-ready="1">/, 'Chromium: the scoped page rendered';
    like $dom, qr/<span id="tenant"> \x{2014} H29<\/span>/, 'naming H29';
    like $dom, qr/id="today">5</, 'today: H29\'s 5 transactions, not all 9';
    like $dom, qr/class="card platform" style="display: none;"/,
         'the platform\'s cards hidden';
}

# catalogue and OpenAPI
my $cat = $t->request('GET', '/catalog', port => $hanam)->{json};
is_deeply $cat->{tenant}, { code => 'H29', title => 'UBND tỉnh Hà Nam' },
          'catalogue: the tenant and its title';
is $cat->{services}[0]{tenant}, 'H29', 'each service names its tenant';
my $oa = $t->request('GET', '/openapi.json', port => $hanam)->{json};
is_deeply $oa->{info}{'x-lgsp-tenant'},
          { code => 'H29', title => 'UBND tỉnh Hà Nam' },
          'OpenAPI: info.x-lgsp-tenant';
my $bcat = $t->request('GET', '/catalog', port => $byt)->{json};
is $bcat->{tenant}{title}, 'Bộ Y tế', 'BYT\'s catalogue: BYT';

$t->stop;

# the same ceiling on Redis, shared by every node: one counter for the
# tenant, whatever the agency, beside each agency's own
my $rt = LGSP::Test->new;
$rt->write_file('hs.key', $secret);
$rt->start_redis;
$rt->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=5s;
    lgsp_quota_fallback deny;
    lgsp_deliver_drain poll=100ms;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_tenant H29;

        location /hotich {
            lgsp_service H29.HOTICH;
            lgsp_jwt on;
            lgsp_allow_agency *;
            lgsp_quota 2r/m;
            lgsp_quota 3r/m key=$lgsp_tenant name=tenant per=key;
            empty_gif;
        }

        # a provider that is down: its requests wait in the queue
        location /bhxh {
            lgsp_service H29.BHXH;
            lgsp_jwt on;
            lgsp_allow_agency *;
            lgsp_deliver always backoff=60s;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /deliveries/ { lgsp_jwt on; lgsp_delivery_status; }
        location = /metrics { lgsp_metrics; }
    }
EOF

my @st = map { $rt->request('GET', '/hotich/x', headers => {
                   Authorization => LGSP::Token::bearer($secret, $_) })->{status} }
         qw(000.00.00.A 000.00.00.A 000.00.00.A 000.00.00.B 000.00.00.C);
is_deeply \@st, [200, 200, 429, 200, 429],
          'Redis: 2 a minute per agency, 3 for the tenant';
is $rt->redis_cli('HGET', "'lgsp:quota:all:{H29}:tenant:60'", 'c'), 3,
   'the tenant\'s counter: lgsp:quota:all:{H29}:tenant:60';
is $rt->redis_cli('HGET', "'lgsp:quota:{000.00.00.A}:H29.HOTICH:minute:60'",
                  'c'), 2, 'beside each agency\'s own';

is $rt->request('POST', '/bhxh/the', body => '{}', headers => {
       Authorization => LGSP::Token::bearer($secret, '000.00.00.A'),
       'Content-Type' => 'application/json' })->{status}, 202,
   'a request to a provider that is down: kept';

my $dm = '';
for (1 .. 50) {
    $dm = $rt->request('GET', '/metrics')->{content};
    last if $dm =~ /^lgsp_delivery_attempts_total\{/m;
    sleep 0.1;
}
like $dm, qr/^lgsp_delivery_queued\{tenant="H29",service="H29.BHXH"\} 1$/m,
     'the delivery metrics carry the tenant: queued';
like $dm, qr/^lgsp_delivery_attempts_total\{tenant="H29",service="H29.BHXH",result="retry"\} 1$/m,
     'and attempts';
$rt->stop;

# nginx -t
my $c = LGSP::Test->new;

my ($ok, $out) = $c->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_tenant H29 "title=UBND tỉnh Hà Nam";
        location / { lgsp_service A; empty_gif; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_tenant H29 "title=Hà Nam";
        location / { lgsp_service B; empty_gif; }
    }
EOF
ok !$ok, 'nginx -t: one code, two titles: refused';
like $out, qr/tenant "H29" is titled "UBND tỉnh Hà Nam" in \S+nginx.conf:\d+ in \S+nginx.conf:\d+/,
     'naming both places';

($ok, $out) = $c->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_tenant H29;
        location /a { lgsp_service SHARED.CODE; empty_gif; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_tenant BYT;
        location /b { lgsp_service SHARED.CODE; empty_gif; }
    }
EOF
ok !$ok, 'nginx -t: a service code in two tenants: refused';
like $out, qr/service "SHARED.CODE" of tenant "BYT" in \S+nginx.conf:\d+ is also in tenant "H29" in \S+nginx.conf:\d+/,
     'naming the service, both tenants and lines';

($ok, $out) = $c->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_tenant H29;
        lgsp_service SRV.LEVEL;
        location /b { lgsp_tenant BYT; empty_gif; }
    }
EOF
ok !$ok, 'nginx -t: a service inherited into another tenant: refused';
like $out, qr/service "SRV.LEVEL" of tenant "H29" is inherited by a location of tenant "BYT"/,
     'saying so';

($ok, $out) = $c->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_tenant "H 29";
        location / { empty_gif; }
    }
EOF
ok !$ok, 'nginx -t: a code with a space: refused';
like $out, qr/invalid tenant code "H 29"/, 'saying why';

($ok, $out) = $c->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /m { lgsp_metrics tenant=; }
    }
EOF
ok !$ok, 'nginx -t: lgsp_metrics tenant= with nothing: refused';

($ok, $out) = $c->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_tenant H29 "title=UBND tỉnh Hà Nam";
        location /a { lgsp_service SAME; empty_gif; }
        location /b { lgsp_service SAME; empty_gif; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_tenant H29;
        location /c { lgsp_service OTHER; empty_gif; }
    }
EOF
ok $ok, 'nginx -t: one tenant in two servers, a code twice in one tenant'
    or diag $out;

done_testing;
