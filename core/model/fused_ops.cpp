#include "core/model/fused_ops.h"

#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>

#include "core/model/fused_path.h"
#include "core/model/gdn_math.h"
#include "core/model/ops.h"
#include "core/train/autocast.h"

namespace hylo {

namespace {

using fused::common_blockers;
using fused::kernel_dtype;
using fused::use_kernel;
#if defined(HYLO_HAVE_KERNELS)
using fused::check_launch;
using fused::stream_of;
using fused::to_kernel_dtype;
#endif

// ---- references ---------------------------------------------------------------------------------

at::Tensor rms_norm_reference(const at::Tensor& x, const at::Tensor& weight, double eps) {
  auto xf = x.to(x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat);
  auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor mla_decode_reference(const at::Tensor& q, const at::Tensor& rows, int64_t rank, double scale) {
  const auto acc = q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  auto scores = at::bmm(q, rows.transpose(1, 2)) * scale;                   // (B, H, L)
  auto probs = at::softmax(scores, -1, acc).to(q.scalar_type());
  return at::bmm(probs, rows.narrow(-1, 0, rank));                          // (B, H, rank)
}

at::Tensor gdn_step_reference(const GdnStepInputs& in, at::Tensor& conv_state, at::Tensor& state) {
  const int64_t B = in.qkv.size(0), H = in.a.size(1), Hk = in.k_heads, Dk = in.head_k_dim, Dv = in.head_v_dim;
  auto conv = ops::causal_conv1d(in.qkv.unsqueeze(-1), in.conv_weight, {}, conv_state);  // (B, C, 1)
  auto y = at::silu(conv.out.squeeze(-1));                                              // (B, C)
  auto q = l2_normalize(y.narrow(-1, 0, Hk * Dk).view({B, 1, Hk, Dk}));
  auto k = l2_normalize(y.narrow(-1, Hk * Dk, Hk * Dk).view({B, 1, Hk, Dk}));
  auto v = y.narrow(-1, 2 * Hk * Dk, H * Dv).view({B, H, Dv});
  q = repeat_heads(q, H).select(1, 0) * (1.0 / std::sqrt(static_cast<double>(Dk)));
  k = repeat_heads(k, H).select(1, 0);
  const auto cd = q.scalar_type();
  const auto gates = gdn_gates(in.a, in.b, in.A_log, in.dt_bias, cd);
  auto r = ops::gdn_recurrent_step(q, k, v, gates.g, gates.beta, state);
  conv_state.copy_(conv.state.detach());
  state.copy_(r.state.detach());
  return r.out;
}

}  // namespace

namespace {
std::atomic<bool> g_reference_only{false};
}  // namespace

void set_reference_ops_only(bool on) { g_reference_only = on; }
bool reference_ops_only() { return g_reference_only; }

bool gpu_kernels_built() {
#if defined(HYLO_HAVE_KERNELS)
  return true;
#else
  return false;
#endif
}

// ---- RMSNorm ------------------------------------------------------------------------------------

namespace {

#if defined(HYLO_HAVE_KERNELS)
// Training on GPUs: the kernels both ways (the reference through autograd runs ~8 elementwise
// passes forward and ~15 backward over each (tokens, dim) activation).
// The kernel pair behind two autograd nodes: without and with a gate (custom autograd nodes take
// no undefined tensors as inputs). With a gate: Mamba2's gated norm, w * rmsnorm(x silu(gate)).
at::Tensor rms_norm_train_forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                                  const at::Tensor& gate, double eps, int64_t out_dtype) {
  const c10::cuda::CUDAGuard guard(x.device());
  auto xc = x.contiguous(), wc = weight.contiguous();
  auto gc = gate.defined() ? gate.contiguous() : at::Tensor();
  const int64_t dim = x.size(-1), rows = xc.numel() / dim;
  const auto y_dtype = static_cast<at::ScalarType>(out_dtype);
  auto y = at::empty(x.sizes(), x.options().dtype(y_dtype));
  auto rstd = at::empty({rows}, x.options().dtype(at::kFloat));
  check_launch(kernels::rms_norm_train_forward(xc.data_ptr(), gc.defined() ? gc.data_ptr() : nullptr, wc.data_ptr(),
                                               y.data_ptr(), rstd.data_ptr<float>(), rows, dim,
                                               static_cast<float>(eps), to_kernel_dtype(x.scalar_type()),
                                               to_kernel_dtype(weight.scalar_type()), to_kernel_dtype(y_dtype),
                                               stream_of(x)),
               "rms_norm");
  ctx->save_for_backward(gc.defined() ? std::vector<at::Tensor>{xc, wc, rstd, gc} : std::vector<at::Tensor>{xc, wc, rstd});
  ctx->saved_data["y_dtype"] = out_dtype;
  return y;
}

// Returns {gx, gw} or {gx, gw, ggate}.
torch::autograd::variable_list rms_norm_train_backward(torch::autograd::AutogradContext* ctx,
                                                       const torch::autograd::variable_list& grads) {
  const auto saved = ctx->get_saved_variables();
  const at::Tensor &x = saved[0], &w = saved[1], &rstd = saved[2];
  const at::Tensor gate = saved.size() > 3 ? saved[3] : at::Tensor();
  const auto y_dtype = static_cast<at::ScalarType>(ctx->saved_data["y_dtype"].toInt());
  const c10::cuda::CUDAGuard guard(x.device());
  auto gy = grads[0].to(y_dtype).contiguous();
  const int64_t dim = x.size(-1), rows = x.numel() / dim;
  const int64_t blocks = kernels::rms_norm_backward_blocks(rows, x.device().index());
  auto gx = at::empty_like(x);
  auto ggate = gate.defined() ? at::empty_like(gate) : at::Tensor();
  auto partial = at::empty({blocks, dim}, x.options().dtype(at::kFloat));
  check_launch(kernels::rms_norm_backward(gy.data_ptr(), x.data_ptr(), gate.defined() ? gate.data_ptr() : nullptr,
                                          w.data_ptr(), rstd.data_ptr<float>(), gx.data_ptr(),
                                          ggate.defined() ? ggate.data_ptr() : nullptr, partial.data_ptr<float>(), rows,
                                          dim, blocks, to_kernel_dtype(x.scalar_type()),
                                          to_kernel_dtype(w.scalar_type()), to_kernel_dtype(y_dtype), stream_of(x)),
               "rms_norm backward");
  torch::autograd::variable_list out = {gx, partial.sum(0).to(w.scalar_type())};
  if (gate.defined()) out.push_back(ggate);
  return out;
}

struct RmsNormFunction : torch::autograd::Function<RmsNormFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                                                const at::Tensor& weight, double eps, int64_t out_dtype) {
    return {rms_norm_train_forward(ctx, x, weight, at::Tensor(), eps, out_dtype)};
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto g = rms_norm_train_backward(ctx, grads);
    return {g[0], g[1], at::Tensor(), at::Tensor()};
  }
};

