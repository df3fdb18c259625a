#!/usr/bin/perl

# lgsp-tenant: a new tenant is a file that passes nginx -t and serves at
# once: its own server, key, records and scoped views, an example service
# closed to every agency; a trial tenant comes with a mock provider; a
# tenant whose file would break nginx -t is taken back; "list" lists the
# tenants with their services.

use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use LGSP::Test;
use LGSP::Token;

binmode Test::More->builder->$_, ':utf8'
    for qw(output failure_output todo_output);

my $tool = "$LGSP::Test::REPO/scripts/lgsp-tenant";

my $t = LGSP::Test->new;
my $dir = $t->dir;

# workers write the tenants' logs: they must reach them
chmod 0755, $dir;

my $http = <<'EOF';
    # the national platform, for tenants made with --ndxp-key
    upstream ndxp {
        server 127.0.0.1:%%PORT_3%%;
    }

    include tenants/*.conf;
EOF

# the configuration the tool adds to: no tenant yet
$t->write_file('nginx.conf', $t->config($http));

sub tool {
    my (@args) = @_;
    my $out = `$tool @args --conf $dir/conf --log-dir $dir/logs --prefix $dir/ --nginx-conf $dir/conf/nginx.conf 2>&1`;
    utf8::decode($out);
    return ($? >> 8, $out);
}

my $p1 = $t->port;
my $p2 = $t->extra_port(1);
my $trial_port = $t->extra_port(2);
my $p4 = $t->extra_port(4);

my ($rc, $out) = tool('new', 'H68', "'UBND tỉnh Lâm Đồng'",
                      '--listen', "127.0.0.1:$p1");
is $rc, 0, 'new H68: done' or diag $out;
like $out, qr/tenant H68: \S+tenants\/H68\.conf/, 'naming its file';
ok -s "$dir/conf/keys/H68/sso-test.pub", 'with a test key of its own';
is((stat "$dir/conf/keys/H68/sso-test.pem")[2] & 0777, 0600,
   'its private half readable by root only');

($rc, $out) = tool('new', 'BYT', "'Bộ Y tế'", '--trial', '--trial-port',
                   $trial_port, '--listen', "127.0.0.1:$p2");
is $rc, 0, 'new BYT --trial: done' or diag $out;
like $out, qr/a trial token: lgsp-token --key \S+sso-test\.pem --kid BYT-test --agency BYT\.TEST/,
     'telling how to mint a trial token';

($rc, $out) = tool('new', 'BYT', "'Bộ Y tế'");
is $rc, 1, 'BYT again: refused';
like $out, qr/tenant BYT is there/, 'saying so';

($rc, $out) = tool('new', "'H 1'", 'X');
is $rc, 2, 'a code with a space: refused';

($rc, $out) = tool('new', 'BAD', 'Bad', '--listen', 'nowhere:port');
is $rc, 1, 'a tenant that breaks nginx -t: refused';
like $out, qr/nginx -t failed/, 'saying so';
ok !-e "$dir/conf/tenants/BAD.conf", 'and its file taken back';

{
    local $ENV{LGSP_NDXP_SECRET} = 'a+b/c=d';
    ($rc, $out) = tool('new', 'BTC', "'Bộ Tài chính'", '--ndxp-key', 'btc-key',
                       '--listen', "127.0.0.1:$p4", '--server-name',
                       'btc.lgsp.local');
}
is $rc, 0, 'new BTC --ndxp-key: done' or diag $out;
is $t->read_file('conf/keys/BTC/ndxp.secret'), "btc-key:a+b/c=d\n",
   'the credentials from the environment, never the command line';
is((stat "$dir/conf/keys/BTC/ndxp.secret")[2] & 0777, 0600,
   'readable by root only');
like $t->read_file('conf/tenants/BTC.conf'), qr/location = \/_ndxp\/token/,
     'and its token location';

($rc, $out) = tool('list');
is $rc, 0, 'list';
like $out, qr/^BYT\tBộ Y tế\t\S+BYT\.conf\n\tBYT\.EXAMPLE\tExample service \(trial\)$/m,
     'BYT and its service';
like $out, qr/^H68\tUBND tỉnh Lâm Đồng\t/m, 'H68';
is scalar(() = $out =~ /^\S/mg), 3, 'three tenants';

# the tenants serve
$t->start($http);

my $cat = $t->request('GET', '/catalog', port => $p1)->{json};
is $cat->{tenant}{code}, 'H68', 'H68\'s catalogue: H68';
is $cat->{services}[0]{code}, 'H68.EXAMPLE', 'its example service';

sub token {
    my ($tenant, %claims) = @_;
    return 'Bearer ' . LGSP::Token::mint(
        alg => 'ES256', key => "$dir/conf/keys/$tenant/sso-test.pem",
        kid => "$tenant-test", claims => \%claims);
}

my $r = $t->request('GET', '/h68/example/x', port => $p1, headers => {
    Authorization => token('H68', agency => 'H68.SO-TU-PHAP') });
is $r->{status}, 403, 'the example service is closed to every agency';
is $r->{json}{type}, 'urn:lgsp:problem:agency-not-allowed', 'as a problem';

$r = $t->request('GET', '/byt/example/hello', port => $p2, headers => {
    Authorization => token('BYT', agency => 'BYT.TEST') });
is $r->{status}, 200, 'the trial service answers a test agency';
like $r->{content}, qr/"tenant":"BYT","trial":true,"path":"\/hello"/,
     'from its mock provider';

$r = $t->request('GET', '/byt/example/hello', port => $p2, headers => {
    Authorization => token('H68', agency => 'BYT.TEST') });
is $r->{status}, 401, 'another tenant\'s key: refused';

$r = $t->request('GET', '/metrics', port => $p2, headers => {
    Authorization => token('BYT', agency => 'BYT.ADMIN', tenant => 'BYT',
                           role => 'operator') });
is $r->{status}, 200, 'BYT\'s operator reads its metrics';
like $r->{content}, qr/lgsp_requests_total\{tenant="BYT",service="BYT.EXAMPLE"/,
     'BYT\'s series';
unlike $r->{content}, qr/tenant="H68"/, 'not H68\'s';

$r = $t->request('GET', '/metrics', port => $p2, headers => {
    Authorization => token('BYT', agency => 'BYT.TEST', tenant => 'BYT') });
is $r->{status}, 403, 'a token without the operator role: refused';

$t->stop;

like $t->read_file('logs/BYT.jsonl'), qr/"tenant":"BYT"/,
     'BYT\'s records in its own file';

done_testing;
