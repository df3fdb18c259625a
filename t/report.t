#!/usr/bin/perl

# lgsp-report: the statistics a ministry or province files, from the
# transaction logs of several nodes, rotated.  The chains are verified
# first; the counts per tenant, agency and service equal what was sent;
# a tampered log makes the report say so on its first line and fail; the
# period is local time; CSV opens in spreadsheets (UTF-8 with BOM), HTML
# renders in Chromium with its charts.

use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::XS;
use POSIX qw(strftime);
use Test::More;

use LGSP::Test;
use LGSP::Token;

binmode Test::More->builder->$_, ':utf8'
    for qw(output failure_output todo_output);

my $secret = 'report-test-secret-of-at-least-32-bytes';
my $report = "$LGSP::Test::REPO/scripts/lgsp-report";

my $conf = <<'EOF';
    lgsp_jwt_key_file hs.key;
    lgsp_quota_zone quotas:1m;

    # the providers
    server {
        listen 127.0.0.1:%%PORT_2%%;
        location / { return 200 "{}"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_tenant H29 "title=UBND tỉnh Hà Nam";
        lgsp_transaction_log logs/transactions.jsonl;

        location /hotich {
            lgsp_service H29.HOTICH;
            lgsp_jwt on;
            lgsp_allow_agency 000.00.00.H*;
            lgsp_quota 4r/m;
            lgsp_schema_request hotich.json;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_tenant BYT "title=Bộ Y tế";
        lgsp_transaction_log logs/transactions.jsonl;

        location /khambenh {
            lgsp_service BYT.KHAMBENH;
            lgsp_jwt on;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }
    }
EOF

my $schema = '{"type":"object","required":["ten"]}';

# two nodes, each with its own log
my @nodes = map { LGSP::Test->new } 1 .. 2;
# node 2 signs its chain every 2 records
my ($priv, $pub) = $nodes[1]->openssl_key('checkpoint', 'ed25519');
(my $signed = $conf) =~ s{(lgsp_transaction_log logs/transactions\.jsonl)}
                         {$1 key=checkpoint.key checkpoint=2}g;

for my $n (@nodes) {
    # workers reopen the log themselves: they must reach it
    chmod 0755, $n->dir;
    $n->write_file('hs.key', $secret);
    $n->write_file('hotich.json', $schema);
    $n->start($n == $nodes[1] ? $signed : $conf);
}

my %sent;      # "tenant,agency,service,column" => count

sub send_one {
    my ($node, $tenant, $path, $agency, $body, $column) = @_;
    my $port = $tenant eq 'H29' ? $node->port : $node->extra_port(1);
    my $service = $tenant eq 'H29' ? 'H29.HOTICH' : 'BYT.KHAMBENH';
    my %h = $agency ? (Authorization => LGSP::Token::bearer($secret, $agency))
                    : ();
    $h{'Content-Type'} = 'application/json';
    my $r = $node->request('POST', $path, port => $port, headers => \%h,
                           body => $body);
    $sent{join ',', $tenant, $agency, $service, 'transactions'}++;
    $sent{join ',', $tenant, $agency, $service, $column}++;
    return $r->{status};
}

my ($n1, $n2) = @nodes;
my @want = (
    # node 1, before rotation
    [$n1, 'H29', '/hotich/a', '000.00.00.H29', '{"ten":"An"}', 'succeeded', 200],
    [$n1, 'H29', '/hotich/a', '000.00.00.H29', '{"x":1}', 'schema', 422],
    [$n1, 'H29', '/hotich/a', '000.00.00.G10', '{"ten":"An"}', 'access', 403],
    [$n1, 'H29', '/hotich/a', '', '{"ten":"An"}', 'auth', 401],
    [$n1, 'BYT', '/khambenh/1', '000.00.00.G10', '{}', 'succeeded', 200],
);
my @after_rotation = (
    [$n1, 'H29', '/hotich/b', '000.00.00.H29', '{"ten":"Binh"}', 'succeeded', 200],
    [$n1, 'H29', '/hotich/b', '000.00.00.H29', '{"ten":"Chi"}', 'succeeded', 200],
    [$n1, 'H29', '/hotich/b', '000.00.00.H29', '{"ten":"Dung"}', 'quota', 429],
    [$n1, 'BYT', '/khambenh/2', '000.00.00.G10', '{}', 'succeeded', 200],
);
my @node2 = (
    [$n2, 'H29', '/hotich/c', '000.00.00.H30', '{"ten":"Em"}', 'succeeded', 200],
    [$n2, 'BYT', '/khambenh/3', '000.00.00.G11', '{}', 'succeeded', 200],
    [$n2, 'BYT', '/khambenh/3', '000.00.00.G11', '{}', 'succeeded', 200],
);

for my $c (@want) {
    is send_one(@$c[0 .. 5]), $c->[6], "node 1: $c->[5] ($c->[6])";
}

# logrotate's way: move the file, then nginx -s reopen
my $dir1 = $n1->dir;
rename "$dir1/logs/transactions.jsonl", "$dir1/logs/transactions.jsonl.1"
    or die $!;
$n1->signal('USR1');

# the reopen is done when the worker says so
for (1 .. 100) {
    last if $n1->read_file('logs/error.log') =~ /\d+#\d+: reopening logs\n(?s:.*)\d+#\d+: reopening logs\n/;
    sleep 0.05;
}

for my $c (@after_rotation, @node2) {
    is send_one(@$c[0 .. 5]), $c->[6], "$c->[5] ($c->[6])";
}

# records are written after the answer: a graceful stop waits for them
$_->stop for @nodes;

my @logs = ("$dir1/logs/transactions.jsonl", $n2->dir . '/logs/transactions.jsonl',
            "$dir1/logs/transactions.jsonl.1");
my $records = 0;
for my $log (@logs) {
    open my $fh, '<', $log or die "$log: $!";
    $records += grep { !/"checkpoint"/ } <$fh>;
}
is $records, @want + @after_rotation + @node2, 'one record per request';

sub run_report {
    my (@args) = @_;
    my $out = `$report @args 2>&1`;
    return ($? >> 8, $out);
}

# CSV: a BOM, then a header and a row per tenant, agency and service
my ($rc, $csv) = run_report(@logs);
is $rc, 0, 'the report: exit 0';
like $csv, qr/^\xEF\xBB\xBF/, 'CSV: UTF-8 with a byte order mark';
my $text = substr $csv, 3;
utf8::decode($text);
my @lines = split /\r\n/, $text;
like $lines[0], qr/^Đơn vị \(tenant\),Cơ quan,Dịch vụ,Giao dịch,Thành công/,
     'Vietnamese column names';

my @cols = qw(tenant agency service transactions succeeded auth access quota
              schema upstream error p50_ms p95_ms bytes_in bytes_out);
my %got;
for my $line (@lines[1 .. $#lines]) {
    my @f = split /,/, $line, -1;
    next unless @f == @cols;
    for my $i (3 .. 10) {
        $got{join ',', @f[0 .. 2], $cols[$i]} = $f[$i] if $f[$i];
    }
}
is_deeply \%got, \%sent, 'counts per tenant, agency and service: as sent';

like $text, qr/^Tổng số giao dịch: 12\r?$/m, 'the total';
my @verified = grep { /^Chuỗi bản ghi đã xác thực/ } @lines;
is scalar @verified, 2, 'two chains: one per node';
like join("\n", @verified),
     qr/transactions\.jsonl\.1 \+ \S+transactions\.jsonl: seq 1-9 /,
     'node 1: the rotated file then the current one, records 1 to 9';
like join("\n", @verified),
     qr/: seq 1-4 \(điểm kiểm: 1; điểm kiểm cuối: seq 2 \(key [0-9a-f]{16}\); đầu chuỗi [0-9a-f]{64}\)/,
     'node 2: 3 records and a checkpoint, the last signed one, the head';

($rc, $csv) = run_report('--pubkey', $pub, $nodes[1]->dir
                         . '/logs/transactions.jsonl');
is $rc, 0, 'node 2 with its public key: the signature verifies';

# JSON, English, one tenant
($rc, my $json) = run_report('--format', 'json', '--tenant', 'BYT', @logs);
is $rc, 0, 'JSON: exit 0';
like $json, qr/^\{\n  "broken": false,/, 'JSON: "broken" on its first lines';
my $j = decode_json($json);
is $j->{total}, 4, '--tenant BYT: its 4 transactions';
is_deeply [sort map { "$_->{agency}:$_->{transactions}" } @{ $j->{rows} }],
          ['000.00.00.G10:2', '000.00.00.G11:2'], 'per agency';

# the period, in local time (Asia/Ho_Chi_Minh)
my $today = strftime('%Y-%m-%d', gmtime(time + 7 * 3600));
my $tomorrow = strftime('%Y-%m-%d', gmtime(time + 7 * 3600 + 86400));
($rc, $json) = run_report('--format', 'json', '--from', $today, '--to',
                          $tomorrow, @logs);
is decode_json($json)->{total}, 12, "--from $today --to $tomorrow: all 12";
is decode_json($json)->{days}[0]{day}, $today, 'counted on today\'s date';
($rc, $json) = run_report('--format', 'json', '--from', $tomorrow, @logs);
is decode_json($json)->{total}, 0, '--from tomorrow: none';

# HTML, in Chromium
my $html = $n1->dir . '/report.html';
($rc) = run_report('--format', 'html', '--output', $html, @logs);
is $rc, 0, 'HTML: exit 0';

SKIP: {
    my $dom = $n1->chromium_dom("file://$html");
    skip 'chromium is not installed', 4 unless defined $dom;

    like $dom, qr/<h1>Báo cáo thống kê giao dịch LGSP<\/h1>/,
         'rendered, in Vietnamese';
    my @bars = $dom =~ /<rect /g;
    is scalar @bars, 1 + 5, 'two charts: a day, five agencies';
    like $dom, qr/<td>000\.00\.00\.G11<\/td>/, 'the table of agencies';
    unlike $dom, qr/<script|https?:\/\/(?!www\.w3\.org)/,
           'no script, nothing from elsewhere';
}

($rc, my $en) = run_report('--format', 'html', '--lang', 'en', @logs);
like $en, qr/<h1>LGSP transaction report<\/h1>/, '--lang en';

# a tampered record: the report says so first, and fails
my $rotated = "$dir1/logs/transactions.jsonl.1";
open my $fh, '<', $rotated or die;
my @rec = <$fh>;
close $fh;
$rec[1] =~ s/"000\.00\.00\.H29"/"000.00.00.H28"/;
open $fh, '>', $rotated or die;
print $fh @rec;
close $fh;

($rc, $csv) = run_report(@logs);
is $rc, 1, 'a tampered log: exit 1';
$text = substr $csv, 3;
utf8::decode($text);
like +(split /\r\n/, $text)[0], qr/^"?CẢNH BÁO: CHUỖI BẢN GHI BỊ HỎNG/,
     'the first line says the chain is broken';
($rc, $csv) = run_report('--allow-broken', @logs);
is $rc, 0, '--allow-broken: exit 0';
like $csv, qr/^\xEF\xBB\xBF"?C\xE1\xBA\xA2NH B\xC3\x81O/,
     'still saying so first';
($rc, $json) = run_report('--format', 'json', '--allow-broken', @logs);
like $json, qr/^\{\n  "broken": true,/, 'JSON: "broken": true first';

($rc) = run_report('--format', 'pdf', @logs);
is $rc, 2, 'an unknown format: exit 2';

done_testing;
