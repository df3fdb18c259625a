#!/usr/bin/perl

# Transaction records (lgsp_transaction_log): one JSON line per request
# with every field, a hash chain across workers with no gap or fork, each
# kind of tampering named by scripts/lgsp-logverify, signed checkpoints,
# the chain going on across reopen and restart, and a full disk that
# loses records (counted, logged once) without stopping traffic, unless
# on_error=deny.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(encode_jwt);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::XS;
use POSIX ();
use Test::More;

use LGSP::Test;

my $secret = 'records-test-secret-of-at-least-32-bytes!';
my $verify = "$LGSP::Test::REPO/scripts/lgsp-logverify";
my $json = JSON::XS->new;

$ENV{LGSP_BUILD} = dirname($ENV{LGSP_MODULE}
                           || "$LGSP::Test::REPO/build/x");

sub token {
    my ($agency, %claims) = @_;
    return encode_jwt(payload => { agency => $agency, exp => time + 600,
                                   %claims },
                      alg => 'HS256', key => $secret);
}

sub records {
    my ($t, $file) = @_;
    return map { $json->decode($_) } split /\n/, $t->read_file($file);
}

# a record is written in the log phase, just after the caller has its
# answer: waits (a bounded while) until the log holds n lines
sub wait_lines {
    my ($t, $file, $n) = @_;
    return $t->log_lines($file, $n) >= $n;
}

# the same for a line of the error log
sub wait_error_log {
    my ($t, $re) = @_;
    return $t->wait_for(sub { $t->error_log =~ $re }) ? 1 : 0;
}

# no alert, emergency or crash (a full disk is a [crit], on purpose)
sub clean {
    my ($t) = @_;
    return $t->error_log !~ /\[(?:alert|emerg)\]|exited on signal/;
}

# runs the verifier; returns (exit status, output)
sub verify {
    my (@args) = @_;
    my $out = `$verify @args 2>&1`;
    return ($? >> 8, $out);
}

# the backend is a second server of the same nginx; port 2 is closed
my $servers = <<'EOF';
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name tenant-a.lgsp.test;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.UBND.HANAM;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /down {
            lgsp_service BTP.DOWN;
            lgsp_allow_agency H29.UBND.HANAM;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_transaction_log off;
        location / { return 200 "provider answer\n"; }
    }
EOF

# the servers above with records written line by line
sub start_unbuffered {
    my $t = LGSP::Test->new;
    $t->write_file('hs.key', $secret);
    $t->extra_port(2);

    $t->start(<<"EOF");
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;
$servers
EOF

    return $t;
}

# ---------------------------------------------------------------------
# every field, for an exchange, a JWT rejection and a provider down

