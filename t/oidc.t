#!/usr/bin/perl

# A real, independent OAuth 2.0 server as the SSO: oidc-provider 9 from
# npm (t/oidc/sso.mjs, installed by scripts/deps.sh into BUILD/npm).  It
# issues RFC 9068 access tokens (typ at+jwt) by client credentials and
# publishes RSA, EC and Ed25519 keys (alg "Ed25519", RFC 9864) beside an
# encryption key and an X25519 key.  Through nginx: the key set is taken
# with the two unusable keys skipped and one notice; RS256, ES256 and
# Ed25519 tokens pass; another JWT of the same SSO (its signed
# introspection answer) is refused where lgsp_jwt_type at+jwt is set; the
# gateway, as a client of that SSO, authenticates with a secret holding
# "+", "/" and "=" through $lgsp_ndxp_basic_auth (form-encoded; raw
# fails); after a key rotation a token of the new key passes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Basename qw(dirname);
use HTTP::Tiny;
use JSON::XS;
use MIME::Base64 qw(decode_base64url encode_base64);
use Test::More;
use Time::HiRes qw(sleep time);
use URI::Escape qw(uri_escape);

use LGSP::Test;

# the npm folder beside the module under test, or the default build's
my ($npm) = grep { -f "$_/node_modules/oidc-provider/package.json" }
    map { "$_/npm" } dirname($ENV{LGSP_MODULE} || "$LGSP::Test::REPO/build/x"),
                     "$LGSP::Test::REPO/build";

plan skip_all => 'node is not installed (scripts/deps.sh installs it)'
    unless `node --version 2>/dev/null` =~ /^v\d+/;
plan skip_all => 'oidc-provider is not installed in BUILD/npm'
                 . ' (scripts/deps.sh installs it)'
    unless $npm;

my $client = 'lgsp-gw';
my $secret = 'Zk+9/q=W+x/Y==';           # "+" "/" "=": what raw breaks

my $t = LGSP::Test->new;
my $sso = $t->extra_port(1);
my $agency = $t->start_agency(2);
my $issuer = "http://127.0.0.1:$sso";

$t->spawn('node', "$LGSP::Test::REPO/t/oidc/sso.mjs", $npm, $sso, $client,
          $secret);

plan skip_all => 'oidc-provider did not start on this node: '
                 . $t->read_file('logs/spawn.log')
    unless LGSP::Test::wait_port($sso, $t->{pids}[-1]);

$t->write_file('sso.secret', "$client:$secret\n");

# one token location per resource (signing algorithm) of the SSO
my %resource = (rs256 => 'rs256', es256 => 'es256', ed25519 => 'ed25519',
                raw => 'ed25519');
my $token_locations = join '', map { <<"EOF" } sort keys %resource;
        location = /_token/$_ {
            internal;
            proxy_method POST;
            proxy_set_header Authorization "Basic \$lgsp_ndxp_basic_auth";
            proxy_set_header Content-Type application/x-www-form-urlencoded;
            proxy_set_body "grant_type=client_credentials&scope=hotich.read&resource=urn:lgsp:$resource{$_}";
            proxy_pass $issuer/token;
        }

        location /token/$_/ {
            lgsp_ndxp_token_uri /_token/$_;
            proxy_set_header Authorization "Bearer \$lgsp_ndxp_token";
            proxy_pass http://127.0.0.1:$agency/;
        }
EOF
$token_locations =~ s{(location = /_token/raw \{)}
                     {$1\n            lgsp_ndxp_credentials_file sso.secret encoding=raw;};

$t->start(<<"EOF");
    lgsp_jwt_cache zone=jwt:1m;
    lgsp_ndxp_credentials_file sso.secret;

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /_jwks {
            internal;
            proxy_pass $issuer/jwks;
        }

$token_locations

        # the resource server as RFC 9068 says
        location /api/ {
            lgsp_jwt on;
            lgsp_jwt_jwks_uri /_jwks;
            lgsp_jwt_jwks_min_refresh 1s;
            lgsp_jwt_issuer $issuer;
            lgsp_jwt_audience lgsp;
            lgsp_jwt_type at+jwt;
            lgsp_agency_claim client_id;
            lgsp_jwt_require_claim scope hotich.read;
            lgsp_service BTP.HOTICH;
            lgsp_allow_agency *;
            empty_gif;
        }

        # the same keys and issuer, any JWT type: what lgsp_jwt_type stops
        location /any/ {
            lgsp_jwt on;
            lgsp_jwt_jwks_uri /_jwks;
            lgsp_jwt_issuer $issuer;
            lgsp_jwt_require_exp off;
            lgsp_agency_claim aud;
            lgsp_service BTP.HOTICH;
            lgsp_allow_agency *;
            empty_gif;
        }
    }
