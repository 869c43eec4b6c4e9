// RMSNorm with a multiplicative SiLU gate, the output norm of Mamba2 and Gated DeltaNet, over
// groups of group_size channels. Mamba2 (HF) gates first and normalises all of d_inner; Gated
// DeltaNet (Qwen3-Next) normalises each head and gates after.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cstdint>

#include "core/model/fused_ops.h"

namespace hylo {

class GatedRMSNorm : public torch::nn::Module {
 public:
  GatedRMSNorm(int64_t dim, int64_t group_size, double eps, bool gate_before_norm)
      : group_size_(group_size), eps_(eps), gate_before_norm_(gate_before_norm) {
    weight = register_parameter("weight", at::ones({dim}));
  }

  // x, gate: (..., dim) -> (..., dim) in x's dtype; the maths in fp32 (fp64 for fp64 inputs).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& gate) {
    return gated_rms_norm(x, gate, weight, eps_, group_size_, gate_before_norm_);
  }

  at::Tensor weight;  // (dim)

 private:
  int64_t group_size_;
  double eps_;
  bool gate_before_norm_;
};

}  // namespace hylo
