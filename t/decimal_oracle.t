# Exact decimal numbers (ngx_lgsp_module/lgsp_decimal.c) against an
# independent oracle: t/decimal/oracle.py draws 20000 pairs of JSON numbers
# (random, respelled, nearly equal, multiples and near multiples of
# divisors of up to 25 digits, exponents up to +-3000) and checks the
# comparison, multipleOf, the integer tests, the exact-double rule and
# hashing against Python's fractions and decimal.  The core is built
# here, with t/decimal/driver.c, from the sources as they are.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);

plan skip_all => 'python3 is needed for the oracle'
    unless system('python3 -c "import fractions" 2>/dev/null') == 0;

my $dir = tempdir(CLEANUP => 1);
my $cc = $ENV{CC} || 'cc';

is(system($cc, '-O2', '-Wall', '-Wextra', '-Werror', '-Ingx_lgsp_module',
          '-o', "$dir/driver", 't/decimal/driver.c',
          'ngx_lgsp_module/lgsp_decimal.c'), 0,
   'the driver builds from lgsp_decimal.c');

for my $seed (12, 2026) {
    my @out = `python3 t/decimal/oracle.py $dir/driver 20000 $seed`;
    my $rc = $?;
    my $summary = pop @out // '';

    is($rc, 0, "seed $seed: lgsp_decimal agrees with fractions on every "
               . "pair") or diag(@out[0 .. ($#out < 20 ? $#out : 20)]);
    like($summary, qr/^20007 pairs .* 0 disagreements$/,
         "seed $seed: all 20007 pairs were answered")
        or diag($summary);
}

done_testing;
