// LibTorch references of the linear-mixer sequence ops (see ops.h for the maths and shapes).
#include <limits>
#include <vector>

#include "core/model/ops.h"
#include "core/spec/error.h"

namespace hylo::ops {
namespace {

// fp64 stays fp64 (finite-difference tests); everything else computes in fp32.
at::ScalarType compute_dtype(const at::Tensor& t) {
  return t.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw ModelError(what, {}, "ops");
}

// (B, T, G, N) -> (B, T, H, N): head h reads group h / (H / G).
at::Tensor groups_to_heads(const at::Tensor& t, int64_t H) {
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
at::Tensor pad_time(const at::Tensor& t, int64_t len) {
  const int64_t extra = len - t.size(1);
  if (extra == 0) return t;
  std::vector<int64_t> pad(2 * (t.dim() - 1), 0);  // pairs from the last dim backwards
  pad.back() = extra;
  return at::constant_pad_nd(t, pad, 0);
}

// (B, nc*L, H, D) -> (B, H, nc, L, D), or (B, nc*L, H) -> (B, H, nc, L).
at::Tensor to_chunks(const at::Tensor& t, int64_t L) {
  const int64_t B = t.size(0), nc = t.size(1) / L, H = t.size(2);
  if (t.dim() == 3) return t.reshape({B, nc, L, H}).permute({0, 3, 1, 2});
  return t.reshape({B, nc, L, H, t.size(3)}).permute({0, 3, 1, 2, 4});
}

// (B, H, nc, L, D) -> (B, T, H, D) keeping the first T tokens.
at::Tensor from_chunks(const at::Tensor& t, int64_t T) {
  const int64_t B = t.size(0), H = t.size(1), nc = t.size(2), L = t.size(3), D = t.size(4);
  return t.permute({0, 2, 3, 1, 4}).reshape({B, nc * L, H, D}).narrow(1, 0, T);
}

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

at::Tensor state_or_zeros(const at::Tensor& state, at::IntArrayRef sizes, const at::TensorOptions& opts) {
  if (!state.defined()) return at::zeros(sizes, opts);
  require(state.sizes() == sizes, "initial state has shape " + c10::str(state.sizes()) + ", expected " +
                                      c10::str(sizes));
  return state.to(opts.dtype());
}

}  // namespace

// ---- SSD ----------------------------------------------------------------------------------------

SeqResult ssd_chunked(const at::Tensor& x_in, const at::Tensor& dt_in, const at::Tensor& A_in, const at::Tensor& B_in,
                      const at::Tensor& C_in, int64_t chunk, const at::Tensor& initial_state) {
  require(chunk > 0, "chunk size must be positive");
  const auto cd = compute_dtype(x_in);
  const int64_t Bsz = x_in.size(0), T = x_in.size(1), H = x_in.size(2), P = x_in.size(3), N = B_in.size(-1);
  require(H % B_in.size(2) == 0, "SSD groups must divide heads");
  const int64_t L = chunk, nc = (T + L - 1) / L;
  // Padded tokens have dt = 0: no decay and no input, so the final state is exact.
  auto x = to_chunks(pad_time(x_in.to(cd), nc * L), L);                               // (B, H, nc, L, P)
  auto dt = to_chunks(pad_time(dt_in.to(cd), nc * L), L);                             // (B, H, nc, L)
  auto Bm = to_chunks(pad_time(groups_to_heads(B_in.to(cd), H), nc * L), L);          // (B, H, nc, L, N)
  auto Cm = to_chunks(pad_time(groups_to_heads(C_in.to(cd), H), nc * L), L);          // (B, H, nc, L, N)
  auto a = dt * A_in.to(cd).view({1, H, 1, 1});                                       // (B, H, nc, L)
  auto decay = at::exp(segsum(a));                                                    // (B, H, nc, L, L)

  // Inside each chunk: y_t = sum_{s<=t} (C_t.B_s) exp(a_{s+1..t}) dt_s x_s.
  auto scores = at::matmul(Cm, Bm.transpose(-1, -2)) * decay * dt.unsqueeze(-2);      // (B, H, nc, L, L)
  auto y = at::matmul(scores, x);                                                     // (B, H, nc, L, P)

  // What each chunk adds to the state, from a zero start: sum_s exp(a_{s+1..L}) dt_s x_s B_s^T.
  auto to_end = decay.select(-2, L - 1) * dt;                                         // (B, H, nc, L)
  auto chunk_states = at::matmul((x * to_end.unsqueeze(-1)).transpose(-1, -2), Bm);   // (B, H, nc, P, N)
  auto chunk_decay = at::exp(a.sum(-1));                                              // (B, H, nc)

  auto S = state_or_zeros(initial_state, {Bsz, H, P, N}, x.options());
  std::vector<at::Tensor> entering;  // the state entering each chunk
  entering.reserve(nc);
  for (int64_t c = 0; c < nc; ++c) {
    entering.push_back(S);
    S = chunk_decay.select(2, c).unsqueeze(-1).unsqueeze(-1) * S + chunk_states.select(2, c);
  }
  auto S_in = at::stack(entering, 2);                                                 // (B, H, nc, P, N)
  // From the entering state: y_t += exp(a_{1..t}) S C_t.
  auto from_start = at::exp(a.cumsum(-1)).unsqueeze(-1);                              // (B, H, nc, L, 1)
  y = y + at::matmul(Cm, S_in.transpose(-1, -2)) * from_start;
  return {from_chunks(y, T).to(x_in.scalar_type()), S};
}

SeqResult ssd_recurrent_step(const at::Tensor& x_in, const at::Tensor& dt_in, const at::Tensor& A, const at::Tensor& B_in,
                             const at::Tensor& C_in, const at::Tensor& state) {
  const auto cd = compute_dtype(x_in);
  const int64_t H = x_in.size(1);
  auto x = x_in.to(cd);                                                    // (B, H, P)
  auto dt = dt_in.to(cd);                                                  // (B, H)
  auto Bm = groups_to_heads(B_in.to(cd), H);                               // (B, H, N)
  auto Cm = groups_to_heads(C_in.to(cd), H);                               // (B, H, N)
  auto dA = at::exp(dt * A.to(cd)).unsqueeze(-1).unsqueeze(-1);           // (B, H, 1, 1)
  auto S = dA * state.to(cd) + (dt.unsqueeze(-1) * x).unsqueeze(-1) * Bm.unsqueeze(-2);  // (B, H, P, N)
  auto y = at::matmul(S, Cm.unsqueeze(-1)).squeeze(-1);                   // (B, H, P)
  return {y.to(x_in.scalar_type()), S};
}

SeqResult ssd_naive(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                    const at::Tensor& Cm, const at::Tensor& initial_state) {
  const int64_t Bsz = x.size(0), T = x.size(1), H = x.size(2), P = x.size(3), N = Bm.size(-1);
  auto S = state_or_zeros(initial_state, {Bsz, H, P, N}, x.options().dtype(compute_dtype(x)));
  std::vector<at::Tensor> ys;
  ys.reserve(T);
  for (int64_t t = 0; t < T; ++t) {
    auto r = ssd_recurrent_step(x.select(1, t), dt.select(1, t), A, Bm.select(1, t), Cm.select(1, t), S);
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