struct GatedRmsNormFunction : torch::autograd::Function<GatedRmsNormFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                                                const at::Tensor& weight, const at::Tensor& gate, double eps,
                                                int64_t out_dtype) {
    return {rms_norm_train_forward(ctx, x, weight, gate, eps, out_dtype)};
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto g = rms_norm_train_backward(ctx, grads);
    return {g[0], g[1], g[2], at::Tensor(), at::Tensor()};
  }
};
#endif

std::string rms_norm_blocker(const at::Tensor& x, const at::Tensor& weight, bool training) {
  std::string blocker = training ? (x.is_cuda() && weight.is_cuda() ? "" : "a tensor is not on a GPU")
                                 : common_blockers({&x, &weight});
  if (!gpu_kernels_built()) blocker = "this build has no GPU kernels (configure with -DHYLO_CUDA=ON)";
  if (!blocker.empty()) return blocker;
  if (weight.dim() != 1 || weight.size(0) != x.size(-1)) return "weight must be (dim)";
  if (!training)
    return kernel_dtype(x.scalar_type()) && weight.scalar_type() == x.scalar_type()
               ? ""
               : "x and weight must share one of fp32, fp16, bf16";
  if (!kernel_dtype(x.scalar_type()) || (weight.scalar_type() != x.scalar_type() && weight.scalar_type() != at::kFloat))
    return "x must be fp32, fp16 or bf16 and the weight fp32 or of x's dtype";
#if defined(HYLO_HAVE_KERNELS)
  if (!kernels::rms_norm_train_supports(x.size(-1))) return "dim above 8192 (training)";
#endif
  return {};
}

}  // namespace

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps, OpPath path) {
  const bool training = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
  // Under autocast the output is what the next matmul would cast it to (AutocastScope: bf16).
  const bool autocast = autocast_enabled(x.device());
  std::string blocker = rms_norm_blocker(x, weight, training);
  if (blocker.empty() && training && autocast && weight.scalar_type() == at::kHalf)
    blocker = "fp16 weights under bf16 autocast";
  if (!use_kernel(path, blocker, "rms_norm")) {
    auto y = rms_norm_reference(x, weight, eps);
    return autocast ? y.to(at::kBFloat16) : y;
  }
#if defined(HYLO_HAVE_KERNELS)
  if (training) {
    const auto y_dtype = autocast ? at::kBFloat16 : at::promote_types(x.scalar_type(), weight.scalar_type());
    return RmsNormFunction::apply(x, weight, eps, static_cast<int64_t>(y_dtype))[0];
  }
  const c10::cuda::CUDAGuard guard(x.device());
  auto xc = x.contiguous(), wc = weight.contiguous();
  auto y = at::empty_like(xc);
  const int64_t dim = x.size(-1);
  check_launch(kernels::rms_norm(xc.data_ptr(), wc.data_ptr(), y.data_ptr(), xc.numel() / dim, dim,
                                 static_cast<float>(eps), to_kernel_dtype(x.scalar_type()), stream_of(x)),
               "rms_norm");
  return autocast ? y.to(at::kBFloat16) : y;
#else
  return {};
#endif
}

