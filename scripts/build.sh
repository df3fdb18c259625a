#!/bin/bash
# Builds ngx_http_lgsp_module.so against Debian's nginx build tree
# (nginx-dev), with the flags Debian's nginx was configured with.
#   scripts/build.sh [BUILD_DIR]      default: build
# EXTRA_CFLAGS / EXTRA_LDFLAGS add to the compiler and linker flags
# (sanitizer builds use them with their own BUILD_DIR).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$repo/build}" && cd "${1:-$repo/build}" && pwd)
src=/usr/share/nginx/src
tree=$build/nginx

if [ ! -f "$src/conf_flags" ]; then
    echo "build: $src/conf_flags not found: install nginx-dev" >&2
    exit 1
fi

cc_opt="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
cc_opt="$cc_opt -fPIC -D_FORTIFY_SOURCE=2 ${EXTRA_CFLAGS:-}"
ld_opt="-Wl,-z,relro -Wl,-z,now -fPIC ${EXTRA_LDFLAGS:-}"
stamp="$(cat "$src/conf_flags" "$repo/config") $cc_opt $ld_opt"

if [ ! -f "$tree/objs/Makefile" ] \
   || [ "$(cat "$tree/.lgsp-configured" 2>/dev/null)" != "$stamp" ]
then
    rm -rf "$tree"
    cp -r "$src" "$tree"
    . "$src/conf_flags"
    (cd "$tree" && ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" \
        --add-dynamic-module="$repo" > "$build/configure.log" 2>&1) || {
        tail -30 "$build/configure.log" >&2
        exit 1
    }
    printf '%s' "$stamp" > "$tree/.lgsp-configured"
fi

make -s -C "$tree" -f objs/Makefile modules
cp "$tree/objs/ngx_http_lgsp_module.so" "$build/ngx_http_lgsp_module.so"
