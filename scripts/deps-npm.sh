#!/bin/sh
# Installs the npm packages the tests use (oidc-provider, the real SSO of
# t/oidc.t) into BUILD/npm, exactly as t/oidc/package-lock.json pins them:
# never globally.  Called by scripts/deps.sh.
#   scripts/deps-npm.sh [BUILD_DIR]       default: build
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
npm_dir=${1:-$repo/build}/npm

if [ -f "$npm_dir/node_modules/.package-lock.json" ] \
   && cmp -s "$repo/t/oidc/package-lock.json" "$npm_dir/package-lock.json"
then
    exit 0
fi

mkdir -p "$npm_dir"
cp "$repo/t/oidc/package.json" "$repo/t/oidc/package-lock.json" "$npm_dir/"

# a test dependency: without it t/oidc.t skips, the build goes on
if ! npm ci --prefix "$npm_dir" --no-audit --no-fund --loglevel=error; then
    echo "deps: npm ci in $npm_dir failed: t/oidc.t will skip" >&2
fi
