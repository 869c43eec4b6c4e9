#include "core/upcycle/mla_init.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/spec/error.h"

namespace hylo {
namespace {

at::Tensor index_of(const std::vector<int64_t>& dims) {
  return at::tensor(std::vector<int64_t>(dims), at::kLong);
}

// W (heads * D, C) -> the same rows with every head's dims in `order`: (heads, order.size(), C).
at::Tensor permute_heads(const at::Tensor& w, int64_t heads, const std::vector<int64_t>& order) {
  return w.view({heads, -1, w.size(1)}).index_select(1, index_of(order));
}

struct KvParts {
  at::Tensor stacked;  // (H_kv * (nope + v), C): kv_b_proj's row layout, per head [k_nope ; v]
  at::Tensor rope;     // (H_kv, rope, C): the teacher's key rows MLA rotates
};

KvParts kv_parts(const AttentionWeights& w, const MlaSettings& s) {
  const auto& a = w.settings;
  auto k = permute_heads(w.k, a.num_kv_heads, mla_dim_order(a.head_dim, s.qk_rope_head_dim));
  auto v = w.v.view({a.num_kv_heads, a.head_dim, -1});
  auto stacked = at::cat({k.narrow(1, 0, s.qk_nope_head_dim), v}, 1).reshape({-1, w.k.size(1)});
  return {stacked, k.narrow(1, s.qk_nope_head_dim, s.qk_rope_head_dim)};
}

at::Tensor permuted_q(const AttentionWeights& w, const MlaSettings& s) {
  const auto& a = w.settings;
  return permute_heads(w.q, a.num_heads, mla_dim_order(a.head_dim, s.qk_rope_head_dim)).reshape({-1, w.q.size(1)});
}

// Best rank-r factors of W = U S V^T: (U_r (m, r), diag(S_r) V_r^T (r, n)). The singular values go
// to the down-projection so the latent carries the energy and the up-projection is orthonormal.
std::pair<at::Tensor, at::Tensor> low_rank(const at::Tensor& w, int64_t r) {
  auto [U, S, Vh] = at::linalg_svd(w, /*full_matrices=*/false);
  return {U.narrow(1, 0, r), S.narrow(0, 0, r).unsqueeze(1) * Vh.narrow(0, 0, r)};
}

void assign(at::Tensor& param, const at::Tensor& value, const char* name) {
  if (param.sizes() != value.sizes())
    throw ModelError(std::string("MLA init: computed ") + name + " has the wrong shape", {}, name);
  param.copy_(value.to(param.scalar_type()));
}

}  // namespace

std::vector<int64_t> mla_rope_dims(int64_t head_dim, int64_t rope_dim) {
  if (rope_dim <= 0 || rope_dim % 2 || head_dim % rope_dim)
    throw ModelError("qk_rope_head_dim " + std::to_string(rope_dim) + " must be even and divide head_dim " +
                     std::to_string(head_dim), {}, "mla.qk_rope_head_dim");
  const int64_t stride = head_dim / rope_dim, half = rope_dim / 2;
  std::vector<int64_t> dims;
  for (int64_t a = 0; a < half; ++a) dims.push_back(a * stride);
  for (int64_t a = 0; a < half; ++a) dims.push_back(head_dim / 2 + a * stride);
  return dims;
}

std::vector<int64_t> mla_dim_order(int64_t head_dim, int64_t rope_dim) {
  const auto rope = mla_rope_dims(head_dim, rope_dim);
  std::vector<int64_t> order;
  for (int64_t i = 0; i < head_dim; ++i)
    if (std::find(rope.begin(), rope.end(), i) == rope.end()) order.push_back(i);
  order.insert(order.end(), rope.begin(), rope.end());
  return order;
}

MlaSpectra mla_spectra(const AttentionWeights& w, const MlaSettings& s) {
  return {at::linalg_svdvals(permuted_q(w, s)), at::linalg_svdvals(kv_parts(w, s).stacked)};
}

int64_t rank_for_energy(const at::Tensor& singular_values, double energy, int64_t limit) {
  auto share = at::cumsum(singular_values.to(at::kDouble).square(), 0);
  share = share / share[-1];
  const int64_t needed = 1 + at::sum(share < energy).item<int64_t>();
  return std::min(limit, (needed + 7) / 8 * 8);
}

double truncation_error(const at::Tensor& singular_values, int64_t rank) {
  auto sq = singular_values.to(at::kDouble).square();
  const double total = sq.sum().item<double>();
  const double tail = rank >= sq.size(0) ? 0.0 : sq.narrow(0, rank, sq.size(0) - rank).sum().item<double>();
  return total > 0 ? std::sqrt(tail / total) : 0.0;
}

void init_mla(MlaMixer& mla, const AttentionWeights& w) {
  const auto& s = mla.settings();
  const auto& a = w.settings;
  if (s.qk_head_dim() != a.head_dim || s.v_head_dim != a.head_dim || s.num_heads != a.num_heads ||
      s.num_kv_heads != a.num_kv_heads)
    throw ModelError("MLA head sizes do not match the teacher's attention (head_dim " + std::to_string(a.head_dim) +
                     ")", {}, "mla");
  at::NoGradGuard no_grad;
  // Query: q_proj as it is (rows permuted to [nope | rope] per head), or q_a = diag(S_r) V_r^T, q_b = U_r.
  auto q = permuted_q(w, s);  // (H * D, C)
  if (s.q_lora_rank == 0) {
    assign(mla.q_proj->weight, q, "q_proj");
  } else {
    auto [up, down] = low_rank(q, s.q_lora_rank);
    assign(mla.q_a_proj->weight, down, "q_a_proj");
    assign(mla.q_b_proj->weight, up, "q_b_proj");
  }
  // Keys and values share one latent: one SVD of the stacked per-KV-head [k_nope ; v] rows.
  auto parts = kv_parts(w, s);
  auto [up, down] = low_rank(parts.stacked, s.kv_lora_rank);
  // MLA has one rope key for all heads: the mean of the KV heads' rope rows (exact with one KV head).
  auto rope_key = parts.rope.mean(0);  // (rope, C)
  assign(mla.kv_a_proj_with_mqa->weight, at::cat({down, rope_key}, 0), "kv_a_proj_with_mqa");
  assign(mla.kv_b_proj->weight, up, "kv_b_proj");
  assign(mla.o_proj->weight, w.o, "o_proj");
}

}  // namespace hylo
