// The GPU kernels behind core/model/fused_ops.h (and the trainer's fused AdamW, core/train/optimizer.h)
// against their LibTorch references on the same random inputs: accuracy (each path against an fp64
// run of the reference) and speed (their ratio), at the sizes of the HyLo students. Used by
// `hylo bench kernels` and tests/core/test_fused_ops_gpu.cpp.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hylo {

struct KernelCheck {
  std::string op, shape;
  double kernel_error = 0, reference_error = 0;  // max |path - fp64 reference| over every output
  double tolerance = 0;                          // 2x the reference's own error + a small floor
  double kernel_ms = 0, reference_ms = 0;        // per call, averaged
  bool passed() const { return kernel_error <= tolerance; }
};

struct KernelBenchOptions {
  at::Device device = at::Device(at::kCUDA, 0);
  at::ScalarType dtype = at::kBFloat16;
  int64_t iterations = 20;  // timed calls per path
  bool long_context = true; // also MLA decode over 512K cached tokens
  uint64_t seed = 0;
};

// Needs a GPU build (gpu_kernels_built()) and a CUDA device; otherwise a ModelError.
std::vector<KernelCheck> check_kernels(const KernelBenchOptions& options);

}  // namespace hylo
