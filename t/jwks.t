#!/usr/bin/perl

# Remote JWT key sets (lgsp_jwt_jwks_uri): fetched by subrequest and
# shared by two workers, a new kid after key rotation fetched early, a
# flood of random kids limited to one fetch per lgsp_jwt_jwks_min_refresh,
# the last good set kept while the provider is down or answers garbage,
# and verified tokens of a key that left the set no longer accepted from
# the cache.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use JSON::XS;
use Test::More;
use Time::HiRes qw(sleep);

use LGSP::Test;

my $t = LGSP::Test->new(workers => 2);

my %key = map { $_ => Crypt::PK::RSA->new->generate_key(256) } qw(k1 k2 k3);

sub jwks {
    my @kids = @_;
    return JSON::XS->new->canonical->encode({ keys => [ map {
        { %{ $key{$_}->export_key_jwk('public', 1) },
          kid => $_, use => 'sig', alg => 'RS256' }
    } @kids ] });
}

sub token {
    my ($kid, $signer) = @_;
    return encode_jwt(payload => { agency => 'H29.SO-TP', exp => time + 600 },
                      alg => 'RS256', key => $key{$signer // $kid},
                      extra_headers => { kid => $kid });
}

sub call {
    my ($token) = @_;
    return $t->get('/api/hotich', Authorization => "Bearer $token")
             ->{status};
}

# the identity provider: a static file, every fetch logged
sub fetches {
    my @lines = split /\n/, $t->read_file('logs/jwks.log');
    return scalar @lines;
}

$t->write_file('idp/jwks.json', jwks('k1'));

# nginx's workers (user nobody) serve the provider's file
chmod 0755, $t->dir, $t->dir . '/conf', $t->dir . '/conf/idp';

$t->start(<<'EOF');
    lgsp_jwt_cache zone=jwt:1m;

    server {
        listen 127.0.0.1:%%PORT_1%%;
        access_log %%DIR%%/logs/jwks.log;
        root %%DIR%%/conf/idp;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/jwks.json;
        }

        location /api/ {
            lgsp_jwt on;
            lgsp_jwt_jwks_uri /_jwks refresh=1h;
            lgsp_jwt_jwks_min_refresh 2s;
            lgsp_service BTP.HOTICH;
            lgsp_allow_agency *;
            empty_gif;
        }
    }
EOF

my $k1 = token('k1');
is call($k1), 200, 'a token signed by a key of the remote set passes';
is fetches(), 1, 'the set was fetched once';
is call($k1), 200, 'and again (from the verified-token cache)';
is call(token('k1')), 200, 'another token of that key passes';
is fetches(), 1, 'from the shared copy, both workers';
is call(token('k1', 'k2')), 401, 'a bad signature under a known kid is 401';
is fetches(), 1, 'and fetches nothing';

# the provider rotates: k2 comes, k1 goes
$t->write_file('idp/jwks.json', jwks('k2'));
sleep 2.1;
is call(token('k2')), 200, 'a token with a new kid passes after rotation';
is fetches(), 2, 'by one early fetch';
is call($k1), 401,
    'a cached token of the key that left is refused: the set is in the key';

my $before = fetches();
my @statuses = map { call(token("random-$_", 'k3')) } 1 .. 20;
is_deeply [ grep { $_ != 401 } @statuses ], [], '20 random kids are all 401';
cmp_ok fetches() - $before, '<=', 1,
    'and cause at most one fetch per lgsp_jwt_jwks_min_refresh';

# the provider goes down: the last good set stays
unlink $t->dir . '/conf/idp/jwks.json';
sleep 2.1;
is call(token('k3')), 401, 'an unknown kid while the provider is down is 401';
is call(token('k2')), 200, 'the last good set stays in use';
like $t->error_log,
    qr{fetching the JWT key set from "/_jwks" failed: the location answered 404},
    'the error log says the provider failed';

$t->write_file('idp/jwks.json', '<html>maintenance</html>');
sleep 2.1;
is call(token('k3')), 401, 'a garbage answer does not replace the set';
is call(token('k2')), 200, 'the last good set still serves';

$t->write_file('idp/jwks.json', jwks('k2', 'k3'));
sleep 2.1;
is call(token('k3')), 200, 'once the provider mends, a new kid is fetched';
like $t->error_log, qr{the JWT key set from "/_jwks" works again},
    'and the error log says the incident is over';

my @incidents = $t->error_log =~ /(JWT key set from "\/_jwks" failed)/g;
is scalar(@incidents), 1, 'the failures were one incident, logged once';

ok $t->error_log_clean, 'no crash or alert in the error log'
    or diag $t->error_log;

$t->stop;

my ($ok, $out) = $t->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_jwt on; lgsp_jwt_jwks_uri /_jwks; empty_gif; }
        location = /_jwks { internal; return 200 "{}"; }
    }
EOF
ok $ok, 'lgsp_jwt on needs no key file with lgsp_jwt_jwks_uri' or diag $out;

($ok, $out) = $t->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_jwt_jwks_uri /_jwks refresh=soon; }
    }
EOF
ok !$ok, 'a bad refresh time fails nginx -t';
like $out, qr/invalid parameter "refresh=soon".*nginx\.conf:\d+/,
    'naming the parameter, the file and the line';

done_testing;
