# make module while nginx runs the module it installs: nginx, under load,
# runs the module of a build folder (a copy of the build's, with its nginx
# tree) while make module builds into that folder three times: with
# nothing changed, with a source touched, and with other flags (a module
# that differs).  No worker dies, no request fails, an unchanged module
# is not rewritten, a new one replaces the old file under a new inode,
# and nginx -s reload then loads it.

use strict;
use warnings;

use Test::More;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time stat);

use lib 't/lib';
use LGSP::Load;
use LGSP::Test;

my $repo = $LGSP::Test::REPO;
my $build = dirname($ENV{LGSP_MODULE}
                    || "$repo/build/ngx_http_lgsp_module.so");

plan skip_all => "builds with scripts/build.sh for Debian's nginx"
    unless LGSP::Test::debian_nginx();
plan skip_all => 'a sanitizer or valgrind build: its own flags'
    if $ENV{LGSP_PRELOAD} || $ENV{LGSP_VALGRIND};
plan skip_all => "no nginx build tree in $build"
    unless -f "$build/nginx/objs/Makefile";

my $copy = tempdir('lgsp-build-XXXXXX', TMPDIR => 1,
                   CLEANUP => !$ENV{LGSP_KEEP});
my $so = "$copy/ngx_http_lgsp_module.so";
my $built = "$copy/nginx/objs/ngx_http_lgsp_module.so";

system('cp', '-a', "$build/nginx", "$build/ngx_http_lgsp_module.so",
       $copy) == 0 or die 'cp';

# brought up to date first: a source may be newer than the build
my $t = LGSP::Test->new(workers => 2, module => $so);
is make(), 0, 'make module into a copy of the build folder';

$t->start(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;

        location /api {
            lgsp_service MOJ.TEST;
            lgsp_allow_agency *;
            empty_gif;
        }
    }
EOF

like $t->get('/api')->{headers}{'x-lgsp-transaction-id'}, qr/^[0-9a-f-]{36}$/,
     'nginx runs the module of the build folder';

my $load = LGSP::Load->start($t, clients => 2, path => '/api');

my @st = stat $so;

is make(), 0, 'make module, nothing changed';
is_deeply [ (stat $so)[1, 9] ], [ @st[1, 9] ],
          'the module is left as it was';

my $before = $t->read_file($so);
utime undef, undef, "$repo/ngx_lgsp_module/lgsp_sbuf.c";

is make(), 0, 'make module, a source touched';
ok +(stat $built)[9] > $st[9], 'the module was linked again';
is system('cmp', '-s', $built, $so), 0, 'the installed module is the build';

# the compiler is deterministic: the same bytes as before, most likely
if ($t->read_file($built) eq $before) {
    is +(stat $so)[1], $st[1], 'the same bytes: the file is not rewritten';
} else {
    isnt +(stat $so)[1], $st[1], 'other bytes: a new file took the name';
}

is make(EXTRA_CFLAGS => '-O1'), 0, 'make module, other flags';
is system('cmp', '-s', $built, $so), 0, 'the installed module is the build';
isnt +(stat $so)[1], $st[1], 'a new file took the name';

my %status = $load->stop;
ok $status{200}, ($status{200} // 0) . " requests answered during the builds";
is LGSP::Load::failures(%status), 0, 'none failed';

ok $t->error_log !~ /exited on signal/, 'no worker died'
    or diag join "\n", grep { /signal/ } split /\n/, $t->error_log;

# nginx -s reload: the master loads the new module, new workers start
$t->signal('HUP');

my $deadline = time + 20;
sleep 0.1 until $t->error_log =~ /reconfiguring.*start worker process/s
                || time > $deadline;
sleep 0.5;

like $t->error_log, qr/reconfiguring.*start worker process/s,
     'nginx -s reload starts workers with the new module';
like $t->get('/api')->{headers}{'x-lgsp-transaction-id'}, qr/^[0-9a-f-]{36}$/,
     'which answer';
ok $t->error_log_clean, 'and nothing crashed: no signal, no alert'
    or diag $t->error_log;

$t->stop;

done_testing;


sub make {
    my (%env) = @_;

    local @ENV{ keys %env } = values %env;
    my $out = `make -s -C $repo module BUILD=$copy 2>&1`;
    diag $out if $?;

    return $? >> 8;
}

