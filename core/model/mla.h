// Multi-head Latent Attention (DeepSeek-V2, arXiv 2405.04434) with DeepSeek-V3's HF names under
// "self_attn". Keys and values are up-projected from a per-token latent of kv_lora_rank; the RoPE
// part of the key is one shared head (qk_rope_head_dim), so the cache holds only
// kv_lora_rank + qk_rope_head_dim values per token.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "core/model/layers.h"
#include "core/model/mixer.h"
#include "core/model/rope.h"
#include "core/spec/mixers.h"
#include "core/spec/model_config.h"

namespace hylo {

// Latent + rotated rope key of every token seen, in one (B, capacity, kv_lora_rank + rope_dim)
// buffer grown geometrically.
class MlaCache : public LayerCache {
 public:
  MlaCache(int64_t batch, int64_t kv_lora_rank, int64_t rope_dim, at::ScalarType dtype, at::Device device);
  // latent: (B, T, r), k_rope: (B, T, dr). Returns views of everything cached: (B, length, r), (B, length, dr).
  std::pair<at::Tensor, at::Tensor> append(const at::Tensor& latent, const at::Tensor& k_rope);
  // Everything cached as whole rows: (B, length, r + dr), latent first.
  at::Tensor rows() const;
  int64_t length() const override { return length_; }
  int64_t bytes() const override;  // B * length * (r + dr) * dtype_bytes
  std::string kind() const override { return "mla_latent"; }
  void reset() override { length_ = 0; }
  void reserve(int64_t tokens) override { reserved_ = std::max(reserved_, tokens); }

 private:
  int64_t batch_, rank_, rope_dim_;
  at::ScalarType dtype_;
  at::Device device_;
  at::Tensor buf_;  // (B, capacity, r + dr)
  int64_t length_ = 0;
  int64_t reserved_ = 0;
};

// How one decoded token attends to the cache: Expanded up-projects every cached latent to per-head
// keys and values; Absorbed folds kv_b_proj into the query and the output, so scores are
// (q_nope W_uk) . c + q_rope . k_rope and out = (softmax . c) W_uv^T: the latent is never expanded.
enum class MlaDecode { Absorbed, Expanded };

class MlaMixer : public Mixer {
 public:
  // Bad settings are a ModelError naming "layers[<layer_index>].mla.<field>".
  MlaMixer(const MlaSettings& settings, const ModelConfig& config, int64_t layer_index = 0);

  // Whole sequences and prefills take the expanded path; one token with a cache takes decode_path.
  at::Tensor forward(const at::Tensor& x, int64_t pos, LayerCache* cache) override;
  std::unique_ptr<LayerCache> make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const override;
  std::string checkpoint_name() const override { return "self_attn"; }
  const MlaSettings& settings() const { return s_; }
  // qk_head_dim^-0.5, times yarn_get_mscale(factor, mscale_all_dim)^2 under YaRN with mscale_all_dim.
  double softmax_scale() const { return softmax_scale_; }

  MlaDecode decode_path = MlaDecode::Absorbed;
  // Most bytes of up-projected keys and values one attention call holds: a longer prefix is
  // expanded a group of KV heads at a time (4 GiB keeps a 3B-shaped 2M-token prefill on an H100).
  int64_t max_expanded_bytes = int64_t(4) << 30;

  torch::nn::Linear q_proj{nullptr};             // (H * qk_head_dim, C), when q_lora_rank == 0
  torch::nn::Linear q_a_proj{nullptr};           // (q_lora_rank, C)
  std::shared_ptr<RMSNorm> q_a_layernorm;        // (q_lora_rank), with latent_norm
  torch::nn::Linear q_b_proj{nullptr};           // (H * qk_head_dim, q_lora_rank)
  torch::nn::Linear kv_a_proj_with_mqa{nullptr}; // (kv_lora_rank + rope_dim, C)
  std::shared_ptr<RMSNorm> kv_a_layernorm;       // (kv_lora_rank), with latent_norm
  torch::nn::Linear kv_b_proj{nullptr};          // (H_kv * (nope + v_head_dim), kv_lora_rank)
  torch::nn::Linear o_proj{nullptr};             // (C, H * v_head_dim)

 private:
  // q_nope (B, H, T, nope), q_rope (B, H, T, dr) rotated; latent (B, Tk, r); k_rope (B, Tk, dr)
  // rotated. Returns (B, H, T, v_head_dim).
  at::Tensor attend_expanded(const at::Tensor& q_nope, const at::Tensor& q_rope, const at::Tensor& latent,
                             const at::Tensor& k_rope);
  // One token (T = 1) against the cache rows (B, Tk, r + dr) (MlaCache::rows). Returns (B, H, 1, v_head_dim).
  at::Tensor attend_absorbed(const at::Tensor& q_nope, const at::Tensor& q_rope, const at::Tensor& rows);

  MlaSettings s_;
  RopeScaling rope_scaling_;
  double rope_theta_;
  int64_t max_position_embeddings_;
  RopeTables rope_;
  double softmax_scale_;
};

}  // namespace hylo
