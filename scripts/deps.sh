#!/bin/sh
# Installs the Debian 12 packages a make target needs, when missing, and
# for the tests the npm packages they use, into BUILD/npm
# (scripts/deps-npm.sh; BUILD is LGSP_BUILD, default build/).
#   scripts/deps.sh [build|run|deb|test]...     default: all of them
# build: the module (make module); run: the demo (make run); deb: the
# package (make deb); test: everything make test runs (the demo's and
# the package's included).  As root it runs apt-get; otherwise it prints
# the apt-get line and stops.
set -eu

# what the module is compiled with (config checks them at configure time)
BUILD="nginx-dev build-essential pkg-config
    libjansson-dev libhiredis-dev libssl-dev libpcre2-dev libxml2-dev
    zlib1g-dev"

# make run: nginx, Redis and the demo's mock systems (Perl)
RUN="nginx redis-server openssl curl
    perl libjson-xs-perl libhttp-daemon-perl libwww-perl"

DEB="debhelper dpkg-dev fakeroot lintian libcrypt-jwt-perl"

TEST="$RUN $DEB libjwt-dev clang libclang-rt-14-dev wrk
    libio-socket-ssl-perl libxml-libxml-perl
    node-ajv python3-jsonschema nodejs
    prometheus chromium
    gdb valgrind"

wanted=""
tests=no
for group in ${*:-build run deb test}; do
    case $group in
        build) wanted="$wanted $BUILD" ;;
        run)   wanted="$wanted $BUILD $RUN" ;;
        deb)   wanted="$wanted $BUILD $DEB" ;;
        test)  wanted="$wanted $BUILD $TEST"; tests=yes ;;
        *)     echo "deps: unknown group $group (build, run, deb, test)" >&2
               exit 2 ;;
    esac
done

missing=""
for p in $(echo $wanted | tr ' ' '\n' | sort -u); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q "install ok installed"
    then
        missing="$missing $p"
    fi
done

# the tests' npm packages: npm comes with nodejs from other sources,
# Debian's package otherwise
if [ $tests = yes ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages:$missing" >&2
        echo "deps: run as root: apt-get update &&" \
             "apt-get install -y$missing" >&2
        exit 1
    fi

    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update

    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    apt-get install -y --no-install-recommends $missing
fi

if [ $tests = yes ]; then
    "$(dirname "$0")/deps-npm.sh" ${LGSP_BUILD:-}
fi
