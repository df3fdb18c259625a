#!/usr/bin/perl

# "No record, no transaction" for every request: with lgsp_transaction_log
# ... on_error=deny, an answer leaves only once its record is in the log
# (or in the buffer= write buffer), and a request whose record cannot be
# written gets 503 records-unavailable.  Once the log is known to fail,
# requests are refused before anything goes upstream.  A full disk (a
# small tmpfs) with a provider that records every request it gets: every
# answer but a 503 has its record (matched by transaction id); every
# other answer is the 503 problem; the provider never saw a request
# refused before proxying; with buffer=, lines that cannot be written are
# kept and written once there is room, not dropped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Basename qw(dirname);
use IO::Socket::INET;
use JSON::XS;
use Test::More;
use Time::HiRes qw(sleep);

use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'records-deny-secret-of-at-least-32-bytes';
my $verify = "$LGSP::Test::REPO/scripts/lgsp-logverify";

$ENV{LGSP_BUILD} = dirname($ENV{LGSP_MODULE}
                           || "$LGSP::Test::REPO/build/x");

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);

# the provider's answer is large, so that a withheld one is dropped from
# nginx's proxy buffers, not from one read
my $provider_log = $t->dir . '/logs/provider.jsonl';
my $answer = $t->write_file('answer.json',
                            '{"data":"' . ('x' x 300_000) . '"}');
$t->write_file('static/big.json', '{"data":"' . ('y' x 1_000_000) . '"}');
chmod 0755, $t->dir, $t->dir . '/conf', $t->dir . '/conf/static';
$t->mock('mock/recorder.pl', $t->extra_port(1), $provider_log, $answer);

my %auth = (Authorization => bearer($secret, 'H29.UBND.HANAM'));

# ---------------------------------------------------------------------
# a log that can never be written (/dev/full; each server spells it its
# own way, so each has a log, and an incident, of its own): the first
# request of each is answered, its record fails, its answer is withheld;
# the next is refused before proxying

$t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_transaction_log /dev/full on_error=deny;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        lgsp_transaction_log /dev//full on_error=deny;

        location /hotich {
            proxy_buffering off;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        lgsp_transaction_log /dev/./full on_error=deny;
        root %%DIR%%/conf/static;
        sendfile on;
    }

    server {
        listen 127.0.0.1:%%PORT_4%%;
        lgsp_transaction_log /dev/../dev/full on_error=deny;
        lgsp_jwt on;
        location / { empty_gif; }
    }

    server {
        listen 127.0.0.1:%%PORT_5%%;
        lgsp_transaction_log /dev/./././full on_error=deny;
        location / { empty_gif; }
    }
EOF

# raw requests on one connection; the answers as [status, headers, body]
sub pipelined {
    my ($port, @requests) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Proto => 'tcp', Timeout => 10)
        or die "connect: $!";
    print $s join '', @requests;

    local $/;
    my $in = <$s> // '';
    my @answers;

    while ($in =~ s{^HTTP/1\.1 (\d+)[^\r]*\r\n(.*?)\r\n\r\n}{}s) {
        my ($status, $head) = ($1, $2);
        my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () }
                split /\r\n/, $head;
        my $head_only = $requests[@answers] =~ /^HEAD /;
        my $body = $head_only ? ''
                   : substr($in, 0, $h{'content-length'} // 0, '');
        push @answers, [ $status, \%h, $body ];
    }

    return (\@answers, $in);
}

sub request_text {
    my ($method, $path, $last, %h) = @_;
    return "$method $path HTTP/1.1\r\nHost: lgsp.test\r\n"
           . join('', map { "$_: $h{$_}\r\n" } sort keys %h)
           . ($last ? "Connection: close\r\n" : '') . "\r\n";
}

sub withheld_ok {
    my ($answer, $what) = @_;
    my ($status, $h, $body) = @$answer;
    my $json = eval { decode_json($body) } // {};

    is $status, 503, "$what: 503";
    is $h->{'content-type'}, 'application/problem+json',
        "$what: a problem document";
    like $json->{detail} // '', qr/answer is withheld/,
        "$what: the answer is withheld";
    is $json->{instance}, $h->{'x-lgsp-transaction-id'},
        "$what: naming the txid";
}

