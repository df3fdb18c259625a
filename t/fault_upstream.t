# An agency system that fails: one that hangs is given up after
# proxy_read_timeout (504), one that resets the connection gives 502, one
# that is slow but in time answers; each failure a problem document naming the txid and a record with the
# upstream outcome.  While a request waits for a hung system, the worker
# serves others: it never blocks.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use JSON::XS;

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(mint);

my $secret = 'fault-upstream-secret-' . ('u' x 32);

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
chmod 0755, $t->dir;
chmod 0777, $t->dir . '/logs';

my $agency = $t->extra_port(1);
$t->mock('mock/faulty.pl', $agency);

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_quota_zone quotas:1m;
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;

    server {
        listen 127.0.0.1:%%PORT%%;

        error_page 502 503 504 @lgsp_problem;
        location @lgsp_problem { lgsp_problem; }

        location / {
            lgsp_service BTP.HOTICH.TRACUU;
            lgsp_jwt on;
            lgsp_allow_agency *;
            lgsp_quota 100000r/m;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF

my $auth = 'Bearer ' . mint(alg => 'HS256', key => $secret);

sub call { $t->get($_[0], Authorization => $auth) }

# the record of a transaction, once the log phase has written it
sub record_of {
    my ($txid) = @_;
    return $t->wait_for(sub {
        for (split /\n/, $t->read_file('logs/transactions.jsonl')) {
            my $rec = eval { decode_json($_) } or next;
            return $rec if ($rec->{txid} // '') eq $txid;
        }
        return undef;
    }) // {};
}

sub failed {
    my ($path, $status, $type, $name) = @_;

    subtest $name => sub {
        my $r = call($path);
        my $txid = $r->{headers}{'x-lgsp-transaction-id'} // '';

        is $r->{status}, $status, "status $status";
        like $r->{headers}{'content-type'} // '', qr{problem\+json},
             'a problem document';
        is $r->{json}{type}, "urn:lgsp:problem:$type", "type $type";
        is $r->{json}{instance}, $txid, 'naming the txid';

        my $rec = record_of($txid);
        is $rec->{status}, $status, 'the record has the status';
        like encode_json($rec), qr/upstream/i, 'and an upstream outcome';
    };
}

is call('/ok')->{status}, 200, 'the agency system answers when well';

failed('/hang', 504, 'gateway-timeout',
       'a system that never answers: 504 after proxy_read_timeout');
failed('/reset', 502, 'bad-gateway', 'a system that resets: 502');

is call('/slow/300')->{status}, 200, 'a slow system, in time: 200';

subtest 'while one request waits for a hung system, others are served' => sub {
    # the hung request, sent and left waiting
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port)
        or die "connect: $!";
    print $s "GET /hang HTTP/1.1\r\nHost: x\r\nAuthorization: $auth\r\n"
             . "Connection: close\r\n\r\n";

    my @codes = map { call('/ok')->{status} } 1 .. 5;
    is_deeply \@codes, [(200) x 5], 'five calls answered meanwhile';

    local $/;
    my $answer = <$s> // '';
    like $answer, qr{^HTTP/1\.1 504}, 'and the hung one gets its 504';
};

ok $t->error_log_clean, 'no crash, alert or critical line';

done_testing;
