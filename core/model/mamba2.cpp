#include "core/model/mamba2.h"

#include <cmath>

#include "core/model/fused_ops.h"
#include "core/model/layers.h"
#include "core/model/mixer_checks.h"
#include "core/model/ops.h"
#include "core/model/state_cache.h"

namespace hylo {
namespace {

// (B, T, n_src, D) -> (B, T, n, D): slot i reads source i / (n / n_src), as MambaInLlama repeats
// the KV heads of the attention it was initialised from.
at::Tensor repeat_slots(const at::Tensor& t, int64_t n) {
  const int64_t B = t.size(0), T = t.size(1), src = t.size(2), D = t.size(3);
  if (src == n) return t;
  return t.unsqueeze(3).expand({B, T, src, n / src, D}).reshape({B, T, n, D});
}

void validate(const Mamba2Settings& s, int64_t hidden, int64_t layer) {
  auto check = [&](bool ok, const std::string& what, const std::string& field) {
    require_setting(ok, what, layer, "mamba2", field);
  };
  check(hidden > 0, "the model's hidden_size must be positive", "hidden_size");
  check(s.num_heads > 0, "must be positive", "num_heads");
  check(s.head_dim > 0, "must be positive", "head_dim");
  check(s.d_inner == s.num_heads * s.head_dim, "must equal num_heads * head_dim", "d_inner");
  check(s.d_state > 0, "must be positive", "d_state");
  check(s.n_groups > 0 && s.num_heads % s.n_groups == 0, "must be positive and divide num_heads", "n_groups");
  check(s.conv_kernel > 0, "must be positive", "conv_kernel");
  check(s.chunk_size > 0, "must be positive", "chunk_size");
  check(s.dt_min > 0 && s.dt_min <= s.dt_max, "must be positive and at most dt_max", "dt_min");
  check(s.dt_init_floor > 0, "must be positive", "dt_init_floor");
  check(s.d_xb >= 0 && s.d_xb <= s.d_inner, "must be between 0 and d_inner", "d_xb");
  if (s.d_xb > 0 && s.d_xb != s.d_inner) {
    check(s.d_xb % s.head_dim == 0 && s.num_heads % (s.d_xb / s.head_dim) == 0,
          "must be a multiple of head_dim whose head count divides num_heads", "d_xb");
    check(s.d_xb % s.d_state == 0 && s.n_groups % (s.d_xb / s.d_state) == 0,
          "must be a multiple of d_state whose group count divides n_groups (B is repeated to the groups)",
          "d_xb");
  }
}

}  // namespace

Mamba2Mixer::Mamba2Mixer(const Mamba2Settings& s, const ModelConfig& config, int64_t layer_index) : s_(s) {
  validate(s, config.hidden_size, layer_index);
  const int64_t C = config.hidden_size, H = s.num_heads;
  in_proj = register_module("in_proj", make_linear(C, s.d_inner + conv_dim() + H, false));
  conv1d = register_module(
      "conv1d", torch::nn::Conv1d(torch::nn::Conv1dOptions(conv_dim(), conv_dim(), s.conv_kernel).groups(conv_dim())));
  // dt ~ log-uniform in [dt_min, dt_max] (floored); dt_bias is its inverse softplus, as in Mamba.
  auto dt = at::exp(at::rand({H}) * (std::log(s.dt_max) - std::log(s.dt_min)) + std::log(s.dt_min))
                .clamp_min(s.dt_init_floor);
  dt_bias = register_parameter("dt_bias", dt + at::log(-at::expm1(-dt)));
  A_log = register_parameter("A_log", at::log(at::arange(1, H + 1, at::kFloat)));
  D = register_parameter("D", at::ones({H}));
  // One norm over all of d_inner, as HF Mamba2 (mamba_ssm normalises d_inner / n_groups groups
  // instead; the two agree for n_groups = 1).
  if (s.gated_norm)
    norm = register_module("norm", std::make_shared<GatedRMSNorm>(s.d_inner, s.d_inner, config.rms_norm_eps,
                                                                  /*gate_before_norm=*/true));
  out_proj = register_module("out_proj", make_linear(s.d_inner, C, false));
}

std::unique_ptr<LayerCache> Mamba2Mixer::make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const {
  return std::make_unique<StateCache>("ssm_state", batch, dtype, device);
}

at::Tensor Mamba2Mixer::forward(const at::Tensor& x, int64_t pos, LayerCache* cache) {
  const int64_t B = x.size(0), T = x.size(1), H = s_.num_heads, P = s_.head_dim, N = s_.d_state;
  const int64_t G = s_.n_groups;
  StateCache* sc = nullptr;
  if (cache) {
    sc = dynamic_cast<StateCache*>(cache);
    if (!sc || sc->kind() != "ssm_state") throw ModelError("Mamba2 layer got a '" + cache->kind() + "' cache");
    if (sc->length() != pos)
      throw ModelError("cache holds " + std::to_string(sc->length()) + " tokens but input starts at position " +
                       std::to_string(pos));
  }
  // Splits, not narrows: a split's backward writes its input's gradient once, where each narrow's
  // writes a full-size tensor of zeros around its slice and autograd then adds them up.
  auto proj = in_proj->forward(x).split_with_sizes({s_.d_inner, conv_dim(), H}, -1);
  auto z = proj[0], xbc = proj[1], dt = proj[2];  // dt: (B, T, H)

  ops::SeqResult conv;  // with a cache: its output and the new conv window
  if (sc) {
    conv = ops::causal_conv1d(xbc.transpose(1, 2), conv1d->weight, conv1d->bias, sc->conv);
    xbc = at::silu(conv.out).transpose(1, 2);  // (B, T, conv_dim)
  } else {
    xbc = causal_conv1d_silu(xbc, conv1d->weight, conv1d->bias);
  }
  auto xbc_parts = xbc.split_with_sizes({x_channels(), b_channels(), G * N}, -1);
  auto xs = repeat_slots(xbc_parts[0].view({B, T, x_channels() / P, P}), H);  // (B, T, H, P)
  auto Bm = repeat_slots(xbc_parts[1].view({B, T, b_channels() / N, N}), G);  // (B, T, G, N)
  auto Cm = xbc_parts[2].view({B, T, G, N});                                  // (B, T, G, N)
  dt = at::softplus(dt + dt_bias);
  auto A = -at::exp(A_log.to(xs.scalar_type() == at::kDouble ? at::kDouble : at::kFloat));

  ops::SeqResult ssd;
  if (sc && T == 1 && sc->state.defined()) {
    ssd = ops::ssd_recurrent_step(xs.select(1, 0), dt.select(1, 0), A, Bm.select(1, 0), Cm.select(1, 0), sc->state, D);
    ssd.out = ssd.out.unsqueeze(1);
  } else {
    ssd = ops::ssd_chunked(xs, dt, A, Bm, Cm, s_.chunk_size, sc ? sc->state : at::Tensor(), D);
  }
  if (sc) sc->update(conv.state, ssd.state, T);
  auto y = ssd.out.reshape({B, T, s_.d_inner}).to(x.scalar_type());
  y = norm ? norm->forward(y, z) : y * at::silu(z);
  return out_proj->forward(y);
}

}  // namespace hylo