subtest 'a proxied answer withheld, then a refusal, on one connection' => sub {
    my ($answers, $rest) = pipelined($t->port,
        request_text('GET', '/hotich/1', 0, %auth),
        request_text('GET', '/hotich/2', 1, %auth));

    is scalar(@$answers), 2, 'two answers on one connection';
    is $rest, '', 'and nothing of the withheld answer';
    withheld_ok($answers->[0], 'the first');

    my $second = eval { decode_json($answers->[1][2]) } // {};
    is $answers->[1][0], 503, 'the second: 503';
    like $second->{detail} // '', qr/no exchange is made/,
        'the second: refused before the exchange';

    my $provider = $t->read_file($provider_log);
    my ($first_id, $second_id) =
        map { $_->[1]{'x-lgsp-transaction-id'} } @$answers;
    like $provider, qr/\Q$first_id\E/, 'the provider got the first';
    unlike $provider, qr/\Q$second_id\E/, 'not the second';
};

subtest 'an unbuffered proxied answer withheld' => sub {
    my ($answers, $rest) = pipelined($t->extra_port(2),
                                     request_text('GET', '/hotich/3', 1));
    withheld_ok($answers->[0], 'proxy_buffering off');
    is $rest, '', 'nothing of the answer follows';
};

subtest 'a static file withheld (sendfile)' => sub {
    my ($answers, $rest) = pipelined($t->extra_port(3),
                                     request_text('GET', '/big.json', 1));
    withheld_ok($answers->[0], 'a 1 MB file');
    is $rest, '', 'nothing of the file follows';
};

subtest "a refusal of the LGSP's own withheld" => sub {
    my ($answers) = pipelined($t->extra_port(4),
                              request_text('GET', '/x', 1,
                                           Authorization => 'Bearer bad'));
    withheld_ok($answers->[0], 'a 401');
};

subtest 'HEAD' => sub {
    my ($answers, $rest) = pipelined($t->extra_port(5),
        request_text('HEAD', '/x', 0), request_text('GET', '/x', 1));
    is $answers->[0][0], 503, 'HEAD: 503';
    is $answers->[1][0], 503, 'and the next request on the connection too';
    is $rest, '', 'no body after the HEAD answer';
};

$t->stop;

# ---------------------------------------------------------------------
# a full disk, on a tmpfs

SKIP: {
    skip 'mounting a tmpfs needs root', 2 if $> != 0;

    my $disk = $t->dir . '/disk';
    mkdir $disk or die "mkdir: $!";
    system('mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', $disk) == 0
        or skip 'cannot mount a tmpfs here', 2;

    my $filler = "$disk/filler";

    eval {
        # stop() stopped the provider too
        $t->mock('mock/recorder.pl', $t->extra_port(1), $provider_log,
                 $answer);

        $t->start(<<"EOF");
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_transaction_log $disk/deny.jsonl on_error=deny;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        lgsp_transaction_log $disk/buffered.jsonl buffer=4k flush=200ms
                             on_error=deny;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        lgsp_transaction_log off;
        location /metrics { lgsp_metrics; }
    }
EOF

        run_case('unbuffered', $t->port, "$disk/deny.jsonl", $filler);
        run_case('buffer=4k', $t->extra_port(2), "$disk/buffered.jsonl",
                 $filler);
        1;
    } or fail("the test died: $@");

    $t->stop;
    system('umount', $disk);
}

unlike $t->error_log, qr/\[(?:alert|emerg)\]|exited on signal/,
    'no crash or alert (a log that cannot be written is a [crit])';

done_testing;


