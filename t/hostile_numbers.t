# Numbers compared as written (issue 12, items 2 and 7): JSON Schema
# compares mathematical values, so the module compares the body's numbers
# exactly, at any length, for multipleOf, maximum, minimum, const, enum,
# type integer and uniqueItems; 1e400 is a number like any other; and
# uniqueItems over 1 MB of objects that pair the same values differently
# (which all hashed alike before: 4.3 s of CPU) is answered at once.
# Every refusal is a 422 problem naming the keyword, the place and the
# number as the caller wrote it; every valid body reaches the agency
# byte for byte.

use strict;
use warnings;

use Test::More;
use JSON::XS;

use lib 't/lib';
use LGSP::Test;

my $t = LGSP::Test->new;

# the mock agency system: echoes what reached it
$t->start_agency(1);

# nginx's workers (user nobody) write the 1 MB bodies to temporary files
chmod 0755, $t->dir, $t->dir . '/tmp';

$t->write_file('numbers.json', <<'EOF');
{
  "type": "object",
  "properties": {
    "sevens": { "multipleOf": 7 },
    "amount": { "maximum": 100 },
    "huge": { "maximum": 1e300 },
    "one": { "const": 1 },
    "count": { "type": "integer" },
    "price": { "multipleOf": 0.01 },
    "set": { "type": "array", "uniqueItems": true }
  }
}
EOF

$t->start(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;

        location /numbers {
            lgsp_schema_request numbers.json;
            lgsp_schema_max_body 2m;
            client_max_body_size 2m;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF

sub post {
    my ($body) = @_;

    return $t->request('POST', '/numbers', body => $body,
                       headers => { 'Content-Type' => 'application/json' });
}

# 200, and the agency got the body as it was sent
sub passes {
    my ($body, $name) = @_;

    my $r = post($body);
    is $r->{status}, 200, "$name: 200";
    ok $r->{json} && defined $r->{json}{body} && $r->{json}{body} eq $body,
        "$name: the agency received it byte for byte";
}

# 422, a problem whose first error has this keyword, place and message
sub refused {
    my ($body, $keyword, $path, $message, $name) = @_;

    my $r = post($body);
    my $e = $r->{json} && $r->{json}{errors} && $r->{json}{errors}[0];
    is $r->{status}, 422, "$name: 422";
    is $r->{headers}{'content-type'}, 'application/problem+json',
        "$name: a problem document";
    is $r->{json} && $r->{json}{type}, 'urn:lgsp:problem:schema-violation',
        "$name: a schema violation";
    is $e && $e->{keyword}, $keyword, "$name: keyword $keyword";
    is $e && $e->{instancePath}, $path, "$name: at $path";
    if (ref $message) {
        like $e && $e->{message}, $message, "$name: the message";
    } else {
        is $e && $e->{message}, $message, "$name: the message";
    }
}

my $seven_e299 = '7' . ('0' x 299);
(my $seven_e299_plus_1 = $seven_e299) =~ s/0$/1/;


# --- multipleOf: a double rounds 7e299 + 1 to a multiple of 7 -------------

refused(qq({"sevens": $seven_e299_plus_1}), 'multipleOf', '/sevens',
        'must be a multiple of 7', '7e299 + 1 written out');
passes(qq({"sevens": $seven_e299}), '7e299 written out');
refused('{"sevens": 1e999999999}', 'multipleOf', '/sevens',
        'must be a multiple of 7', '1e999999999 (answered at once)');
passes('{"price": 19.99}', '19.99 is a multiple of 0.01');
refused('{"price": 19.995}', 'multipleOf', '/price',
        'must be a multiple of 0.01', '19.995 is not');
passes('{"price": 123456789012345678901234567.89}',
       'a 29-digit amount is a multiple of 0.01');


# --- maximum: the digits past a double's precision count ------------------

refused('{"amount": 100.000000000000000001}', 'maximum', '/amount',
        'must be at most 100 (it is 100.000000000000000001)',
        '100.000000000000000001 against maximum 100');
passes('{"amount": 100.000000000000000000}', '100.000000000000000000');
passes('{"amount": 1e2}', '1e2');


# --- 1e400 is a number, bigger than 1e300 ---------------------------------

refused('{"huge": 1e400}', 'maximum', '/huge',
        'must be at most 1e+300 (it is 1e400)',
        '1e400 against maximum 1e300');
passes('{"huge": 1e300}', '1e300 itself');
passes('{"huge": -1e400}', '-1e400');

my $r = post('{"huge": 1e1000000000000000000}');
is $r->{status}, 400, 'an exponent of 19 digits: 400';
is $r->{json} && $r->{json}{type}, 'urn:lgsp:problem:malformed-json',
    '  malformed-json';
like $r->{json} && $r->{json}{detail}, qr/exponent of more than 18 digits/,
    '  the detail says why';


# --- const and type integer: 1.0 is 1 -------------------------------------

passes('{"one": 1.0}', '1.0 is const 1');
passes('{"one": 10e-1}', '10e-1 is const 1');
refused('{"one": 1.0000000000000000000001}', 'const', '/one',
        'must be 1', '1.0000000000000000000001 is not const 1');
passes('{"count": 1.0}', '1.0 is an integer');
passes('{"count": 1e2}', '1e2 is an integer');
passes('{"count": 123456789012345678901234567890}',
       'an integer past 64 bits is an integer');
refused('{"count": 1.0000000000000000000001}', 'type', '/count',
        qr/must be an integer/, '1.0000000000000000000001 is not');


# --- uniqueItems: exact values, and 1 MB of colliding objects -------------

refused('{"set": [1, 1.0]}', 'uniqueItems', '/set',
        'must not contain duplicate items (items 0 and 1 are equal)',
        '1 and 1.0 are the same item');
refused('{"set": [0.1, 1e400, 100e-3]}', 'uniqueItems', '/set',
        'must not contain duplicate items (items 0 and 2 are equal)',
        '0.1 and 100e-3 are the same item');
passes('{"set": [100.000000000000000001, 100]}',
       '100.000000000000000001 and 100 are not');

# objects of members "a" to "h" holding 0 to 7, each in another order
sub permutations {
    my ($n) = @_;
    my @out;
    my @p = (0 .. 7);

    while (@out < $n) {
        push @out, '{' . join(',', map { qq("$_":$p[ord($_) - 97]) }
                                   'a' .. 'h') . '}';
        # the next order (lexicographic)
        my $i = 6;
        $i-- while $p[$i] > $p[$i + 1];
        my $j = 7;
        $j-- while $p[$j] < $p[$i];
        @p[$i, $j] = @p[$j, $i];
        @p[$i + 1 .. 7] = reverse @p[$i + 1 .. 7];
    }

    return @out;
}

my @objects = permutations(20000);
my $set = '{"set": [' . join(',', @objects) . ']}';
cmp_ok length $set, '>', 1_000_000, 'the set is 1 MB';
passes($set, '20000 objects pairing 0..7 with "a".."h" differently');

# the 778th again, its members in the opposite order
my $again = '{' . join(',', reverse split /,/, substr($objects[777], 1, -1))
            . '}';
isnt $again, $objects[777], 'the repeat is spelled differently';
refused('{"set": [' . join(',', @objects, $again) . ']}', 'uniqueItems',
        '/set',
        'must not contain duplicate items (items 777 and 20000 are equal)',
        'one of them repeated');

ok $t->error_log_clean, 'no crash or alert in the error log';

done_testing;
