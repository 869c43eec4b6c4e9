// Mamba2's chunked SSD as one autograd node with a hand-written backward: batched matmuls (cuBLAS
// on GPUs) for everything quadratic, the fused pieces of ssd_pieces.h for the decay mask and the
// chunk-to-chunk state, and per token only vectors. Autograd through the plain ops would keep
// every (L, L) intermediate and run a dozen elementwise passes over each; this keeps x, B, C, the
// cumulative decays and the entering states, and recomputes C.B^T in the backward.
//
// Per chunk of L tokens (a = dt A, cs = cumsum(a) inside the chunk, S the state entering it):
//   W[t, s] = (C_t.B_s) exp(cs_t - cs_s) dt_s  (s <= t)        y = W x + exp(cs) * (C S^T) + D x
//   S_next  = exp(cs_L) S + sum_s exp(cs_L - cs_s) dt_s x_s B_s^T
// The two (L, L) matmuls (C.B^T and W x, and their gradients) take operands in x's dtype when it is
// bf16/fp16 (fp32 accumulation, as tensor cores do); everything that feeds or reads the state
// (rank-N products, ~1/4 of the FLOPs at N = L/4) stays in the compute dtype, fp32 (fp64 for fp64
// inputs), as do decays and sums: the state carried over a long prefill is not rounded to bf16.
// x is kept in its own dtype: products with compute-dtype tensors promote without a converted copy.
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/model/chunk_layout.h"
#include "core/model/ops.h"
#include "core/model/ssd_pieces.h"

namespace hylo::ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::ScalarType matmul_dtype(const at::Tensor& x) {
  const auto t = x.scalar_type();
  return t == at::kBFloat16 || t == at::kHalf ? t : compute_dtype(x);
}

// The gradients flowing back; an unused output's is undefined.
at::Tensor or_zeros(const at::Tensor& g, const at::Tensor& like, at::ScalarType dtype) {
  return g.defined() ? g.to(dtype) : at::zeros(like.sizes(), like.options().dtype(dtype));
}

// Inputs in chunks, Z = R * nc chunks of R = batch * heads sequences: x (Z, L, P) and Bm, Cm
// (Z, L, N) in the matmul dtype; dt, a (Z, L), S0 (R, P, N) and the skip D (Z) in the compute
// dtype. The skip is added here, before y is rounded to the matmul dtype.
struct SsdFunction : torch::autograd::Function<SsdFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& dt, const at::Tensor& a,
                               const at::Tensor& Bm, const at::Tensor& Cm, const at::Tensor& S0,
                               const at::Tensor& D) {
    // The dtypes are chosen here, not by an enclosing autocast.
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const int64_t R = S0.size(0), Z = x.size(0), nc = Z / R, L = x.size(1), P = x.size(2), N = Bm.size(2);
    const auto cd = dt.scalar_type(), md = x.scalar_type();
    auto cs = a.cumsum(-1);                                                    // (Z, L)
    auto cs_end = cs.select(-1, L - 1);                                        // (Z)
    auto W = ssd_decay_mask(at::bmm(Cm, Bm.transpose(1, 2)), cs, dt);          // (Z, L, L)
    auto y = at::bmm(W, x).to(cd);                                             // (Z, L, P)
    auto to_end = dt * at::exp(cs_end.unsqueeze(-1) - cs);                     // (Z, L)
    auto added = at::bmm((x * to_end.unsqueeze(-1)).transpose(1, 2), Bm.to(cd));  // (Z, P, N)
    auto pass = ssd_state_pass(added.view({R, nc, P * N}), at::exp(cs_end).view({R, nc}), S0.reshape({R, P * N}),
                               /*reverse=*/false);
    auto S_in = pass.entering.view({Z, P, N});
    y += at::exp(cs).unsqueeze(-1) * at::bmm(Cm.to(cd), S_in.transpose(1, 2));
    y += D.view({Z, 1, 1}) * x;
    ctx->save_for_backward({x, dt, Bm, Cm, cs, S_in, D});
    ctx->saved_data["sequences"] = R;
    return {y.to(md), pass.final_state.view({R, P, N})};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &dt = saved[1], &Bm = saved[2], &Cm = saved[3], &cs = saved[4], &S_in = saved[5],
                     &D = saved[6];
    const int64_t R = ctx->saved_data["sequences"].toInt(), Z = x.size(0), nc = Z / R, L = x.size(1), P = x.size(2),
                  N = Bm.size(2);
    const auto cd = dt.scalar_type(), md = x.scalar_type();
    auto gy_m = or_zeros(grads[0], x, md);                                     // (Z, L, P)
    auto gy = gy_m.to(cd);
    auto g_final = or_zeros(grads[1], S_in.narrow(0, 0, R), cd);               // (R, P, N)
    auto from_start = at::exp(cs);                                             // (Z, L)
    auto cs_end = cs.select(-1, L - 1);
    auto chunk_decay = at::exp(cs_end);                                        // (Z)

    // The state: G[c] = d loss / d (state after chunk c), from the last chunk back.
    auto gy_start = gy * from_start.unsqueeze(-1);                             // (Z, L, P)
    auto C_c = Cm.to(cd), B_c = Bm.to(cd);
    auto via_y = at::bmm(gy_start.transpose(1, 2), C_c);                       // (Z, P, N): d loss / d S_in from y
    auto back = ssd_state_pass(via_y.view({R, nc, P * N}), chunk_decay.view({R, nc}), g_final.reshape({R, P * N}),
                               /*reverse=*/true);
    auto G = back.entering.view({Z, P, N});

    // y = W x with W = mask(C B^T).
    auto CB = at::bmm(Cm, Bm.transpose(1, 2));
    auto W = ssd_decay_mask(CB, cs, dt);
    auto gx = at::bmm(W.transpose(1, 2), gy_m).to(cd);                         // (Z, L, P)
    auto mask = ssd_decay_mask_backward(at::bmm(gy_m, x.transpose(1, 2)), CB, cs, dt);
    auto gcs = mask.row - dt * mask.col;                                       // (Z, L)
    auto gdt = mask.col.clone();
    auto gC = at::bmm(mask.gcb, Bm).to(cd);                                    // (Z, L, N)
    auto gB = at::bmm(mask.gcb.transpose(1, 2), Cm).to(cd);                    // (Z, L, N)

    // y += exp(cs) * (C S_in^T).
    gcs += from_start * (gy * at::bmm(C_c, S_in.transpose(1, 2))).sum(-1);
    gC += at::bmm(gy_start, S_in);

    // y += D x.
    gx += D.view({Z, 1, 1}) * gy;
    auto gD = (gy * x).sum({1, 2});                                            // (Z)

    // S_next = exp(cs_L) S_in + xs^T B with xs = x * to_end.
    auto decay_to_end = at::exp(cs_end.unsqueeze(-1) - cs);                    // (Z, L)
    auto to_end = dt * decay_to_end;
    auto gxs = at::bmm(B_c, G.transpose(1, 2));                                // (Z, L, P)
    gB += at::bmm(x * to_end.unsqueeze(-1), G);
    gx += gxs * to_end.unsqueeze(-1);
    auto g_to_end = (gxs * x).sum(-1);                                         // (Z, L)
    gdt += g_to_end * decay_to_end;
    auto weighted = g_to_end * to_end;
    gcs -= weighted;
    auto g_end = weighted.sum(-1) + chunk_decay * (G * S_in).sum({-2, -1});    // (Z): d loss / d cs_L
    gcs.select(-1, L - 1).add_(g_end);
    // cs = cumsum(a): d loss / d a_t = sum over t' >= t of d loss / d cs_t'.
    auto ga = gcs.sum(-1, /*keepdim=*/true) - gcs.cumsum(-1) + gcs;
    return {gx.to(md), gdt, ga, gB.to(md), gC.to(md), back.final_state.view({R, P, N}), gD};
  }
};

}  // namespace

