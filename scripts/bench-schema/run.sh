#!/bin/sh
# The JSON Schema micro-benchmark: validation alone, in one run, of the
# same draft-07 schema and instances by lgsp_schema (C), ajv 6 (Debian's
# node-ajv) and python3-jsonschema.  Prints ops/s and the ratios.
#   run.sh BENCH_BINARY [SECONDS]
set -eu

bin=$1
seconds=${2:-${BENCH_SECONDS:-3}}
dir=$(dirname "$0")
schema=$dir/khaisinh.schema.json
instances="$dir/khaisinh.valid.json $dir/khaisinh.invalid.json"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "schema: $(basename "$schema") (draft-07); $seconds s per case;" \
     "instances of $(wc -c < "$dir/khaisinh.valid.json") bytes"

"$bin" "$seconds" "$schema" $instances > "$out/lgsp"
"$bin" -e "$seconds" "$schema" $instances > "$out/lgsp-errors"
NODE_PATH=/usr/share/nodejs node "$dir/bench-ajv.js" "$seconds" "$schema" $instances > "$out/ajv"
python3 "$dir/bench-jsonschema.py" "$seconds" "$schema" $instances \
    > "$out/jsonschema"

# every implementation must agree on what is valid
for f in lgsp-errors ajv jsonschema; do
    if ! awk '{ print $1, $3 }' "$out/$f" \
         | cmp -s - "$(awk '{ print $1, $3 }' "$out/lgsp" > "$out/v"; \
                      echo "$out/v")"
    then
        echo "bench-schema: $f disagrees on validity:" >&2
        cat "$out/lgsp" "$out/$f" >&2
        exit 1
    fi
done

printf '\n%-24s %12s %12s %12s %12s %9s %9s\n' case "lgsp ops/s" \
       "+errors" "ajv ops/s" "jsonschema" "lgsp/ajv" "lgsp/py"

paste "$out/lgsp" "$out/lgsp-errors" "$out/ajv" "$out/jsonschema" \
| awk '{ printf "%-24s %12d %12d %12d %12d %8.2fx %8.0fx\n",
         $1 " (" $3 ")", $2, $5, $8, $11, $2 / $8, $2 / $11 }'
