// One decoder-only model for the teacher (every layer attention) and the hybrid students (some
// layers MLA / Mamba2 / Gated DeltaNet). Module names are the Hugging Face ones, so
// named_parameters() gives "model.layers.0.self_attn.q_proj.weight", ... and checkpoints map 1:1.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/layers.h"
#include "core/model/mixer.h"
#include "core/spec/model_config.h"

namespace hylo {

// The mixer of layer `layer_index` as its LayerSpec asks (core/model/mixer_factory.cpp).
// A kind with no implementation in this build is a ModelError naming the layer.
std::shared_ptr<Mixer> make_mixer(const LayerSpec& spec, const ModelConfig& config, int64_t layer_index);

// The layer plan of a config: its `layers` (config.json always fills them), else all attention from
// the top-level fields (configs built in code: tests, benchmarks).
std::vector<LayerSpec> layer_specs(const ModelConfig& config);

// One LayerCache per layer, for prefill + decode.
struct Caches {
  std::vector<std::unique_ptr<LayerCache>> layers;
  int64_t length() const { return layers.empty() ? 0 : layers.front()->length(); }
  int64_t bytes() const;
  std::map<std::string, int64_t> bytes_by_kind() const;  // "kv" -> bytes, "ssm_state" -> bytes, ...
  void reset();
  void reserve(int64_t tokens);  // LayerCache::reserve on every layer
};

// x + mixer(input_layernorm(x)), then h + mlp(post_attention_layernorm(h)).
class DecoderLayer : public torch::nn::Module {
 public:
  DecoderLayer(const LayerSpec& spec, const ModelConfig& config, int64_t layer_index);
  // x: (B, T, C). mixer_out, when given, receives the mixer's output (before the residual add).
  at::Tensor forward(const at::Tensor& x, int64_t pos, LayerCache* cache, at::Tensor* mixer_out = nullptr);

  std::shared_ptr<RMSNorm> input_layernorm, post_attention_layernorm;
  std::shared_ptr<Mixer> mixer;
  std::shared_ptr<SwiGLU> mlp;

 private:
  std::string mixer_scope_;  // "mixer:<kind>", the profiler's name for this layer's mixer
};

// What hidden_states() returns. Per-layer lists are filled only when asked (for layer-wise distillation).
struct HiddenStates {
  at::Tensor last;                          // (B, T, C) after the final norm
  std::vector<at::Tensor> layer_inputs;     // per layer (B, T, C)
  std::vector<at::Tensor> layer_outputs;    // per layer (B, T, C)
  std::vector<at::Tensor> mixer_outputs;    // per layer (B, T, C)
};

// The "model." prefix of HF checkpoints: embeddings, layers, final norm.
class DecoderStack : public torch::nn::Module {
 public:
  explicit DecoderStack(const ModelConfig& config);
  torch::nn::Embedding embed_tokens{nullptr};  // weight (V, C)
  torch::nn::ModuleList layers{nullptr};       // DecoderLayer each
  std::shared_ptr<RMSNorm> norm;
  std::vector<std::shared_ptr<DecoderLayer>> layer_list;  // typed views of `layers`
};

class HybridModel : public torch::nn::Module {
 public:
  // Random init as HF does: Linear and Embedding weights ~ N(0, 0.02), biases 0, norms 1.
  explicit HybridModel(const ModelConfig& config);

  // ids: (B, T) int64 -> logits (B, T, V). pos: position of ids[:, 0]; with caches, the tokens
  // continue what the caches hold (pos == caches->length()).
  at::Tensor forward(const at::Tensor& ids, int64_t pos = 0, Caches* caches = nullptr);
  // The final normed hidden state (B, T, C); with collect_layers also each layer's input, output
  // and mixer output.
  HiddenStates hidden_states(const at::Tensor& ids, int64_t pos = 0, Caches* caches = nullptr,
                             bool collect_layers = false);
  // (B, T, C) hidden -> (B, T, V) logits through lm_head (or the tied embeddings).
  at::Tensor logits(const at::Tensor& hidden);
  Caches make_caches(int64_t batch, at::ScalarType dtype, at::Device device) const;

  const ModelConfig& config() const { return config_; }
  int64_t num_layers() const { return static_cast<int64_t>(model->layer_list.size()); }
  DecoderLayer& layer(int64_t i) { return *model->layer_list.at(i); }
  at::Tensor output_weight() const;  // (V, C): lm_head.weight or the tied embedding

  std::shared_ptr<DecoderStack> model;
  torch::nn::Linear lm_head{nullptr};  // absent when tie_word_embeddings

 private:
  ModelConfig config_;
};

}  // namespace hylo
