#!/usr/bin/perl

# The live dashboard (lgsp_status): its JSON figures after a known mix of
# transactions, a page with no external assets, and what a person sees
# once headless Chromium has run the page's script: the figures in the
# DOM.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(encode_jwt);
use Test::More;

use LGSP::Test;

my $secret = 'status-test-secret-of-at-least-32-bytes!';

sub bearer {
    my ($agency, $exp) = @_;
    return (Authorization => 'Bearer ' . encode_jwt(
        payload => { agency => $agency, exp => $exp // time + 600 },
        alg => 'HS256', key => $secret));
}

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
$t->extra_port(2);

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.* H30.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /baohiem {
            lgsp_service BHXH.THETHAM;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        # operators on this host only
        location /status {
            lgsp_jwt off;
            allow 127.0.0.1;
            deny all;
            lgsp_status;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "ok\n"; }
    }
EOF

# the mix: 20 transactions, 2 of them rejected, 1 a provider down
$t->get('/hotich/x', bearer('H29.UBND.HANAM')) for 1 .. 12;
$t->get('/hotich/x', bearer('H30.UBND.NINHBINH')) for 1 .. 5;
$t->get('/hotich/x', bearer('H29.UBND.HANAM', time - 100)) for 1 .. 2;
$t->get('/baohiem/x', bearer('H29.UBND.HANAM'));

# counted in the log phase, just after the answer: wait, boundedly
my $d;
$t->wait_for(sub {
    $d = $t->get('/status?format=json')->{json};
    return $d && $d->{total} >= 20;
});

is $d->{total}, 20, 'JSON: transactions in all';
is $d->{today}, 20, 'JSON: transactions today';
is $d->{per_minute}[-1] + ($d->{per_minute}[-2] // 0), 20,
    'JSON: per minute, the last hour (the mix may straddle a minute)';
is scalar @{ $d->{per_minute} }, 60, 'JSON: sixty minutes';
is $d->{errors}, 1, 'JSON: 5xx errors';
is $d->{rejected}, 2, 'JSON: rejections';
is_deeply [ sort map { "$_->{name}=$_->{requests}" } @{ $d->{services} } ],
    [ 'BHXH.THETHAM=1', 'BTP.HOTICH.KHAISINH=19' ], 'JSON: per service';
is_deeply [ sort map { "$_->{name}=$_->{requests}" } @{ $d->{agencies} } ],
    [ '=2', 'H29.UBND.HANAM=13', 'H30.UBND.NINHBINH=5' ],
    'JSON: per agency (refused tokens name none)';
is $d->{latency_ms}{count}, 20, 'JSON: latency over every transaction';
ok defined $d->{latency_ms}{p99}, 'JSON: percentiles';
is $d->{redis}{up}, undef, 'JSON: no Redis configured';
is $d->{ndxp}{token_expires}, undef, 'JSON: no NDXP token held';

my $page = $t->get('/status');
is $page->{status}, 200, 'the page';
like $page->{headers}{'content-type'}, qr{^text/html}, 'is HTML';

my $html = $page->{content};
$html =~ s{http://www\.w3\.org/2000/svg}{}g;      # a name, not a fetch
unlike $html, qr{https?://|\bsrc=|url\(|href=(?!'data:)}i,
    'and needs nothing from elsewhere: no external assets';

is $t->request('POST', '/status')->{status}, 405, 'the page is read only';

# what a person sees: Chromium runs the script, which reads the JSON
SKIP: {
    my $dom = $t->chromium_dom('http://127.0.0.1:' . $t->port . '/status');
    skip 'chromium is not installed', 9 unless defined $dom;

    like $dom, qr/<body data-ready="1">/, 'the script ran and rendered';
    is $t->get('/status?format=json')->{json}{total}, 20,
        'the browser asked for nothing else (not even a favicon)';
    like $dom, qr{id="today">20<}, 'transactions today: 20';
    like $dom, qr{id="error-rate">5\.0 %<}, 'error rate: 1 of 20';
    like $dom, qr{id="rejection-rate">10\.0 %<}, 'rejection rate: 2 of 20';
    like $dom, qr{id="redis">not used<}, 'Redis: not used';
    like $dom, qr{<tr><td>BTP\.HOTICH\.KHAISINH</td><td class="n">19</td>}
        , 'the services table, busiest first';
    my $row = '<tr><td>H29.UBND.HANAM</td><td class="n">13</td>'
              . '<td class="n">1</td><td class="n">0</td></tr>';
    like $dom, qr/\Q$row\E/,
        'the agencies table with errors and rejections';
    my $bars = () = $dom =~ /<rect /g;
    is $bars, 60, 'the last hour drawn as sixty bars';
}

ok $t->error_log !~ /\[(?:alert|emerg|crit)\]/, 'no crash or alert';

done_testing;
