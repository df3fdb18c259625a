#!/usr/bin/perl
# A SOAP provider for t/convert.t and scripts/bench, strict as real ones are: it reads the
# envelope with XML::LibXML (no network, no entities), and answers a
# SOAP Fault when the envelope, the operation's namespace, its children's
# namespace, or the SOAPAction (1.1) / action parameter (1.2) is wrong.
# What it answers depends on the request's <soDinhDanh>: typed data,
# repeated elements, attributes, Vietnamese text, Faults, and hostile
# XML.  Every request it reads is appended to LOG, one line each.
#
#   soap.pl PORT LOG SECRET_FILE

use strict;
use warnings;

use HTTP::Daemon;
use HTTP::Response;
use Encode qw(encode);
use XML::LibXML;

my ($port, $log, $secret_file) = @ARGV;

my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                          ReuseAddr => 1, Listen => 64)
    or die "listen on $port: $!";

my $S11 = 'http://schemas.xmlsoap.org/soap/envelope/';
my $S12 = 'http://www.w3.org/2003/05/soap-envelope';
my $NS = 'urn:lgsp:test:hotich';
my $XSI = 'http://www.w3.org/2001/XMLSchema-instance';

# "Nguyễn Văn Ánh", NFC, written with character references
my $NAME = 'Nguy&#7877;n V&#259;n &#193;nh';

my %answers = (
    typed => <<"EOF",
<congDan maSo="42" xmlns="$NS" xmlns:xsi="$XSI"><hoTen>$NAME</hoTen><namSinh> 1990 </namSinh><diem>8.50</diem><conSong>true</conSong><con><ten>Tr&#7847;n B</ten><tuoi>7</tuoi></con><ghiChu xsi:nil="true"/><diaChi>S&#7889; 1 &amp; &lt;Ph&#7889;&gt; "Hu&#7871;"</diaChi></congDan>
EOF
    repeated => <<"EOF",
<congDan maSo="43" xmlns="$NS"><hoTen>B</hoTen><namSinh>1985</namSinh><diem>7</diem><conSong>0</conSong><con><ten>C</ten><tuoi>3</tuoi></con><con><ten>D</ten><tuoi>5</tuoi></con></congDan>
EOF
    bad_type => <<"EOF",
<congDan maSo="44" xmlns="$NS"><hoTen>E</hoTen><namSinh>199O</namSinh><diem>1</diem><conSong>true</conSong></congDan>
EOF
);

# nginx stops reading a refused 100 MB answer: no death by SIGPIPE
$SIG{PIPE} = q{IGNORE};

while (my $c = $d->accept) {
    while (my $req = $c->get_request) {
        my $res = eval { answer($req) }
                  // HTTP::Response->new(500, 'X', [], "provider error: $@");
        $c->send_response($res);
    }

    $c->close;
}


sub logged {
    open my $fh, '>>', $log or die "$log: $!";
    print $fh "$_[0]\n";
    close $fh;
}


sub envelope {
    my ($v, $body) = @_;
    my $ns = $v == 12 ? $S12 : $S11;
    return qq{<?xml version="1.0" encoding="UTF-8"?>}
           . qq{<env:Envelope xmlns:env="$ns"><env:Body>$body}
           . qq{</env:Body></env:Envelope>};
}


sub fault {
    my ($v, $code, $reason) = @_;

    my $body = $v == 12
        ? "<env:Fault><env:Code><env:Value>env:$code</env:Value></env:Code>"
          . "<env:Reason><env:Text xml:lang=\"vi\">$reason</env:Text>"
          . "</env:Reason></env:Fault>"
        : "<env:Fault><faultcode>env:$code</faultcode>"
          . "<faultstring>$reason</faultstring></env:Fault>";

    return xml(500, $v, envelope($v, $body));
}


sub xml {
    my ($status, $v, $body, @headers) = @_;
    my $type = $v == 12 ? 'application/soap+xml; charset=utf-8'
                        : 'text/xml; charset=utf-8';
    return HTTP::Response->new($status, 'X', ['Content-Type' => $type,
                                              @headers], $body);
}


