// LibTorch references of the linear-mixer sequence ops (see ops.h for the maths and shapes).
#include <limits>
#include <vector>

#include "core/model/chunk_layout.h"
#include "core/model/ops.h"
#include "core/spec/error.h"

namespace hylo::ops {
namespace {

// a: (..., L) log decays -> (..., L, L) with [t, s] = sum_{s < r <= t} a_r for s <= t, -inf above
// the diagonal. Summing the masked terms (instead of differencing a cumsum) keeps small segments
// exact however large the chunk's total decay is.
at::Tensor segsum(const at::Tensor& a) {
  const int64_t L = a.size(-1);
  auto opts = a.options().dtype(at::kBool);
  std::vector<int64_t> sizes = a.sizes().vec();
  sizes.push_back(L);
  auto terms = a.unsqueeze(-1).expand(sizes);  // [r, s] = a_r
  auto strictly_lower = at::ones({L, L}, opts).tril(-1);
  auto seg = terms.masked_fill(strictly_lower.logical_not(), 0).cumsum(-2);
  auto lower = at::ones({L, L}, opts).tril();
  return seg.masked_fill(lower.logical_not(), -std::numeric_limits<double>::infinity());
}

}  // namespace

// ---- SSD ----------------------------------------------------------------------------------------

SeqResult ssd_recurrent_step(const at::Tensor& x_in, const at::Tensor& dt_in, const at::Tensor& A, const at::Tensor& B_in,
                             const at::Tensor& C_in, const at::Tensor& state, const at::Tensor& D) {
  const auto cd = compute_dtype(x_in);
  const int64_t H = x_in.size(1);
  auto x = x_in.to(cd);                                                    // (B, H, P)
  auto dt = dt_in.to(cd);                                                  // (B, H)
  auto Bm = groups_to_heads(B_in.to(cd), H);                               // (B, H, N)
  auto Cm = groups_to_heads(C_in.to(cd), H);                               // (B, H, N)
  auto dA = at::exp(dt * A.to(cd)).unsqueeze(-1).unsqueeze(-1);           // (B, H, 1, 1)
  auto S = dA * state.to(cd) + (dt.unsqueeze(-1) * x).unsqueeze(-1) * Bm.unsqueeze(-2);  // (B, H, P, N)
  auto y = at::matmul(S, Cm.unsqueeze(-1)).squeeze(-1);                   // (B, H, P)
  if (D.defined()) y = y + D.to(cd).view({1, H, 1}) * x;
  return {y.to(x_in.scalar_type()), S};
}

SeqResult ssd_naive(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                    const at::Tensor& Cm, const at::Tensor& initial_state, const at::Tensor& D) {
  const int64_t Bsz = x.size(0), T = x.size(1), H = x.size(2), P = x.size(3), N = Bm.size(-1);
  auto S = state_or_zeros(initial_state, {Bsz, H, P, N}, x.options().dtype(compute_dtype(x)));
  std::vector<at::Tensor> ys;
  ys.reserve(T);
  for (int64_t t = 0; t < T; ++t) {
    auto r = ssd_recurrent_step(x.select(1, t), dt.select(1, t), A, Bm.select(1, t), Cm.select(1, t), S, D);
    ys.push_back(r.out);
    S = r.state;
  }
  return {at::stack(ys, 1), S};
}

// ---- Gated delta rule ---------------------------------------------------------------------------

SeqResult gdn_chunked(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, const at::Tensor& g_in,
                      const at::Tensor& beta_in, int64_t chunk, const at::Tensor& initial_state) {
  require(chunk > 0, "chunk size must be positive");
  const auto cd = compute_dtype(v_in);
  const int64_t Bsz = q_in.size(0), T = q_in.size(1), H = q_in.size(2), K = q_in.size(3), V = v_in.size(3);
  const int64_t L = chunk, nc = (T + L - 1) / L;
  // Padded tokens have beta = 0 and g = 0: no update and no decay, so the final state is exact.
  auto q = to_chunks(pad_time(q_in.to(cd), nc * L), L);        // (B, H, nc, L, K)
  auto k = to_chunks(pad_time(k_in.to(cd), nc * L), L);        // (B, H, nc, L, K)
  auto v = to_chunks(pad_time(v_in.to(cd), nc * L), L);        // (B, H, nc, L, V)
  auto g = to_chunks(pad_time(g_in.to(cd), nc * L), L);        // (B, H, nc, L)
  auto beta = to_chunks(pad_time(beta_in.to(cd), nc * L), L);  // (B, H, nc, L)

  auto seg = segsum(g);
  auto decay = at::exp(seg);                         // (B, H, nc, L, L): alpha_t / alpha_j for j <= t
  auto from_start = at::exp(g.cumsum(-1));           // (B, H, nc, L): alpha_t relative to the chunk start
  auto to_end = decay.select(-2, L - 1);             // (B, H, nc, L): alpha_L / alpha_j
  auto chunk_decay = from_start.select(-1, L - 1);   // (B, H, nc)

  // u = (I + M)^-1 beta v - (I + M)^-1 (beta alpha k) S_0 =: u_v - W S_0; one solve for both.
  auto kk = at::matmul(k, k.transpose(-1, -2));                                   // (B, H, nc, L, L)
  auto M = (kk * decay * beta.unsqueeze(-1)).tril(-1);
  auto eye = at::eye(L, M.options());
  auto rhs = at::cat({v * beta.unsqueeze(-1), k * (beta * from_start).unsqueeze(-1)}, -1);  // (.., L, V+K)
  auto solved = at::linalg_solve_triangular(eye + M, rhs, /*upper=*/false, /*left=*/true, /*unitriangular=*/true);
  auto u_v = solved.narrow(-1, 0, V);                                             // (B, H, nc, L, V)
  auto W = solved.narrow(-1, V, K);                                               // (B, H, nc, L, K)

  auto qk = at::matmul(q, k.transpose(-1, -2)) * decay;                           // (B, H, nc, L, L), j <= t
  auto q_decayed = q * from_start.unsqueeze(-1);                                  // (B, H, nc, L, K)
  auto k_to_end = k * to_end.unsqueeze(-1);                                       // (B, H, nc, L, K)

  auto S = state_or_zeros(initial_state, {Bsz, H, K, V}, v.options());
  std::vector<at::Tensor> outs;
  outs.reserve(nc);
  for (int64_t c = 0; c < nc; ++c) {
    auto u = u_v.select(2, c) - at::matmul(W.select(2, c), S);                                  // (B, H, L, V)
    outs.push_back(at::matmul(q_decayed.select(2, c), S) + at::matmul(qk.select(2, c), u));   // (B, H, L, V)
    S = chunk_decay.select(2, c).unsqueeze(-1).unsqueeze(-1) * S +
        at::matmul(k_to_end.select(2, c).transpose(-1, -2), u);                               // (B, H, K, V)
  }
  return {from_chunks(at::stack(outs, 2), T).to(v_in.scalar_type()), S};
}

SeqResult gdn_recurrent_step(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in,
                             const at::Tensor& g, const at::Tensor& beta, const at::Tensor& state) {
  const auto cd = compute_dtype(v_in);
  auto q = q_in.to(cd).unsqueeze(-2);                                      // (B, H, 1, K)
  auto k = k_in.to(cd).unsqueeze(-2);                                      // (B, H, 1, K)
  auto v = v_in.to(cd).unsqueeze(-2);                                      // (B, H, 1, V)
  auto S = at::exp(g.to(cd)).unsqueeze(-1).unsqueeze(-1) * state.to(cd);  // (B, H, K, V)
  auto u = beta.to(cd).unsqueeze(-1).unsqueeze(-1) * (v - at::matmul(k, S));  // (B, H, 1, V)
  S = S + at::matmul(k.transpose(-1, -2), u);
  auto o = at::matmul(q, S).squeeze(-2);                                   // (B, H, V)
  return {o.to(v_in.scalar_type()), S};
}

SeqResult gdn_naive(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& g,
                    const at::Tensor& beta, const at::Tensor& initial_state) {
  const int64_t Bsz = q.size(0), T = q.size(1), H = q.size(2), K = q.size(3), V = v.size(3);
  auto S = state_or_zeros(initial_state, {Bsz, H, K, V}, v.options().dtype(compute_dtype(v)));
  std::vector<at::Tensor> outs;
  outs.reserve(T);
  for (int64_t t = 0; t < T; ++t) {
    auto r = gdn_recurrent_step(q.select(1, t), k.select(1, t), v.select(1, t), g.select(1, t), beta.select(1, t), S);
    outs.push_back(r.out);
    S = r.state;
  }
  return {at::stack(outs, 1), S};
}

// ---- short convolution --------------------------------------------------------------------------

SeqResult causal_conv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& state) {
  const int64_t Bsz = x.size(0), C = x.size(1), Kc = weight.size(-1);
  auto prefix = state.defined() ? state.to(x.scalar_type()) : at::zeros({Bsz, C, Kc - 1}, x.options());
  auto full = at::cat({prefix, x}, -1);  // (B, C, K-1+T)
  const int64_t one = 1, zero = 0;  // stride, padding (the state is the left padding), dilation
  auto out = at::conv1d(full, weight, bias, at::IntArrayRef(one), at::IntArrayRef(zero), at::IntArrayRef(one), C);
  return {out, full.narrow(-1, full.size(-1) - (Kc - 1), Kc - 1)};
}

}  // namespace hylo::ops
