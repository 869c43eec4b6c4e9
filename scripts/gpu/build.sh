# Sourced at the start of a GPU-machine command (device runs carry .gpu/, which
# scripts/pack_gpu_deps.sh fills): unpacks the C/C++ dependencies and the Brown corpus into .dev/,
# then builds build/app/hylo (Release, -g1 for readable stacks, the CUDA kernels for sm_90a) against
# the machine's LibTorch, or
# unpacks .gpu/hylo.xz, a binary an earlier command built and sent back, when there is one and
# .gpu/rebuild is absent. The binary is xz-packed into $OUT/hylo.xz, for the next command to carry.
# HYLO_COMMIT (results' provenance: the tree travels without .git) comes from .gpu/commit.
export LD_LIBRARY_PATH=$PWD/.dev/lib:${LD_LIBRARY_PATH:-}
export HYLO_COMMIT=$(cat .gpu/commit 2>/dev/null || echo unknown)
tar -xJf .gpu/devdeps.tar.xz && tar -xJf .gpu/brown.tar.xz || { echo "no .gpu/*.tar.xz: run scripts/pack_gpu_deps.sh"; exit 1; }
T0=$(date +%s)
if [[ -f .gpu/hylo.xz && ! -f .gpu/rebuild ]]; then
  mkdir -p build/app && xz -dc .gpu/hylo.xz > build/app/hylo && chmod +x build/app/hylo
else
  TP=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g1 -DHYLO_GUI=OFF -DHYLO_TESTS=OFF \
    -DHYLO_PCH=ON -DHYLO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
    -DCMAKE_CUDA_COMPILER=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc) -DHYLO_DEPS_PREFIX=$PWD/.dev -DCMAKE_PREFIX_PATH=$TP > $OUT/configure.log 2>&1 || { tail -30 $OUT/configure.log; exit 1; }
  cmake --build build -j16 --target hylo > $OUT/build.log 2>&1 || { grep -B5 -A20 error $OUT/build.log | head -80; exit 1; }
  xz -T16 -2 -c build/app/hylo > $OUT/hylo.xz
fi
echo "build: $(( $(date +%s) - T0 )) s"; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
