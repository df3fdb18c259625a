#!/bin/bash
# make deb: the Debian package libnginx-mod-http-lgsp, built by
# dpkg-buildpackage with Debian's tooling for nginx modules
# (dh-sequence-nginx from nginx-dev) in a copy of the tree,
# BUILD/deb/src; the .deb lands in BUILD/deb/ and its path is printed.
# A package newer than every file of the tree is kept as it is.
#   scripts/deb.sh [BUILD_DIR]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$repo/build}" && cd "${1:-$repo/build}" && pwd)
out=$build/deb

version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/libnginx-mod-http-lgsp_${version}_${arch}.deb

cd "$repo"
# the tree as it stands: tracked and new files, not the ignored ones
mapfile -t files < <(git ls-files -co --exclude-standard \
                     | while read -r f; do [ -f "$f" ] && echo "$f"; done)

if [ -f "$deb" ] \
   && [ -z "$(find "${files[@]}" -newer "$deb" -print -quit)" ]
then
    echo "$deb"
    exit 0
fi

rm -rf "$out/src"
mkdir -p "$out/src"
tar -cf - "${files[@]}" | tar -xf - -C "$out/src"

(cd "$out/src" && dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2
    echo "deb: dpkg-buildpackage failed, see $out/build.log" >&2
    exit 1
}

echo "$deb"
