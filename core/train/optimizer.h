// AdamW (Loshchilov & Hutter, arXiv 1711.05101: weight decay decoupled from the gradient) over
// named parameters, with its state as named tensors for checkpoints, and clipping by global norm.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/model/fused_ops.h"

namespace hylo {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Norm weights and biases (tensors of one dimension) take no weight decay.
bool takes_weight_decay(const std::string& name, const at::Tensor& p);

class AdamW {
 public:
  explicit AdamW(NamedTensors params, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8);

  // One update with the gradients the parameters hold (a parameter without one is left alone).
  void step(double lr, double weight_decay);
  // Kernel: LibTorch's fused multi-tensor AdamW (one pass over parameters, gradients and moments;
  // LibTorch 2, CUDA, fp32 parameters and gradients), else a ModelError. Auto: the fused update
  // where it applies, else the reference (per-tensor LibTorch ops; the CPU's bit-exact resumes).
  OpPath path = OpPath::Auto;
  void zero_grad();
  int64_t steps() const { return steps_; }
  const NamedTensors& params() const { return params_; }

  // "step", "exp_avg.<name>", "exp_avg_sq.<name>" (fp32, on the CPU).
  NamedTensors state() const;
  // Restores what state() gave; a missing tensor or another shape is a TrainError naming it and `file`.
  void load_state(const NamedTensors& state, const std::string& file);

 private:
  // Whether the fused update can run (empty) or why not.
  std::string fused_blocker() const;
  void fused_step(double lr, double weight_decay);
  void reference_step(double lr, double weight_decay);

  NamedTensors params_;
  at::Tensor step_count_;  // the fused update reads the step from a device tensor
  std::vector<at::Tensor> exp_avg_, exp_avg_sq_;  // fp32, as the parameters
  double beta1_, beta2_, eps_;
  int64_t steps_ = 0;
};

// Scales every gradient so that their joint L2 norm is at most max_norm (0: no clipping).
// Returns the norm before clipping.
double clip_grad_norm(const NamedTensors& params, double max_norm);

}  // namespace hylo
