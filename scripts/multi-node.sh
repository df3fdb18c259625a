#!/bin/bash
# Runs conf/examples/multi-node on one machine, on loopback ports: a Redis
# primary, its replica, a Redis Sentinel and two LGSP nodes (nginx) that
# share quotas through Redis.  Prints a token and the calls to try, then
# waits; Ctrl-C (or TERM) stops everything it started.
#   scripts/multi-node.sh [BUILD_DIR [RUN_DIR]]
# Ports, from the environment: LGSP_NODE1_PORT (8081), LGSP_NODE2_PORT
# (8082), LGSP_REDIS_PRIMARY_PORT (6380), LGSP_REDIS_REPLICA_PORT (6381),
# LGSP_SENTINEL_PORT (26380).  RUN_DIR/token holds the token, written once
# everything listens.  LGSP_PRELOAD: a library preloaded into nginx (the
# sanitizer runtime a `make asan` build of the module needs).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# LGSP_NGINX: another nginx binary; LGSP_STATIC=1: the module is built
# into it, so no load_module (make matrix)
nginx=${LGSP_NGINX:-nginx}
unload=${LGSP_STATIC:+/^load_module /d}
build=$(cd "${1:-$repo/build}" && pwd)
run=$(mkdir -p "${2:-$build/multi-node}" && cd "${2:-$build/multi-node}" \
      && pwd)
example=$repo/conf/examples/multi-node

node1=${LGSP_NODE1_PORT:-8081}
node2=${LGSP_NODE2_PORT:-8082}
primary=${LGSP_REDIS_PRIMARY_PORT:-6380}
replica=${LGSP_REDIS_REPLICA_PORT:-6381}
sentinel=${LGSP_SENTINEL_PORT:-26380}

rm -f "$run/token"
mkdir -p "$run/conf/keys" "$run/logs" "$run/tmp" "$run/run" \
         "$run/redis/primary" "$run/redis/replica"

# the SSO's key pair, made once, kept in the run folder only
if [ ! -f "$run/conf/keys/sso.key" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$run/conf/keys/sso.key" 2>/dev/null
    openssl pkey -in "$run/conf/keys/sso.key" -pubout \
        -out "$run/conf/keys/sso.pub"
fi

render() {
    sed -e "s|@MODULE@|$build/ngx_http_lgsp_module.so|g" -e "$unload" \
        -e "s|@DIR@|$run|g" -e "s|@NODE@|${3:-}|g" -e "s|@PORT@|${4:-}|g" \
        -e "s|@REDIS_PRIMARY_PORT@|$primary|g" \
        -e "s|@REDIS_REPLICA_PORT@|$replica|g" \
        -e "s|@SENTINEL_PORT@|$sentinel|g" "$1" > "$2"
}

render "$example/redis-primary.conf" "$run/conf/redis-primary.conf"
render "$example/redis-replica.conf" "$run/conf/redis-replica.conf"
render "$example/sentinel.conf" "$run/conf/sentinel.conf"
render "$example/nginx-node.conf" "$run/conf/node1.conf" node1 "$node1"
render "$example/nginx-node.conf" "$run/conf/node2.conf" node2 "$node2"

pids=()
stop() {
    trap - INT TERM EXIT
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "multi-node: stopped"
}
trap stop INT TERM EXIT

listening() {
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "multi-node: nothing listens on port $1; see $run/logs" >&2
    exit 1
}

redis-server "$run/conf/redis-primary.conf" >> "$run/logs/redis-primary.log" 2>&1 &
pids+=($!)
listening "$primary"
redis-server "$run/conf/redis-replica.conf" >> "$run/logs/redis-replica.log" 2>&1 &
pids+=($!)
listening "$replica"
redis-server "$run/conf/sentinel.conf" --sentinel \
    >> "$run/logs/sentinel.log" 2>&1 &
pids+=($!)
listening "$sentinel"

preload=${LGSP_PRELOAD:+LD_PRELOAD=$LGSP_PRELOAD}

for node in node1 node2; do
    env $preload "$nginx" -p "$run/" -c "conf/$node.conf" -t -q
    env $preload "$nginx" -p "$run/" -c "conf/$node.conf" -g 'daemon off;' &
    pids+=($!)
done
listening "$node1"
listening "$node2"

token=$("$repo/scripts/lgsp-token" --key "$run/conf/keys/sso.key" \
        --alg ES256 --kid sso-1 --agency 000.00.31.H29 \
        --iss https://sso.example.gov.vn --aud lgsp)
echo "$token" > "$run/token.new"
mv "$run/token.new" "$run/token"

cat <<EOT

Two LGSP nodes, 127.0.0.1:$node1 and 127.0.0.1:$node2, count one quota
(6 calls a day per agency) in Redis 127.0.0.1:$primary (primary) and
127.0.0.1:$replica (replica), watched by Sentinel on 127.0.0.1:$sentinel.
Run folder: $run

TOKEN=$token

Call each node in turn; the RateLimit header counts down across both:
  curl -si -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$node1/hotich/tracuu | grep -i ratelimit
  curl -si -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$node2/hotich/tracuu | grep -i ratelimit

Lose the primary, watch Sentinel promote the replica, call again:
  kill -9 \$(cat $run/run/redis-primary.pid)
  redis-cli -p $sentinel SENTINEL get-master-addr-by-name lgsp

Ctrl-C stops everything.
EOT

wait
