#!/bin/sh
# Installs the Debian 12 packages this project needs, when missing, then
# the npm packages of the tests into BUILD/npm (scripts/deps-npm.sh).
# As root it runs apt-get; otherwise it prints the apt-get line and stops.
#   scripts/deps.sh [BUILD_DIR]
set -eu

PACKAGES="nginx nginx-dev build-essential pkg-config
    libjansson-dev libhiredis-dev libssl-dev libpcre2-dev libjwt-dev
    zlib1g-dev redis-server openssl curl wrk clang libclang-rt-14-dev
    perl libcrypt-jwt-perl libjson-xs-perl libhttp-daemon-perl
    libwww-perl libio-socket-ssl-perl
    node-ajv python3-jsonschema
    prometheus chromium
    debhelper dpkg-dev fakeroot
    gdb valgrind nodejs"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q "install ok installed"
    then
        missing="$missing $p"
    fi
done

# npm comes with nodejs from other sources; Debian's package otherwise
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
    exec "$(dirname "$0")/deps-npm.sh" "$@"
fi

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
"$(dirname "$0")/deps-npm.sh" "$@"
