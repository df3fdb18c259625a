#!/usr/bin/perl

# The service catalogue (lgsp_catalog): the services a server publishes,
# as JSON and as OpenAPI 3.1, built from the configuration: code, title,
# path, methods (limit_except), authentication, claims, allowed agencies;
# each server (tenant) lists its own services only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use LGSP::Test;

my $t = LGSP::Test->new;
$t->write_file('hs.key', 'catalog-test-secret-of-at-least-32-bytes');

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_quota_zone quotas:1m;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name lgsp.hanam.gov.vn;

        location = /catalog { lgsp_catalog; }
        location = /openapi.json { lgsp_catalog openapi; }

        location /hotich/khaisinh {
            lgsp_service BTP.HOTICH.KHAISINH "title=Dang ky khai sinh";
            lgsp_jwt on;
            lgsp_jwt_require_claim scope hotich.write hotich.admin;
            lgsp_allow_agency H29.* 000.00.00.G12;
            limit_except POST { deny all; }
            empty_gif;

            # inherits the code: not a service of its own
            location /hotich/khaisinh/ban-sao {
                empty_gif;
            }
        }

        location = /danhmuc/tinh {
            lgsp_service BTP.DANHMUC.TINH "title=Danh muc tinh";
            lgsp_jwt optional;
            lgsp_allow_agency *;
            lgsp_quota 100r/m burst=20;
            lgsp_quota 5000r/d;
            empty_gif;
        }

        location ~ ^/bhxh/the/(\d+)$ {
            lgsp_service BHXH.THE;
            empty_gif;
        }

        location = /_internal {
            internal;
            lgsp_service HIDDEN.INTERNAL;
            empty_gif;
        }

        location /not-a-service {
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        server_name lgsp.moj.gov.vn;

        location = /catalog { lgsp_catalog json; }

        location /lltp {
            lgsp_service BTP.LLTP.TRACUU;
            lgsp_allow_agency 000.00.00.*;
            empty_gif;
        }
    }
EOF

my $r = $t->get('/catalog');
is $r->{status}, 200, 'the catalogue answers';
is $r->{headers}{'content-type'}, 'application/json', 'in JSON';

my $c = $r->{json};
is $c->{node}, 'lgsp.hanam.gov.vn', 'it names the node';

my %s = map { $_->{code} => $_ } @{ $c->{services} };
is_deeply [ sort keys %s ],
    [ qw(BHXH.THE BTP.DANHMUC.TINH BTP.HOTICH.KHAISINH) ],
    'it lists the services of its server; not internal ones, not inherited'
    . ' codes, not the other server\'s';

my $ks = $s{'BTP.HOTICH.KHAISINH'};
is $ks->{title}, 'Dang ky khai sinh', 'a service has its title';
is $ks->{path}, '/hotich/khaisinh', 'its path';
is $ks->{match}, 'prefix', 'how the path matches';
is_deeply $ks->{methods}, ['POST'], 'its methods, from limit_except';
is $ks->{authentication}, 'jwt', 'its authentication';
is_deeply $ks->{claims}, ['scope=hotich.write hotich.admin'],
    'the claims a token needs';
is_deeply $ks->{agencies}, ['H29.*', '000.00.00.G12'],
    'the agencies that may call';
is_deeply $ks->{quotas}, [], 'its quotas (none here)';

my $dm = $s{'BTP.DANHMUC.TINH'};
is $dm->{match}, 'exact', 'an exact location is marked so';
is_deeply $dm->{quotas}, ['100r/m burst=20', '5000r/d'],
    'its quotas, as written';
is_deeply $dm->{methods}, [qw(GET POST PUT PATCH DELETE)],
    'without limit_except, every method';
is $dm->{authentication}, 'jwt-optional', 'optional authentication shows';
is_deeply $dm->{agencies}, ['*'], 'an open service lists "*"';

my $the = $s{'BHXH.THE'};
is $the->{match}, 'regex', 'a regex location is marked so';
is $the->{authentication}, 'none', 'no authentication shows as none';
is_deeply $the->{agencies}, [], 'a closed service lists no agency';

$r = $t->request('GET', '/catalog', port => $t->extra_port(1));
is_deeply [ map { $_->{code} } @{ $r->{json}{services} } ],
    ['BTP.LLTP.TRACUU'], 'the other server lists its own service only';
is $r->{json}{node}, 'lgsp.moj.gov.vn', 'under its own name';

$r = $t->get('/openapi.json');
is $r->{status}, 200, 'the OpenAPI document answers';
my $o = $r->{json};
is $o->{openapi}, '3.1.0', 'it is OpenAPI 3.1';
is $o->{info}{title}, 'lgsp.hanam.gov.vn', 'titled with the node';
is_deeply [ sort keys %{ $o->{paths} } ],
    [ '/danhmuc/tinh', '/hotich/khaisinh' ],
    'a path per prefix or exact service; regex locations have none';
is_deeply [ keys %{ $o->{paths}{'/hotich/khaisinh'} } ], ['post'],
    'an operation per allowed method';

my $op = $o->{paths}{'/hotich/khaisinh'}{post};
is $op->{operationId}, 'BTP.HOTICH.KHAISINH.post', 'named by service code';
is $op->{summary}, 'Dang ky khai sinh', 'summarized by its title';
is_deeply $op->{security}, [ { lgspJwt => [] } ], 'secured by the JWT';
is_deeply $op->{'x-lgsp-agencies'}, ['H29.*', '000.00.00.G12'],
    'with the allowed agencies';
is $op->{responses}{'4XX'}{content}{'application/problem+json'}{schema}{'$ref'},
    '#/components/schemas/Problem', 'refusals are problem documents';
is $o->{components}{securitySchemes}{lgspJwt}{scheme}, 'bearer',
    'the bearer scheme is declared';
is_deeply $o->{paths}{'/danhmuc/tinh'}{get}{security},
    [ {}, { lgspJwt => [] } ], 'optional authentication: with or without';

is $t->request('POST', '/catalog')->{status}, 405,
    'the catalogue is read-only';

ok $t->error_log_clean, 'no crash or alert in the error log'
    or diag $t->error_log;

$t->stop;

my ($ok, $out) = $t->test_config(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { lgsp_catalog yaml; }
    }
EOF
ok !$ok, 'an unknown catalogue format fails nginx -t';
like $out, qr/invalid format "yaml".*nginx\.conf:\d+/,
    'naming the format, the file and the line';

done_testing;
