// Shared helpers of the chunked sequence ops (ops_reference.cpp, ssd_chunked.cpp): padding the time
// axis to whole chunks, moving chunks next to the heads, checking initial states.
#pragma once
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "core/spec/error.h"

namespace hylo::ops {

// fp64 stays fp64 (finite-difference tests); everything else computes in fp32.
inline at::ScalarType compute_dtype(const at::Tensor& t) {
  return t.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

inline void require(bool ok, const std::string& what) {
  if (!ok) throw ModelError(what, {}, "ops");
}

// (B, T, G, N) -> (B, T, H, N): head h reads group h / (H / G).
inline at::Tensor groups_to_heads(const at::Tensor& t, int64_t H) {
  const int64_t G = t.size(-2);
  if (G == H) return t;
  auto sizes = t.sizes().vec();
  auto expanded = sizes;
  expanded.insert(expanded.end() - 1, H / G);  // (..., G, rep, N)
  auto shaped = t.unsqueeze(-2).expand(expanded);
  sizes[sizes.size() - 2] = H;
  return shaped.reshape(sizes);
}

// Pads dim 1 (time) of a (B, T, ...) tensor with zeros up to `len`.
inline at::Tensor pad_time(const at::Tensor& t, int64_t len) {
  const int64_t extra = len - t.size(1);
  if (extra == 0) return t;
  std::vector<int64_t> pad(2 * (t.dim() - 1), 0);  // pairs from the last dim backwards
  pad.back() = extra;
  return at::constant_pad_nd(t, pad, 0);
}

// (B, nc*L, H, D) -> (B, H, nc, L, D), or (B, nc*L, H) -> (B, H, nc, L).
inline at::Tensor to_chunks(const at::Tensor& t, int64_t L) {
  const int64_t B = t.size(0), nc = t.size(1) / L, H = t.size(2);
  if (t.dim() == 3) return t.reshape({B, nc, L, H}).permute({0, 3, 1, 2});
  return t.reshape({B, nc, L, H, t.size(3)}).permute({0, 3, 1, 2, 4});
}

// (B, H, nc, L, D) -> (B, T, H, D) keeping the first T tokens.
inline at::Tensor from_chunks(const at::Tensor& t, int64_t T) {
  const int64_t B = t.size(0), H = t.size(1), nc = t.size(2), L = t.size(3), D = t.size(4);
  return t.permute({0, 2, 3, 1, 4}).reshape({B, nc * L, H, D}).narrow(1, 0, T);
}

inline at::Tensor state_or_zeros(const at::Tensor& state, at::IntArrayRef sizes, const at::TensorOptions& opts) {
  if (!state.defined()) return at::zeros(sizes, opts);
  require(state.sizes() == sizes, "initial state has shape " + c10::str(state.sizes()) + ", expected " +
                                      c10::str(sizes));
  return state.to(opts.dtype());
}

}  // namespace hylo::ops
