# Bounds on what one request may cost the gateway (issue 12, items 1 and
# 8): validation spends at most lgsp_schema_max_cost units of work, counted
# (regex steps, schema nodes visited, items compared), and a body that
# needs more is answered 422 validation-too-costly, quickly, while the
# other worker serves everyone else; a long valid string is no longer
# refused as "too complex"; nginx -t warns of a pattern with nested
# unbounded quantifiers; a schema file that is just true or false works.

use strict;
use warnings;

use Test::More;
use JSON::XS;
use Time::HiRes qw(time sleep);
use POSIX qw(_exit);

use lib 't/lib';
use LGSP::Test;

my $t = LGSP::Test->new(workers => 2);
my $json = JSON::XS->new->canonical;

# the workers (nobody) write large bodies to the test's tmp/
chmod 0755, $t->dir, $t->dir . '/tmp';

# the attack of issue 12: a pattern that backtracks exponentially on
# "aaa...a!", in anyOf over every item of an 870 KB array, and in contains
$t->write_file('schemas/any.json', $json->encode({
    type => 'array',
    items => { anyOf => [ { pattern => '^(a+)+$' }, { maxLength => 100 } ] },
}));
$t->write_file('schemas/contains.json', $json->encode({
    type => 'array', contains => { pattern => '^(a+)+$' },
}));
$t->write_file('schemas/words.json', $json->encode({
    type => 'string', pattern => '^(\w+\s?)*$',
}));
$t->write_file('schemas/true.json', 'true');
$t->write_file('schemas/false.json', " false\n");

# a realistic 1 MB body: birth registrations of conf/schemas, in a batch
for my $name ('khaisinh.json', 'common.json') {
    $t->write_file("schemas/$name",
                   $t->read_file("$LGSP::Test::REPO/conf/schemas/$name"));
}
$t->write_file('schemas/batch.json',
               '{"type": "array", "items": {"$ref": "khaisinh.json"}}');

