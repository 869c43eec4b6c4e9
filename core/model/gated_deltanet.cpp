#include "core/model/gated_deltanet.h"

#include <cmath>
#include <vector>

#include "core/model/fused_ops.h"
#include "core/model/gdn_math.h"
#include "core/model/mixer_checks.h"
#include "core/model/ops.h"
#include "core/model/state_cache.h"

namespace hylo {
namespace {

void validate(const GdnSettings& s, int64_t hidden, int64_t layer) {
  auto check = [&](bool ok, const std::string& what, const std::string& field) {
    require_setting(ok, what, layer, "gdn", field);
  };
  check(hidden > 0, "the model's hidden_size must be positive", "hidden_size");
  check(s.num_heads > 0, "must be positive", "num_heads");
  check(s.num_k_heads > 0 && s.num_heads % s.num_k_heads == 0, "must be positive and divide num_heads",
        "num_k_heads");
  check(s.head_k_dim > 0, "must be positive", "head_k_dim");
  check(s.head_v_dim > 0, "must be positive", "head_v_dim");
  check(s.conv_kernel > 0, "must be positive", "conv_kernel");
  check(s.chunk_size > 0, "must be positive", "chunk_size");
}

}  // namespace

GatedDeltaNetMixer::GatedDeltaNetMixer(const GdnSettings& s, const ModelConfig& config, int64_t layer_index)
    : s_(s) {
  validate(s, config.hidden_size, layer_index);
  const int64_t C = config.hidden_size, H = s.num_heads;
  q_proj = register_module("q_proj", make_linear(C, key_dim(), false));
  k_proj = register_module("k_proj", make_linear(C, key_dim(), false));
  v_proj = register_module("v_proj", make_linear(C, value_dim(), false));
  if (s.output_gate) z_proj = register_module("z_proj", make_linear(C, value_dim(), false));
  a_proj = register_module("a_proj", make_linear(C, H, false));
  b_proj = register_module("b_proj", make_linear(C, H, false));
  conv1d = register_module("conv1d", torch::nn::Conv1d(torch::nn::Conv1dOptions(conv_dim(), conv_dim(), s.conv_kernel)
                                                           .groups(conv_dim())
                                                           .bias(false)));
  // Qwen3-Next's init: dt_bias = 1, A ~ U(0, 16).
  dt_bias = register_parameter("dt_bias", at::ones({H}));
  A_log = register_parameter("A_log", at::log(at::empty({H}).uniform_(0, 16)));
  if (s.output_gate)
    norm = register_module("norm", std::make_shared<GatedRMSNorm>(s.head_v_dim, s.head_v_dim, config.rms_norm_eps,
                                                                  /*gate_before_norm=*/false));
  else
    plain_norm = register_module("norm", std::make_shared<RMSNorm>(s.head_v_dim, config.rms_norm_eps));
  out_proj = register_module("out_proj", make_linear(value_dim(), C, false));
}

std::unique_ptr<LayerCache> GatedDeltaNetMixer::make_cache(int64_t batch, at::ScalarType dtype,
                                                           at::Device device) const {
  return std::make_unique<StateCache>("gdn_state", batch, dtype, device);
}

at::Tensor GatedDeltaNetMixer::forward(const at::Tensor& x, int64_t pos, LayerCache* cache) {
  const int64_t B = x.size(0), T = x.size(1), H = s_.num_heads, Hk = s_.num_k_heads;
  const int64_t Dk = s_.head_k_dim, Dv = s_.head_v_dim;
  StateCache* sc = nullptr;
  if (cache) {
    sc = dynamic_cast<StateCache*>(cache);
    if (!sc || sc->kind() != "gdn_state")
      throw ModelError("Gated DeltaNet layer got a '" + cache->kind() + "' cache");
    if (sc->length() != pos)
      throw ModelError("cache holds " + std::to_string(sc->length()) + " tokens but input starts at position " +
                       std::to_string(pos));
  }
  auto qkv = at::cat({q_proj->forward(x), k_proj->forward(x), v_proj->forward(x)}, -1);  // (B, T, conv_dim)
  at::Tensor o;  // (B, T, H, Dv) in x's dtype
  if (sc && T == 1 && sc->state.defined()) {
    // Decoding: one fused step (a GPU kernel where it applies) that advances the caches in place.
    GdnStepInputs in{qkv.select(1, 0), conv1d->weight, a_proj->forward(x).select(1, 0), b_proj->forward(x).select(1, 0),
                     A_log, dt_bias, Hk, Dk, Dv};
    o = gdn_decode_step(in, sc->conv, sc->state).unsqueeze(1);
    sc->advance(1);
  } else {
    auto conv = ops::causal_conv1d(qkv.transpose(1, 2), conv1d->weight, {}, sc ? sc->conv : at::Tensor());
    qkv = at::silu(conv.out).transpose(1, 2);
    // One split (its backward writes the gradient once; three narrows would write it three times).
    auto parts = qkv.split_with_sizes({key_dim(), key_dim(), value_dim()}, -1);
    auto q = l2_normalize(parts[0].view({B, T, Hk, Dk}));  // (B, T, Hk, Dk)
    auto k = l2_normalize(parts[1].view({B, T, Hk, Dk}));
    auto v = parts[2].view({B, T, H, Dv});                 // (B, T, H, Dv)
    q = repeat_heads(q, H) * (1.0 / std::sqrt(static_cast<double>(Dk)));
    k = repeat_heads(k, H);
    const auto cd = q.scalar_type();
    const auto gates = gdn_gates(a_proj->forward(x), b_proj->forward(x), A_log, dt_bias, cd);  // (B, T, H) each
    auto r = ops::gdn_chunked(q, k, v, gates.g, gates.beta, s_.chunk_size, sc ? sc->state : at::Tensor());
    if (sc) sc->update(conv.state, r.state, T);
    o = r.out;
  }
  o = norm ? norm->forward(o, z_proj->forward(x).view({B, T, H, Dv})) : plain_norm->forward(o);
  return out_proj->forward(o.reshape({B, T, value_dim()}).to(x.scalar_type()));
}

std::map<std::string, at::Tensor> gdn_weights_from_qwen3_next(const GdnSettings& s, int64_t hidden_size,
                                                              const std::map<std::string, at::Tensor>& hf) {
  if (!s.output_gate) throw ModelError("Qwen3-Next layers always have the output gate z", {}, "gdn.output_gate");
  const int64_t Hk = s.num_k_heads, r = s.num_heads / s.num_k_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  const int64_t C = hidden_size;
  auto get = [&](const std::string& name, std::vector<int64_t> shape) {
    auto it = hf.find(name);
    if (it == hf.end()) throw ModelError("missing from the Qwen3-Next weights", {}, name);
    if (it->second.sizes().vec() != shape)
      throw ModelError("has shape " + std::string(c10::str(it->second.sizes())) + ", expected " +
                           std::string(c10::str(at::IntArrayRef(shape))),
                       {}, name);
    return it->second;
  };
  const int64_t per_key_head = 2 * dk + 2 * r * dv;
  auto qkvz = get("in_proj_qkvz.weight", {Hk * per_key_head, C}).view({Hk, per_key_head, C});
  auto ba = get("in_proj_ba.weight", {2 * Hk * r, C}).view({Hk, 2 * r, C});
  // Rows [begin, begin + n) of every key head's block, stacked in key-head order.
  auto rows = [](const at::Tensor& t, int64_t begin, int64_t n) {
    return t.narrow(1, begin, n).reshape({-1, t.size(2)}).clone();
  };
  std::map<std::string, at::Tensor> out{
      {"q_proj.weight", rows(qkvz, 0, dk)},
      {"k_proj.weight", rows(qkvz, dk, dk)},
      {"v_proj.weight", rows(qkvz, 2 * dk, r * dv)},
      {"z_proj.weight", rows(qkvz, 2 * dk + r * dv, r * dv)},
      {"b_proj.weight", rows(ba, 0, r)},
      {"a_proj.weight", rows(ba, r, r)},
  };
  const int64_t conv = 2 * Hk * dk + s.num_heads * dv;
  out["conv1d.weight"] = get("conv1d.weight", {conv, 1, s.conv_kernel});
  out["dt_bias"] = get("dt_bias", {s.num_heads});
  out["A_log"] = get("A_log", {s.num_heads});
  out["norm.weight"] = get("norm.weight", {dv});
  out["out_proj.weight"] = get("out_proj.weight", {C, s.num_heads * dv});
  return out;
}

}  // namespace hylo
