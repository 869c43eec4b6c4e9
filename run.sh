#!/usr/bin/env bash
# Installs what is missing (apt), builds, and opens the workbench on the bundled demo project.
#   ./run.sh             the GUI (needs a display; under SSH use ./run.sh --headless)
#   ./run.sh --headless  the demo pipeline in the terminal: upcycle -> distil -> NIAH -> table
set -euo pipefail
cd "$(dirname "$0")"
HEADLESS=0
for a in "$@"; do [[ "$a" == --headless ]] && HEADLESS=1; done
if [[ $HEADLESS == 1 ]]; then export HYLO_NO_GUI=${HYLO_NO_GUI:-0}; fi
scripts/install_deps.sh
scripts/build.sh
BIN="${HYLO_BUILD_DIR:-build}/app"
if [[ $HEADLESS == 1 ]]; then
  exec "$BIN/hylo" demo --project projects/demo
fi
if [[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  echo "No display found: run ./run.sh --headless for the terminal demo, or start an X session." >&2
  exit 1
fi
exec "$BIN/hylo-workbench" --project projects/demo