SeqResult ssd_chunked(const at::Tensor& x_in, const at::Tensor& dt_in, const at::Tensor& A_in, const at::Tensor& B_in,
                      const at::Tensor& C_in, int64_t chunk, const at::Tensor& initial_state, const at::Tensor& D) {
  require(chunk > 0, "chunk size must be positive");
  const auto cd = compute_dtype(x_in), md = matmul_dtype(x_in);
  const int64_t Bsz = x_in.size(0), T = x_in.size(1), H = x_in.size(2), P = x_in.size(3), N = B_in.size(-1);
  require(H % B_in.size(2) == 0, "SSD groups must divide heads");
  const int64_t L = chunk, nc = (T + L - 1) / L, Z = Bsz * H * nc;
  auto S0 = state_or_zeros(initial_state, {Bsz, H, P, N}, x_in.options().dtype(cd));
  // Padded tokens have dt = 0: no decay and no input, so the final state is exact.
  auto chunked = [&](const at::Tensor& t, at::ScalarType dtype) {                   // (B, T, H, D) -> (Z, L, D)
    return to_chunks(pad_time(t.to(dtype), nc * L), L).reshape({Z, L, t.size(3)});
  };
  auto dt = to_chunks(pad_time(dt_in.to(cd), nc * L), L);                           // (B, H, nc, L)
  auto a = (dt * A_in.to(cd).view({1, H, 1, 1})).reshape({Z, L});
  // The node takes no undefined inputs: no skip is a skip of zeros.
  auto D_z = (D.defined() ? D.to(cd) : at::zeros({H}, dt.options())).view({1, H, 1}).expand({Bsz, H, nc}).reshape({Z});
  auto out = SsdFunction::apply(chunked(x_in, md), dt.reshape({Z, L}), a, chunked(groups_to_heads(B_in, H), md),
                                chunked(groups_to_heads(C_in, H), md), S0.reshape({Bsz * H, P, N}), D_z);
  return {from_chunks(out[0].view({Bsz, H, nc, L, P}), T).to(x_in.scalar_type()), out[1].view({Bsz, H, P, N})};
}

}  // namespace hylo::ops
