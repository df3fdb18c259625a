# The README's directive reference matches what the module registers: no
# undocumented directive, no documented one that does not exist, and each
# entry in nginx's own format (Syntax / Default / Context), its contexts
# those the directive's NGX_HTTP_*_CONF flags allow.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use LGSP::Test;

my $repo = $LGSP::Test::REPO;

# the directives: every ngx_command_t name in the modules' sources, with
# the contexts its NGX_HTTP_*_CONF flags allow
my %registered;
my %contexts;
my %context_of = (MAIN => 'http', SRV => 'server', LOC => 'location',
                  SIF => 'if in server', LIF => 'if in location');
for my $file (glob "$repo/ngx_lgsp_module/ngx_http_lgsp_*.c") {
    open my $fh, '<', $file or die "$file: $!";
    my $src = do { local $/; <$fh> };

    while ($src =~ /\{\s*ngx_string\("(lgsp_\w+)"\),\s*(NGX_HTTP_[^,]*),/g) {
        my ($name, $flags) = ($1, $2);
        $registered{$name} = $file =~ s{.*/}{}r;
        $contexts{$name} = join ', ', map { $context_of{$_} }
            grep { $flags =~ /\bNGX_HTTP_${_}_CONF\b/ }
            qw(MAIN SRV LOC SIF LIF);
    }
}

open my $fh, '<', "$repo/README.md" or die;
my $readme = do { local $/; <$fh> };

my %documented;
while ($readme =~ /^#### (lgsp_\w+)\n\n((?:    .*\n)+)/mg) {
    $documented{$1} = $2;
}

ok scalar(keys %registered) >= 10, 'directives found in the sources';

for my $name (sort keys %registered) {
    ok exists $documented{$name},
       "$name ($registered{$name}) is documented in README.md";
}

for my $name (sort keys %documented) {
    ok exists $registered{$name}, "documented $name exists in the module";

    like $documented{$name}, qr/^    Syntax:  \Q$name\E\b[^;]*;\n/m,
        "$name: Syntax line";
    like $documented{$name}, qr/^    Default: /m, "$name: Default line";
    like $documented{$name}, qr/^    Context: (?:http|server|location)/m,
        "$name: Context line";

    my ($context) = $documented{$name} =~ /^    Context: (.*)$/m;
    is $context, $contexts{$name},
       "$name: the contexts documented are those the module registers"
        if exists $registered{$name};
}

# the variables: every one the sources register is in the table
my %variables;
for my $file (glob "$repo/ngx_lgsp_module/ngx_http_lgsp_*.c") {
    open my $src_fh, '<', $file or die;
    my $src = do { local $/; <$src_fh> };

    $variables{$1} = 1 while $src =~ /ngx_string\("(lgsp_\w+?)"\)\s*,\s*NULL/g;
    $variables{"${1}NAME"} = 1
        while $src =~ /ngx_string\("(lgsp_\w+_)"\);/g;
}

for my $var (sort keys %variables) {
    like $readme, qr/^\| `\$\Q$var\E` \|/m, "\$$var is in the variables table";
}

done_testing;
