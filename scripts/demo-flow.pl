#!/usr/bin/perl

# The demo's flow, run by scripts/demo.sh once the LGSP is up: a birth is
# registered through the province's LGSP and the child's health insurance
# card is asked of the national social insurance through NDXP; then the
# liên thông part: the cards of new-born children are asked of BHXH's
# card system while it is down, the LGSP keeps them (202 and a status
# URL each, written to DELIVERIES), and once demo.sh has started that
# system, the second run follows the status URLs until the cards are
# issued.  Each step prints its request, status, transaction id and answer.
#
#   scripts/demo-flow.pl PORT TOKEN OTHER_AGENCY_TOKEN BIRTH.json DELIVERIES
#   scripts/demo-flow.pl --deliveries PORT TOKEN DELIVERIES

use strict;
use warnings;

use HTTP::Tiny;
use IO::Socket::INET;
use JSON::XS;
use Time::HiRes qw(sleep);

my $follow = @ARGV && $ARGV[0] eq '--deliveries' ? shift : undef;
my ($port, $token, $other, $example, $deliveries) = @ARGV;
$deliveries = $other if $follow;
die "usage: $0 PORT TOKEN OTHER_AGENCY_TOKEN BIRTH.json DELIVERIES\n"
    . "       $0 --deliveries PORT TOKEN DELIVERIES\n"
    unless $follow ? $deliveries : $deliveries && $example;

my $http = HTTP::Tiny->new(timeout => 10);
my $json = JSON::XS->new->canonical;
my $n = $follow ? 8 : 0;

if ($follow) {
    follow();
    exit 0;
}

open my $fh, '<:raw', $example or die "$example: $!\n";
my $registration = JSON::XS->new->decode(do { local $/; <$fh> });

sub step {
    my ($title, $method, $path, %opt) = @_;

    my %headers = %{ $opt{headers} || {} };
    $headers{Authorization} = "Bearer $opt{token}" if $opt{token};

    my $body;
    if ($opt{body}) {
        $body = $json->encode($opt{body});
        $headers{'Content-Type'} = 'application/json';
    }

    my $r = $headers{Host}
            ? by_host($method, $path, $headers{Host})
            : $http->request($method, "http://127.0.0.1:$port$path", {
                  headers => \%headers,
                  defined $body ? (content => $body) : () });

    my $answer = eval { $json->decode($r->{content}) } // $r->{content};

    printf "\n%d. %s\n   %s %s%s\n   -> %s  txid %s\n", ++$n, $title,
        $method, $path,
        $headers{Host} ? " (Host: $headers{Host})" : '',
        $r->{status}, $r->{headers}{'x-lgsp-transaction-id'} // '-';

    my $show = $opt{show} ? $opt{show}->($answer) : $answer;
    print '   ', (ref $show ? $json->encode($show) : $show), "\n";

    return ($r, $answer);
}

# HTTP::Tiny will not send another Host: a tenant by name, by hand
sub by_host {
    my ($method, $path, $host) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 10)
        or return { status => 599, headers => {}, content => "$!" };

    print $s "$method $path HTTP/1.0\r\nHost: $host\r\n\r\n";
    my $raw = do { local $/; <$s> } // '';

    my ($head, $content) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () }
            split /\r\n/, $head // '';

    return { status => $status // 599, headers => \%h,
             content => $content // '' };
}

my $codes = sub { [ map { $_->{code} } @{ $_[0]{services} || [] } ] };

step('The province publishes its catalogue', 'GET', '/catalog',
     show => $codes);

my ($r, $birth) = step(
    'The justice department registers a birth, through the LGSP, with the'
    . ' civil registry system', 'POST', '/hotich/khaisinh', token => $token,
    body => $registration);

print "birth: $r->{status}\n";

my $id = ref $birth ? $birth->{soDinhDanh} // '' : '';

($r) = step('It asks the national social insurance (BHXH), through NDXP,'
            . ' for the child\'s health insurance card', 'GET',
            "/ndxp/bhxh/1.0/the-bhyt?maDinhDanh=$id", token => $token,
            show => sub {
                my $c = shift;
                ref $c ? { map { $_ => $c->{$_} } grep { $_ ne 'token' }
                           keys %$c } : $c;
            });

print "card: $r->{status}\n";

($r) = step('An agency the province has not named is refused', 'POST',
            '/hotich/khaisinh', token => $other, body => $registration);

print "other agency: $r->{status}\n";

($r) = step('A registration that breaks the agreed schema is refused'
            . ' before it reaches the civil registry', 'POST',
            '/hotich/khaisinh', token => $token,
            body => { %$registration, ngayDangKy => '15/06/2024' });

print "bad registration: $r->{status}\n";

step('The ministry, a second tenant of the same nginx, has its own'
     . ' catalogue', 'GET', '/catalog',
     headers => { Host => 'lgsp.moj.demo' }, show => $codes);

# liên thông: two new-born children's cards, asked while BHXH's card
# system is down
open my $out, '>', $deliveries or die "$deliveries: $!\n";

for my $child (['001226000101', 'Nguyen Van An'],
               ['001226000102', 'Tran Thi Binh'])
{
    ($r, my $queued) = step(
        'Liên thông: the child\'s health insurance card is asked of BHXH\'s'
        . ' card system, which is down: the LGSP keeps the request',
        'POST', '/bhxh/cap-the-bhyt', token => $token,
        body => { maDinhDanh => $child->[0], hoTen => $child->[1] });

    print "card request: $r->{status}\n";
    print $out "$queued->{status_url}\n" if ref $queued;
}

close $out;


# the second run: BHXH's system is up; each status URL until delivered
sub follow {
    open my $in, '<', $deliveries or die "$deliveries: $!\n";
    chomp(my @urls = <$in>);

    for my $url (@urls) {
        my ($r, $state);

        for (1 .. 60) {
            $r = $http->request('GET', "http://127.0.0.1:$port$url",
                                { headers => { Authorization
                                               => "Bearer $token" } });
            $state = eval { $json->decode($r->{content}) } || {};
            last if ($state->{state} // '') =~ /^(delivered|failed|expired)$/;
            sleep 0.5;
        }

        step('BHXH\'s card system is back: the LGSP delivered the kept'
             . ' request; its status URL says so', 'GET', $url,
             token => $token,
             show => sub {
                 my $d = shift;
                 ref $d ? { map { $_ => $d->{$_} }
                            qw(state attempts response) } : $d;
             });

        print "delivery: $state->{state}\n";
    }
}
