package LGSP::Token;

# Tokens minted independently of the module under test: Crypt::JWT
# (Debian's libcrypt-jwt-perl) with keys made by the openssl command.

use strict;
use warnings;

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Crypt::PK::RSA;
use MIME::Base64 qw(encode_base64url);
use JSON::XS;

use Exporter qw(import);
our @EXPORT_OK = qw(mint bearer private_key b64url raw_token);


# a Crypt::PK object for a private key file, by the algorithm's family
sub private_key {
    my ($alg, $path) = @_;

    return Crypt::PK::RSA->new($path) if $alg =~ /^[RP]S/;
    return Crypt::PK::ECC->new($path) if $alg =~ /^ES/;
    return Crypt::PK::Ed25519->new($path) if $alg eq 'EdDSA';

    die "no key family for $alg";
}


# mint(alg => 'RS256', key => $path_or_secret, claims => {...},
#      kid => 'id', header => {...}); exp defaults to an hour from now
sub mint {
    my (%opt) = @_;

    my $alg = $opt{alg};
    my %claims = (agency => '000.00.00.H29', exp => time + 3600,
                  %{ $opt{claims} || {} });

    delete $claims{$_} for grep { !defined $claims{$_} } keys %claims;

    my $key = $alg =~ /^HS/ ? $opt{key} : private_key($alg, $opt{key});

    return encode_jwt(
        payload       => \%claims,
        alg           => $alg,
        key           => $key,
        extra_headers => { %{ $opt{header} || {} },
                           defined $opt{kid} ? (kid => $opt{kid}) : () },
    );
}


# an Authorization value: an HS256 token of an agency, signed with secret
sub bearer {
    my ($secret, $agency) = @_;
    return 'Bearer ' . mint(alg => 'HS256', key => $secret,
                            claims => { agency => $agency });
}


sub b64url {
    my ($data) = @_;
    return encode_base64url(ref $data ? JSON::XS->new->canonical->encode($data)
                                      : $data);
}


# a token put together by hand: header and payload as given, any signature
sub raw_token {
    my ($header, $payload, $signature) = @_;
    return join '.', b64url($header), b64url($payload),
                     b64url($signature // 'x' x 32);
}


1;
