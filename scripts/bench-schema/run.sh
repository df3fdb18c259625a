#!/bin/sh
# The JSON Schema micro-benchmark: validation alone, in one run, of the
# same draft-07 schema and instances by lgsp_schema (C), ajv 6 (Debian's
# node-ajv) and python3-jsonschema.  lgsp and ajv run in interleaved
# rounds and the best round of each counts, so a busy machine hurts both
# alike.  Prints ops/s and the ratios.
#   run.sh BENCH_BINARY     (BENCH_SECONDS per case and round, BENCH_ROUNDS)
set -eu

bin=$1
seconds=${BENCH_SECONDS:-0.5}
rounds=${BENCH_ROUNDS:-8}
dir=$(dirname "$0")
schema=$dir/khaisinh.schema.json
instances="$dir/khaisinh.valid.json $dir/khaisinh.invalid.json"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "schema: $(basename "$schema") (draft-07); instances of" \
     "$(wc -c < "$dir/khaisinh.valid.json") bytes;" \
     "$rounds rounds of $seconds s per case, best round counts"

i=0
while [ "$i" -lt "$rounds" ]; do
    "$bin" "$seconds" "$schema" $instances >> "$out/lgsp"
    NODE_PATH=/usr/share/nodejs node "$dir/bench-ajv.js" "$seconds" \
        "$schema" $instances >> "$out/ajv"
    "$bin" -e "$seconds" "$schema" $instances >> "$out/lgsp-errors"
    i=$((i + 1))
done

python3 "$dir/bench-jsonschema.py" 2 "$schema" $instances > "$out/jsonschema"

# per case: the best ops/s, and the validity answer, which must agree
for f in lgsp lgsp-errors ajv jsonschema; do
    awk '{ if (!($1 in best) || $2 > best[$1]) best[$1] = $2; v[$1] = $3 }
         END { for (c in best) print c, best[c], v[c] }' "$out/$f" \
    | sort > "$out/$f.best"
done

for f in lgsp-errors ajv jsonschema; do
    if ! awk '{ print $1, $3 }' "$out/lgsp.best" \
         | cmp -s - "$(awk '{ print $1, $3 }' "$out/$f.best" > "$out/v"; \
                      echo "$out/v")"
    then
        echo "bench-schema: $f disagrees on validity:" >&2
        cat "$out/lgsp.best" "$out/$f.best" >&2
        exit 1
    fi
done

printf '\n%-32s %11s %11s %11s %11s %9s %8s\n' case "lgsp ops/s" \
       "+errors" "ajv ops/s" "jsonschema" "lgsp/ajv" "lgsp/py"

paste "$out/lgsp.best" "$out/lgsp-errors.best" "$out/ajv.best" \
      "$out/jsonschema.best" \
| awk '{ printf "%-32s %11d %11d %11d %11d %8.2fx %7.0fx\n",
         $1 " (" $3 ")", $2, $5, $8, $11, $2 / $8, $2 / $11 }'
