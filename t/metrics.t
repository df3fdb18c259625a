#!/usr/bin/perl

# Metrics (lgsp_metrics): exact values after a known mix of requests, the
# Prometheus text format checked by promtool, a real Prometheus scraping
# it, the cardinality cap (lgsp_metrics_max_series) with its "other"
# series, and the handler protected by a JWT claim or by allow/deny.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(encode_jwt);
use File::Temp qw(tempfile);
use HTTP::Tiny;
use JSON::XS;
use Test::More;

use LGSP::Test;

my $secret = 'metrics-test-secret-of-at-least-32-bytes!';

sub token {
    my ($agency, %claims) = @_;
    return encode_jwt(payload => { agency => $agency, exp => time + 600,
                                   %claims },
                      alg => 'HS256', key => $secret);
}

# the value of one sample line, or undef
sub sample {
    my ($text, $line) = @_;
    return $text =~ /^\Q$line\E (\S+)$/m ? $1 : undef;
}

my $t = LGSP::Test->new(workers => 2);
$t->write_file('hs.key', $secret);
$t->extra_port(2);

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_quota_zone quotas:1m;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH;
            lgsp_allow_agency H29.* H30.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /metered {
            lgsp_service BTP.METERED;
            lgsp_allow_agency H29.*;
            lgsp_quota 1r/m;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /down {
            lgsp_service BTP.DOWN;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        # for operators only: a token with the claim role=operator
        location /metrics {
            lgsp_jwt_require_claim role operator;
            lgsp_metrics;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "ok\n"; }
    }
EOF

my %as = map { $_ => { Authorization => 'Bearer ' . token($_) } }
         qw(H29.A H30.B H31.C);
my %operator = (Authorization => 'Bearer ' . token('OPS', role => 'operator'));

is $t->get('/metrics')->{status}, 401, 'metrics need a token';
is $t->get('/metrics', %{ $as{'H29.A'} })->{status}, 403,
    'and the operator claim';

# the mix: 11 requests
$t->get('/hotich/x', %{ $as{'H29.A'} }) for 1 .. 3;
$t->get('/hotich/x', %{ $as{'H30.B'} }) for 1 .. 2;
$t->get('/hotich/x', Authorization => 'Bearer '
        . encode_jwt(payload => { agency => 'H29.A', exp => time - 100 },
                     alg => 'HS256', key => $secret));
$t->get('/hotich/x');
$t->get('/hotich/x', %{ $as{'H31.C'} });
my @metered = map { $t->get('/metered/x', %{ $as{'H29.A'} })->{status} }
              1 .. 2;
is_deeply \@metered, [200, 429], 'the quota lets one through a minute';
is $t->get('/down/x', %{ $as{'H29.A'} })->{status}, 502, 'a provider down';

my $m = $t->metrics_after(11, %operator);

# a series of lgsp_requests_total
sub rq {
    my ($service, $agency, $status, $outcome) = @_;
    return qq(lgsp_requests_total{service="$service",agency="$agency",)
           . qq(status="$status",outcome="$outcome"});
}

my %expect = (
    rq('BTP.HOTICH', 'H29.A', '2xx', 'ok') => 3,
    rq('BTP.HOTICH', 'H30.B', '2xx', 'ok') => 2,
    rq('BTP.HOTICH', '', '4xx', 'auth') => 2,
    rq('BTP.HOTICH', 'H31.C', '4xx', 'access') => 1,
    rq('BTP.METERED', 'H29.A', '2xx', 'ok') => 1,
    rq('BTP.METERED', 'H29.A', '4xx', 'quota') => 1,
    rq('BTP.DOWN', 'H29.A', '5xx', 'upstream') => 1,
    'lgsp_jwt_rejections_total{reason="expired"}' => 1,
    'lgsp_jwt_rejections_total{reason="missing"}' => 1,
    'lgsp_access_rejections_total{service="BTP.HOTICH",agency="H31.C"}' => 1,
    'lgsp_quota_rejections_total{service="BTP.METERED",agency="H29.A"}' => 1,
    'lgsp_request_duration_seconds_count{service="BTP.HOTICH"}' => 8,
    'lgsp_request_duration_seconds_bucket{service="BTP.HOTICH",le="+Inf"}'
        => 8,
    'lgsp_request_duration_seconds_count{service="BTP.METERED"}' => 2,
    'lgsp_upstream_duration_seconds_count{service="BTP.HOTICH"}' => 5,
    'lgsp_upstream_duration_seconds_count{service="BTP.METERED"}' => 1,
    'lgsp_upstream_duration_seconds_count{service="BTP.DOWN"}' => 1,
);

for my $line (sort keys %expect) {
    is sample($m, $line), $expect{$line}, "exact: $line";
}

my $series = () = $m =~ /^lgsp_requests_total\{/mg;
is $series, 7, 'no other request series: scrapes are not counted';

# buckets are cumulative and end at the count
my @buckets = $m =~ /^lgsp_request_duration_seconds_bucket
                     \{service="BTP.HOTICH",le="[^"]+"\}\ (\d+)$/mgx;
is scalar @buckets, 12, 'twelve buckets';
is_deeply [ sort { $a <=> $b } @buckets ], \@buckets, 'cumulative';

like $m, qr/^# TYPE lgsp_requests_total counter$/m, 'TYPE lines';
like $m, qr/^# TYPE lgsp_request_duration_seconds histogram$/m,
    'histograms are typed';
like $t->get('/metrics', %operator)->{headers}{'content-type'},
    qr{^text/plain; version=0.0.4}, 'the text format content type';

# promtool, Prometheus's own checker
{
    my ($fh, $file) = tempfile(DIR => $t->dir);
    print $fh $m;
    close $fh;

    my $out = `promtool check metrics < $file 2>&1`;
    is $?, 0, 'promtool check metrics passes' or diag $out;
}

# a real Prometheus scrapes it, with the operator's token
SKIP: {
    skip 'prometheus is not installed', 3
        unless `which prometheus` =~ /\S/;

    my $port = $t->extra_port(4);
    my $dir = $t->dir;
    my $target = '127.0.0.1:' . $t->port;

    $t->write_file('token', token('OPS', role => 'operator',
                                  exp => time + 3600));
    $t->write_file('prometheus.yml', <<"EOF");
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: lgsp
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: $dir/conf/token
    static_configs:
      - targets: ['$target']
EOF

    $t->spawn('prometheus', "--config.file=$dir/conf/prometheus.yml",
              "--storage.tsdb.path=$dir/tmp/prometheus",
              "--web.listen-address=127.0.0.1:$port");

    my $http = HTTP::Tiny->new(timeout => 5);
    my $query = sub {
        my $r = $http->get("http://127.0.0.1:$port/api/v1/query?query=$_[0]");
        return undef unless $r->{success};
        my $d = eval { decode_json($r->{content}) } or return undef;
        return $d->{data}{result}[0]{value}[1];
    };

    # Prometheus starts and scrapes every second: wait for it, boundedly
    my ($up, $total, $hist);
    for (1 .. 150) {
        $up = $query->('up%7Bjob%3D%22lgsp%22%7D');
        $total = $query->('sum(lgsp_requests_total)');
        $hist = $query->('sum(lgsp_request_duration_seconds_count)');
        last if defined $up && $up eq '1' && defined $hist;
        select undef, undef, undef, 0.2;
    }

    is $up, '1', 'Prometheus scrapes the target: it is up';
    is $total, 11, 'and has the requests counted';
    is $hist, 11, 'and the histograms';
}

ok $t->error_log !~ /\[(?:alert|emerg|crit)\]/, 'no crash or alert';

$t->stop;

# ---------------------------------------------------------------------
# the cardinality cap: series beyond lgsp_metrics_max_series count under
# "other", so the totals stay right

{
    my $t = LGSP::Test->new;
    $t->write_file('hs.key', $secret);

    $t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_metrics_max_series 10;

    server {
        listen 127.0.0.1:%%PORT%%;

        location /hotich {
            lgsp_jwt on;
            lgsp_service BTP.HOTICH;
            lgsp_allow_agency H29.*;
            empty_gif;
        }

        location /metrics {
            allow 127.0.0.1;
            deny all;
            lgsp_metrics;
        }
    }
EOF

    # 30 agencies: 30 request series wanted, and the histogram's one
    for my $n (1 .. 30) {
        $t->get('/hotich/x', Authorization => 'Bearer ' . token("H29.A$n"));
    }

    my $m = $t->metrics_after(30);

    my $sum = 0;
    $sum += $1 while $m =~ /^lgsp_requests_total\{.*\} (\d+)$/mg;
    is $sum, 30, 'every request is counted';

    my $labelled = () = $m =~ /^lgsp_requests_total\{service="BTP/mg;
    is $labelled, 9, 'the cap of 10: the histogram and 9 request series';

    my $other = sample($m, rq('other', 'other', 'other', 'other'));
    is $other, 30 - $labelled, 'the rest count under "other"';
    is sample($m, 'lgsp_metrics_series'), 11,
        'lgsp_metrics_series: the 10 and the overflow series';
}

# ---------------------------------------------------------------------
# nginx -t

{
    my $t = LGSP::Test->new;
    my ($ok, $out) = $t->test_config('lgsp_metrics_max_series 5;');
    ok !$ok, 'nginx -t refuses a cap below 10';
    like $out, qr/value must be between 10 and 100000 in .*nginx\.conf:\d+/,
        'with file and line';

    ($ok, $out) = $t->test_config(
        'server { listen 127.0.0.1:%%PORT%%; lgsp_metrics; }');
    ok !$ok, 'lgsp_metrics is a location directive';
}

done_testing;
