// The teacher attention's projections as plain fp64 matrices, the form every upcycling init
// (MLA, Mamba2, GDN) and the planner start from.
#pragma once
#include <ATen/ATen.h>

#include "core/model/layers.h"
#include "core/spec/mixers.h"

namespace hylo {

struct AttentionWeights {
  AttentionSettings settings;
  at::Tensor q;  // (H * D, C)
  at::Tensor k;  // (H_kv * D, C)
  at::Tensor v;  // (H_kv * D, C)
  at::Tensor o;  // (C, H * D)
};

// Qwen3's per-head q_norm / k_norm weights are folded into the q / k rows (diag(w) W); the
// per-token 1/rms factor cannot be expressed by a linear map and is left for distillation to
// recover. Qwen2's q/k/v biases are dropped for the same reason (the linear mixers have none).
AttentionWeights attention_weights(const AttentionMixer& attention);

}  // namespace hylo
