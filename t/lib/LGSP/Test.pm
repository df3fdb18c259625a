package LGSP::Test;

# The test harness: each test gets its own folder, writes the nginx.conf
# it runs under, starts Debian's nginx with the built module on free
# loopback ports (and redis-server when it asks), sends real HTTP
# requests and stops everything at the end.
#
# LGSP_MODULE=PATH: the module to load (default build/ngx_http_lgsp_module.so);
# LGSP_NGINX=PATH: the nginx binary to run (default: nginx on the PATH);
# LGSP_STATIC=1: that nginx has the module built in (--add-module), so no
# load_module.  make matrix runs the tests so against nginx built from source.
#
#   my $t = LGSP::Test->new;
#   $t->write_file('hs.key', $secret);
#   $t->start(<<'EOF');            # the inside of http { }
#   server {
#       listen 127.0.0.1:%%PORT%%;
#       location / { lgsp_jwt on; lgsp_jwt_key_file hs.key; empty_gif; }
#   }
#   EOF
#   my $r = $t->get('/', Authorization => "Bearer $token");
#   is $r->{status}, 200;
#
# start() and config() take main => '...' (the main context's lines),
# events => '...', workers => N, and load_module => 0: nginx without the
# module (a benchmark's baseline; not with LGSP_STATIC, where it is built
# in).
#
# In the configuration, %%PORT%% is the test's main port, %%PORT_n%% the
# n-th extra free port, %%DIR%% the test's folder, %%REDIS_PORT%% the port
# of the Redis server that start_redis() started.

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::XS;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

our $REPO = abs_path(File::Spec->catdir(__FILE__, '..', '..', '..', '..'));

# Every nginx and helper a test starts leads a process group of its own,
# which stop() empties: a worker whose master died, or what a helper
# script started, goes with it.  An interrupted test (Ctrl-C, prove's
# timeout) exits through its objects' DESTROY and stops them too.
$SIG{$_} = sub { exit 128 } for qw(INT TERM HUP);


sub new {
    my ($class, %opt) = @_;

    # module => PATH: another build of the module (an installed one)
    my $module = $opt{module} || $ENV{LGSP_MODULE}
                 || "$REPO/build/ngx_http_lgsp_module.so";
    croak "module $module not built: run make" unless -f $module || static();

    my $dir = tempdir('lgsp-test-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{LGSP_KEEP});

    make_path("$dir/conf", "$dir/logs", "$dir/tmp");

    my $self = bless {
        dir      => $dir,
        module   => $module,
        workers  => $opt{workers} || 1,
        port     => free_port(),
        ports    => [],
        pids     => [],
        nginx    => undef,
        owner    => $$,
    }, $class;

    return $self;
}


sub dir { $_[0]{dir} }


# the nginx binary the tests run, and whether the module is built into it
sub nginx { $ENV{LGSP_NGINX} || 'nginx' }
sub static { $ENV{LGSP_STATIC} ? 1 : 0 }


# true when the tests run Debian's nginx (not make matrix's own builds),
# for the tests about Debian's packaging
sub debian_nginx { !$ENV{LGSP_NGINX} && !static() }
sub port { $_[0]{port} }


# the n-th extra free port (1-based), the same one for every call
sub extra_port {
    my ($self, $n) = @_;

    $self->{ports}[$n - 1] //= free_port();

    return $self->{ports}[$n - 1];
}


sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}


sub write_file {
    my ($self, $name, $content) = @_;

    my $path = "$self->{dir}/conf/$name";
    my ($folder) = $path =~ m{^(.*)/};
    make_path($folder);

    # a test under "use utf8" writes its Vietnamese text as UTF-8
    utf8::encode($content) if utf8::is_utf8($content);

    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh $content;
    close $fh;

    return $path;
}


sub read_file {
    my ($self, $name) = @_;

    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $content = <$fh>;
    close $fh;

    return $content;
}


# asks $test again (a bounded while: $seconds, 5 by default) until it
# answers true; returns its last answer.  What the log phase does
# (records, metrics) happens after the answer has left, so a client can
# look before it is there.
sub wait_for {
    my ($self, $test, $seconds) = @_;
    my $answer;

    for (1 .. ($seconds || 5) * 20) {
        last if $answer = $test->();
        select undef, undef, undef, 0.05;
    }

    return $answer;
}


