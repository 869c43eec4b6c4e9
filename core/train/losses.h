// Training objectives computed from hidden states.
//
// distill_loss: next-token CE and KD (KL(teacher || student) at temperature T, scaled by T^2) taken
// from the final hidden states, a chunk of tokens at a time: only (chunk, V) logits ever exist, in
// the forward and in the backward. The gradients are formed chunk by chunk during the forward pass
// (the softmax is at hand there) and scaled by the incoming gradient in the backward. The logits
// and their gradient are in the matmul dtype (bf16 under autocast, as the lm_head's output would
// be), the softmax maths per row in fp32 (distill_rows: one fused pass on GPUs).
//
// ild_loss: intermediate-layer distillation, sum over layers of d(h_s, h_t) + d(a_s, a_t) for the
// layer outputs h and the mixer outputs a.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "core/model/fused_ops.h"
#include "core/spec/recipe.h"

namespace hylo {

struct DistillInputs {
  at::Tensor student_hidden;  // (N, C), differentiable
  at::Tensor student_head;    // (V, C) lm_head weight, differentiable when it trains
  at::Tensor teacher_hidden;  // (N, C) or undefined (no KD term)
  at::Tensor teacher_head;    // (V, C) or undefined
  at::Tensor targets;         // (N) int64 next tokens; undefined when ce_weight == 0
  double temperature = 1.0;
  double kd_weight = 1.0;     // weight of T^2 * KL
  double ce_weight = 0.0;     // weight of CE
  int64_t chunk_tokens = 0;   // tokens per chunk; 0: as many as keep one (chunk, V) logits tensor
                              // <= 1 GiB on GPUs, <= 256 MiB on the CPU
};

struct DistillLoss {
  at::Tensor loss;  // kd_weight * kd + ce_weight * ce, differentiable; scalar fp32
  double kd = 0;    // mean over tokens of T^2 * KL(p_t || q_s)  (0 without a teacher)
  double ce = 0;    // mean over tokens of -log q_s(target)  (0 without targets)
};

DistillLoss distill_loss(const DistillInputs& in);

// The loss of each row of logits and its gradient, in fp32 (one fused kernel on GPUs):
//   kd[r] = T^2 KL(softmax(zt/T) || softmax(zs/T))            (zt defined)
//   ce[r] = -log softmax(zs)[target]                           (targets defined)
//   grad  = kd_coef (softmax(zs/T) - softmax(zt/T)) + ce_coef (softmax(zs) - onehot(target))
// zs, zt: (rows, V) of one dtype; grad in that dtype, undefined unless `want_grad`.
struct DistillRows {
  at::Tensor grad, kd, ce;
};
DistillRows distill_rows(const at::Tensor& zs, const at::Tensor& zt, const at::Tensor& targets, double temperature,
                         double kd_coef, double ce_coef, bool want_grad, OpPath path = OpPath::Auto);

// The per-layer term: l2 = mean over tokens of ||x - y||_2 (over the channel dim);
// l2_squared = mean over all elements of (x - y)^2.
at::Tensor ild_distance(const at::Tensor& x, const at::Tensor& y, IldLoss kind);

}  // namespace hylo
