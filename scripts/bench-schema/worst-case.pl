#!/usr/bin/perl
# What the validation budget lets one request cost: bodies built to use
# up lgsp_schema_max_cost in different ways, each validated once by
# build/bench-schema -c (the units it took and its least CPU time of 5),
# with a realistic batch for scale.
#
#   worst-case.pl BENCH_BINARY [MAX_COST]      (default 10000000)

use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;

my ($bin, $max) = @ARGV;
die "usage: $0 BENCH_BINARY [MAX_COST]\n" unless $bin && -x $bin;
$max ||= 10_000_000;

my $dir = tempdir(CLEANUP => 1);

sub put {
    my ($name, $text) = @_;
    open my $fh, '>:raw', "$dir/$name" or die "$dir/$name: $!";
    print $fh $text;
    close $fh;
    return "$dir/$name";
}

sub branches {
    my ($n, $schema) = @_;
    return join ',', ($schema) x $n;
}

my $birth = do {
    local $/;
    open my $fh, '<:raw', "$FindBin::Bin/khaisinh.valid.json" or die $!;
    <$fh>;
};

my @cases = (
    [ '500,000 integers, 50 allOf branches each',
      '{"type":"array","items":{"allOf":['
          . branches(50, '{"minimum":0}') . ']}}',
      '[' . join(',', 1 .. 500_000) . ']' ],
    [ 'a 1 MB string of 3-byte letters, 50 maxLength',
      '{"allOf":[' . branches(50, '{"maxLength":400000}') . ']}',
      '"' . ("\xe1\xba\xa1" x 333_333) . '"' ],
    [ '870 KB of "aaa...a!", anyOf ^(a+)+$ (issue 12)',
      '{"type":"array","items":{"anyOf":[{"pattern":"^(a+)+$"},'
          . '{"maxLength":100}]}}',
      '[' . join(',', ('"' . 'a' x 29 . '!"') x (870_000 / 33)) . ']' ],
    [ 'the same in contains',
      '{"type":"array","contains":{"pattern":"^(a+)+$"}}',
      '[' . join(',', ('"' . 'a' x 29 . '!"') x (870_000 / 33)) . ']' ],
    [ 'short failing strings, anyOf of 20 ^(\w+\s?)*$',
      '{"type":"array","items":{"anyOf":['
          . branches(20, '{"pattern":"^(\\\\w+\\\\s?)*$"}') . ']}}',
      '[' . join(',', ('"' . 'ab ' x 15 . '!"') x 20_000) . ']' ],
    [ '100,000 members, unevaluatedProperties (issue 18)',
      '{"patternProperties":{"^a":true},"unevaluatedProperties":false}',
      '{' . join(',', map { "\"a$_\":0" } 0 .. 99_999) . '}' ],
    [ 'uniqueItems over 104,000 arrays',
      '{"type":"array","uniqueItems":true}',
      '[' . join(',', map { "[$_,\"x\"]" } 1 .. 104_000) . ']' ],
    [ 'a 1 MB batch of birth registrations (realistic)',
      '{"$schema":"http://json-schema.org/draft-07/schema#",'
          . '"type":"array","items":'
          . do {
              local $/;
              open my $fh, '<:raw', "$FindBin::Bin/khaisinh.schema.json"
                  or die $!;
              <$fh>;
          } . '}',
      '[' . join(',', ($birth) x int(1_000_000 / length $birth)) . ']' ],
);

printf "budget %d units; per body: units used, least CPU time of 5\n", $max;

for my $case (@cases) {
    my ($name, $schema, $body) = @$case;
    my $s = put('schema.json', $schema);
    my $b = put('body.json', $body);
    my $out = `$bin -c $max $s $b`;
    die "$name: $bin failed\n" if $?;
    my (undef, $units, $ms, $answer) = split ' ', $out;
    printf "  %-52s %6.1f KB %10d units %7.1f ms  %s\n", $name,
           length($body) / 1024, $units, $ms, $answer;
}
