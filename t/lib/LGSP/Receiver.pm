package LGSP::Receiver;

# The mock providing system of scripts/mock/receiver.pl for the delivery
# tests: it logs every request that reaches it, one JSON line each.
#
#   my $rcv = LGSP::Receiver->new($t, $port);   # log in the test folder
#   my $pid = $rcv->start(503, 2);              # STATUS, RETRY_AFTER, DELAY
#   my @got = $rcv->received;                   # hashes, in arrival order
#   $rcv->stop($pid);

use strict;
use warnings;

use Carp;
use JSON::PP;

use LGSP::Test;


sub new {
    my ($class, $t, $port) = @_;
    return bless { t => $t, port => $port,
                   log => $t->dir . "/received-$port.jsonl" }, $class;
}


sub start {
    my ($self, @opt) = @_;

    my $pid = $self->{t}->spawn($^X,
                                "$LGSP::Test::REPO/scripts/mock/receiver.pl",
                                $self->{port}, $self->{log}, @opt);

    croak 'receiver did not start'
        unless LGSP::Test::wait_port($self->{port}, $pid);

    return $pid;
}


sub stop {
    my ($self, $pid) = @_;
    kill 'TERM', $pid;
    LGSP::Test::wait_exit($pid);
}


sub received {
    my ($self) = @_;
    open my $f, '<', $self->{log} or return ();
    return map { decode_json($_) } <$f>;
}


# how many times each Idempotency-Key arrived
sub counts {
    my ($self) = @_;
    my %n;
    $n{ $_->{key} }++ for $self->received;
    return \%n;
}

1;
