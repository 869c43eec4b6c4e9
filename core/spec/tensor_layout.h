// The tensors of a model, by Hugging Face name and shape, computed from its config alone. This is
// the layout contract the model code implements (its named parameters must equal this list) and
// what the parameter estimates sum. Names are relative to the layer for mixers ("self_attn.q_proj.weight").
//
// Attention (Llama / Qwen2 / Qwen3), H heads, Hkv KV heads, head dim d, width C:
//   q_proj (H*d, C) [+bias (H*d)], k_proj / v_proj (Hkv*d, C) [+bias], o_proj (C, H*d),
//   qk_norm: q_norm (d), k_norm (d).  Biases (Qwen2) on q/k/v only.
// MLA (DeepSeek-V3 names), r_q, r_kv ranks, nope/rope/v head dims:
//   q_lora_rank > 0: q_a_proj (r_q, C), [q_a_layernorm (r_q)], q_b_proj (H*(nope+rope), r_q)
//   else:            q_proj (H*(nope+rope), C)
//   kv_a_proj_with_mqa (r_kv + rope, C), [kv_a_layernorm (r_kv)], kv_b_proj (Hkv*(nope+v), r_kv),
//   o_proj (C, H*v). [..] only with latent_norm. No biases.
// Mamba2 (HF Mamba2 names, prefix "mamba"), d_inner = H*hd, x/B width d_xb (= d_inner when 0),
// C width G*d_state:
//   in_proj (d_inner + d_x + d_B + G*d_state + H, C) rows [z | x | B | C | dt], where without
//   repetition d_x = d_inner, d_B = G*d_state; with it (MambaInLlama) d_x = d_B = d_xb;
//   conv1d weight (d_x + d_B + G*d_state, 1, K) + bias, dt_bias (H), A_log (H), D (H),
//   norm (d_inner) when gated_norm, out_proj (C, d_inner). No projection biases.
// Gated DeltaNet (prefix "linear_attn"), Hk key heads of dk, Hv value heads of dv. Qwen3-Next's
// names, except that its fused in_proj_qkvz / in_proj_ba are kept as separate projections so
// attention weights copy in block by block (gdn_weights_from_qwen3_next converts):
//   q_proj, k_proj (Hk*dk, C), v_proj (Hv*dv, C), z_proj (Hv*dv, C) when output_gate,
//   a_proj, b_proj (Hv, C), conv1d (2*Hk*dk + Hv*dv, 1, K) without bias, dt_bias (Hv),
//   A_log (Hv), norm (dv) shared by the heads, out_proj (C, Hv*dv).
// Decoder layer: input_layernorm (C), post_attention_layernorm (C), mlp.gate_proj / up_proj (I, C),
// mlp.down_proj (C, I). Model: model.embed_tokens (V, C), model.norm (C), lm_head (V, C) unless tied.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/spec/mixers.h"
#include "core/spec/model_config.h"

namespace hylo {

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel() const;
};

// The module name of a mixer inside its layer: "self_attn", "mamba", "linear_attn".
std::string mixer_module_name(MixerKind kind);
// Channels of a mixer's short convolution (x, B, C for Mamba2; q, k, v for GDN); 0 without one.
int64_t conv_channels(const LayerSpec& spec);
// A mixer's tensors, names relative to the layer ("self_attn.q_proj.weight").
std::vector<TensorInfo> mixer_tensors(const LayerSpec& spec, int64_t hidden_size);
// Every tensor of the model with full names ("model.layers.3.mamba.A_log", "lm_head.weight").
std::vector<TensorInfo> model_tensors(const ModelConfig& config);
// The layer specs of a config; a Transformer's config.json lists none: all attention.
std::vector<LayerSpec> layer_specs_of(const ModelConfig& config);

}  // namespace hylo
