#!/usr/bin/env python3
"""Checks lgsp_decimal.c against Python's exact arithmetic (fractions,
decimal): random JSON numbers in many spellings, equal and nearly equal
pairs, multiples and near multiples, through t/decimal/driver.c.

    oracle.py DRIVER [CASES [SEED]]

Prints one line per disagreement and a summary; exits 1 on any."""

import decimal
import random
import subprocess
import sys
from fractions import Fraction

if hasattr(sys, 'set_int_max_str_digits'):
    sys.set_int_max_str_digits(0)

decimal.getcontext().prec = 10000
decimal.getcontext().Emax = decimal.MAX_EMAX
decimal.getcontext().Emin = decimal.MIN_EMIN


def digits(rng, n, first_nonzero=True):
    s = ''.join(rng.choice('0123456789') for _ in range(n))
    if first_nonzero and n > 0:
        s = rng.choice('123456789') + s[1:]
    return s


def exponent(rng):
    r = rng.random()
    if r < 0.5:
        return rng.randint(-25, 25)
    if r < 0.9:
        return rng.randint(-400, 400)
    return rng.randint(-3000, 3000)


def random_number(rng):
    """a JSON number text"""
    kind = rng.random()
    sign = '-' if rng.random() < 0.3 else ''
    if kind < 0.05:
        return sign + rng.choice(['0', '0.0', '0e5', '0.000e-7'])
    ip = '0' if rng.random() < 0.3 else digits(rng, rng.randint(1, 40))
    fp = ''
    if rng.random() < 0.6:
        fp = '.' + digits(rng, rng.randint(1, 30), False)
    ex = ''
    if rng.random() < 0.5:
        ex = rng.choice('eE') + rng.choice(['', '+', '-']) + str(
            abs(exponent(rng)))
    return sign + ip + fp + ex


def spell(value, rng):
    """value (a finite Decimal) as a random JSON number text"""
    sign, ds, e = value.as_tuple()
    ds = ''.join(map(str, ds)).lstrip('0') or '0'
    if ds == '0':
        e = 0
    k = rng.randint(0, 4)
    ds += '0' * k
    e -= k
    p = rng.randint(0, len(ds))             # digits after the point
    head, tail = ds[:len(ds) - p], ds[len(ds) - p:]
    if head == '':
        head = '0'
    while len(head) > 1 and head[0] == '0':
        head = head[1:]
    text = head + ('.' + tail if tail else '')
    we = e + p
    if we != 0 or rng.random() < 0.2:
        text += rng.choice('eE') + ('-' if we < 0 else
                                    rng.choice(['', '+'])) + \
            '0' * rng.randint(0, 2) + str(abs(we))
    return ('-' if sign and ds.strip('0') else '') + text


def cases(rng, n):
    out = []
    for _ in range(n):
        r = rng.random()
        a = random_number(rng)
        if r < 0.3:
            b = random_number(rng)
        elif r < 0.5:
            b = spell(decimal.Decimal(a), rng)
        elif r < 0.65:
            d = decimal.Decimal(a)
            e = d.as_tuple().exponent - rng.randint(1, 30)
            b = spell(d + rng.choice([-1, 1]) * decimal.Decimal(1).scaleb(e),
                      rng)
        else:
            # multipleOf: b a divisor of 1 to 25 digits, a = k * b (+ a bit)
            b = spell(decimal.Decimal(digits(rng, rng.randint(1, 25))).scaleb(
                rng.randint(-20, 20)), rng)
            k = decimal.Decimal(digits(rng, rng.randint(1, 30)))
            m = k * decimal.Decimal(b)
            if rng.random() < 0.4:
                # a terminating part of b: the sum stays exact
                m += decimal.Decimal(b) / rng.choice([2, 4, 5, 8, 10, 1000])
            a = spell(m, rng)
        out.append((a, b))
    return out


def exact_double(text):
    """the rule of lgsp_decimal_to_double(), on the value alone"""
    sign, ds, e = decimal.Decimal(text).normalize().as_tuple()
    d = int(''.join(map(str, ds)) or '0')
    if d == 0:
        return True
    if len(str(d)) > 16 or e < -22 or e > 22:
        return False
    if e >= 0:
        return d * 5 ** e < 2 ** 53
    return d % 5 ** -e == 0 and d < 2 ** 53


def expect(a, b):
    fa, fb = Fraction(a), Fraction(b)
    cmp = (fa > fb) - (fa < fb)
    mult = -2 if fb == 0 else int((fa / fb).denominator == 1)
    integer = int(fa.denominator == 1)
    i64 = str(int(fa)) if integer and -2 ** 63 <= fa < 2 ** 63 else '-'
    return cmp, mult, integer, i64, exact_double(a), int(fa == fb)


def main():
    driver = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    rng = random.Random(seed)
    pairs = cases(rng, n)
    # the examples, always
    pairs += [('7' + '0' * 298 + '1', '7'), ('7' + '0' * 299, '7'),
              ('100.000000000000000001', '100'), ('1e400', '1e300'),
              ('1.0', '1'), ('10e-1', '1'), ('1e308', '0.5')]
    text = ''.join('%s %s\n' % p for p in pairs)
    out = subprocess.run([driver], input=text, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    bad = 0
    counts = {'cmp': 0, 'mult': 0, 'equal': 0}
    for (a, b), line in zip(pairs, out):
        want = expect(a, b)
        f = line.split()
        if len(f) != 6:
            print('%s %s: driver said %r' % (a, b, line))
            bad += 1
            continue
        got_double_ok = (f[4] == '-') != want[4] and (
            f[4] == '-' or Fraction(float(f[4])) == Fraction(a))
        got = (int(f[0]), int(f[1]), int(f[2]), f[3], got_double_ok, int(f[5]))
        if got[:4] != want[:4] or not got_double_ok or got[5] != want[5]:
            print('%s %s: got %s, want %s' % (a, b, got, want))
            bad += 1
        counts['mult'] += want[1] == 1
        counts['equal'] += want[5]
    if len(out) != len(pairs):
        print('driver answered %d of %d' % (len(out), len(pairs)))
        bad += 1
    print('%d pairs (seed %d; %d equal, %d multiples): %d disagreements'
          % (len(pairs), seed, counts['equal'], counts['mult'], bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
