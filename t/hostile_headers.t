#!/usr/bin/perl

# Header hygiene: a client header whose name, lowercased and with "_" read
# as "-", begins with x-lgsp- is removed on arrival, whatever
# underscores_in_headers and ignore_invalid_headers say.  The provider (a
# recorder that keeps header names as spelled on the wire) sees no
# caller-supplied X-LGSP header in any spelling: with lgsp_jwt optional
# and no token, no agency header at all; with a token, only the LGSP's.
# Variables ($http_x_lgsp_agency) and the access log never see them, not
# even for a request nginx refuses before its phases.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use JSON::XS;
use Test::More;

use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'hostile-headers-secret-of-at-least-32-bytes';

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);

my $upstream = $t->extra_port(1);
my $seen_log = $t->dir . '/logs/upstream.jsonl';
$t->mock('mock/recorder.pl', $upstream, $seen_log);

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    log_format spoof '$lgsp_txid agency="$http_x_lgsp_agency"';

    server {
        listen 127.0.0.1:%%PORT%%;
        underscores_in_headers on;
        access_log %%DIR%%/logs/access.log spoof;

        location /api/ {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_jwt optional;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /variable {
            return 200 "agency=[$http_x_lgsp_agency] service=[$http_x_lgsp_service]";
        }
    }

    # underscores off, but invalid headers not ignored: nginx keeps them
    server {
        listen 127.0.0.1:%%PORT_2%%;
        ignore_invalid_headers off;

        location /api/ {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_jwt optional;
            lgsp_allow_agency *;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF

my @spoofs = (
    'X_LGSP_Agency: BO.CONG.AN',
    'x_lgsp_agency: BO.CONG.AN.2',
    'X-LGSP_Agency: BO.CONG.AN.3',
    'X-Lgsp-Agency: BO.CONG.AN.4',
    'X_lgsp-Service: OTHER.SERVICE',
    'x-lgsp_transaction_id: forged',
);

# a request with the spoofed headers, over a raw socket: every spelling
# goes out as written; returns (status, txid, body)
sub spoofed {
    my ($path, %opt) = @_;

    my $port = $opt{port} || $t->port;
    my @extra = $opt{token} ? ("Authorization: $opt{token}") : ();
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Proto => 'tcp', Timeout => 10)
        or die "connect: $!";

    print $s join("\r\n", "GET $path HTTP/1.1", 'Host: lgsp.test',
                  'Connection: close', @spoofs, @extra), "\r\n\r\n";

    local $/;
    my $answer = <$s> // '';
    my ($status) = $answer =~ m{^HTTP/1\.1 (\d+)};
    my ($txid) = $answer =~ /^X-LGSP-Transaction-ID: (\S+)\r$/mi;
    my (undef, $body) = split /\r\n\r\n/, $answer, 2;

    return ($status // 0, $txid // '', $body);
}

# what the provider received for a transaction id
sub received {
    my ($txid) = @_;

    for my $line (split /\n/, $t->read_file($seen_log)) {
        my $req = decode_json($line);
        return $req if grep { lc $_->[0] eq 'x-lgsp-transaction-id'
                              && $_->[1] eq $txid } @{ $req->{headers} };
    }

    return undef;
}

# the X-LGSP headers of a request as [name, value], any spelling
sub lgsp_headers {
    my ($req) = @_;
    return grep { (lc($_->[0]) =~ tr/_/-/r) =~ /^x-lgsp-/ }
           @{ $req->{headers} };
}

for my $case (['underscores_in_headers on', $t->port],
              ['ignore_invalid_headers off', $t->extra_port(2)])
{
    my ($name, $port) = @$case;

    subtest "$name, lgsp_jwt optional, no token" => sub {
        my ($status, $txid) = spoofed('/api/khaisinh', port => $port);
        is $status, 200, 'the anonymous call passes';

        my $req = received($txid);
        ok $req, 'the provider got it' or return;

        is_deeply [ sort map { "$_->[0]: $_->[1]" } lgsp_headers($req) ],
            [ 'X-LGSP-Service: BTP.HOTICH.KHAISINH',
              "X-LGSP-Transaction-ID: $txid" ],
            'no caller-supplied X-LGSP header in any spelling, no agency'
            or diag explain $req->{headers};
    };

    subtest "$name, a valid token" => sub {
        my ($status, $txid) = spoofed('/api/khaisinh', port => $port,
                                      token => bearer($secret, 'H29.SO-TP'));
        is $status, 200, 'the authenticated call passes';

        my $req = received($txid);
        ok $req, 'the provider got it' or return;

        is_deeply [ sort map { "$_->[0]: $_->[1]" } lgsp_headers($req) ],
            [ 'X-LGSP-Agency: H29.SO-TP',
              'X-LGSP-Service: BTP.HOTICH.KHAISINH',
              "X-LGSP-Transaction-ID: $txid" ],
            'only the LGSP\'s own X-LGSP headers'
            or diag explain $req->{headers};
    };
}

subtest 'variables and the access log never see them' => sub {
    my ($status, $txid, $body) = spoofed('/variable');
    is $status, 200, 'answered';
    is $body, 'agency=[] service=[]',
        '$http_x_lgsp_agency and $http_x_lgsp_service are empty';

    like $t->read_file('logs/access.log'), qr/^\Q$txid\E agency="-"$/m,
        'the access log shows no agency header';
};

subtest 'a request nginx refuses before its phases' => sub {
    # a second Host header: 400 while the headers are read
    my $answer = $t->raw("GET /api/x HTTP/1.1\r\nHost: a.test\r\n"
                         . "X-LGSP-Agency: BO.CONG.AN\r\n"
                         . "X_LGSP_Agency: BO.CONG.AN\r\n"
                         . "Host: b.test\r\n\r\n");
    like $answer, qr{^HTTP/1\.1 400}, 'refused with 400';

    my ($txid) = $answer =~ /^X-LGSP-Transaction-ID: (\S+)\r$/mi;
    ok $txid, 'naming its txid';

    # the line is written after the answer has left: wait for it
    my $log = '';
    $t->wait_for(sub {
        $log = $t->read_file('logs/access.log');
        return $log =~ /^\Q$txid\E /m;
    });

    like $log, qr/^\Q$txid\E agency="-"$/m,
        'its access log line shows no agency header';
};

ok $t->error_log_clean, 'no crash or alert';

$t->stop;

done_testing;
