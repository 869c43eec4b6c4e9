// Small tensor helpers of the Gated DeltaNet layer, shared by its sequence path
// (core/model/gated_deltanet.cpp) and the reference of its fused decoding step (core/model/fused_ops.cpp).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace hylo {

// (B, T, n_src, D) -> (B, T, n, D): head i reads key head i / (n / n_src) (Qwen3-Next's repeat_interleave).
inline at::Tensor repeat_heads(const at::Tensor& t, int64_t n) {
  const int64_t B = t.size(0), T = t.size(1), src = t.size(2), D = t.size(3);
  if (src == n) return t;
  return t.unsqueeze(3).expand({B, T, src, n / src, D}).reshape({B, T, n, D});
}

// x / sqrt(sum x^2 + eps) over the last dim, in fp32 (fp64 for fp64 inputs).
inline at::Tensor l2_normalize(const at::Tensor& x) {
  const auto cd = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  auto xf = x.to(cd);
  return xf * at::rsqrt(xf.pow(2).sum(-1, /*keepdim=*/true) + 1e-6);
}

// The gates from the a_proj / b_proj outputs, in the compute dtype `cd`: g = -exp(A_log) softplus(a +
// dt_bias) (log decay, <= 0) and beta = sigmoid(b).
struct GdnGates {
  at::Tensor g, beta;
};
inline GdnGates gdn_gates(const at::Tensor& a, const at::Tensor& b, const at::Tensor& A_log, const at::Tensor& dt_bias,
                          at::ScalarType cd) {
  return {-at::exp(A_log.to(cd)) * at::softplus(a.to(cd) + dt_bias.to(cd)), at::sigmoid(b.to(cd))};
}

}  // namespace hylo