EOF

# an access token of the SSO, fetched by nginx as the SSO's client
sub sso_token {
    my ($resource) = @_;
    my $r = $t->get("/token/$resource/x");
    return $r->{status} == 200 ? $r->{json}{headers}{authorization} =~ s/^Bearer //r
                               : undef;
}

sub header_of {
    my ($jwt) = @_;
    return decode_json(decode_base64url((split /\./, $jwt)[0]));
}

sub call {
    my ($path, $jwt) = @_;
    return $t->get($path, Authorization => "Bearer $jwt");
}

# --- 4. client credentials: form-encoded by default, raw fails ---------------

my $ed = sso_token('ed25519');
ok $ed, 'the gateway gets a token from oidc-provider: its secret with "+/="'
        . ' is form-encoded in Basic (RFC 6749 2.3.1)';

my $raw = $t->get('/token/raw/x');
is $raw->{status}, 503, 'the same secret sent raw is refused by the SSO';
like $t->error_log, qr{fetching the NDXP token from "/_token/raw" failed: the location answered 40[01]},
    'and the error log says the token location failed';

# --- 1, 2: the published key set, Ed25519 tokens -----------------------------

is_deeply header_of($ed), { alg => 'Ed25519', typ => 'at+jwt', kid => 'ed-1' },
    'oidc-provider signs with alg Ed25519, typ at+jwt';

my $r = call('/api/x', $ed);
is $r->{status}, 200, 'its Ed25519 access token passes through the JWKS it publishes'
    or diag explain $r->{json};

my @notices = $t->error_log =~ /(JWT key set from "\/_jwks": 2 keys it cannot use skipped[^\n]*)/g;
is scalar(@notices), 1, 'the two keys it cannot use are skipped, with one notice';
like $notices[0] // '', qr/key "rsa-enc": "use" is "enc".*key "x25519": "use" is "enc"/,
    'naming the RSA and the X25519 encryption keys';

for my $resource (qw(rs256 es256)) {
    my $jwt = sso_token($resource);
    is header_of($jwt)->{alg}, uc $resource, "oidc-provider signs \U$resource";
    is call('/api/x', $jwt)->{status}, 200, "its \U$resource\E token passes";
}

# --- 3. typ at+jwt: another JWT of the same SSO is no access token ------------

my $auth = encode_base64(uri_escape($client) . ':' . uri_escape($secret), '');
my $intro = HTTP::Tiny->new->post_form("$issuer/token/introspection",
    { token => 'an-opaque-token-it-never-issued' },
    { headers => { Authorization => "Basic $auth",
                   Accept => 'application/token-introspection+jwt' } });
my $other = $intro->{content};
diag $other unless $other =~ /^[\w-]+\.[\w-]+\.[\w-]+$/;

is header_of($other)->{typ}, 'token-introspection+jwt',
    'the SSO signs another kind of JWT with the same key';
is call('/any/x', $other)->{status}, 200,
    'where any type is taken, it would pass as an access token';

$r = call('/api/x', $other);
is $r->{status}, 401, 'lgsp_jwt_type at+jwt refuses it';
like $r->{headers}{'www-authenticate'}, qr/error="invalid_token"/,
    'as invalid_token';
like $r->{json}{detail} // '', qr/token type 'token-introspection\+jwt' is not accepted/,
    'and the problem says why';

# --- rotation ----------------------------------------------------------------

my $kid = HTTP::Tiny->new->post("$issuer/rotate")->{content};
chomp $kid;
is $kid, 'ed-2', 'the SSO rotates to a new Ed25519 key';

# nginx holds its token until it nears expiry: the test asks the SSO itself
my $new = decode_json(HTTP::Tiny->new->post_form("$issuer/token",
    { grant_type => 'client_credentials', scope => 'hotich.read',
      resource => 'urn:lgsp:ed25519' },
    { headers => { Authorization => "Basic $auth" } })->{content})
    ->{access_token};
is header_of($new)->{kid}, 'ed-2', 'new tokens carry the new kid';

sleep 1.1;
is call('/api/x', $new)->{status}, 200,
    'a token of the new key passes: its kid fetched the set anew';
is call('/api/x', $ed)->{status}, 200,
    'the old key stays published: its tokens still pass';

ok $t->error_log_clean, 'no crash or alert in the error log'
    or diag $t->error_log;

$t->stop;

done_testing;
