# The README's directive reference matches what the module registers: no
# undocumented directive, no documented one that does not exist, and each
# entry in nginx's own format (Syntax / Default / Context).

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use LGSP::Test;

my $repo = $LGSP::Test::REPO;

# the directives: every ngx_command_t name in the modules' sources
my %registered;
for my $file (glob "$repo/ngx_lgsp_module/ngx_http_lgsp_*.c") {
    open my $fh, '<', $file or die "$file: $!";
    my $src = do { local $/; <$fh> };

    while ($src =~ /\{\s*ngx_string\("(lgsp_\w+)"\),\s*NGX_HTTP_/g) {
        my $name = $1;
        $registered{$name} = $file =~ s{.*/}{}r;
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

    like $documented{$name}, qr/^    Syntax:  \Q$name\E\b.*;\n/m,
        "$name: Syntax line";
    like $documented{$name}, qr/^    Default: /m, "$name: Default line";
    like $documented{$name}, qr/^    Context: (?:http|server|location)/m,
        "$name: Context line";
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
