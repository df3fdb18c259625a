# Where no lgsp_* directive applies, nothing of the LGSP runs: no
# transaction id in the answer or upstream, no record, no metrics.  Only
# the removal of clients' X-LGSP-* headers is server-wide.  A location an
# lgsp_* directive applies to (set there, or inherited from its server or
# from http) keeps every step; so does a request an error_page moved on
# from such a location.

use strict;
use warnings;

use JSON::XS;
use Test::More;

use lib 't/lib';
use LGSP::Test;

my $t = LGSP::Test->new;

$t->start_agency(1);

$t->start(<<'EOF');
    # of the http level only: names a zone, applies to no location
    lgsp_quota_zone quotas:1m;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;

        location /api {
            lgsp_service MOJ.IDLE.API;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_1%%/echo;
        }

        location /static {
            empty_gif;
        }

        location /metrics {
            lgsp_metrics;
        }
    }

    # no lgsp_* directive in this server but in /svc
    server {
        listen 127.0.0.1:%%PORT_2%%;

        location /plain {
            proxy_pass http://127.0.0.1:%%PORT_1%%/echo;
        }

        location /txid {
            add_header X-Txid $lgsp_txid;
            empty_gif;
        }

        # a provider that is down
        location /svc {
            lgsp_service MOJ.IDLE.SVC;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_4%%;
            error_page 502 /gone;
        }

        location /svc-return {
            lgsp_service MOJ.IDLE.RETURN;
            error_page 404 /gone;
            return 404;
        }

        location = /gone {
            return 200 "gone\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        lgsp_tenant MOJ;

        location / {
            empty_gif;
        }
    }
EOF

my ($api, $plain, $svc) = (0, 0, 0);

subtest 'a location no directive applies to: no transaction id' => sub {
    my $r = $t->request('GET', '/plain', port => $t->extra_port(2),
                        headers => { 'X-LGSP-Agency' => 'FAKE.AGENCY',
                                     'X_LGSP_Transaction_ID' => 'forged' });
    $plain++;

    is $r->{status}, 200, 'proxied';
    ok !exists $r->{headers}{'x-lgsp-transaction-id'},
        'no X-LGSP-Transaction-ID in the answer';

    my $seen = $r->{json}{headers};
    ok !exists $seen->{'x-lgsp-transaction-id'},
        'none upstream either';
    ok !exists $seen->{'x-lgsp-agency'},
        'the client\'s X-LGSP-Agency still removed';
    ok !grep({ /lgsp/i } keys %$seen), 'and every other X-LGSP-* spelling';
};

subtest '$lgsp_txid still works where it is used' => sub {
    my $r = $t->request('GET', '/txid', port => $t->extra_port(2));
    $plain++;

    is $r->{status}, 200, 'answered';
    like $r->{headers}{'x-txid'},
        qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        'a UUIDv7 from the variable';
    ok !exists $r->{headers}{'x-lgsp-transaction-id'},
        'but no X-LGSP-Transaction-ID header';
};

subtest 'a location an lgsp directive applies to keeps every step' => sub {
    my $r = $t->get('/api', 'X-LGSP-Agency' => 'FAKE.AGENCY');
    $api++;

    is $r->{status}, 200, 'proxied';
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};
    like $txid, qr/^[0-9a-f-]{36}$/, 'a transaction id';
    is $r->{json}{headers}{'x-lgsp-transaction-id'}, $txid, 'sent upstream';
    is $r->{json}{headers}{'x-lgsp-service'}, 'MOJ.IDLE.API',
        'with the service';
    ok !exists $r->{json}{headers}{'x-lgsp-agency'}, 'no spoofed agency';

    $r = $t->get('/static');
    like $r->{headers}{'x-lgsp-transaction-id'}, qr/^[0-9a-f-]{36}$/,
        'the server\'s lgsp_transaction_log applies to its every location';

    $r = $t->request('GET', '/', port => $t->extra_port(3));
    like $r->{headers}{'x-lgsp-transaction-id'}, qr/^[0-9a-f-]{36}$/,
        'so does a server\'s lgsp_tenant';
};

subtest 'an error_page from such a location keeps the transaction' => sub {
    my $r = $t->request('GET', '/svc', port => $t->extra_port(2));
    $svc++;

    is $r->{status}, 502, 'the error page answered';
    is $r->{content}, "gone\n", 'from the location without directives';
    like $r->{headers}{'x-lgsp-transaction-id'}, qr/^[0-9a-f-]{36}$/,
        'with the transaction id';

    $r = $t->request('GET', '/svc-return', port => $t->extra_port(2));
    is $r->{status}, 404, 'so does one after a return';
    like $r->{headers}{'x-lgsp-transaction-id'}, qr/^[0-9a-f-]{36}$/,
        'with the transaction id';
};

subtest 'records and metrics: only where the LGSP applies' => sub {
    my $text = $t->metrics_after($api + $svc);

    like $text, qr/^lgsp_requests_total\{service="MOJ\.IDLE\.API",.*\} 1$/m,
        'the service\'s request counted';
    like $text,
        qr/^lgsp_requests_total\{service="MOJ\.IDLE\.SVC",.*status="5xx".*\} 1$/m,
        'the redirected one counted for its service';

    my $sum = 0;
    $sum += $1 while $text =~ /^lgsp_requests_total\{.*\} (\d+)$/mg;
    is $sum, $api + $svc, "and nothing else (the $plain others)";

    my @records = map { decode_json($_) }
                  split /\n/, $t->read_file('logs/transactions.jsonl');
    my %paths = map { $_->{path} // '' => 1 } @records;

    ok $paths{'/api'}, 'a record of the request to the service';
    ok !grep({ m{^/(plain|txid)} } keys %paths),
        'none of the requests no directive applies to';
};

ok $t->error_log_clean, 'no alert or crash in the error log';

$t->stop;

done_testing;