// ---- gated RMSNorm -------------------------------------------------------------------------------

at::Tensor gated_rms_norm(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& weight, double eps,
                          int64_t group_size, bool gate_before_norm, OpPath path) {
  const int64_t dim = x.size(-1);
  if (gate.sizes() != x.sizes() || weight.dim() != 1 || weight.size(0) != dim || group_size <= 0 ||
      dim % group_size != 0)
    throw ModelError("gated_rms_norm needs x and gate of one shape, weight (dim) and groups dividing dim");
  std::string blocker = rms_norm_blocker(x, weight, /*training=*/true);
  if (blocker.empty() && gate.scalar_type() != x.scalar_type()) blocker = "gate and x must share a dtype";
  if (blocker.empty() && !gate.is_cuda()) blocker = "a tensor is not on a GPU";
  if (blocker.empty() && !(gate_before_norm && group_size == dim))
    blocker = "the kernel gates before one norm over the whole last dim (Mamba2)";
  if (!use_kernel(path, blocker, "gated_rms_norm")) {
    const auto cd = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    auto h = x.to(cd);
    auto g = at::silu(gate.to(cd));
    if (gate_before_norm) h = h * g;
    auto sizes = x.sizes().vec();
    auto grouped = h.reshape({-1, dim / group_size, group_size});
    grouped = grouped * at::rsqrt(grouped.pow(2).mean(-1, /*keepdim=*/true) + eps);
    h = grouped.reshape(sizes) * weight.to(cd);
    if (!gate_before_norm) h = h * g;
    return h.to(x.scalar_type());
  }
#if defined(HYLO_HAVE_KERNELS)
  return GatedRmsNormFunction::apply(x, weight, gate, eps, static_cast<int64_t>(x.scalar_type()))[0];
#else
  return {};
#endif
}

// ---- MLA decode ---------------------------------------------------------------------------------

// Auto takes the kernel at every length. In isolation (hylo bench kernels) the reference's cuBLAS
// matmuls beat it at 512K cached tokens (0.46 vs 1.21 ms), but inside the 3B student's decode the
// kernel wins: TPOT at 512K 20.1 ms with it, 33.3 ms with the reference beyond 32K
// (bench/results/long_context_nvidia_h100_80gb_hbm3.json).
at::Tensor mla_decode_attention(const at::Tensor& q, const at::Tensor& rows, int64_t rank, double scale,
                                OpPath path) {
  if (q.dim() != 3 || rows.dim() != 3 || q.size(0) != rows.size(0) || q.size(2) != rows.size(2) || rank <= 0 ||
      rank > q.size(2))
    throw ModelError("mla_decode_attention needs q (B, H, D), rows (B, L, D) and 0 < rank <= D");
  std::string blocker = common_blockers({&q, &rows});
#if defined(HYLO_HAVE_KERNELS)
  if (blocker.empty() && (!kernel_dtype(q.scalar_type()) || rows.scalar_type() != q.scalar_type()))
    blocker = "q and the cache must share one of fp32, fp16, bf16";
  if (blocker.empty() && !kernels::mla_decode_supports(q.size(2), rank, rows.size(1)))
    blocker = "unsupported sizes (D a multiple of 4 up to 2048, rank <= 512, at least one cached token)";
  if (blocker.empty() && (rows.stride(2) != 1 || rows.stride(1) != rows.size(2)))
    blocker = "the cache rows must be contiguous within each batch row";
#endif
  if (!use_kernel(path, blocker, "mla_decode_attention")) return mla_decode_reference(q, rows, rank, scale);
#if defined(HYLO_HAVE_KERNELS)
  const c10::cuda::CUDAGuard guard(q.device());
  const int64_t B = q.size(0), H = q.size(1), L = rows.size(1);
  auto qc = q.contiguous();
  const int64_t splits = kernels::mla_decode_splits(B, H, L, q.device().index());
  auto workspace = at::empty({kernels::mla_decode_workspace_floats(B, H, rank, splits)}, q.options().dtype(at::kFloat));
  auto out = at::empty({B, H, rank}, q.options());
  kernels::MlaDecodeArgs a;
  a.q = qc.data_ptr();
  a.cache = rows.data_ptr();
  a.out = out.data_ptr();
  a.workspace = workspace.data_ptr<float>();
  a.batch = B, a.heads = H, a.dim = q.size(2), a.rank = rank, a.length = L, a.batch_stride = rows.stride(0);
  a.scale = static_cast<float>(scale);
  a.dtype = to_kernel_dtype(q.scalar_type());
  check_launch(kernels::mla_decode(a, splits, stream_of(q)), "mla_decode_attention");
  return out;
#else
  return {};
#endif
}

