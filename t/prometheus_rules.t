# The monitoring shipped in conf/: the Prometheus alert rules pass
# `promtool check rules` and their unit tests (`promtool test rules`), and
# the alert rules and the Grafana dashboard ask only for metrics that a
# running LGSP emits (scraped here), while the dashboard shows every one.

use strict;
use warnings;

use Test::More;
use JSON::XS;

use lib 't/lib';
use LGSP::Test;

plan skip_all => 'promtool not installed (Debian package prometheus)'
    if system('command -v promtool >/dev/null') != 0;

my $repo = $LGSP::Test::REPO;
my $rules = "$repo/conf/prometheus/lgsp-alerts.yml";
my $dashboard = "$repo/conf/grafana/lgsp-dashboard.json";

my $out = `promtool check rules $rules 2>&1`;
is $?, 0, 'promtool check rules accepts the alert rules' or diag $out;
like $out, qr/SUCCESS: 10 rules found/, 'all ten rules';

$out = `cd $repo/conf/prometheus && promtool test rules lgsp-alerts.test.yml 2>&1`;
is $?, 0, 'each alert fires on its cases and not on the healthy ones'
    or diag $out;

# the names a running LGSP emits, after a few transactions
my $t = LGSP::Test->new;
$t->write_file('hs.key', 'k' x 32);
$t->start(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    lgsp_jwt_key_file hs.key;

    location /hotich {
        lgsp_service BTP.HOTICH;
        lgsp_jwt on;
        lgsp_allow_agency *;
        empty_gif;
    }

    location = /metrics {
        lgsp_metrics;
    }
}
EOF

$t->get('/hotich') for 1 .. 3;
my $scrape = $t->get('/metrics')->{content};

my %emitted;
while ($scrape =~ /^# TYPE (lgsp_\w+) (\w+)$/mg) {
    my ($name, $type) = ($1, $2);
    $emitted{$name} = 1;
    @emitted{map { "${name}_$_" } qw(bucket sum count)} = (1, 1, 1)
        if $type eq 'histogram';
}

ok exists $emitted{lgsp_requests_total}, 'the scrape lists the metrics'
    or diag $scrape;

# every lgsp_* name in the queries of a file
sub names_in {
    my (@exprs) = @_;
    my %names;
    for my $expr (@exprs) {
        $names{$1} = 1 while $expr =~ /\b(lgsp_[a-z_]+)\b/g;
    }
    return \%names;
}

open my $fh, '<', $dashboard or die "$dashboard: $!";
my $json = JSON::XS->new->decode(do { local $/; <$fh> });

my @dash_exprs;
for my $panel (@{ $json->{panels} }) {
    push @dash_exprs, map { $_->{expr} } @{ $panel->{targets} || [] };
}
push @dash_exprs, map { $_->{definition} // '' }
                  @{ $json->{templating}{list} };

my $dash_names = names_in(@dash_exprs);
ok scalar(@dash_exprs) >= 15, 'the dashboard has its queries';

for my $name (sort keys %$dash_names) {
    ok $emitted{$name}, "dashboard: $name is emitted by the module";
}

for my $name (sort grep { !/_(?:bucket|sum|count)$/ } keys %emitted) {
    my $shown = grep { /^\Q$name\E(?:_bucket)?$/ } keys %$dash_names;
    ok $shown, "dashboard: emitted $name has a panel";
}

open $fh, '<', $rules or die "$rules: $!";
my @rule_exprs;
my $yaml = do { local $/; <$fh> };
# expr: on one line, or a folded block (>-) of the lines indented below it
while ($yaml =~ /^(\s*)expr: (?:>-\n((?:\1  .*\n)+)|(.*)\n)/mg) {
    push @rule_exprs, $2 // $3;
}

is scalar(@rule_exprs), 10, 'every rule has its expr read';

my $rule_names = names_in(@rule_exprs);
for my $name (sort keys %$rule_names) {
    ok $emitted{$name}, "alert rules: $name is emitted by the module";
}

$t->stop;
ok $t->error_log_clean, 'no crash in the error log';

done_testing;