{
    my $t = start_unbuffered();

    my $body = '{"ho_ten":"Nguyễn Văn A","ngay_sinh":"2024-01-02"}';
    my $r = $t->request('POST', '/hotich/khaisinh?cccd=001099000001',
                        body => $body,
                        headers => { Authorization =>
                                         'Bearer ' . token('H29.UBND.HANAM'),
                                     'Content-Type' => 'application/json' });
    is $r->{status}, 200, 'an exchange passes';
    my $txid = $r->{headers}{'x-lgsp-transaction-id'};

    $r = $t->get('/hotich/khaisinh', Authorization => 'Bearer '
                 . encode_jwt(payload => { agency => 'X', exp => time - 100 },
                              alg => 'HS256', key => $secret));
    is $r->{status}, 401, 'an expired token is refused';

    $r = $t->get('/down', Authorization => 'Bearer '
                 . token('H29.UBND.HANAM'));
    is $r->{status}, 502, 'a provider that is down is a 502';

    wait_lines($t, 'logs/transactions.jsonl', 3);
    my @rec = records($t, 'logs/transactions.jsonl');
    is scalar @rec, 3, 'one record per request';

    my $ok = $rec[0];
    is $ok->{txid}, $txid, 'the record names the txid the caller got';
    is $ok->{seq}, 1, 'the first record of a new log is seq 1';
    like $ok->{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        'time is RFC 3339 UTC with milliseconds';
    is $ok->{server}, 'tenant-a.lgsp.test', 'server names the tenant';
    is $ok->{agency}, 'H29.UBND.HANAM', 'agency from the verified token';
    is $ok->{service}, 'BTP.HOTICH.KHAISINH', 'service of the location';
    is $ok->{method}, 'POST', 'method';
    is $ok->{path}, '/hotich/khaisinh', 'path, without the query';
    is $ok->{status}, 200, 'status';
    is $ok->{upstream_status}, 200, 'upstream status';
    is $ok->{upstream_addr}, '127.0.0.1:' . $t->extra_port(1),
        'upstream address';
    cmp_ok $ok->{bytes_in}, '>', length $body, 'bytes in: the request';
    cmp_ok $ok->{bytes_out}, '>', length "provider answer\n",
        'bytes out: the response';
    like $ok->{request_time}, qr/^\d+(\.\d+)?$/, 'total time in seconds';
    like $ok->{upstream_time}, qr/^\d+(\.\d+)?$/, 'upstream time in seconds';
    is $ok->{body_sha256}, sha256_hex($body),
        'SHA-256 of the request body as received';
    is $ok->{outcome}, 'ok', 'outcome ok';
    is $ok->{prev}, '0' x 64, 'the first record links to the genesis';
    like $ok->{hash}, qr/^[0-9a-f]{64}$/, 'the record carries its hash';

    my $auth = $rec[1];
    is $auth->{outcome}, 'auth', 'a JWT rejection is outcome auth';
    is $auth->{reason}, 'expired', 'with the reason';
    is $auth->{agency}, undef, 'and no agency';
    is $auth->{body_sha256}, undef, 'no body, no body hash';
    is $auth->{upstream_status}, undef, 'and no upstream';
    is $auth->{prev}, $ok->{hash}, 'each record links to the one before';

    is $rec[2]{outcome}, 'upstream', 'a provider down is outcome upstream';
    is $rec[2]{status}, 502, 'with its status';

    my ($rc, $out) = verify("$t->{dir}/logs/transactions.jsonl");
    is $rc, 0, 'the verifier passes an intact log';
    like $out, qr/^OK: 3 records, seq 1 to 3/m, 'and says OK';

    ok clean($t), 'no crash or alert';
}

# ---------------------------------------------------------------------
# long paths: a line too long for the stack is made in the request's
# pool, escapes and all, and chains like any other

{
    my $t = start_unbuffered();

    my $auth = 'Authorization: Bearer ' . token('H29.UBND.HANAM');
    my %path = (
        plain   => '/hotich/' . ('a' x 1000),
        escaped => '/hotich/' . ("\xff" x 700) . '"\\',
        short   => '/hotich/k',
    );

    for my $name (qw(plain escaped short)) {
        my $answer = $t->raw("GET $path{$name}?q=1 HTTP/1.0\r\n"
                             . "Host: tenant-a.lgsp.test\r\n$auth\r\n\r\n");
        like $answer, qr{^HTTP/1\.1 200 }, "$name path: answered";
    }

    wait_lines($t, 'logs/transactions.jsonl', 3);
    my @rec = records($t, 'logs/transactions.jsonl');
    is scalar @rec, 3, 'a record for each';

    is $rec[0]{path}, $path{plain}, 'a 1000-byte path, whole';
    is $rec[1]{path}, $path{escaped},
        'bytes that are not UTF-8, a quote and a backslash: read back';
    like $t->read_file('logs/transactions.jsonl'),
        qr{"path":"/hotich/(?:\\u00ff){700}\\"\\\\"},
        'as the line spells them';
    is $rec[2]{path}, $path{short}, 'a short path after them';
    is $rec[2]{prev}, $rec[1]{hash}, 'and the chain goes on';

    my ($rc, $out) = verify("$t->{dir}/logs/transactions.jsonl");
    is $rc, 0, 'the verifier passes the log' or diag $out;

    ok clean($t), 'no crash or alert';
}


# ---------------------------------------------------------------------
# two workers under concurrent load: one chain, no gap, no fork

my $loaded_log;

{
    my $t = LGSP::Test->new(workers => 2);
    $t->write_file('hs.key', $secret);

    # reuseport: the kernel spreads connections over both workers
    $t->start(<<'EOF');
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        lgsp_jwt on;
        add_header X-Worker $pid;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_transaction_log off;
        location / { return 200 "ok\n"; }
    }
EOF

    my ($clients, $each) = (8, 50);
    my $token = token('H29.UBND.HANAM');
    pipe my $rd, my $wr or die "pipe: $!";
    my @pids;

    for my $c (1 .. $clients) {
        my $pid = fork // die "fork: $!";

        if ($pid == 0) {
            close $rd;
            my %workers;
            for (1 .. $each) {
                my $r = HTTP::Tiny->new(keep_alive => 0)->get(
                    'http://127.0.0.1:' . $t->port . "/hotich/$c",
                    { headers => { Authorization => "Bearer $token" } });
                $workers{ $r->{headers}{'x-worker'} // 'none' }++;
                $workers{ "status $r->{status}" }++;
            }
            print $wr join(',', map { "$_=$workers{$_}" } keys %workers), "\n";
            close $wr;
            POSIX::_exit(0);
        }

        push @pids, $pid;
    }

    close $wr;
    my (%workers, %status);

    while (my $line = <$rd>) {
        chomp $line;
        for (split /,/, $line) {
            my ($k, $n) = split /=/;
            if ($k =~ /^status (\d+)/) { $status{$1} += $n }
            else { $workers{$k} += $n }
        }
    }

    waitpid $_, 0 for @pids;

    my $total = $clients * $each;
    is $status{200}, $total, "$total concurrent requests all pass";
    is scalar(grep { $_ ne 'none' } keys %workers), 2,
        'both workers served them';

    wait_lines($t, 'logs/transactions.jsonl', $total);
    my @rec = records($t, 'logs/transactions.jsonl');
    is scalar @rec, $total, 'one record each';
    is_deeply [ map { $_->{seq} } @rec ], [ 1 .. $total ],
        'seq runs 1 to N in file order: no gap, no duplicate';

    my %prev;
    $prev{ $_->{prev} }++ for @rec;
    is scalar(grep { $_ > 1 } values %prev), 0,
        'no two records link to the same one: no fork';
    is scalar(grep { $rec[$_]{prev} ne $rec[$_ - 1]{hash} } 1 .. $#rec), 0,
        'each record links to the one before it in the file';

    my ($rc, $out) = verify("$t->{dir}/logs/transactions.jsonl");
    is $rc, 0, 'the verifier passes the log of two workers';

    $t->stop;
    $loaded_log = $t->read_file('logs/transactions.jsonl');
    ok clean($t), 'no crash or alert';

    # -----------------------------------------------------------------
    # each kind of tampering is named with its line

    my @lines = split /(?<=\n)/, $loaded_log;
    my $dir = $t->dir;

    my %tampered = (
        'an altered line' => sub {
            $_[0][9] =~ s/"status":200/"status":404/;
        },
        'a removed line' => sub { splice @{ $_[0] }, 9, 1 },
        'an inserted copy' => sub {
            splice @{ $_[0] }, 12, 0, $_[0][5];
        },
        'two lines swapped' => sub {
            @{ $_[0] }[9, 10] = @{ $_[0] }[10, 9];
        },
        'a line altered and resealed' => sub {
            # a forger who knows the canonical form recomputes the hash
            my $l = $_[0][9];
            $l =~ s/"status":200/"status":404/;
            my ($body) = $l =~ /^(.*"prev":"[0-9a-f]{64}")/;
            my $hash = sha256_hex($body);
            $l =~ s/"hash":"[0-9a-f]{64}"/"hash":"$hash"/;
            $_[0][9] = $l;
        },
    );

    my %expect = (
        'an altered line' => qr/:10: line 10 \(seq 10\) was altered: its content does not match its hash/,
        'a removed line' => qr/:10: seq 10 was removed before line 10/,
        'an inserted copy' => qr/:13: line 13 \(seq 6\) was inserted: it repeats line 6/,
        'two lines swapped' => qr/:11: line 11 \(seq 10\) is out of order: it belongs before line 10/,
        'a line altered and resealed' => qr/:10: line 10 \(seq 10\) was altered and its hash recomputed/,
    );

    for my $name (sort keys %tampered) {
        my @copy = @lines;
        $tampered{$name}->(\@copy);
        open my $fh, '>', "$dir/tampered.jsonl" or die $!;
        print $fh @copy;
        close $fh;

        my ($rc, $out) = verify("$dir/tampered.jsonl");
        is $rc, 1, "$name: the verifier fails";
        like $out, $expect{$name}, "$name: it names the line";
    }

    my ($rc2, $out2) = verify("$dir/nonexistent.jsonl");
    is $rc2, 2, 'an unreadable file is its own exit status';
}

# ---------------------------------------------------------------------
# signed checkpoints, every N records and every N seconds

{
    my $t = LGSP::Test->new;
    $t->write_file('hs.key', $secret);
    my ($priv, $pub) = $t->openssl_key('checkpoint', 'ed25519');
    my (undef, $other) = $t->openssl_key('other', 'ed25519');

    $t->start(<<"EOF");
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl
                         key=checkpoint.key checkpoint=5;
$servers
EOF

    my $token = token('H29.UBND.HANAM');
    $t->get('/hotich/x', Authorization => "Bearer $token") for 1 .. 12;

    wait_lines($t, 'logs/transactions.jsonl', 14);
    my @rec = records($t, 'logs/transactions.jsonl');
    my @ck = grep { $_->{checkpoint} } @rec;
    is scalar @ck, 2, 'a checkpoint after every 5 records';
    is $ck[0]{seq}, 6, 'the first follows record 5';
    is $ck[0]{checkpoint}{seq}, 5, 'it signs the chain up to record 5';
    is $ck[0]{checkpoint}{head}, $rec[4]{hash},
        'its head is the hash of record 5';

    my $log = "$t->{dir}/logs/transactions.jsonl";
    my ($rc, $out) = verify($log, '--pubkey', $pub);
    is $rc, 0, 'the checkpoints verify with the public key';
    like $out, qr/12 records, seq 1 to 14, 2 checkpoints \(2 signatures verified\)/,
        'the verifier counts them';

    ($rc, $out) = verify($log, '--pubkey', $other);
    is $rc, 1, 'another key does not verify them';
    like $out, qr/:6: checkpoint at line 6 is signed by key [0-9a-f]{16}, not by the key given/,
        'and the checkpoint is named';

    # a forger who rewrites a record and reseals the whole chain after it,
    # checkpoints' heads too, cannot make their signatures match
    my @lines = split /(?<=\n)/, $t->read_file('logs/transactions.jsonl');
    my $head = $rec[1]{hash};
    for my $i (2 .. $#lines) {
        my $l = $lines[$i];
        $l =~ s/"path":"\/hotich\/x"/"path":"\/hotich\/y"/ if $i == 2;
        $l =~ s/"head":"[0-9a-f]{64}"/"head":"$head"/;
        $l =~ s/"prev":"[0-9a-f]{64}"/"prev":"$head"/;
        my ($body) = $l =~ /^(.*"prev":"[0-9a-f]{64}")/;
        $head = sha256_hex($body);
        $l =~ s/"hash":"[0-9a-f]{64}"/"hash":"$head"/;
        $lines[$i] = $l;
    }
    open my $fh, '>', "$t->{dir}/forged.jsonl" or die $!;
    print $fh @lines;
    close $fh;

    ($rc, $out) = verify("$t->{dir}/forged.jsonl", '--pubkey', $pub);
    is $rc, 1, 'a resealed chain fails at its checkpoint';
    like $out, qr/:6: checkpoint at line 6: the signature does not verify/,
        'the first checkpoint after the forgery is named';

    ($rc, $out) = verify("$t->{dir}/forged.jsonl");
    is $rc, 0, 'without the key a resealed chain cannot be told (why keys)';

    $t->stop;

    # every N seconds: a checkpoint comes also when no request does
    $t->start(<<"EOF");
    lgsp_transaction_log %%DIR%%/logs/timed.jsonl
                         key=checkpoint.key checkpoint=1s;
$servers
EOF

    $t->get('/hotich/x', Authorization => "Bearer $token");

    my $found;
    for (1 .. 50) {
        last if $found = grep { $_->{checkpoint} }
                              records($t, 'logs/timed.jsonl');
        select undef, undef, undef, 0.1;
    }
    ok $found, 'an idle log gets its checkpoint from the timer';

    ($rc, $out) = verify("$t->{dir}/logs/timed.jsonl", '--pubkey', $pub);
    is $rc, 0, 'the timed checkpoint verifies';

    ok clean($t), 'no crash or alert';
}

# ---------------------------------------------------------------------
# the chain goes on across reopen (rotation), reload and restart

{
    my $t = LGSP::Test->new(workers => 2);
    $t->write_file('hs.key', $secret);

    # workers reopen the log themselves: they must reach it
    chmod 0755, $t->dir;

    my $conf = <<"EOF";
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;
$servers
EOF
    $t->start($conf);

    my $token = token('H29.UBND.HANAM');
    my $log = "$t->{dir}/logs/transactions.jsonl";

    $t->get('/hotich/a', Authorization => "Bearer $token") for 1 .. 5;
    wait_lines($t, 'logs/transactions.jsonl', 5);

    rename $log, "$log.1" or die "rename: $!";
    $t->signal('USR1');

    # the reopen is done when the master has made the file anew
    for (1 .. 50) { last if -e $log; select undef, undef, undef, 0.1 }
    select undef, undef, undef, 0.3;

    $t->get('/hotich/b', Authorization => "Bearer $token") for 1 .. 5;
    wait_lines($t, 'logs/transactions.jsonl', 5);

    my @old = records($t, 'logs/transactions.jsonl.1');
    my @new = records($t, 'logs/transactions.jsonl');
    is scalar @old, 5, 'the rotated file keeps its records';
    is scalar @new, 5, 'the new file gets the records after reopen';
    is $new[0]{prev}, $old[-1]{hash},
        'the first record of the new file links to the last of the old';
    is $new[0]{seq}, 6, 'seq goes on';

    my ($rc, $out) = verify("$log.1", $log);
    is $rc, 0, 'the verifier follows the chain across the files';

    ($rc, $out) = verify($log);
    is $rc, 0, 'the new file alone verifies (it starts where it starts)';

    ($rc, $out) = verify($log, "$log.1");
    is $rc, 1, 'files given in the wrong order do not';

    $t->signal('HUP');
    select undef, undef, undef, 0.5;
    $t->get('/hotich/c', Authorization => "Bearer $token") for 1 .. 2;
    wait_lines($t, 'logs/transactions.jsonl', 7);

    $t->stop;
    $t->start($conf);
    $t->get('/hotich/d', Authorization => "Bearer $token") for 1 .. 2;
    wait_lines($t, 'logs/transactions.jsonl', 9);

    @new = records($t, 'logs/transactions.jsonl');
    is_deeply [ map { $_->{seq} } @new ], [ 6 .. 14 ],
        'the chain goes on across reload and restart';

    ($rc, $out) = verify("$log.1", $log);
    is $rc, 0, 'the whole history verifies';

    ok clean($t), 'no crash or alert';
}

# ---------------------------------------------------------------------
# a start after a crash that cut a record short (a worker killed in its
# write(), the machine going down): the partial line is cut off and the
# chain goes on from the last whole record (t/fault_reload.t kills a
# worker in its write() itself)

{
    my $t = LGSP::Test->new;
    $t->write_file('hs.key', $secret);

    my $conf = <<"EOF";
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;
$servers
EOF
    my $token = token('H29.UBND.HANAM');
    my $log = "$t->{dir}/logs/transactions.jsonl";

    $t->start($conf);
    $t->get('/hotich/a', Authorization => "Bearer $token") for 1 .. 2;
    wait_lines($t, 'logs/transactions.jsonl', 2);
    $t->stop;

    open my $fh, '>>', $log or die "$log: $!";
    print $fh '{"seq":3,"time":"2026-01-02T03:04:05.678Z","txid":"01';
    close $fh;

    $t->start($conf);
    $t->get('/hotich/b', Authorization => "Bearer $token");
    wait_lines($t, 'logs/transactions.jsonl', 3);
    $t->stop;

    my @rec = records($t, 'logs/transactions.jsonl');
    is_deeply [ map { "$_->{seq} $_->{path}" } @rec ],
        [ '1 /hotich/a', '2 /hotich/a', '3 /hotich/b' ],
        'the partial line is gone, the next record takes its seq';

    my ($rc, $out) = verify($log);
    is $rc, 0, 'the chain verifies' or diag $out;
    like $t->error_log,
        qr/the partial line a crash left at the end of .* was cut off/,
        'the cut is logged';
    ok clean($t), 'no crash or alert';
}

# ---------------------------------------------------------------------
# one log per tenant: a server's own lgsp_transaction_log is its own chain

{
    my $t = LGSP::Test->new;
    $t->write_file('hs.key', $secret);

    $t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;
    lgsp_transaction_log %%DIR%%/logs/node.jsonl;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name lgsp.hanam.test;
        lgsp_transaction_log %%DIR%%/logs/hanam.jsonl;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        server_name lgsp.moj.test;
        lgsp_transaction_log %%DIR%%/logs/moj.jsonl;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.TRICHLUC;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "ok\n"; }
    }
EOF

    my %auth = (Authorization => 'Bearer ' . token('H29.UBND.HANAM'));
    $t->get('/hotich/x', %auth) for 1 .. 3;
    $t->request('GET', '/hotich/x', headers => \%auth,
                port => $t->extra_port(2)) for 1 .. 2;

    wait_lines($t, 'logs/hanam.jsonl', 3);
    wait_lines($t, 'logs/moj.jsonl', 2);
    wait_lines($t, 'logs/node.jsonl', 5);

    my @hanam = records($t, 'logs/hanam.jsonl');
    my @moj = records($t, 'logs/moj.jsonl');
    is_deeply [ map { "$_->{seq} $_->{server}" } @hanam ],
        [ map { "$_ lgsp.hanam.test" } 1 .. 3 ], 'a tenant has its own chain';
    is_deeply [ map { "$_->{seq} $_->{server}" } @moj ],
        [ map { "$_ lgsp.moj.test" } 1 .. 2 ], 'and so has the other';
    is scalar(records($t, 'logs/node.jsonl')), 5,
        'the provider server records under the http-level log';

    my ($rc) = verify("$t->{dir}/logs/hanam.jsonl");
    is $rc, 0, 'each tenant log verifies alone';
    ok clean($t), 'no crash or alert';
}

# ---------------------------------------------------------------------
# buffer=: lines gather in shared memory and reach the file together,
# within flush=, or when a worker stops

{
    my $t = LGSP::Test->new(workers => 2);
    $t->write_file('hs.key', $secret);
    my $conf = <<"EOF";
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl
                         buffer=4k flush=200ms;
$servers
EOF
    $t->start($conf);

    my $token = token('H29.UBND.HANAM');
    $t->get('/hotich/x', Authorization => "Bearer $token") for 1 .. 30;

    ok wait_lines($t, 'logs/transactions.jsonl', 30),
        'buffered records reach the file (full buffers, then flush=)';

    $t->get('/hotich/y', Authorization => "Bearer $token") for 1 .. 3;
    $t->stop;

    my @rec = records($t, 'logs/transactions.jsonl');
    is scalar @rec, 33, 'a stopping worker writes what it buffered';
    is_deeply [ map { $_->{seq} } @rec ], [ 1 .. 33 ], 'in chain order';

    my ($rc, $out) = verify("$t->{dir}/logs/transactions.jsonl");
    is $rc, 0, 'the buffered chain verifies';

    # lines buffered under one configuration, a reload to one without
    # buffer=, while a worker of the old one is still busy: the buffered
    # lines reach the file before the new lines, in chain order
    my $download = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT_3%%;
        lgsp_transaction_log off;
        location / { root %%DIR%%/conf; }
    }
EOF
    $t->write_file('big', 'x' x (32 * 1024 * 1024));
    chmod 0755, $t->dir;

    $t->start(<<"EOF", workers => 1);
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl
                         buffer=64k flush=1h;
$servers
$download
EOF
    $t->get('/hotich/z', Authorization => "Bearer $token") for 1 .. 3;

    # a download that is never read keeps the old worker busy
    my $slow = IO::Socket::INET->new(PeerAddr => '127.0.0.1:'
                                     . $t->extra_port(3))
        or die "connect: $!";
    print $slow "GET /big HTTP/1.0\r\n\r\n";
    select undef, undef, undef, 0.2;

    $t->write_file('nginx.conf', $t->config(<<"EOF", workers => 1));
    lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;
$servers
$download
EOF
    $t->signal('HUP');
    ok wait_error_log($t, qr/gracefully shutting down/), 'reloaded';
    $t->get('/hotich/w', Authorization => "Bearer $token") for 1 .. 2;

    wait_lines($t, 'logs/transactions.jsonl', 38);
    @rec = records($t, 'logs/transactions.jsonl');
    is_deeply [ map { $_->{seq} } @rec ], [ 1 .. 38 ],
        'buffered lines are written before the next configuration\'s';
    close $slow;

    ($rc, $out) = verify("$t->{dir}/logs/transactions.jsonl");
    is $rc, 0, 'and the chain verifies';
    ok clean($t), 'no crash or alert';
    unlike $t->error_log, qr/\[error\].*transactions\.jsonl/,
        'and no error about the log';
}

