#!/bin/sh
# The conversion micro-benchmark: conversion alone, in one run, of the same
# 2 KB JSON request (conf/schemas/khaisinh.example.json) into a SOAP 1.1
# envelope and of the same 4 KB SOAP answer (answer.xml) into JSON, by
# lgsp_xml (C), Python's xml.etree + json, and fast-xml-parser 4 (npm,
# installed into BUILD/bench-convert, never globally; skipped when npm
# cannot fetch it).  Rounds interleave, the best round of each counts.
#   run.sh BENCH_BINARY BUILD_DIR   (BENCH_SECONDS per case and round,
#                                    BENCH_ROUNDS)
set -eu

bin=$1
build=$2
seconds=${BENCH_SECONDS:-0.5}
rounds=${BENCH_ROUNDS:-5}
dir=$(dirname "$0")
request=$dir/../../conf/schemas/khaisinh.example.json
answer=$dir/answer.xml
modules=$build/bench-convert/node_modules
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -d "$modules/fast-xml-parser" ]; then
    npm install --prefix "$build/bench-convert" --no-audit --no-fund \
        --silent fast-xml-parser@4 >/dev/null 2>&1 \
        || echo "bench-convert: npm could not install fast-xml-parser;" \
                "comparing with Python alone" >&2
fi

echo "request $(wc -c < "$request") bytes of JSON, answer $(wc -c < "$answer")" \
     "bytes of SOAP; $rounds rounds of $seconds s per case, best round counts"

i=0
while [ "$i" -lt "$rounds" ]; do
    "$bin" "$seconds" "$request" "$answer" "$dir/answer.schema.json" \
        >> "$out/lgsp"
    python3 "$dir/bench-etree.py" "$seconds" "$request" "$answer" \
        >> "$out/etree"
    if [ -d "$modules/fast-xml-parser" ]; then
        NODE_PATH=$modules node "$dir/bench-fxp.js" "$seconds" "$request" \
            "$answer" >> "$out/fxp"
    else
        printf 'json_to_soap 0\nsoap_to_json 0\n' >> "$out/fxp"
    fi
    i=$((i + 1))
done

for f in lgsp etree fxp; do
    awk '{ if (!($1 in best) || $2 > best[$1]) best[$1] = $2 }
         END { for (c in best) print c, best[c] }' "$out/$f" \
    | sort > "$out/$f.best"
done

printf '\n%-20s %11s %11s %11s %9s %9s\n' case "lgsp ops/s" "etree ops/s" \
       "fxp ops/s" "lgsp/py" "lgsp/fxp"

join -a 1 "$out/lgsp.best" "$out/etree.best" \
| join -a 1 - "$out/fxp.best" \
| awk '{ py = $3 == "" ? "-" : $3; fxp = $4 == "" ? "-" : $4
         printf "%-20s %11d %11s %11s %8s %8s\n", $1, $2, py, fxp,
                ($3 > 0 ? sprintf("%.1fx", $2 / $3) : "-"),
                ($4 > 0 ? sprintf("%.1fx", $2 / $4) : "-") }'