sub answer {
    my ($req) = @_;

    my $path = $req->uri->path;
    my $type = $req->header('Content-Type') // '';
    my $raw = $req->content;

    logged("$path " . ($req->header('SOAPAction') // '-') . " $type");

    # /dtd: fetched only if a parser followed an external DTD
    return HTTP::Response->new(200, 'OK', [], "<!ENTITY x 'fetched'>")
        if $path eq '/dtd';

    my $doc = eval {
        XML::LibXML->new(no_network => 1, load_ext_dtd => 0,
                         expand_entities => 0)->parse_string($raw)
    } or return fault(11, 'Client', "not XML: $@");

    my $root = $doc->documentElement;

    if ($path eq '/xml') {
        # plain XML: <HoSo xmlns="urn:lgsp:test:hotich"> and its children
        return fault(11, 'Client', 'root must be {urn:lgsp:test:hotich}HoSo')
            unless $root->localname eq 'HoSo'
                   && ($root->namespaceURI // '') eq $NS;

        my @kids = grep { $_->nodeType == 1 } $root->childNodes;
        return fault(11, 'Client', 'children must be in the namespace')
            if grep { ($_->namespaceURI // '') ne $NS } @kids;

        my $inner = encode('UTF-8', join '', map { $_->toString } @kids);
        return HTTP::Response->new(200, 'OK',
            ['Content-Type' => 'application/xml'],
            qq{<?xml version="1.0"?><KetQua xmlns="$NS" trangThai="ok">}
            . qq{$inner</KetQua>});
    }

    my $v = $path =~ /12/ ? 12 : 11;
    my $env_ns = $v == 12 ? $S12 : $S11;

    return fault($v, $v == 12 ? 'Sender' : 'Client',
                 "not a SOAP $v envelope")
        unless $root->localname eq 'Envelope'
               && ($root->namespaceURI // '') eq $env_ns;

    my ($body) = grep { $_->nodeType == 1 && $_->localname eq 'Body'
                        && $_->namespaceURI eq $env_ns } $root->childNodes;
    my ($op) = $body ? grep { $_->nodeType == 1 } $body->childNodes : ();

    return fault($v, 'Client', 'no operation') unless $op;
    return fault($v, 'Client', 'the operation is out of its namespace')
        unless ($op->namespaceURI // '') eq $NS;

    my @kids = grep { $_->nodeType == 1 } $op->childNodes;
    return fault($v, 'Client', 'a child is out of the namespace')
        if grep { ($_->namespaceURI // '') ne $NS } @kids;

    my $name = $op->localname;
    my $action = "urn:lgsp:test:hotich#$name";

    if ($v == 11) {
        return fault(11, 'Client', 'text/xml expected')
            unless $type =~ m{^text/xml}i;
        return fault(11, 'Client', "SOAPAction must be \"$action\"")
            unless ($req->header('SOAPAction') // '') eq "\"$action\"";
    } else {
        return fault(12, 'Sender', "action=\"$action\" expected")
            unless $type =~ m{^application/soap\+xml;.*action="\Q$action\E"}i;
    }

    if ($name eq 'Echo') {
        # the operation's children, as they came
        my $inner = encode('UTF-8',
                           join '', map { $_->toString } $op->childNodes);
        return xml(200, $v, envelope($v,
            qq{<m:EchoResponse xmlns:m="$NS" xmlns="$NS"}
            . qq{ xmlns:xsi="$XSI">$inner</m:EchoResponse>}));
    }

    my ($id) = map { $_->textContent }
               grep { $_->localname eq 'soDinhDanh' } @kids;
    $id //= '';

    if ($answers{$id}) {
        return xml(200, $v, envelope($v, $answers{$id}));
    }

    return fault($v, $v == 12 ? 'Receiver' : 'Server',
                 'Kh&#244;ng t&#236;m th&#7845;y c&#244;ng d&#226;n')
        if $id eq 'fault';

    my %hostile = (
        laughs => qq{<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">}
                  . join('', map { my $p = $_ - 1; "<!ENTITY a$_ '"
                                   . ("&a$p;" x 10) . "'>" } 1 .. 9)
                  . qq{]><r>&a9;</r>},
        xxe    => qq{<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM}
                  . qq{ "file://$secret_file">]><r>&x;</r>},
        dtd    => qq{<?xml version="1.0"?><!DOCTYPE r SYSTEM}
                  . qq{ "http://127.0.0.1:$port/dtd"><r>&x;</r>},
        deep   => ('<a>' x 10000) . ('</a>' x 10000),
        latin1 => qq{<?xml version="1.0" encoding="ISO-8859-1"?>}
                  . qq{<r>Nguy\xean</r>},
        utf16  => "\xff\xfe" . join("\0", split //, '<r>x</r>') . "\0",
    );
    $hostile{laughs} =~ s/a0;/a;/g;

    if ($hostile{$id}) {
        return HTTP::Response->new(200, 'OK',
            ['Content-Type' => 'text/xml'], $hostile{$id});
    }

    if ($id eq 'huge') {
        # 100 MB of well-formed XML, streamed in 64 KB pieces
        my $chunk = '<x>' . ('y' x 65529) . '</x>';
        my @parts = (envelope($v, '<Big>') =~ /^(.*<Big>)(.*)$/s);
        my $i = 0;
        return HTTP::Response->new(200, 'OK',
            ['Content-Type' => 'text/xml'], sub {
                $i++;
                return $parts[0] if $i == 1;
                return $chunk if $i <= 1601;
                return '</Big>' . $parts[1] if $i == 1602;
                return '';
            });
    }

    if ($id eq 'gzip') {
        return xml(200, $v, "\x1f\x8b\x08\x00garbage",
                   'Content-Encoding' => 'gzip');
    }

    return fault($v, 'Client', "unknown soDinhDanh $id");
}
