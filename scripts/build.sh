#!/usr/bin/env bash
# Configures and builds into ./build (Ninja, ccache, Release). Extra args go to cmake configure.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${HYLO_BUILD_DIR:-build}"
export CCACHE_BASEDIR="$(pwd)"  # cache hits across checkouts/worktrees
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
GUI=ON; [[ "${HYLO_NO_GUI:-0}" == 1 ]] && GUI=OFF
if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHYLO_GUI=$GUI "$@"
fi
jobs=$(nproc)
# LibTorch TUs need ~1.5 GiB each: cap parallel jobs by memory.
mem_jobs=$(( $(awk '/MemAvailable/ {print int($2/1572864)}' /proc/meminfo) ))
(( mem_jobs < 1 )) && mem_jobs=1
(( jobs > mem_jobs )) && jobs=$mem_jobs
cmake --build "$BUILD" -j "$jobs"
