#!/bin/bash
# Builds ngx_http_lgsp_module.so against an nginx source tree: by default
# Debian's (nginx-dev), with the flags Debian's nginx was configured with.
#   scripts/build.sh [BUILD_DIR]      default: build
# NGINX_SRC: the nginx source tree (default /usr/share/nginx/src).  With
# its conf_flags (Debian's) the module is configured with those flags;
# without, with --with-compat and NGINX_CONF_FLAGS (that nginx's own
# configure arguments: the module must match the nginx that loads it).
# EXTRA_CFLAGS / EXTRA_LDFLAGS add to the compiler and linker flags
# (sanitizer builds use them with their own BUILD_DIR).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$repo/build}" && cd "${1:-$repo/build}" && pwd)
src=${NGINX_SRC:-/usr/share/nginx/src}
tree=$build/nginx
module=ngx_http_lgsp_module.so

if [ -f "$src/configure" ]; then
    configure=./configure
elif [ -f "$src/auto/configure" ]; then
    configure=auto/configure        # a git tree of nginx
else
    echo "build: no nginx source tree in $src: install nginx-dev," \
         "or name one with NGINX_SRC=..." >&2
    exit 1
fi

if [ -f "$src/conf_flags" ]; then
    . "$src/conf_flags"
else
    read -r -a NGX_CONF_FLAGS <<< "--with-compat ${NGINX_CONF_FLAGS:-}"
fi

cc_opt="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
cc_opt="$cc_opt -fPIC -D_FORTIFY_SOURCE=2 ${EXTRA_CFLAGS:-}"
ld_opt="-Wl,-z,relro -Wl,-z,now -fPIC ${EXTRA_LDFLAGS:-}"
stamp="$src ${NGX_CONF_FLAGS[*]} $(cat "$repo/config") $cc_opt $ld_opt"

if [ ! -f "$tree/objs/Makefile" ] \
   || [ "$(cat "$tree/.lgsp-configured" 2>/dev/null)" != "$stamp" ]
then
    rm -rf "$tree"
    cp -r "$src" "$tree"
    (cd "$tree" && $configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" \
        --add-dynamic-module="$repo" > "$build/configure.log" 2>&1) || {
        tail -30 "$build/configure.log" >&2
        exit 1
    }
    printf '%s' "$stamp" > "$tree/.lgsp-configured"
fi

make -s -C "$tree" -f objs/Makefile modules

# A running nginx maps the installed module: writing into that file would
# change the code under its workers (SIGBUS, SIGSEGV).  A new module goes
# into a new file, renamed over the old name; an unchanged one stays.
if ! cmp -s "$tree/objs/$module" "$build/$module"; then
    tmp=$(mktemp "$build/.$module.XXXXXX")
    trap 'rm -f "$tmp"' EXIT
    cp "$tree/objs/$module" "$tmp"
    chmod 755 "$tmp"
    mv -f "$tmp" "$build/$module"
fi
