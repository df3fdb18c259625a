# JSON Schema configuration: nginx -t refuses a schema that is not JSON,
# not a valid schema or has a $ref that does not resolve, naming the
# schema file, the JSON pointer and the line of lgsp_schema_request; the
# limits are checked; a reload compiles the schema anew.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;

my $t = LGSP::Test->new;

$t->write_file('schemas/not-json.json', '{"type": "object",');
$t->write_file('schemas/bad-type.json',
               '{"properties": {"hoTen": {"type": "text"}}}');
$t->write_file('schemas/bad-min.json',
               '{"properties": {"tuoi": {"minimum": "0"}}}');
$t->write_file('schemas/bad-ref.json',
               '{"properties": {"cha": {"$ref": "common.json#/$defs/nguoi"}}}');
$t->write_file('schemas/common.json', '{"$defs": {"ngay": {}}}');
$t->write_file('schemas/missing-file-ref.json',
               '{"properties": {"cha": {"$ref": "nowhere.json"}}}');
$t->write_file('schemas/ok.json', '{"type": "object"}');

# a configuration whose line 3 of the server block holds $directives
sub conf {
    my ($directives, $http) = @_;
    $http //= '';

    return <<"EOF";
    $http
    server {
        listen 127.0.0.1:%%PORT%%;
        location /x {
            $directives
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
EOF
}

# the line of nginx.conf that holds $text
sub line_of {
    my ($text) = @_;
    my @lines = split /\n/, $t->read_file('conf/nginx.conf');
    my ($n) = grep { index($lines[$_], $text) >= 0 } 0 .. $#lines;
    return defined $n ? $n + 1 : -1;
}

my @refused = (
    [ 'a schema that is not JSON',
      'lgsp_schema_request schemas/not-json.json;',
      qr{invalid schema: \S*schemas/not-json\.json: not valid JSON: .*line 1} ],
    [ 'a type that does not exist',
      'lgsp_schema_request schemas/bad-type.json;',
      qr{invalid schema: \S*bad-type\.json: at "/properties/hoTen/type": not a valid JSON Schema} ],
    [ 'a minimum that is not a number',
      'lgsp_schema_request schemas/bad-min.json;',
      qr{invalid schema: \S*bad-min\.json: at "/properties/tuoi/minimum": not a valid JSON Schema} ],
    [ 'a $ref to a definition that does not exist',
      'lgsp_schema_request schemas/bad-ref.json;',
      qr{invalid schema: \S*bad-ref\.json: at "/properties/cha/\$ref": "common\.json#/\$defs/nguoi" does not resolve} ],
    [ 'a $ref to a file that does not exist',
      'lgsp_schema_request schemas/missing-file-ref.json;',
      qr{invalid schema: \S*nowhere\.json: not a readable file .*missing-file-ref\.json at "/properties/cha"} ],
    [ 'a schema file that does not exist',
      'lgsp_schema_request schemas/nope.json;',
      qr{invalid schema: \S*schemas/nope\.json: .*No such file} ],
);

for my $case (@refused) {
    my ($name, $directive, $re) = @$case;

    my ($ok, $out) = $t->test_config(conf($directive));
    my $line = line_of($directive);

    ok !$ok, "nginx -t fails on $name";
    like $out, $re, '  naming the schema file and the JSON pointer';
    like $out, qr{ in \S+/nginx\.conf:$line\b},
        '  and the line of lgsp_schema_request';
}

my ($ok, $out) = $t->test_config(conf('', <<'EOF'));
    server {
        listen 127.0.0.1:%%PORT_2%%;
        lgsp_schema_request schemas/bad-type.json;
        location /inherited { proxy_pass http://127.0.0.1:%%PORT_1%%; }
    }
EOF
ok !$ok, 'nginx -t fails on a bad schema named at server level';
my $line = line_of('bad-type.json');
like $out, qr{bad-type\.json.* in \S+/nginx\.conf:$line\b},
    '  naming the server-level line';

my @limits = (
    [ 'lgsp_schema_max_body 0;', qr/"lgsp_schema_max_body" directive must be more than 0/ ],
    [ 'lgsp_schema_max_body lots;', qr/"lgsp_schema_max_body" directive invalid value/ ],
    [ 'lgsp_schema_max_depth 0;', qr/"lgsp_schema_max_depth" directive must be between 1 and 2048/ ],
    [ 'lgsp_schema_max_depth 5000;', qr/must be between 1 and 2048/ ],
    [ 'lgsp_schema_max_errors 0;', qr/"lgsp_schema_max_errors" directive must be between 1 and 1000/ ],
    [ 'lgsp_schema_format_assert yes;', qr/invalid value "yes" in "lgsp_schema_format_assert"/ ],
    [ 'lgsp_schema_request schemas/ok.json; lgsp_schema_request schemas/ok.json;',
      qr/"lgsp_schema_request" directive is duplicate/ ],
);

for my $case (@limits) {
    my ($directive, $re) = @$case;

    ($ok, $out) = $t->test_config(conf($directive));
    ok !$ok, "nginx -t refuses \"$directive\"";
    like $out, qr/$re.* in \S+nginx\.conf:\d+/, '  and says why, where';
}

($ok, $out) = $t->test_config(conf('', 'lgsp_schema_request schemas/ok.json;'));
ok !$ok, 'lgsp_schema_request is not allowed at http level';
like $out, qr/"lgsp_schema_request" directive is not allowed here/,
    '  nginx says so';

($ok, $out) = $t->test_config(conf(
    'lgsp_schema_request schemas/ok.json; lgsp_schema_format_assert on;'
    . ' lgsp_schema_max_body 64k; lgsp_schema_max_depth 16;'
    . ' lgsp_schema_max_errors 50;'));
ok $ok, 'a valid configuration passes nginx -t' or diag $out;


# --- a reload compiles the schema anew, and the old one goes --------------

$t->start_agency(1);
$t->write_file('schemas/name.json',
               '{"properties": {"hoTen": {"maxLength": 3}}}');

$t->start(conf('lgsp_schema_request schemas/name.json;'), workers => 2);

my $body = '{"hoTen": "Lan Anh"}';
my $r = $t->request('POST', '/x', body => $body,
                    headers => { 'Content-Type' => 'application/json' });
is $r->{status}, 422, 'maxLength 3 refuses "Lan Anh"';

$t->write_file('schemas/name.json',
               '{"properties": {"hoTen": {"maxLength": 10}}}');
$t->signal('HUP');

my $status = 0;
for (1 .. 50) {
    sleep 0.1;
    $r = $t->request('POST', '/x', body => $body,
                     headers => { 'Content-Type' => 'application/json' });
    $status = $r->{status};
    last if $status == 200;
}

is $status, 200, 'after a reload, maxLength 10 lets "Lan Anh" through';

$t->write_file('schemas/name.json', '{"properties": ');
$t->signal('HUP');
sleep 0.5;

$r = $t->request('POST', '/x', body => $body,
                 headers => { 'Content-Type' => 'application/json' });
is $r->{status}, 200, 'a reload with a broken schema keeps the running one';
like $t->error_log, qr/invalid schema: \S*name\.json: not valid JSON/,
    '  and the error log says why';

$t->stop;

ok $t->error_log !~ /\[alert\]|exited on signal/,
    'no worker crashed across the reloads';

done_testing;
