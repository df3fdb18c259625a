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
use JSON::XS;
use Test::More;
use Time::HiRes qw(sleep);

use LGSP::Test;
use LGSP::Token qw(bearer);

plan skip_all => 'mounting a tmpfs needs root' if $> != 0;

my $secret = 'records-deny-secret-of-at-least-32-bytes';
my $verify = "$LGSP::Test::REPO/scripts/lgsp-logverify";

$ENV{LGSP_BUILD} = dirname($ENV{LGSP_MODULE}
                           || "$LGSP::Test::REPO/build/x");

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);

my $disk = $t->dir . '/disk';
mkdir $disk or die "mkdir: $!";
system('mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', $disk) == 0
    or plan skip_all => 'cannot mount a tmpfs here';

my $filler = "$disk/filler";
# the provider's answer is large, so that a withheld one is dropped from
# nginx's proxy buffers and temporary file, not from one read
my $provider_log = $t->dir . '/logs/provider.jsonl';
my $answer = $t->write_file('answer.json',
                            '{"data":"' . ('x' x 300_000) . '"}');
$t->mock('mock/recorder.pl', $t->extra_port(1), $provider_log, $answer);

my %auth = (Authorization => bearer($secret, 'H29.UBND.HANAM'));

eval {
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
EOF

    run_case('unbuffered', $t->port, "$disk/deny.jsonl");
    run_case('buffer=4k', $t->extra_port(2), "$disk/buffered.jsonl");

    unlike $t->error_log, qr/\[(?:alert|emerg)\]|exited on signal/,
        'no crash or alert (a full disk is a [crit], on purpose)';
    1;
} or fail("the test died: $@");

$t->stop;
system('umount', $disk);

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
    my ($name, $port, $file) = @_;

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

        is_deeply [ map { "$_->{txid} ($_->{status})" }
                    grep { ($records->{ $_->{txid} }{status} // 0)
                           != $_->{status} } @answered ],
            [], 'every answer that went out has its record, with its status';

        is_deeply [ map { $_->{txid} }
                    grep { ($records->{ $_->{txid} }{status} // 503) != 503 }
                    @withheld ],
            [], 'no withheld answer is recorded as given';

        my $out = `$verify $file 2>&1`;
        is $? >> 8, 0, 'the chain verifies' or diag $out;
    };
}
