// Mamba2 mixer (arXiv 2405.21060) with HF Mamba2 parameter names under "mamba", plus
// MambaInLlama's d_xb (arXiv 2408.15237): x and B come from d_xb channels that are repeated to
// the heads / groups, so they can be initialised from attention's V and K.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <memory>

#include "core/model/gated_norm.h"
#include "core/model/mixer.h"
#include "core/spec/mixers.h"
#include "core/spec/model_config.h"

namespace hylo {

class Mamba2Mixer : public Mixer {
 public:
  // Bad settings are a ModelError naming "layers[<layer_index>].mamba2.<field>".
  Mamba2Mixer(const Mamba2Settings& settings, const ModelConfig& config, int64_t layer_index = 0);

  // Whole sequences and prefills run the chunked SSD; one token with a cache runs the recurrent step.
  at::Tensor forward(const at::Tensor& x, int64_t pos, LayerCache* cache) override;
  // A StateCache of kind "ssm_state": conv (B, conv_dim, K-1) in dtype + SSM state (B, H, P, N) fp32.
  std::unique_ptr<LayerCache> make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const override;
  std::string checkpoint_name() const override { return "mamba"; }
  const Mamba2Settings& settings() const { return s_; }

  // d_xb of 0 or d_inner: no repetition (as core/spec/tensor_layout.h).
  bool repeats_xb() const { return s_.d_xb > 0 && s_.d_xb != s_.d_inner; }
  int64_t x_channels() const { return repeats_xb() ? s_.d_xb : s_.d_inner; }               // before repetition
  int64_t b_channels() const { return repeats_xb() ? s_.d_xb : s_.n_groups * s_.d_state; }  // before repetition
  int64_t conv_dim() const { return x_channels() + b_channels() + s_.n_groups * s_.d_state; }

  torch::nn::Linear in_proj{nullptr};  // (d_inner + conv_dim + H, C): [z | x | B | C | dt]
  torch::nn::Conv1d conv1d{nullptr};   // depthwise over [x | B | C], weight (conv_dim, 1, K), bias
  at::Tensor dt_bias;                  // (H)
  at::Tensor A_log;                    // (H), A = -exp(A_log)
  at::Tensor D;                        // (H) skip
  std::shared_ptr<GatedRMSNorm> norm;  // over d_inner, absent when gated_norm is off (then y * silu(z))
  torch::nn::Linear out_proj{nullptr};  // (C, d_inner)

 private:
  Mamba2Settings s_;
};

}  // namespace hylo
