// Tensor names and shapes per mixer (the layouts are spelled out in tensor_layout.h).
#include "core/spec/tensor_layout.h"

#include <functional>
#include <numeric>

namespace hylo {
namespace {

using Tensors = std::vector<TensorInfo>;

void attention(const AttentionSettings& s, int64_t C, Tensors& out) {
  const int64_t q = s.num_heads * s.head_dim, kv = s.num_kv_heads * s.head_dim;
  for (const auto& [proj, rows] : {std::pair<const char*, int64_t>{"q_proj", q}, {"k_proj", kv}, {"v_proj", kv}}) {
    out.push_back({std::string("self_attn.") + proj + ".weight", {rows, C}});
    if (s.bias) out.push_back({std::string("self_attn.") + proj + ".bias", {rows}});
  }
  out.push_back({"self_attn.o_proj.weight", {C, q}});
  if (s.qk_norm) {
    out.push_back({"self_attn.q_norm.weight", {s.head_dim}});
    out.push_back({"self_attn.k_norm.weight", {s.head_dim}});
  }
}

void mla(const MlaSettings& s, int64_t C, Tensors& out) {
  const int64_t q_rows = s.num_heads * s.qk_head_dim();
  if (s.q_lora_rank > 0) {
    out.push_back({"self_attn.q_a_proj.weight", {s.q_lora_rank, C}});
    if (s.latent_norm) out.push_back({"self_attn.q_a_layernorm.weight", {s.q_lora_rank}});
    out.push_back({"self_attn.q_b_proj.weight", {q_rows, s.q_lora_rank}});
  } else {
    out.push_back({"self_attn.q_proj.weight", {q_rows, C}});
  }
  out.push_back({"self_attn.kv_a_proj_with_mqa.weight", {s.kv_lora_rank + s.qk_rope_head_dim, C}});
  if (s.latent_norm) out.push_back({"self_attn.kv_a_layernorm.weight", {s.kv_lora_rank}});
  out.push_back({"self_attn.kv_b_proj.weight", {s.num_kv_heads * (s.qk_nope_head_dim + s.v_head_dim), s.kv_lora_rank}});
  out.push_back({"self_attn.o_proj.weight", {C, s.num_heads * s.v_head_dim}});
}

// Mamba2's x, B and C widths: x and B come from d_xb channels when repeated (MambaInLlama).
struct XbcWidths {
  int64_t x, b, c;
};
XbcWidths xbc_widths(const Mamba2Settings& s) {
  const bool repeated = s.d_xb > 0 && s.d_xb != s.d_inner;
  const int64_t c = s.n_groups * s.d_state;
  return {repeated ? s.d_xb : s.d_inner, repeated ? s.d_xb : c, c};
}

int64_t gdn_conv_channels(const GdnSettings& s) {
  return 2 * s.num_k_heads * s.head_k_dim + s.num_heads * s.head_v_dim;
}

void mamba2(const Mamba2Settings& s, int64_t C, Tensors& out) {
  const auto w = xbc_widths(s);
  const int64_t conv = w.x + w.b + w.c;
  out.push_back({"mamba.in_proj.weight", {s.d_inner + conv + s.num_heads, C}});
  out.push_back({"mamba.conv1d.weight", {conv, 1, s.conv_kernel}});
  out.push_back({"mamba.conv1d.bias", {conv}});
  out.push_back({"mamba.dt_bias", {s.num_heads}});
  out.push_back({"mamba.A_log", {s.num_heads}});
  out.push_back({"mamba.D", {s.num_heads}});
  if (s.gated_norm) out.push_back({"mamba.norm.weight", {s.d_inner}});
  out.push_back({"mamba.out_proj.weight", {C, s.d_inner}});
}

void gdn(const GdnSettings& s, int64_t C, Tensors& out) {
  const int64_t key = s.num_k_heads * s.head_k_dim, value = s.num_heads * s.head_v_dim;
  out.push_back({"linear_attn.q_proj.weight", {key, C}});
  out.push_back({"linear_attn.k_proj.weight", {key, C}});
  out.push_back({"linear_attn.v_proj.weight", {value, C}});
  if (s.output_gate) out.push_back({"linear_attn.z_proj.weight", {value, C}});
  out.push_back({"linear_attn.a_proj.weight", {s.num_heads, C}});
  out.push_back({"linear_attn.b_proj.weight", {s.num_heads, C}});
  out.push_back({"linear_attn.conv1d.weight", {gdn_conv_channels(s), 1, s.conv_kernel}});
  out.push_back({"linear_attn.dt_bias", {s.num_heads}});
  out.push_back({"linear_attn.A_log", {s.num_heads}});
  out.push_back({"linear_attn.norm.weight", {s.head_v_dim}});
  out.push_back({"linear_attn.out_proj.weight", {C, value}});
}

}  // namespace

int64_t TensorInfo::numel() const {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

int64_t conv_channels(const LayerSpec& spec) {
  if (spec.kind == MixerKind::Mamba2) {
    const auto w = xbc_widths(spec.mamba2);
    return w.x + w.b + w.c;
  }
  return spec.kind == MixerKind::GDN ? gdn_conv_channels(spec.gdn) : 0;
}

std::string mixer_module_name(MixerKind kind) {
  switch (kind) {
    case MixerKind::Attention:
    case MixerKind::MLA: return "self_attn";
    case MixerKind::Mamba2: return "mamba";
    case MixerKind::GDN: return "linear_attn";
  }
  return {};
}

std::vector<TensorInfo> mixer_tensors(const LayerSpec& spec, int64_t C) {
  Tensors out;
  switch (spec.kind) {
    case MixerKind::Attention: attention(spec.attention, C, out); break;
    case MixerKind::MLA: mla(spec.mla, C, out); break;
    case MixerKind::Mamba2: mamba2(spec.mamba2, C, out); break;
    case MixerKind::GDN: gdn(spec.gdn, C, out); break;
  }
  return out;
}

std::vector<LayerSpec> layer_specs_of(const ModelConfig& config) {
  if (!config.layers.empty()) return config.layers;
  LayerSpec spec;
  spec.attention = config.teacher_attention();
  return std::vector<LayerSpec>(config.num_hidden_layers, spec);
}

std::vector<TensorInfo> model_tensors(const ModelConfig& config) {
  const int64_t C = config.hidden_size, I = config.intermediate_size, V = config.vocab_size;
  Tensors out{{"model.embed_tokens.weight", {V, C}}};
  const auto specs = layer_specs_of(config);
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    out.push_back({prefix + "input_layernorm.weight", {C}});
    for (auto& t : mixer_tensors(specs[i], C)) out.push_back({prefix + t.name, t.shape});
    out.push_back({prefix + "post_attention_layernorm.weight", {C}});
    out.push_back({prefix + "mlp.gate_proj.weight", {I, C}});
    out.push_back({prefix + "mlp.up_proj.weight", {I, C}});
    out.push_back({prefix + "mlp.down_proj.weight", {C, I}});
  }
  out.push_back({"model.norm.weight", {C}});
  if (!config.tie_word_embeddings) out.push_back({"lm_head.weight", {V, C}});
  return out;
}

}  // namespace hylo
