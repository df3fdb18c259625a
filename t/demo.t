# make run's demo, run headless: it must start, answer 200 with its token
# and 401 without, and stop everything it started.

use strict;
use warnings;

use Test::More;
use File::Basename qw(dirname);

use lib 't/lib';
use LGSP::Test;

my $module = $ENV{LGSP_MODULE} || "$LGSP::Test::REPO/build/ngx_http_lgsp_module.so";
my $build = dirname($module);
my $port = LGSP::Test::free_port();

my $out = `LGSP_DEMO_CHECK=1 timeout 60 $LGSP::Test::REPO/scripts/demo.sh $build $port 2>&1`;

is $?, 0, 'the demo ran and stopped' or diag $out;
like $out, qr/^TOKEN=\S+\.\S+\.\S+$/m, 'it prints a demo token';
like $out, qr/curl -i -H "Authorization: Bearer \$TOKEN"/, 'and the curl lines';
like $out, qr/^with token: 200$/m, '200 with the token';
like $out, qr/^without token: 401$/m, '401 without';

ok !IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'tcp'),
    'nginx stopped with it';

done_testing;
