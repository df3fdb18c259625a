#!/bin/bash
# make run: the demo LGSP in the foreground on 127.0.0.1:PORT, with a mock
# agency system behind it.  Ctrl-C stops everything it started.
#   scripts/demo.sh BUILD_DIR PORT
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
port=${2:-8080}
agency_port=$((port + 1))
run=$build/run

mkdir -p "$run/logs" "$run/conf/keys"

# the demo SSO's key pair: made once, kept in the build folder only
if [ ! -f "$run/conf/keys/sso.key" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$run/conf/keys/sso.key" 2>/dev/null
    openssl pkey -in "$run/conf/keys/sso.key" -pubout \
        -out "$run/conf/keys/sso.pub"
fi

# render conf/ into the run folder
(cd "$repo/conf" && find . -type f) | while read -r f; do
    mkdir -p "$(dirname "$run/conf/$f")"
    sed -e "s|@MODULE@|$build/ngx_http_lgsp_module.so|g" \
        -e "s|@PORT@|$port|g" -e "s|@AGENCY_PORT@|$agency_port|g" \
        "$repo/conf/$f" > "$run/conf/$f"
done

pids=()
stop() {
    trap - INT TERM EXIT
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "demo: stopped"
}
trap stop INT TERM EXIT

perl "$repo/scripts/mock/agency.pl" "$agency_port" hotich 2 \
    >> "$run/logs/agency.log" 2>&1 &
pids+=($!)

nginx -p "$run/" -c conf/nginx.conf -t -q
nginx -p "$run/" -c conf/nginx.conf -g 'daemon off;' &
pids+=($!)

for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done

token=$("$repo/scripts/lgsp-token" --key "$run/conf/keys/sso.key" \
        --alg ES256 --kid sso-2026 --agency 000.00.00.H29 \
        --iss https://sso.demo.gov.vn --aud lgsp --claim scope=hotich.write)

cat <<EOT

LGSP demo on http://127.0.0.1:$port  (nginx prefix $run)

A token the demo SSO gave the civil registry of agency 000.00.00.H29:

TOKEN=$token

With it, 200 from the civil registry system, through the LGSP:
  curl -i -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$port/hotich/khaisinh

Without it, 401 with a problem+json body:
  curl -i http://127.0.0.1:$port/hotich/khaisinh

Ctrl-C stops nginx and the mock agency system.
EOT

if [ -n "${LGSP_DEMO_CHECK:-}" ]; then
    # used by the tests: show both answers, then stop
    curl -s -o /dev/null -w 'with token: %{http_code}\n' \
        -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/hotich/khaisinh"
    curl -s -o /dev/null -w 'without token: %{http_code}\n' \
        "http://127.0.0.1:$port/hotich/khaisinh"
    exit 0
fi

wait