# ---------------------------------------------------------------------
# a full disk: records lost, counted and logged once; traffic goes on,
# unless on_error=deny

SKIP: {
    skip 'mounting a tmpfs needs root', 17 if $> != 0;

    my $t = LGSP::Test->new;
    $t->write_file('hs.key', $secret);

    my $disk = "$t->{dir}/disk";
    mkdir $disk or die "mkdir: $!";
    system('mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', $disk) == 0
        or skip 'cannot mount a tmpfs here', 17;

    my $filler = "$disk/filler";

    eval {
        $t->start(<<"EOF");
    lgsp_transaction_log $disk/pass.jsonl;
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /metrics {
            lgsp_jwt off;
            lgsp_metrics;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        lgsp_transaction_log $disk/deny.jsonl on_error=deny;
        lgsp_jwt on;

        location /hotich {
            lgsp_service BTP.HOTICH.KHAISINH;
            lgsp_allow_agency H29.*;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_transaction_log off;
        location / { return 200 "ok\\n"; }
    }
EOF

        my $token = token('H29.UBND.HANAM');
        my %auth = (Authorization => "Bearer $token");

        is $t->get('/hotich/x', %auth)->{status}, 200,
            'a request before the disk fills';
        is $t->request('GET', '/hotich/x', headers => \%auth,
                       port => $t->extra_port(2))->{status}, 200,
            'also where on_error=deny';

        # fill the disk: dd stops with "No space left on device"
        system("dd if=/dev/zero of=$filler bs=1k count=100 2>/dev/null");

        my @status = map { $t->get('/hotich/x', %auth)->{status} } 1 .. 10;
        is_deeply \@status, [ (200) x 10 ],
            'a full disk does not stop traffic by default';

        # requests pass until a record does not fit the file's last page;
        # after that one, requests are refused
        my $denied;
        for (1 .. 20) {
            $denied = $t->request('GET', '/hotich/x', headers => \%auth,
                                  port => $t->extra_port(2));
            last if $denied->{status} != 200;
        }
        is $denied->{status}, 503, 'on_error=deny refuses while it cannot';
        is $denied->{headers}{'content-type'}, 'application/problem+json',
            'with a problem document';
        is $denied->{json}{type}, 'urn:lgsp:problem:records-unavailable',
            'that says why';
        is $denied->{json}{instance},
            $denied->{headers}{'x-lgsp-transaction-id'}, 'naming the txid';

        # every request to this server (11 so far, and each /metrics
        # before the current one) was written or counted as lost
        my ($sent, $lost, $written) = (11, -1, 0);
        for (1 .. 50) {
            $written = () = $t->read_file("$disk/pass.jsonl") =~ /\n/g;
            ($lost) = $t->get('/metrics')->{content} =~
                /^lgsp_records_lost_total\{file="\Q$disk\E\/pass.jsonl"\} (\d+)$/m;
            last if ($lost // 0) + $written == $sent;
            $sent++;
        }
        is $lost + $written, $sent, 'every lost record is counted';

        my $log = $t->error_log;
        my $incidents = () = $log =~ /\Q$disk\E\/pass.jsonl" cannot be written/g;
        is $incidents, 1, 'the incident is logged once, not per record';

        unlink $filler;

        is $t->get('/hotich/x', %auth)->{status}, 200, 'space again';
        my $again = qr/pass.jsonl" is written again; \d+ records were lost/;
        ok wait_error_log($t, $again),
            'the end of the incident is logged with the loss';

        # the refused request's own record probes the log: it can again
        my $r = $t->request('GET', '/hotich/x', headers => \%auth,
                            port => $t->extra_port(2));
        $r = $t->request('GET', '/hotich/x', headers => \%auth,
                         port => $t->extra_port(2))
            if $r->{status} == 503;
        is $r->{status}, 200, 'on_error=deny lets requests through again';

        my @pass = map { $json->decode($_) }
                   split /\n/, $t->read_file("$disk/pass.jsonl");
        ok !grep({ !$_->{hash} } @pass), 'no partial line is left';

        my ($rc, $out) = verify("$disk/pass.jsonl");
        is $rc, 0, 'the chain has no break: lost records never entered it';
        ($rc, $out) = verify("$disk/deny.jsonl");
        is $rc, 0, 'nor where on_error=deny';

        my @deny = map { $json->decode($_) }
                   split /\n/, $t->read_file("$disk/deny.jsonl");
        ok scalar(grep { $_->{status} == 503 } @deny),
            'a refusal is recorded once the log can be written';

        ok clean($t), 'no crash or alert';
        1;
    } or diag $@;

    $t->stop;
    system('umount', $disk);
}

# ---------------------------------------------------------------------
# nginx -t names file and line of a bad lgsp_transaction_log

{
    my $t = LGSP::Test->new;
    my ($priv) = $t->openssl_key('rsa', 'rsa');

    my %bad = (
        'checkpoint without a key' =>
            ['lgsp_transaction_log logs/t.jsonl checkpoint=100;',
             qr/needs key= for checkpoint=.*nginx\.conf:\d+/],
        'a key that is not Ed25519' =>
            ['lgsp_transaction_log logs/t.jsonl key=rsa.key;',
             qr/invalid checkpoint key: .*rsa\.key" is not an Ed25519 key.*nginx\.conf:\d+/],
        'a missing key' =>
            ['lgsp_transaction_log logs/t.jsonl key=none.key;',
             qr/invalid checkpoint key: cannot read .*none\.key.*nginx\.conf:\d+/],
        'a bad checkpoint' =>
            ['lgsp_transaction_log logs/t.jsonl key=rsa.key checkpoint=often;',
             qr/invalid checkpoint "often".*nginx\.conf:\d+/],
        'flush without buffer' =>
            ['lgsp_transaction_log logs/t.jsonl flush=1s;',
             qr/needs buffer= for flush=.*nginx\.conf:\d+/],
        'a buffer too large' =>
            ['lgsp_transaction_log logs/t.jsonl buffer=1m;',
             qr/invalid buffer "1m": a size up to 64k.*nginx\.conf:\d+/],
        'an unknown parameter' =>
            ['lgsp_transaction_log logs/t.jsonl on_error=panic;',
             qr/invalid parameter "on_error=panic".*nginx\.conf:\d+/],
        'one file, two settings' =>
            ["lgsp_transaction_log logs/t.jsonl;\n"
             . "server { listen 127.0.0.1:%%PORT%%;"
             . " lgsp_transaction_log logs/t.jsonl on_error=deny; }",
             qr/is already a transaction log with other parameters.*nginx\.conf:\d+/],
    );

    for my $name (sort keys %bad) {
        my ($ok, $out) = $t->test_config($bad{$name}[0]);
        ok !$ok, "nginx -t refuses $name";
        like $out, $bad{$name}[1], "and says why, with file and line: $name";
    }

    my ($ok, $out) = $t->test_config(<<'EOF');
    lgsp_transaction_log logs/t.jsonl;
    server { listen 127.0.0.1:%%PORT%%; lgsp_transaction_log off; }
EOF
    ok $ok, 'a server may turn the log off';
}

# ---------------------------------------------------------------------
# nginx's own 412 (If-Match, If-Unmodified-Since: its not_modified
# filter) clears every module's context without an internal redirect:
# the request keeps its one record all the same, with its agency and the
# txid the caller got, with on_error=deny too

{
    my $t = LGSP::Test->new;
    $t->write_file('hs.key', $secret);
    $t->extra_port(1);

    $t->start(<<'EOF');
    lgsp_jwt_key_file hs.key;

    server {
        listen 127.0.0.1:%%PORT%%;
        lgsp_jwt on;
        lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;

        location /pixel {
            lgsp_service BTP.PIXEL;
            lgsp_allow_agency H29.UBND.HANAM;
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_jwt on;
        lgsp_transaction_log %%DIR%%/logs/deny.jsonl on_error=deny;

        location /pixel {
            lgsp_service BTP.PIXEL;
            lgsp_allow_agency H29.UBND.HANAM;
            empty_gif;
        }
    }
EOF

    my %port = (transactions => $t->{port}, deny => $t->extra_port(1));
    my $auth = 'Bearer ' . token('H29.UBND.HANAM');

    for my $log (qw(transactions deny)) {
        my $r = $t->request('GET', '/pixel', port => $port{$log},
                            headers => { Authorization => $auth,
                                         'If-Match' => '"no-such-etag"' });
        is $r->{status}, 412, "$log: nginx answers a failed If-Match 412";
        my $txid = $r->{headers}{'x-lgsp-transaction-id'};

        # a second record of the 412 would come before this one's
        $r = $t->request('GET', '/pixel', port => $port{$log},
                         headers => { Authorization => $auth });
        is $r->{status}, 200, "$log: the next request passes";

        wait_lines($t, "logs/$log.jsonl", 2);
        my @rec = records($t, "logs/$log.jsonl");
        is scalar @rec, 2, "$log: one record per request";
        is $rec[0]{txid}, $txid, "$log: the 412's record names its txid";
        is $rec[0]{agency}, 'H29.UBND.HANAM',
            "$log: and the agency of its token";
        is $rec[0]{status}, 412, "$log: and its status";
        is $rec[1]{status}, 200, "$log: the next record is the next request's";
    }

    ok clean($t), 'no crash or alert';
}

done_testing;