# the lines of a log once it has at least $n
sub log_lines {
    my ($self, $name, $n) = @_;
    my @lines;

    $self->wait_for(sub {
        @lines = split /\n/, $self->read_file($name);
        return @lines >= $n;
    });

    return @lines;
}


# /metrics once its lgsp_requests_total add up to $n
sub metrics_after {
    my ($self, $n, %headers) = @_;
    my $text = '';

    $self->wait_for(sub {
        my $sum = 0;
        $text = $self->get('/metrics', %headers)->{content} // '';
        $sum += $1 while $text =~ /^lgsp_requests_total\{.*\} (\d+)$/mg;
        return $sum >= $n;
    });

    return $text;
}


# the full nginx.conf around the http { } body a test gives
sub config {
    my ($self, $http, %opt) = @_;

    my $dir = $self->{dir};
    my $workers = $opt{workers} || $self->{workers};
    my $main = $opt{main} // '';
    my $events = $opt{events} // '';

    # make valgrind: nginx runs as it does in production, a master and its
    # workers; valgrind follows the master's fork()s, one report a process.
    # Not master_process off: a single process cannot reload (nginx 1.22
    # runs no init_process for the new cycle, which so has no free
    # connection), and with reuseport the kernel would queue connections
    # on the sockets of workers that are not there.

    croak 'load_module => 0: this nginx has the module built in'
        if static() && defined $opt{load_module} && !$opt{load_module};

    my $load = static() || !($opt{load_module} // 1)
               ? '' : "load_module $self->{module};";

    my $conf = <<"EOF";
$load

worker_processes $workers;
error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
$main

events {
    worker_connections 1024;
    $events
}

http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;

$http
}
EOF

    return $self->expand($conf);
}


sub expand {
    my ($self, $text) = @_;

    $text =~ s/%%PORT%%/$self->{port}/g;
    $text =~ s/%%PORT_(\d+)%%/$self->extra_port($1)/ge;
    $text =~ s/%%DIR%%/$self->{dir}/g;
    $text =~ s/%%REPO%%/$REPO/g;

    if ($text =~ /%%REDIS_PORT%%/) {
        croak 'start_redis() first' unless $self->{redis_port};
        $text =~ s/%%REDIS_PORT%%/$self->{redis_port}/g;
    }

    return $text;
}


# runs "nginx -t" on a configuration; returns (ok, output)
sub test_config {
    my ($self, $http, %opt) = @_;

    $self->write_file('nginx.conf', $self->config($http, %opt));

    local $ENV{LD_PRELOAD} = $ENV{LGSP_PRELOAD} if $ENV{LGSP_PRELOAD};
    my $nginx = nginx();
    # -e stderr: nginx -t says all it logs (notices too) on stderr, whatever
    # the error log path this nginx was built with
    my $out = `$nginx -p $self->{dir}/ -c $self->{dir}/conf/nginx.conf \\
               -e stderr -t 2>&1`;

    return ($? == 0, $out);
}


sub start {
    my ($self, $http, %opt) = @_;

    $self->write_file('nginx.conf', $self->config($http, %opt));
    unlink "$self->{dir}/logs/nginx.pid";

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        open STDOUT, '>>', "$self->{dir}/logs/stdout.log";
        open STDERR, '>&', \*STDOUT;
        # make asan: the sanitizer runtime goes into nginx, and only there
        $ENV{LD_PRELOAD} = $ENV{LGSP_PRELOAD} if $ENV{LGSP_PRELOAD};

        my @pin = defined $opt{cpu} ? ('taskset', '-c', $opt{cpu}) : ();
        push @pin, valgrind() if $ENV{LGSP_VALGRIND};
        exec @pin, nginx(), '-p', "$self->{dir}/", '-c',
             "$self->{dir}/conf/nginx.conf", '-g', 'daemon off;';
        exit 127;
    }

    $self->{nginx} = $pid;

    my $port = $opt{wait_port} || $self->{port};
    unless (wait_port($port, $pid)) {
        my $log = $self->read_file('logs/error.log')
                  . $self->read_file('logs/stdout.log');
        $self->stop;
        croak "nginx did not start:\n$log";
    }

    # every worker up: the master writes the pid file before forking them
    sleep 0.1;

    return $self;
}