// ---- Gated DeltaNet decode step -------------------------------------------------------------------

at::Tensor gdn_decode_step(const GdnStepInputs& in, at::Tensor& conv_state, at::Tensor& state, OpPath path) {
  const int64_t B = in.qkv.size(0), H = in.a.size(-1), Hk = in.k_heads, Dk = in.head_k_dim, Dv = in.head_v_dim;
  const int64_t C = 2 * Hk * Dk + H * Dv, K = in.conv_weight.size(-1);
  if (in.qkv.dim() != 2 || in.qkv.size(1) != C || Hk <= 0 || H % Hk != 0 || conv_state.dim() != 3 ||
      conv_state.size(1) != C || conv_state.size(2) != K - 1 || state.dim() != 4 || state.size(1) != H ||
      state.size(2) != Dk || state.size(3) != Dv)
    throw ModelError("gdn_decode_step: inconsistent shapes (qkv (B, 2 Hk Dk + H Dv), conv state (B, C, K-1), state (B, H, Dk, Dv))");
  std::string blocker = common_blockers({&in.qkv, &in.conv_weight, &in.a, &in.b, &conv_state, &state});
  const auto dt = in.qkv.scalar_type();
  if (blocker.empty() && (!kernel_dtype(dt) || in.conv_weight.scalar_type() != dt || conv_state.scalar_type() != dt ||
                          in.a.scalar_type() != dt || in.b.scalar_type() != dt || state.scalar_type() != at::kFloat))
    blocker = "qkv, conv weight, conv state, a and b must share one of fp32, fp16, bf16 and the state be fp32";
#if defined(HYLO_HAVE_KERNELS)
  if (blocker.empty() && !kernels::gdn_decode_supports(Dk, K)) blocker = "unsupported sizes (Dk <= 2048, conv kernel <= 8)";
#endif
  if (!use_kernel(path, blocker, "gdn_decode_step")) return gdn_step_reference(in, conv_state, state);
#if defined(HYLO_HAVE_KERNELS)
  const c10::cuda::CUDAGuard guard(state.device());
  if (!conv_state.is_contiguous()) conv_state = conv_state.contiguous();
  if (!state.is_contiguous()) state = state.contiguous();
  auto qkv = in.qkv.contiguous(), w = in.conv_weight.contiguous(), a = in.a.contiguous(), b = in.b.contiguous();
  auto A_log = in.A_log.to(at::kFloat).contiguous(), dt_bias = in.dt_bias.to(at::kFloat).contiguous();
  auto scratch = at::empty({B, C}, state.options());
  auto out = at::empty({B, H, Dv}, qkv.options());
  kernels::GdnDecodeArgs g;
  g.qkv = qkv.data_ptr();
  g.conv_weight = w.data_ptr();
  g.conv_state = conv_state.data_ptr();
  g.a = a.data_ptr();
  g.b = b.data_ptr();
  g.A_log = A_log.data_ptr<float>();
  g.dt_bias = dt_bias.data_ptr<float>();
  g.state = state.data_ptr<float>();
  g.out = out.data_ptr();
  g.scratch = scratch.data_ptr<float>();
  g.batch = B, g.heads = H, g.k_heads = Hk, g.head_k_dim = Dk, g.head_v_dim = Dv, g.conv_kernel = K;
  g.dtype = to_kernel_dtype(dt);
  check_launch(kernels::gdn_decode(g, stream_of(state)), "gdn_decode_step");
  return out;
#else
  return {};
#endif
}

}  // namespace hylo