my $conf = <<'EOF';
    client_max_body_size 2m;
    lgsp_schema_max_body 2m;

    server {
        listen 127.0.0.1:%%PORT%%;

        location /any { lgsp_schema_request schemas/any.json;
                        proxy_pass http://127.0.0.1:%%PORT%%/sink; }
        location /contains { lgsp_schema_request schemas/contains.json;
                             proxy_pass http://127.0.0.1:%%PORT%%/sink; }
        location /words { lgsp_schema_request schemas/words.json;
                          proxy_pass http://127.0.0.1:%%PORT%%/sink; }
        location /true { lgsp_schema_request schemas/true.json;
                         proxy_pass http://127.0.0.1:%%PORT%%/sink; }
        location /false { lgsp_schema_request schemas/false.json;
                          proxy_pass http://127.0.0.1:%%PORT%%/sink; }
        location /batch { lgsp_schema_request schemas/batch.json;
                          proxy_pass http://127.0.0.1:%%PORT%%/sink; }
        location /small-budget { lgsp_schema_request schemas/batch.json;
                                 lgsp_schema_max_cost 100000;
                                 proxy_pass http://127.0.0.1:%%PORT%%/sink; }

        location /sink { return 200 "accepted\n"; }
        location /plain { return 200 "plain\n"; }
    }
EOF

# nginx -t: a warning, not a failure, naming the file and line of the
# lgsp_schema_request whose schema holds the pattern
my ($ok, $out) = $t->test_config($conf);
ok $ok, 'nginx -t accepts the configuration';
my @lines = split /\n/, $t->read_file('conf/nginx.conf');
my ($any_line) = grep { $lines[$_ - 1] =~ m{schemas/any\.json} } 1 .. @lines;
like $out, qr{\[warn\] .*schema: \S*any\.json: at "/items/anyOf/0/pattern": "\^\(a\+\)\+\$" repeats a group that holds an unbounded quantifier.* in \S+nginx\.conf:$any_line\b},
    'nginx -t warns of ^(a+)+$, naming the schema, the pointer and the line';
like $out, qr{words\.json: at "/pattern": "\^\(\\w\+\\s\?\)\*\$" repeats},
    '  and of ^(\w+\s?)*$ (it is "(\w+)*" on "aaa...a!")';
unlike $out, qr{common\.json.*repeats},
    '  not of ^\p{L}+( \p{L}+)*$: a space starts each repetition';

$t->start($conf);

sub post {
    my ($path, $body) = @_;
    return $t->request('POST', $path, body => $body, timeout => 30,
                       headers => { 'Content-Type' => 'application/json' });
}

sub is_too_costly {
    my ($r, $name) = @_;

    subtest $name => sub {
        is $r->{status}, 422, '422';
        is $r->{json}{type}, 'urn:lgsp:problem:validation-too-costly',
            'type validation-too-costly';
        like $r->{json}{detail} // '',
             qr{more than the \d+ units of work .*\(lgsp_schema_max_cost\)},
             'the detail names the budget';
        ok $r->{json}{maxCost}, "maxCost $r->{json}{maxCost}";
    };
}


# --- the catastrophic body: answered quickly, 422 naming the budget -----

my $cat = $json->encode([ ('a' x 29 . '!') x (870_000 / 33) ]);
diag sprintf 'catastrophic body: %d bytes', length $cat;

for my $path ('/any', '/contains') {
    my $start = time;
    my $r = post($path, $cat);
    my $took = time - $start;
    is_too_costly($r, "$path: anyOf/contains with ^(a+)+\$ over 870 KB");
    is $r->{json}{maxCost}, 10_000_000, "$path: the default budget";
    diag sprintf '%s: answered in %.3f s', $path, $took;
}

# the same items, just fewer of them and shorter: valid data is not
# refused (each string fails the pattern and passes maxLength)
my $r = post('/any', $json->encode([ ('a' x 5 . '!') x 10 ]));
is $r->{status}, 200, 'a short array of "aaaaa!" passes anyOf';


# --- regex: valid data is no longer "too complex" ------------------------

my $words = substr join(' ', ('ab') x 1001), 0, 3000;
is length $words, 3000, 'a 3000-character "ab ab ab ..."';
$r = post('/words', $json->encode($words));
is $r->{status}, 200, '^(\w+\s?)*$ accepts it';

$r = post('/words', $json->encode("!$words"));
is $r->{status}, 422, '  refuses it with a "!" in front';
is $r->{json}{type}, 'urn:lgsp:problem:schema-violation',
    '  as a schema violation';
like $r->{json}{errors}[0]{message} // '', qr{must match the pattern},
    '  of the pattern, not "too complex"';

# with the "!" at the end, a backtracking matcher takes exponential time
# to say no: the budget says it first
is_too_costly(post('/words', $json->encode("$words!")),
              '^(\w+\s?)*$ on "ab ab ... ab!"');


# --- a realistic 1 MB body validates within the default budget -----------

my $one = $json->decode($t->read_file("$LGSP::Test::REPO/conf/schemas/"
                                      . 'khaisinh.example.json'));
my $n = int(1_000_000 / length $json->encode($one)) + 1;
my $batch = $json->encode([ ($one) x $n ]);
diag sprintf 'batch of %d birth registrations: %d bytes', $n, length $batch;
$r = post('/batch', $batch);
is $r->{status}, 200, 'a 1 MB batch of birth registrations is valid';

# the same body past a smaller budget: refused, the same way every time
for (1 .. 2) {
    is_too_costly(post('/small-budget', $batch),
                  'past lgsp_schema_max_cost 100000');
}


# --- boolean schema files: the suite's boolean_schema, through nginx -----

my $suite = "$LGSP::Test::REPO/../shared/conformance/JSON-Schema-Test-Suite";
$suite = "$LGSP::Test::REPO/$suite" if $suite !~ m{^/};

SKIP: {
    skip "no JSON-Schema-Test-Suite at $suite", 1 unless -d $suite;

    for my $draft ('draft2020-12', 'draft7') {
        my $groups = $json->decode(
            $t->read_file("$suite/tests/$draft/boolean_schema.json"));

        for my $group (@$groups) {
            my $path = $group->{schema} ? '/true' : '/false';

            for my $case (@{ $group->{tests} }) {
                my $body = JSON::XS->new->allow_nonref->encode($case->{data});
                my $r = post($path, $body);
                is $r->{status}, $case->{valid} ? 200 : 422,
                    "$draft: $group->{description}: $case->{description}";
            }
        }
    }
}


# --- two workers: the attack in a loop does not hold up other requests --

# the plain location's waits, in seconds, sorted, for $seconds
sub plain_waits {
    my ($seconds) = @_;

    my @waits;
    my $until = time + $seconds;

    while (time < $until) {
        my $start = time;
        my $r = $t->get('/plain');
        push @waits, time - $start if $r->{status} == 200;
        sleep 0.01;
    }

    return sort { $a <=> $b } @waits;
}

sub p99 { $_[int(0.99 * $#_)] * 1000 }

# the machine is shared: how long a plain request waits without the attack
my @calm = plain_waits(3);

my $seconds = 6;
my $attacker = fork // die "fork: $!";

if ($attacker == 0) {
    my $until = time + $seconds;
    post('/any', $cat) while time < $until;
    _exit(0);
}

my @waits = plain_waits($seconds - 1);

waitpid $attacker, 0;

diag sprintf 'a plain location: 99th percentile %.1f ms without the attack,'
             . ' %.1f ms under it (%d requests, slowest %.1f ms)',
             p99(@calm), p99(@waits), scalar @waits, $waits[-1] * 1000;
ok @waits > 50, 'the plain location answered all along';
ok $waits[-1] < 1, 'no request waited more than 1 s';

ok $t->error_log_clean, 'no crash, alert or critical line in the error log';

$t->stop;

done_testing;