# what a person sees: the page at url after headless Chromium ran its
# scripts (up to 5 s of virtual time), as decoded text; undef when
# Chromium is not installed
sub chromium_dom {
    my ($self, $url) = @_;

    my $chromium = `which chromium 2>/dev/null`;
    chomp $chromium;
    return undef unless $chromium;

    my $profile = "$self->{dir}/chromium";
    mkdir $profile;

    my $dom = `$chromium --headless --no-sandbox --disable-gpu --disable-quic \\
        --no-first-run --disable-background-networking \\
        --disable-component-update --disable-sync \\
        --user-data-dir=$profile --virtual-time-budget=5000 \\
        --dump-dom '$url' 2>/dev/null`;
    utf8::decode($dom);

    return $dom;
}


# LGSP_VALGRIND=DIR: nginx runs under valgrind, one report per process
# (the master and each worker) in DIR; make valgrind reads them
sub valgrind {
    return ('valgrind', '--quiet', '--leak-check=full', '--num-callers=40',
            '--errors-for-leak-kinds=definite', '--show-leak-kinds=definite',
            '--keep-debuginfo=yes',
            "--suppressions=$REPO/t/valgrind.supp",
            "--log-file=$ENV{LGSP_VALGRIND}/valgrind.%p.log");
}


sub wait_port {
    my ($port, $pid) = @_;

    # 10 s; a minute for an nginx under valgrind, 20-50 times slower
    for (1 .. ($ENV{LGSP_VALGRIND} ? 1200 : 200)) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                          Proto => 'tcp');
        return 0 if $pid && waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }

    return 0;
}


# sends a signal to the running nginx master: 'HUP' reload, 'USR1' reopen
sub signal {
    my ($self, $sig) = @_;
    kill $sig, $self->{nginx} if $self->{nginx};
}


sub stop {
    my ($self) = @_;

    for my $pid (grep { defined } delete $self->{nginx},
                 @{ $self->{pids} })
    {
        kill 'TERM', $pid;
        wait_exit($pid);
        kill 'KILL', -$pid;
    }

    $self->{pids} = [];

    return $self;
}


sub wait_exit {
    my ($pid) = @_;

    # under valgrind each process checks for leaks on its way out
    for (1 .. ($ENV{LGSP_VALGRIND} ? 1200 : 100)) {
        return if waitpid($pid, WNOHANG) != 0;
        sleep 0.05;
    }

    # an nginx master that would not go: its workers with it (its process
    # group), or they would live on, orphaned, holding the test's ports
    kill 'KILL', -$pid, $pid;
    waitpid($pid, 0);
}


# starts a helper process (a mock upstream, redis...) stopped with the test
sub spawn {
    my ($self, @cmd) = @_;

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        open STDOUT, '>>', "$self->{dir}/logs/spawn.log";
        open STDERR, '>&', \*STDOUT;
        exec @cmd;
        exit 127;
    }

    push @{ $self->{pids} }, $pid;

    return $pid;
}


# a real redis-server on a free loopback port, with its data in the test
sub start_redis {
    my ($self, %opt) = @_;

    # port => N starts it again where a stopped one listened
    my $port = $self->{redis_port} = $opt{port} || free_port();
    # aof => 1: an append-only file, fsync'd every second, as
    # guaranteed delivery wants it
    my @args = ('--port', $port, '--bind', '127.0.0.1', '--save', '',
                '--appendonly', $opt{aof} ? 'yes' : 'no',
                '--appendfsync', 'everysec', '--dir', "$self->{dir}/tmp");

    push @args, '--requirepass', $opt{password} if $opt{password};

    # cpu => N pins it, so that a benchmark's nginx keeps its core to itself
    my @pin = defined $opt{cpu} ? ('taskset', '-c', $opt{cpu}) : ();

    $self->{redis_pid} = $self->spawn(@pin, 'redis-server', @args);

    croak 'redis-server did not start'
        unless wait_port($port, $self->{redis_pid});

    return $port;
}


sub redis_port { $_[0]{redis_port} }

