#!/usr/bin/env bash
# Compiles every GPU kernel source (kernels/*.cu) into a temporary folder, warnings as errors: with
# hipcc for AMD gfx90a (MI200) and gfx940, or with nvcc for sm_80 and sm_90a. No GPU is needed:
# this is how the HIP side of kernels/ is checked (CTest `kernels_hipcc`; there is no AMD hardware).
#   scripts/compile_kernels.sh hipcc|nvcc
set -euo pipefail
cd "$(dirname "$0")/.."
compiler="${1:?usage: $0 hipcc|nvcc}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for src in kernels/*.cu; do
  name=$(basename "$src" .cu)
  case "$compiler" in
    hipcc) hipcc -std=c++17 -x hip --offload-arch=gfx90a --offload-arch=gfx940 -Werror -I. -c "$src" -o "$out/$name.o" ;;
    nvcc) "${NVCC:-nvcc}" -std=c++17 -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a \
            --use_fast_math -Werror all-warnings -I. -c "$src" -o "$out/$name.o" ;;
    *) echo "compile_kernels.sh: unknown compiler '$compiler' (hipcc or nvcc)" >&2; exit 2 ;;
  esac
  echo "$compiler: $src ok"
done
