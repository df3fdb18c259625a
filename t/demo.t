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
like $out, qr/^with token: 201$/m, 'a birth registered with the token';
like $out, qr/^without token: 401$/m, '401 without';

# the flow: a birth, then the child's card through NDXP
like $out, qr/^2\. .*registers a birth.*\n.*\n   -> 201  txid [0-9a-f-]{36}\n.*"soDinhDanh":"\d+"/m,
    'the flow registers a birth, showing its txid and answer';
like $out, qr/"lgsp":\{"agency":"000\.00\.31\.H29","service":"H29\.HOTICH\.KHAISINH"/,
    'the civil registry saw the agency and the service code';
like $out, qr/^3\. .*health insurance card\n.*maDinhDanh=(\d+)\n   -> 200  txid [0-9a-f-]{36}\n.*"maDinhDanh":"\1"/m,
    'the child\'s card comes from BHXH through NDXP';
like $out, qr/^other agency: 403$/m, 'an agency not named is refused';
like $out, qr/^4\. .*\n.*\n.*\n   .*"type":"urn:lgsp:problem:agency-not-allowed"/m,
    'with a problem document';
like $out, qr/^bad registration: 422$/m,
    'a registration that breaks the schema is refused with 422';
like $out, qr/^6\. .*\n.*Host: lgsp\.moj\.demo.*\n   -> 200 .*\n   \["BTP\.LLTP\.TRACUU"\]/m,
    'the ministry tenant lists its own catalogue';

# liên thông: BHXH's card system down, the requests kept, then delivered
my @kept = $out =~ /^card request: (\d+)$/mg;
is_deeply \@kept, [202, 202], 'the two card requests are kept (202)';
like $out, qr/^7\. .*which is down.*\n.*\n   -> 202 .*\n   \{"state":"queued","status_url":"\/deliveries\/[0-9a-f-]{36}"/m,
    'each with its status URL';
my @delivered = $out =~ /^delivery: (\w+)$/mg;
is_deeply \@delivered, ['delivered', 'delivered'],
    'once BHXH is up both are delivered';
like $out, qr/^9\. .*back.*\n.*\n.*\n   .*"soTheBhyt\\":\\"TE1\d{12}\\".*"status":201\},"state":"delivered"/m,
    'the status URL shows BHXH\'s answer: the card';

ok !IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'tcp'),
    'nginx stopped with it';

done_testing;