# what redis-cli answers from the test's Redis, without its last newline
sub redis_cli {
    my ($self, @args) = @_;
    my $out = `redis-cli -p $self->{redis_port} @args 2>/dev/null`;
    chomp $out;
    return $out;
}
sub redis_pid { $_[0]{redis_pid} }


# a mock system of scripts/ (an agency system, the national platform) on
# the given port, stopped with the test:  $t->mock('mock-hotich.pl', $port)
sub mock {
    my ($self, $script, $port, @args) = @_;

    my $pid = $self->spawn($^X, "$REPO/scripts/$script", $port, @args);

    croak "$script did not start" unless wait_port($port, $pid);

    return $pid;
}


# the mock agency system of scripts/mock/agency.pl on the n-th extra port:
# it answers JSON that echoes the request that reached it
sub start_agency {
    my ($self, $n, $name) = @_;

    my $port = $self->extra_port($n);
    my $pid = $self->spawn($^X, "$REPO/scripts/mock/agency.pl", $port,
                           $name // 'agency', 2);

    croak 'mock agency did not start' unless wait_port($port, $pid);

    return $port;
}


# an HTTP request; returns HTTP::Tiny's hash, with {json} when decodable
sub request {
    my ($self, $method, $path, %opt) = @_;

    my $headers = $opt{headers} || {};
    my $port = $opt{port} || $self->{port};
    my $http = HTTP::Tiny->new(timeout => $opt{timeout} || 10,
                               max_redirect => 0);

    my $res = $http->request($method, "http://127.0.0.1:$port$path", {
        headers => $headers,
        defined $opt{body} ? (content => $opt{body}) : (),
    });

    if (($res->{headers}{'content-type'} // '') =~ m{json}
        && length($res->{content} // ''))
    {
        $res->{json} = eval { JSON::XS->new->decode($res->{content}) };
    }

    return $res;
}


sub get {
    my ($self, $path, %headers) = @_;
    return $self->request('GET', $path, headers => \%headers);
}


sub post_json {
    my ($self, $path, $body, %headers) = @_;

    $headers{'Content-Type'} //= 'application/json';
    $body = JSON::XS->new->canonical->encode($body) if ref $body;

    return $self->request('POST', $path, headers => \%headers, body => $body);
}


# raw bytes over a socket, for what HTTP::Tiny will not send; the answer
sub raw {
    my ($self, $data, %opt) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}",
                                  Proto => 'tcp', Timeout => 10)
        or die "connect: $!";

    print $s $data;
    shutdown $s, 1 if $opt{half_close};

    local $/;
    my $answer = <$s>;
    close $s;

    return $answer // '';
}


sub error_log {
    my ($self) = @_;
    return $self->read_file('logs/error.log');
}


# an error.log with no crash, alert or emergency in it
sub error_log_clean {
    my ($self) = @_;
    return $self->error_log !~ /\[(?:alert|emerg|crit)\]|exited on signal \d+/;
}


# generates a key pair with the openssl command; returns the paths
sub openssl_key {
    my ($self, $name, $kind) = @_;

    my $priv = "$self->{dir}/conf/$name.key";
    my $pub = "$self->{dir}/conf/$name.pub";

    my %genpkey = (
        rsa     => '-algorithm RSA -pkeyopt rsa_keygen_bits:2048',
        rsa1024 => '-algorithm RSA -pkeyopt rsa_keygen_bits:1024',
        p256    => '-algorithm EC -pkeyopt ec_paramgen_curve:P-256',
        p384    => '-algorithm EC -pkeyopt ec_paramgen_curve:P-384',
        p521    => '-algorithm EC -pkeyopt ec_paramgen_curve:P-521',
        secp256k1 => '-algorithm EC -pkeyopt ec_paramgen_curve:secp256k1',
        ed25519 => '-algorithm ED25519',
    );

    my $opts = $genpkey{$kind} or croak "unknown key kind $kind";

    system("openssl genpkey $opts -out $priv 2>/dev/null") == 0
        or die "openssl genpkey $kind failed";
    system("openssl pkey -in $priv -pubout -out $pub 2>/dev/null") == 0
        or die "openssl pkey $kind failed";

    return ($priv, $pub);
}


sub DESTROY {
    my ($self) = @_;
    local $?;

    # not in a forked child that did not _exit(): the nginx is its parent's
    $self->stop if $$ == $self->{owner};
}


1;
