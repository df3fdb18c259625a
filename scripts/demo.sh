#!/bin/bash
# make run: the demo LGSP in the foreground on 127.0.0.1:PORT, for two
# tenants (a province and a ministry), with mock systems behind it: the
# province's civil registry and the national platform (NDXP) with the
# social insurance service.  It runs the demo flow once, then waits.
# Ctrl-C stops everything it started.
#   scripts/demo.sh BUILD_DIR PORT
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# LGSP_NGINX: another nginx binary; LGSP_STATIC=1: the module is built
# into it, so no load_module (make matrix)
nginx=${LGSP_NGINX:-nginx}
unload=${LGSP_STATIC:+/^load_module /d}
build=$(cd "${1:-$repo/build}" && pwd)
port=${2:-8080}

# the mock systems' ports: free ones, as port+1 may be some client's
free_port() {
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
        LocalAddr => "127.0.0.1", LocalPort => 0)->sockport'
}
agency_port=$(free_port)
ndxp_port=$(free_port)
bhxh_port=$(free_port)
redis_port=$(free_port)
run=$build/run

mkdir -p "$run/logs" "$run/conf/keys" "$run/redis"

# each tenant's SSO key pair, and the province's NDXP consumer secret:
# made once, kept in the build folder only
for sso in hanam-sso moj-sso; do
    if [ ! -f "$run/conf/keys/$sso.key" ]; then
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -out "$run/conf/keys/$sso.key" 2>/dev/null
        openssl pkey -in "$run/conf/keys/$sso.key" -pubout \
            -out "$run/conf/keys/$sso.pub"
    fi
done

if [ ! -f "$run/conf/keys/ndxp-hanam.secret" ]; then
    (umask 077; echo "lgsp-hanam:$(openssl rand -hex 16)" \
        > "$run/conf/keys/ndxp-hanam.secret")
fi

# render conf/ into the run folder
(cd "$repo/conf" && find . -type f) | while read -r f; do
    mkdir -p "$(dirname "$run/conf/$f")"
    sed -e "s|@MODULE@|$build/ngx_http_lgsp_module.so|g" -e "$unload" \
        -e "s|@PORT@|$port|g" -e "s|@AGENCY_PORT@|$agency_port|g" \
        -e "s|@NDXP_PORT@|$ndxp_port|g" -e "s|@BHXH_PORT@|$bhxh_port|g" \
        -e "s|@REDIS_PORT@|$redis_port|g" \
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

# the queues of guaranteed delivery, durable as the README says
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run/redis" \
    --appendonly yes --appendfsync everysec --save '' \
    >> "$run/logs/redis.log" 2>&1 &
pids+=($!)

perl "$repo/scripts/mock-hotich.pl" "$agency_port" \
    >> "$run/logs/agency.log" 2>&1 &
pids+=($!)

perl "$repo/scripts/mock-ndxp.pl" "$ndxp_port" \
    "$(cat "$run/conf/keys/ndxp-hanam.secret")" >> "$run/logs/ndxp.log" 2>&1 &
pids+=($!)

# make asan: the sanitizer runtime goes into nginx, and only there
preload=${LGSP_PRELOAD:+LD_PRELOAD=$LGSP_PRELOAD}
env $preload "$nginx" -p "$run/" -c conf/nginx.conf -t -q
env $preload "$nginx" -p "$run/" -c conf/nginx.conf -g 'daemon off;' &
pids+=($!)

# nginx and the mock systems listening
for p in "$port" "$agency_port" "$ndxp_port" "$redis_port"; do
    for _ in $(seq 50); do
        (exec 3<> "/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
        sleep 0.1
    done
done

# the province's justice department, and an agency the province never named
token=$("$repo/scripts/lgsp-token" --key "$run/conf/keys/hanam-sso.key" \
        --alg ES256 --kid hanam-2026 --agency 000.00.31.H29 \
        --iss https://sso.hanam.demo --aud lgsp --claim scope=hotich.write)
other=$("$repo/scripts/lgsp-token" --key "$run/conf/keys/hanam-sso.key" \
        --alg ES256 --kid hanam-2026 --agency 000.00.12.H30 \
        --iss https://sso.hanam.demo --aud lgsp --claim scope=hotich.write)

perl "$repo/scripts/demo-flow.pl" "$port" "$token" "$other" \
    "$run/conf/schemas/khaisinh.example.json" "$run/deliveries.txt"

# BHXH's card system comes up: the kept requests are delivered
perl "$repo/scripts/mock-bhxh.pl" "$bhxh_port" >> "$run/logs/bhxh.log" 2>&1 &
pids+=($!)

perl "$repo/scripts/demo-flow.pl" --deliveries "$port" "$token" \
    "$run/deliveries.txt"

cat <<EOT

LGSP demo on http://127.0.0.1:$port  (nginx prefix $run)

A token the province's SSO gave its justice department, 000.00.31.H29:

TOKEN=$token

With it, a birth registered by the civil registry system (201):
  curl -i -H "Authorization: Bearer \$TOKEN" -H "Content-Type: application/json" --data-binary @$run/conf/schemas/khaisinh.example.json http://127.0.0.1:$port/hotich/khaisinh

The child's health insurance card, from BHXH through NDXP:
  curl -i -H "Authorization: Bearer \$TOKEN" "http://127.0.0.1:$port/ndxp/bhxh/1.0/the-bhyt?maDinhDanh=001226000001"

Without a token, 401 with a problem+json body:
  curl -i -X POST http://127.0.0.1:$port/hotich/khaisinh

The catalogues of the two tenants, and the province's OpenAPI document:
  curl http://127.0.0.1:$port/catalog
  curl -H "Host: lgsp.moj.demo" http://127.0.0.1:$port/catalog
  curl http://127.0.0.1:$port/openapi.json

Ctrl-C stops nginx and the mock systems.
EOT

if [ -n "${LGSP_DEMO_CHECK:-}" ]; then
    # used by the tests: show both answers, then stop
    curl -s -o /dev/null -w 'with token: %{http_code}\n' \
        -H "Authorization: Bearer $token" \
        -H "Content-Type: application/json" \
        --data-binary "@$run/conf/schemas/khaisinh.example.json" \
        "http://127.0.0.1:$port/hotich/khaisinh"
    curl -s -o /dev/null -w 'without token: %{http_code}\n' \
        -X POST "http://127.0.0.1:$port/hotich/khaisinh"
    exit 0
fi

wait
