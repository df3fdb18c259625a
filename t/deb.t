# The Debian package: `make deb` builds libnginx-mod-http-lgsp with
# Debian's tooling for nginx modules; dpkg installs it where Debian's nginx
# looks for modules, enables it through modules-enabled, and ships the
# tools and the examples; Debian's nginx then serves the shipped example,
# a JWT-protected service; dpkg --purge leaves the machine as it was.

use strict;
use warnings;

use Test::More;
use File::Basename qw(dirname);
use Fcntl qw(:flock);

use lib 't/lib';
use LGSP::Test;

my $pkg = 'libnginx-mod-http-lgsp';
my $so = '/usr/lib/nginx/modules/ngx_http_lgsp_module.so';
my $loader = '/usr/share/nginx/modules-available/mod-http-lgsp.conf';
my $enabled = '/etc/nginx/modules-enabled/50-mod-http-lgsp.conf';
my $examples = "/usr/share/doc/$pkg/examples";

plan skip_all => "tests Debian's nginx (not LGSP_NGINX, LGSP_STATIC)"
    unless LGSP::Test::debian_nginx();
plan skip_all => 'installs a package on the machine: run as root'
    if $> != 0;
plan skip_all => 'dpkg and dpkg-buildpackage are not available'
    if system('command -v dpkg >/dev/null && '
              . 'command -v dpkg-buildpackage >/dev/null') != 0;

# one test at a time installs the package (parallel make test runs)
open my $lock, '>', '/run/lock/lgsp-deb-test.lock' or die "lock: $!";
flock $lock, LOCK_EX or die "flock: $!";

plan skip_all => "$pkg is installed here already: left alone"
    if `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null` =~ /installed/;

my $repo = $LGSP::Test::REPO;
my $build = dirname($ENV{LGSP_MODULE}
                    || "$repo/build/ngx_http_lgsp_module.so");

my $deb = `$repo/scripts/deb.sh $build`;
is $?, 0, 'make deb builds the package with dpkg-buildpackage';
chomp $deb;
ok -f $deb, "the package is $deb";

like `dpkg-deb -f $deb Depends`, qr/nginx-abi-1\.22\.1-\d+/,
    'it depends on the nginx ABI it was built for (dh_nginx)';

like `dpkg-deb -c $deb`, qr{usr/share/man/man1/lgsp-logverify\.1\.gz.*usr/share/man/man1/lgsp-token\.1\.gz}s,
     'it ships the tools\' manual pages';

SKIP: {
    skip 'lintian is not installed', 1
        if system('command -v lintian >/dev/null') != 0;

    my $lintian = `lintian --pedantic -I -E $deb 2>&1`;
    unlike $lintian, qr/manual-page|manpage/,
           'lintian --pedantic -I -E has nothing to say of manual pages'
        or diag $lintian;
}

my $modules_dir_before = -d '/usr/lib/nginx/modules';

my $out = `dpkg -i $deb 2>&1`;
is $?, 0, 'dpkg -i installs it' or diag $out;

eval {
    ok -f $so, "the module is in Debian's module folder, $so";
    is slurp($loader), "load_module modules/ngx_http_lgsp_module.so;\n",
       "$loader loads it from nginx's modules folder";
    is readlink($enabled), $loader,
       'the loader is enabled in /etc/nginx/modules-enabled';
    ok -x '/usr/bin/lgsp-logverify', 'lgsp-logverify is installed';
    ok -x '/usr/bin/lgsp-token', 'lgsp-token is installed';
    ok -x '/usr/bin/lgsp-report', 'lgsp-report is installed';
    ok -x '/usr/bin/lgsp-tenant', 'lgsp-tenant is installed';
    ok -x '/usr/bin/lgsp-queue', 'lgsp-queue is installed';
    ok -f "$examples/$_", "example $_ is shipped"
        for qw(lgsp-site.conf schemas/khaisinh.json
               multi-node/README.md grafana/lgsp-dashboard.json
               prometheus/lgsp-alerts.yml);

    # Debian's own nginx.conf, with the module loaded through the link
    like `nginx -T 2>&1`, qr/load_module modules\/ngx_http_lgsp_module\.so/,
        "Debian's nginx configuration loads the module and tests fine";
    is $?, 0, 'nginx -t of /etc/nginx/nginx.conf passes with it';

    serve_example();
    1;
} or diag $@;