# one call: valid, or (every third) with a bad token, which nginx
# answers itself; returns what the caller saw
sub call {
    my ($port, $n) = @_;

    my %headers = $n % 3 ? %auth : (Authorization => 'Bearer bad');
    my $r = $t->request('GET', "/hotich/khaisinh/$n", port => $port,
                        headers => \%headers);

    return { status => $r->{status}, json => $r->{json},
             type => $r->{headers}{'content-type'} // '',
             txid => $r->{headers}{'x-lgsp-transaction-id'} // '' };
}

sub records {
    my ($file) = @_;
    my @lines = split /\n/, $t->read_file($file);
    return { map { my $l = decode_json($_); ($l->{txid} // '') => $l }
             @lines };
}

sub provider_txids {
    my %seen;
    for (split /\n/, $t->read_file($provider_log)) {
        for my $h (@{ decode_json($_)->{headers} }) {
            $seen{ $h->[1] } = 1 if lc $h->[0] eq 'x-lgsp-transaction-id';
        }
    }
    return \%seen;
}

sub run_case {
    my ($name, $port, $file, $filler) = @_;

    subtest "$name: a full disk" => sub {
        is call($port, 1)->{status}, 200, 'a call before the disk fills';

        # a buffered line reaches the file after flush=
        my $n = 0;
        sleep 0.1 until $t->read_file($file) =~ /\n/ || ++$n > 50;

        # fill the disk: dd stops with "No space left on device"
        system("dd if=/dev/zero of=$filler bs=1k count=100 2>/dev/null");

        # the log's last page takes a few records; then the log fails
        my @calls;
        for my $i (2 .. 61) {
            push @calls, call($port, $i);
            sleep 0.01;
        }

        my @refused = grep { $_->{status} == 503 } @calls;
        my @answered = grep { $_->{status} != 503 } @calls;

        my @all = @calls;

        ok scalar(@refused), scalar(@refused) . ' calls refused, '
            . scalar(@answered) . ' answered';

        is_deeply [ grep { $_->{type} ne 'application/problem+json'
                           || ($_->{json}{type} // '')
                              ne 'urn:lgsp:problem:records-unavailable'
                           || $_->{json}{instance} ne $_->{txid} } @refused ],
            [], 'every refusal is a records-unavailable problem naming its'
                . ' txid';

        my @before = grep { $_->{json}{detail} =~ /no exchange is made/ }
                     @refused;
        my @withheld = grep { $_->{json}{detail} =~ /answer is withheld/ }
                       @refused;
        is @before + @withheld, scalar(@refused),
            'each refused before the exchange or its answer withheld';
        ok scalar(@before), scalar(@before) . ' refused before proxying, '
            . scalar(@withheld) . ' withheld';

        my $provider = provider_txids();
        is_deeply [ map { $_->{txid} } grep { $provider->{ $_->{txid} } }
                    @before ],
            [], 'the provider got none of the requests refused before'
                . ' proxying';

        # free the disk: the log is written again, requests pass
        unlink $filler;

        my $again;
        for my $i (62 .. 100) {
            $again = call($port, 1 + 3 * $i);
            push @all, $again;
            last if $again->{status} == 200;
            sleep 0.1;
        }
        is $again->{status}, 200, 'with room again, calls pass';
        push @answered, $again;

        # buffered lines come out after flush=
        my $records;
        for (1 .. 50) {
            $records = records($file);
            last unless grep { !$records->{ $_->{txid} } } @answered;
            sleep 0.1;
        }

        my %status = map { $_ => $records->{$_}{status} } keys %$records;

        is_deeply [ map { "$_->{txid} ($_->{status})" }
                    grep { ($status{ $_->{txid} } // 0) != $_->{status} }
                    @answered ],
            [], 'every answer that went out has its record, with its status';

        is_deeply [ map { $_->{txid} }
                    grep { ($status{ $_->{txid} } // 503) != 503 } @withheld ],
            [], 'no withheld answer is recorded as given';

        # a record that never made it is counted once, as a lost one
        my ($lost) = $t->request('GET', '/metrics',
                                 port => $t->extra_port(3))->{content}
            =~ /^lgsp_records_lost_total\{file="\Q$file\E"\} (\d+)$/m;
        is $lost // 0, scalar(grep { !$records->{ $_->{txid} } } @all),
            'each request without a record counted once as lost';

        my $out = `$verify $file 2>&1`;
        is $? >> 8, 0, 'the chain verifies' or diag $out;
    };
}
