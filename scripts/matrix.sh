#!/bin/bash
# make matrix: the module built with nginx from source and tested there.
# For each nginx-VERSION.tar.gz in TARBALL_DIR: nginx and the module as a
# dynamic module (--with-compat --add-dynamic-module); for the versions of
# MATRIX_STATIC (1.22.1), nginx with the module built in (--add-module).
# Each with each compiler of MATRIX_CC (gcc clang), under nginx's own
# warning flags and -Werror; then the tests (MATRIX_TESTS, default t/*.t)
# against that nginx (LGSP_NGINX, LGSP_STATIC).  Prints a summary, also
# kept in OUT_DIR/summary.txt; fails when a build or a test does.
#   scripts/matrix.sh [TARBALL_DIR [OUT_DIR]]
# MATRIX_JOBS: make's -j (2).
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tarballs=${1:-$repo/../shared/nginx-src}
out=${2:-$repo/build-matrix}
compilers=${MATRIX_CC:-gcc clang}
static=${MATRIX_STATIC:-1.22.1}
jobs=${MATRIX_JOBS:-2}

# the nginx modules the tests use, beside the always-built ones
flags="--with-threads --with-http_ssl_module --with-http_v2_module
       --with-http_auth_request_module --with-http_realip_module
       --with-http_stub_status_module --with-pcre-jit"

shopt -s nullglob
sources=("$tarballs"/nginx-*.tar.gz)

if [ ${#sources[@]} = 0 ]; then
    echo "matrix: no nginx-*.tar.gz in $tarballs: skipped"
    exit 0
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
summary=$out/summary.txt
: > "$summary"
failed=0

cd "$repo"
tests=(${MATRIX_TESTS:-t/*.t})


# one build, its tests, its line in the summary
#   run VERSION TARBALL dynamic|static CC
run() {
    local version=$1 tarball=$2 kind=$3 cc=$4
    local dir=$out/$version-$kind-$cc
    local src=$dir/nginx-$version
    local add cc_version result env

    cc_version=$($cc -dumpversion)
    echo "matrix: nginx $version, $kind, $cc $cc_version: building in $dir"

    rm -rf "$dir"
    mkdir -p "$src"
    tar -xzf "$tarball" -C "$src" --strip-components=1

    if [ "$kind" = dynamic ]; then
        add="--with-compat --add-dynamic-module=$repo"
        env=(LGSP_MODULE="$src/objs/ngx_http_lgsp_module.so")
    else
        add="--add-module=$repo"
        env=(LGSP_STATIC=1 LGSP_MODULE="$dir/ngx_http_lgsp_module.so")
    fi

    if ! (cd "$src" && auto/configure --with-cc="$cc" --with-cc-opt=-Werror \
              $flags $add) > "$dir/configure.log" 2>&1
    then
        result="configure FAILED (see $dir/configure.log)"
    elif ! make -j"$jobs" -C "$src" > "$dir/make.log" 2>&1; then
        result="build FAILED (see $dir/make.log)"
    else
        env LGSP_NGINX="$src/objs/nginx" "${env[@]}" \
            prove "${tests[@]}" > "$dir/prove.log" 2>&1
        result=$(grep -E '^(Files=|Result:)' "$dir/prove.log" \
                 | sed 's/, *[0-9]* wallclock.*//' | paste -sd ' ')
        [ -n "$result" ] || result="tests FAILED (see $dir/prove.log)"
        grep -q '^Result: PASS' "$dir/prove.log" \
            || result="$result (see $dir/prove.log)"
    fi

    case $result in *PASS) ;; *) failed=1 ;; esac

    printf 'nginx %-7s %-8s %-6s %-7s %s\n' "$version" "$kind" "$cc" \
        "$cc_version" "$result" | tee -a "$summary"
}


for tarball in "${sources[@]}"; do
    version=${tarball##*/nginx-}
    version=${version%.tar.gz}

    for cc in $compilers; do
        run "$version" "$tarball" dynamic "$cc"

        case " $static " in
            *" $version "*) run "$version" "$tarball" static "$cc" ;;
        esac
    done
done

echo
echo "matrix: summary ($summary)"
cat "$summary"

exit $failed
