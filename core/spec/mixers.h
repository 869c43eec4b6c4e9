// Settings of each kind of sequence mixer a decoder layer can hold. Torch-free: the GUI, the
// planner and the estimates use them too. Field names follow the Hugging Face configs they come
// from (DeepSeek-V3 for MLA, Mamba2, Qwen3-Next for Gated DeltaNet), so config.json reads naturally.
#pragma once
#include <cstdint>
#include <string>

namespace hylo {

enum class MixerKind { Attention, MLA, Mamba2, GDN };

// "attention" | "mla" | "mamba2" | "gdn"  (also accepts "keep" for Attention when parsing plans)
std::string to_string(MixerKind kind);
MixerKind mixer_kind_from_string(const std::string& s, const std::string& file = {},
                                 const std::string& field = {});

// Grouped-query softmax attention, as in the teacher (Llama / Qwen2 / Qwen3).
struct AttentionSettings {
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  bool bias = false;     // Qwen2: q/k/v biases
  bool qk_norm = false;  // Qwen3: RMSNorm over each head of q and k
};

// Multi-head Latent Attention (DeepSeek-V2, arXiv 2405.04434). Cache per token per layer:
// kv_lora_rank + qk_rope_head_dim elements.
struct MlaSettings {
  int64_t num_heads = 0;            // query heads (= the teacher's)
  int64_t num_kv_heads = 0;         // heads produced by kv_b_proj, repeated to num_heads (HyLo/X-EcoMLA: the teacher's KV heads)
  int64_t q_lora_rank = 0;          // 0: full-rank q_proj, no query compression
  int64_t kv_lora_rank = 128;
  int64_t qk_rope_head_dim = 32;
  int64_t qk_nope_head_dim = 32;
  int64_t v_head_dim = 64;
  bool latent_norm = false;         // RMSNorm on the q and kv latents (DeepSeek: on; HyLo configs: off)
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
};

// Mamba2 / SSD (arXiv 2405.21060). MambaInLlama-style sizes: d_inner = hidden, x and B come from
// d_xb = n_kv_heads * head_dim channels repeated to the heads.
struct Mamba2Settings {
  int64_t num_heads = 0;       // d_inner / head_dim
  int64_t head_dim = 64;
  int64_t d_inner = 0;         // = num_heads * head_dim
  int64_t d_xb = 0;            // channels of x and B before repetition (0: = d_inner, no repetition)
  int64_t d_state = 64;
  int64_t n_groups = 1;        // groups for B/C
  int64_t conv_kernel = 4;
  int64_t chunk_size = 256;
  float dt_min = 0.001f, dt_max = 0.1f, dt_init_floor = 1e-4f;
  bool gated_norm = true;      // RMSNorm(y * silu(z)) before out_proj
};

// Gated DeltaNet (arXiv 2412.06464), laid out as Qwen3-Next's linear attention.
struct GdnSettings {
  int64_t num_heads = 6;       // value heads
  int64_t num_k_heads = 6;     // key/query heads (divides num_heads)
  int64_t head_k_dim = 256;
  int64_t head_v_dim = 256;
  int64_t conv_kernel = 4;
  int64_t chunk_size = 64;
  bool output_gate = true;     // gated RMSNorm with a learned output gate
};

// One decoder layer's mixer: the kind and the settings of that kind (others unused).
struct LayerSpec {
  MixerKind kind = MixerKind::Attention;
  AttentionSettings attention;
  MlaSettings mla;
  Mamba2Settings mamba2;
  GdnSettings gdn;
};

}  // namespace hylo
