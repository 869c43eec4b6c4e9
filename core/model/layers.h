// The Transformer teacher's building blocks (Llama / Qwen2 / Qwen3), laid out so that parameter
// names are the Hugging Face ones: RMSNorm ("weight"), SwiGLU MLP (gate/up/down_proj) and GQA
// softmax attention (q/k/v/o_proj, optional biases and per-head q_norm/k_norm) with its KV cache.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "core/model/mixer.h"
#include "core/model/rope.h"
#include "core/spec/mixers.h"
#include "core/spec/model_config.h"

namespace hylo {

// nn::Linear initialised like HF's _init_weights: weight ~ N(0, 0.02), bias = 0.
torch::nn::Linear make_linear(int64_t in_features, int64_t out_features, bool bias);

// y = w * x / rms(x), computed in fp32 and cast back to the input dtype before the weight (as HF).
class RMSNorm : public torch::nn::Module {
 public:
  RMSNorm(int64_t dim, double eps);
  at::Tensor forward(const at::Tensor& x);  // (..., dim)
  at::Tensor weight;                        // (dim)
  double eps;
};

// down(silu(gate(x)) * up(x))
class SwiGLU : public torch::nn::Module {
 public:
  SwiGLU(int64_t hidden, int64_t intermediate);
  at::Tensor forward(const at::Tensor& x);  // (B, T, C) -> (B, T, C)
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};

// Keys and values of every token seen so far: (B, H_kv, capacity, D) buffers grown geometrically,
// so appending one token is amortised O(1) copies.
class KVCache : public LayerCache {
 public:
  KVCache(int64_t batch, at::ScalarType dtype, at::Device device);
  // k, v: (B, H_kv, T, D). Returns views of all cached keys and values, (B, H_kv, length, D).
  std::pair<at::Tensor, at::Tensor> append(const at::Tensor& k, const at::Tensor& v);
  int64_t length() const override { return length_; }
  int64_t bytes() const override;
  int64_t capacity() const { return k_.defined() ? k_.size(2) : 0; }
  std::string kind() const override { return "kv"; }
  void reset() override { length_ = 0; }
  void reserve(int64_t tokens) override { reserved_ = std::max(reserved_, tokens); }

 private:
  int64_t batch_;
  at::ScalarType dtype_;
  at::Device device_;
  at::Tensor k_, v_;
  int64_t length_ = 0;
  int64_t reserved_ = 0;
};

// Causal grouped-query softmax attention, softmax scale head_dim^-0.5, RoPE on q and k.
class AttentionMixer : public Mixer {
 public:
  AttentionMixer(const AttentionSettings& settings, const ModelConfig& config);
  at::Tensor forward(const at::Tensor& x, int64_t pos, LayerCache* cache) override;
  std::unique_ptr<LayerCache> make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const override;
  std::string checkpoint_name() const override { return "self_attn"; }
  const AttentionSettings& settings() const { return s_; }

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  std::shared_ptr<RMSNorm> q_norm, k_norm;  // Qwen3 only

 private:
  AttentionSettings s_;
  RopeScaling rope_scaling_;
  double rope_theta_;
  int64_t max_position_embeddings_;
  RopeTables rope_;
};

// Softmax attention over already rotated heads, scale D^-0.5. q: (B, H, Tq, D); k: (B, H_kv, Tk, D);
// v: (B, H_kv, Tk, Dv) with Tk >= Tq; query i sits at key position Tk - Tq + i and sees keys up to it.
// Returns (B, H, Tq, Dv). CUDA fp16/bf16 on LibTorch 2 runs the flash kernel (core/model/flash_attention.h).
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

}  // namespace hylo
