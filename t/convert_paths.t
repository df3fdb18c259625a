# Conversion on the ways a request takes besides the straight one: a HEAD
# gets the headers its GET would (the provider is asked GET), a body is
# converted once however many converting locations an internal redirect
# takes it through, and a request queued by lgsp_deliver (always, or
# fallback when its provider is down) goes to its SOAP provider converted,
# its answer stored converted.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);

use lib 't/lib';
use LGSP::Test;
use LGSP::Token qw(bearer);

my $secret = 'convert-paths-' . ('p' x 32);

my $t = LGSP::Test->new;
$t->write_file('hs.key', $secret);
my $secret_file = $t->write_file('secret.txt', 'not read');
$t->start_redis;

my $soap = $t->extra_port(1);
$t->mock('mock/soap.pl', $soap, $t->dir . '/logs/soap.log', $secret_file);

$t->write_file('congdan.json', encode_json({
    type => 'object',
    properties => {
        maSo => { type => 'integer' }, namSinh => { type => 'integer' },
        hoTen => { type => 'string' },
    },
}));

# a provider that answers HEAD as nginx does: the headers, no body
my $answer = '<?xml version="1.0"?><congDan maSo="7"><hoTen>An</hoTen>'
             . '<namSinh>1990</namSinh></congDan>';

$t->start(<<"EOF");
    lgsp_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    lgsp_deliver_drain poll=200ms visibility=2s;
    lgsp_jwt_key_file hs.key;

    log_format method '\$request_method \$status';

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_allow_agency *;

        location = /xml {
            access_log logs/method.log method;
            lgsp_convert_response xml_to_json schema=congdan.json;
            proxy_pass http://127.0.0.1:%%PORT_2%%/answer;
        }

        # the first provider is down: the named location tries another
        location = /redirected {
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich action=urn:lgsp:test:hotich#TraCuu;
            proxy_pass http://127.0.0.1:%%PORT_3%%/soap11;
            error_page 502 = \@second;
        }

        location \@second {
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json;
            rewrite ^ /soap11 break;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /deliveries/ { lgsp_jwt on; lgsp_delivery_status; }

        location = /queued {
            lgsp_jwt on;
            lgsp_service BTP.HOTICH.TRACUU;
            lgsp_deliver always attempts=3 backoff=300ms;
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json;
            proxy_pass http://127.0.0.1:%%PORT_1%%/soap11;
        }

        # a provider down until the test starts it
        location = /fallback {
            lgsp_jwt on;
            lgsp_service BTP.HOTICH.FALLBACK;
            lgsp_deliver fallback attempts=20 backoff=200ms;
            lgsp_convert_request json_to_soap operation=TraCuu
                ns=urn:lgsp:test:hotich action=urn:lgsp:test:hotich#TraCuu;
            lgsp_convert_response xml_to_json;
            proxy_pass http://127.0.0.1:%%PORT_4%%/soap11;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        default_type text/xml;
        location = /answer { return 200 '$answer'; }
    }
EOF

sub soap_log {
    return [ split /\n/, $t->read_file('logs/soap.log') ];
}

subtest 'HEAD gets the headers GET gets' => sub {
    my $get = $t->get('/xml');
    my $head = $t->request('HEAD', '/xml');

    is $get->{status}, 200, 'GET: 200';
    is_deeply $get->{json}, { maSo => 7, hoTen => 'An', namSinh => 1990 },
              'GET: the converted answer';
    is $head->{status}, 200, 'HEAD: 200, as GET';
    is $head->{headers}{'content-type'}, $get->{headers}{'content-type'},
       'the same Content-Type (JSON)';
    is $head->{headers}{'content-length'}, length($get->{content}),
       'the Content-Length of the converted answer';
    is length($head->{content} // ''), 0, 'and no body';

    my @log = split /\n/, $t->read_file('logs/method.log');
    is $log[-1], 'HEAD 200', 'the request is logged as the HEAD it was';
};

subtest 'an internal redirect does not convert a body twice' => sub {
    my $r = $t->post_json('/redirected', { soDinhDanh => 'typed' });

    is $r->{status}, 200, 'the second provider answers';
    like $r->{headers}{'content-type'}, qr{^application/json}, 'as JSON';
    is decode_json($r->{content})->{hoTen},
       "Nguy\x{1ec5}n V\x{103}n \x{c1}nh", 'its answer converted';
    like soap_log()->[-1], qr{^/soap11 "urn:lgsp:test:hotich#TraCuu" text/xml},
         'the provider got the SOAP envelope once converted, SOAPAction set';
};

# waits until the delivery of txid is delivered (or time runs out)
sub delivered {
    my ($txid, $auth) = @_;
    my $s;

    for (1 .. 100) {
        $s = $t->get("/deliveries/$txid", Authorization => $auth);
        last if $s->{json} && ($s->{json}{state} // '') eq 'delivered';
        sleep 0.1;
    }

    return $s;
}

subtest 'lgsp_deliver always: the queued request delivered converted' => sub {
    my $auth = bearer($secret, 'AG.HANAM');
    my $before = scalar @{ soap_log() };

    my $r = $t->post_json('/queued', { soDinhDanh => 'typed' },
                          Authorization => $auth);
    is $r->{status}, 202, 'queued: 202';

    my $s = delivered($r->{headers}{'x-lgsp-transaction-id'} // '', $auth);
    is $s->{json}{state}, 'delivered', 'delivered';
    my $log = soap_log();
    is scalar @$log, $before + 1, 'the provider got one request';
    like $log->[-1], qr{^/soap11 "urn:lgsp:test:hotich#TraCuu" text/xml},
         'a SOAP envelope with its SOAPAction, not the JSON queued';
    is $s->{json}{response}{status}, 200, "the provider's answer";
    like $s->{json}{response}{content_type}, qr{^application/json},
         'stored as the caller reads it: JSON';
    my $body = eval { decode_json($s->{json}{response}{body}) } // {};
    is $body->{hoTen}, "Nguy\x{1ec5}n V\x{103}n \x{c1}nh",
       'the answer converted';
};

subtest 'lgsp_deliver fallback: queued as sent, delivered converted' => sub {
    my $auth = bearer($secret, 'AG.HANAM');

    my $r = $t->post_json('/fallback', { soDinhDanh => 'typed' },
                          Authorization => $auth);
    is $r->{status}, 202, 'the provider is down: queued, 202';

    $t->mock('mock/soap.pl', $t->extra_port(4), $t->dir . '/logs/soap4.log',
             $secret_file);

    my $s = delivered($r->{headers}{'x-lgsp-transaction-id'} // '', $auth);
    is $s->{json}{state}, 'delivered', 'delivered once the provider is up';
    my @log = split /\n/, $t->read_file('logs/soap4.log');
    like $log[0] // '', qr{^/soap11 "urn:lgsp:test:hotich#TraCuu" text/xml},
         'a SOAP envelope with its SOAPAction';
    my $body = eval { decode_json($s->{json}{response}{body}) } // {};
    is $body->{hoTen}, "Nguy\x{1ec5}n V\x{103}n \x{c1}nh",
       'the answer stored converted';
};

ok $t->error_log_clean, 'error.log clean at the end';

done_testing;
