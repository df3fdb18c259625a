#!/usr/bin/perl

# A converted answer's record holds what the caller got: with
# lgsp_transaction_log on_error=deny the record is written as the answer's
# header leaves, after the conversion, so a provider's SOAP Fault (500)
# that the caller gets as a 502 problem is recorded as 502.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::XS;
use Test::More;

use LGSP::Test;

my $t = LGSP::Test->new;

# workers write the log: they must reach it
chmod 0755, $t->dir;

$t->start(<<'EOF');
    lgsp_transaction_log logs/transactions.jsonl on_error=deny;

    server {
        listen 127.0.0.1:%%PORT%%;

        location /bhxh {
            lgsp_service BHXH.SOAP;
            lgsp_allow_agency *;
            lgsp_convert_response xml_to_json unwrap=soap;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    # a SOAP 1.1 provider that answers a Fault
    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_transaction_log off;

        location / {
            default_type text/xml;
            return 500 '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>he thong ban</faultstring></soap:Fault></soap:Body></soap:Envelope>';
        }
    }
EOF

my $r = $t->get('/bhxh/the');
is $r->{status}, 502, 'the Fault: 502 to the caller';
is $r->{json}{faultstring}, 'he thong ban', 'as a problem with its reason';

$t->stop;

my ($record) = map { decode_json($_) }
               split /\n/, $t->read_file('logs/transactions.jsonl');
is $record->{status}, 502, 'the record: 502, what the caller got';
is $record->{upstream_status}, 500, 'beside the provider\'s 500';
is $record->{txid}, $r->{headers}{'x-lgsp-transaction-id'},
   'the same transaction';

done_testing;
