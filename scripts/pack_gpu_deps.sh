#!/usr/bin/env bash
# The GPU machine (Ubuntu 24.04, LibTorch 2.11, no network) lacks the small C/C++ libraries the core
# uses. This packs Debian 12's builds of them (headers + shared libraries, ~40 MB) into ./.dev, which
# device runs carry; configure there with -DHYLO_DEPS_PREFIX=$PWD/.dev (see cmake/prefix_deps.cmake).
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
du -sh .dev
