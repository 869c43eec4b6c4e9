// Gated DeltaNet mixer (arXiv 2412.06464) as Qwen3-Next's linear attention, under "linear_attn":
// short causal conv + SiLU over q|k|v, L2-normalised q and k, beta = sigmoid(b),
// g = -exp(A_log) * softplus(a + dt_bias), key heads repeated to the value heads, a per-head
// RMSNorm gated by silu(z), out_proj. The projections are separate (q/k/v/z/a/b_proj rather than
// Qwen3-Next's fused in_proj_qkvz / in_proj_ba) so attention weights copy in block by block.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/model/gated_norm.h"
#include "core/model/layers.h"
#include "core/model/mixer.h"
#include "core/spec/mixers.h"
#include "core/spec/model_config.h"

namespace hylo {

class GatedDeltaNetMixer : public Mixer {
 public:
  // Bad settings are a ModelError naming "layers[<layer_index>].gdn.<field>".
  GatedDeltaNetMixer(const GdnSettings& settings, const ModelConfig& config, int64_t layer_index = 0);

  // Whole sequences and prefills run the chunked delta rule; one token with a cache the recurrent step.
  at::Tensor forward(const at::Tensor& x, int64_t pos, LayerCache* cache) override;
  // A StateCache of kind "gdn_state": conv (B, conv_dim, K-1) in dtype + state (B, H, Dk, Dv) fp32.
  std::unique_ptr<LayerCache> make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const override;
  std::string checkpoint_name() const override { return "linear_attn"; }
  const GdnSettings& settings() const { return s_; }

  int64_t key_dim() const { return s_.num_k_heads * s_.head_k_dim; }
  int64_t value_dim() const { return s_.num_heads * s_.head_v_dim; }
  int64_t conv_dim() const { return 2 * key_dim() + value_dim(); }

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr};  // (key_dim, C)
  torch::nn::Linear v_proj{nullptr};                   // (value_dim, C)
  torch::nn::Linear z_proj{nullptr};                   // (value_dim, C) output gate; absent without output_gate
  torch::nn::Linear a_proj{nullptr}, b_proj{nullptr};  // (H, C): decay and beta inputs
  torch::nn::Conv1d conv1d{nullptr};                   // depthwise over [q | k | v], weight (conv_dim, 1, K), no bias
  at::Tensor dt_bias;                                  // (H)
  at::Tensor A_log;                                    // (H)
  std::shared_ptr<GatedRMSNorm> norm;                  // per head (head_v_dim), with output_gate
  std::shared_ptr<RMSNorm> plain_norm;                 // per head, registered as "norm" without output_gate
  torch::nn::Linear out_proj{nullptr};                 // (C, value_dim)

 private:
  GdnSettings s_;
};

// Qwen3-Next's linear_attn tensors (names relative to "linear_attn") as ours. Qwen3-Next fuses the
// input projections and groups their rows by key head i (r = num_heads / num_k_heads):
//   in_proj_qkvz: [q_i (dk) | k_i (dk) | v of value heads i*r..i*r+r-1 (r*dv) | z of the same (r*dv)]
//   in_proj_ba:   [b of those r value heads | a of them]
// which become q_proj, k_proj, v_proj, z_proj, b_proj, a_proj with rows in head order. conv1d.weight,
// dt_bias, A_log, norm.weight and out_proj.weight keep their names. A missing or misshaped tensor is a
// ModelError naming it. Needs output_gate (Qwen3-Next always has z).
std::map<std::string, at::Tensor> gdn_weights_from_qwen3_next(const GdnSettings& s, int64_t hidden_size,
                                                              const std::map<std::string, at::Tensor>& hf);

}  // namespace hylo
