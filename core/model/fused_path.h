// How a fused op picks between its GPU kernel and its LibTorch reference, shared by the .cpp files
// that wrap kernels/ for tensors (fused_ops.cpp, ssd_pieces.cpp, core/train/losses.cpp).
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <initializer_list>
#include <string>

#include "core/model/fused_ops.h"
#include "core/spec/error.h"

#if defined(HYLO_HAVE_KERNELS)
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/kernels.h"
#endif

namespace hylo::fused {

// Why the kernel cannot run, or empty when it can: the conditions every kernel shares. The kernels
// have no autograd of their own: they serve inference and hand-written backward passes.
inline std::string common_blockers(std::initializer_list<const at::Tensor*> tensors) {
#if defined(HYLO_HAVE_KERNELS)
  for (const at::Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!t->is_cuda()) return "a tensor is not on a GPU";
    if (at::GradMode::is_enabled() && t->requires_grad()) return "a tensor needs gradients (the kernels have no autograd)";
  }
  return {};
#else
  (void)tensors;
  return "this build has no GPU kernels (configure with -DHYLO_CUDA=ON)";
#endif
}

inline bool kernel_dtype(at::ScalarType t) { return t == at::kFloat || t == at::kHalf || t == at::kBFloat16; }

// Picks the path: the reference when asked or when `blocker` is not empty under Auto; a ModelError
// naming `op` and the blocker when the kernel was demanded.
inline bool use_kernel(OpPath path, const std::string& blocker, const char* op) {
  if (path == OpPath::Reference || (path == OpPath::Auto && reference_ops_only())) return false;
  if (blocker.empty()) return true;
  if (path == OpPath::Kernel) throw ModelError(std::string(op) + ": the GPU kernel cannot run: " + blocker);
  return false;
}

#if defined(HYLO_HAVE_KERNELS)
inline kernels::DType to_kernel_dtype(at::ScalarType t) {
  return t == at::kFloat ? kernels::DType::F32 : t == at::kHalf ? kernels::DType::F16 : kernels::DType::BF16;
}
inline void* stream_of(const at::Tensor& t) { return c10::cuda::getCurrentCUDAStream(t.device().index()).stream(); }
inline void check_launch(const char* error, const char* op) {
  if (error) throw ModelError(std::string(op) + ": kernel launch failed: " + error);
}
#endif

}  // namespace hylo::fused
