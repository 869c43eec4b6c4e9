// One micro-batch of a stage: the frozen teacher's forward (no autograd), the student's forward
// (bf16 autocast and activation checkpointing on request), the stage's loss and its backward. The
// trainer and `hylo bench train` both run it.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model/hybrid_model.h"
#include "core/spec/recipe.h"

namespace hylo {

struct MicroStep {
  StageKind kind = StageKind::Kd;
  double temperature = 1.0;
  double ce_weight = 0.0;              // kd / long: CE beside the KL; pretrain is CE alone
  IldLoss ild_loss = IldLoss::L2;
  std::vector<int64_t> ild_layers;     // ild: the student layers that train
  int64_t loss_chunk_tokens = 0;       // 0: by memory (losses.h)
  bool bf16_autocast = false;
  bool recompute = false;              // activation checkpointing per layer (not for ild)
  double scale = 1.0;                  // the loss is multiplied by this before the backward (1/grad_accum)
};

// inputs, targets: (B, T) int64 on the models' device. Gradients accumulate into the student's
// parameters that require them; `metrics` gets scale * each loss ("loss", "loss/kd", "loss/ce",
// "loss/ild", "loss/ild/layer_<i>") added.
void forward_backward(HybridModel& student, HybridModel* teacher, const MicroStep& step, const at::Tensor& inputs,
                      const at::Tensor& targets, std::map<std::string, double>& metrics);

}  // namespace hylo