# remove it: the machine as it was found
$out = `dpkg --purge $pkg 2>&1`;
is $?, 0, 'dpkg --purge removes it' or diag $out;
ok !-e $so, 'the module is gone';
ok !-e $enabled && !-l $enabled && !-l "$enabled.removed",
   'no link is left in modules-enabled';
is !!-d '/usr/lib/nginx/modules', !!$modules_dir_before,
   '/usr/lib/nginx/modules is as it was';

done_testing;


sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}


# the shipped first-service example, on Debian's nginx with the installed
# module: its paths and ports moved into the test's folder
sub serve_example {
    my $t = LGSP::Test->new(module => $so);
    my $dir = $t->dir;
    my $agency = $t->start_agency(1, 'hotich');

    $t->openssl_key('sso', 'p256');
    system("cp -r $examples/schemas $dir/conf/") == 0 or die 'cp schemas';

    my $site = $t->read_file("$examples/lgsp-site.conf");
    $site =~ s{/etc/nginx/lgsp/}{$dir/conf/}g;
    $site =~ s{/var/log/nginx/}{$dir/logs/}g;
    $site =~ s{127\.0\.0\.1:8080}{127.0.0.1:%%PORT%%};
    $site =~ s{127\.0\.0\.1:9001}{127.0.0.1:$agency};

    note "the example as it runs:\n$site";
    $t->start($site);

    my $token = `lgsp-token --key $dir/conf/sso.key --alg ES256 --kid sso-1 \\
                 --agency 000.00.31.H29 --iss https://sso.example.gov.vn \\
                 --aud lgsp`;
    chomp $token;
    my $body = $t->read_file("$examples/schemas/khaisinh.example.json");

    my $r = $t->post_json('/hotich/khaisinh', $body,
                          Authorization => "Bearer $token");
    is $r->{status}, 200,
       'a token minted by lgsp-token reaches the provider';
    is $r->{json}{headers}{'x-lgsp-agency'}, '000.00.31.H29',
       'the provider is told the calling agency';

    $r = $t->post_json('/hotich/khaisinh', $body);
    is $r->{status}, 401, 'without a token: 401';
    is $r->{headers}{'content-type'}, 'application/problem+json',
       'as a problem document';

    $r = $t->post_json('/hotich/khaisinh', '{"hoTen": 1}',
                       Authorization => "Bearer $token");
    is $r->{status}, 422, 'a body that breaks the shipped schema: 422';

    like $t->get('/metrics')->{content},
         qr/^lgsp_requests_total\{service="BTP\.HOTICH\.KHAISINH",agency="000\.00\.31\.H29",status="2xx",outcome="ok"\} 1$/m,
         'the metrics count the exchange';

    like `lgsp-logverify $dir/logs/lgsp-transactions.jsonl 2>&1`,
         qr/^OK: 4 records/,
         'lgsp-logverify verifies the transaction log (3 calls, 1 scrape)';

    my $csv = `lgsp-report $dir/logs/lgsp-transactions.jsonl`;
    is $? >> 8, 0, 'lgsp-report, installed, verifies and reports';
    like $csv, qr/^,000\.00\.31\.H29,BTP\.HOTICH\.KHAISINH,2,1,0,0,0,1,/m,
         'the agency\'s two calls: one served, one malformed';
    like $csv, qr/^,,BTP\.HOTICH\.KHAISINH,1,0,1,/m,
         'and the one without a token';

    $t->stop;
    ok $t->error_log_clean, 'no crash in the error log';
}
