#include "core/model/hybrid_model.h"

#include <ATen/record_function.h>

#include "core/spec/error.h"

namespace hylo {

std::vector<LayerSpec> layer_specs(const ModelConfig& config) {
  if (!config.layers.empty()) {
    if (static_cast<int64_t>(config.layers.size()) != config.num_hidden_layers)
      throw ConfigError("layer plan lists " + std::to_string(config.layers.size()) + " layers, num_hidden_layers is " +
                            std::to_string(config.num_hidden_layers),
                        {}, "layers");
    return config.layers;
  }
  LayerSpec spec;
  spec.kind = MixerKind::Attention;
  spec.attention = config.teacher_attention();
  return std::vector<LayerSpec>(config.num_hidden_layers, spec);
}

// ---- caches -------------------------------------------------------------------------------------

int64_t Caches::bytes() const {
  int64_t total = 0;
  for (auto& c : layers) total += c->bytes();
  return total;
}

std::map<std::string, int64_t> Caches::bytes_by_kind() const {
  std::map<std::string, int64_t> by_kind;
  for (auto& c : layers) by_kind[c->kind()] += c->bytes();
  return by_kind;
}

void Caches::reset() {
  for (auto& c : layers) c->reset();
}

void Caches::reserve(int64_t tokens) {
  for (auto& c : layers) c->reserve(tokens);
}

// ---- layers -------------------------------------------------------------------------------------

DecoderLayer::DecoderLayer(const LayerSpec& spec, const ModelConfig& config, int64_t layer_index) {
  input_layernorm = register_module("input_layernorm", std::make_shared<RMSNorm>(config.hidden_size, config.rms_norm_eps));
  mixer = make_mixer(spec, config, layer_index);
  mixer_scope_ = "mixer:" + to_string(spec.kind);
  register_module(mixer->checkpoint_name(), mixer);
  post_attention_layernorm =
      register_module("post_attention_layernorm", std::make_shared<RMSNorm>(config.hidden_size, config.rms_norm_eps));
  mlp = register_module("mlp", std::make_shared<SwiGLU>(config.hidden_size, config.intermediate_size));
}

at::Tensor DecoderLayer::forward(const at::Tensor& x, int64_t pos, LayerCache* cache, at::Tensor* mixer_out) {
  // Named scopes cost nothing unless a profiler runs (hylo bench train --trace).
  at::Tensor a;
  {
    RECORD_USER_SCOPE(mixer_scope_.c_str());
    a = mixer->forward(input_layernorm->forward(x), pos, cache);
  }
  if (mixer_out) *mixer_out = a;
  auto h = x + a;
  RECORD_USER_SCOPE("mlp");
  return h + mlp->forward(post_attention_layernorm->forward(h));
}

DecoderStack::DecoderStack(const ModelConfig& config) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config.vocab_size, config.hidden_size));
  {
    at::NoGradGuard no_grad;
    embed_tokens->weight.normal_(0.0, 0.02);
  }
  layers = register_module("layers", torch::nn::ModuleList());
  auto specs = layer_specs(config);
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    auto layer = std::make_shared<DecoderLayer>(specs[i], config, i);
    layers->push_back(layer);
    layer_list.push_back(layer);
  }
  norm = register_module("norm", std::make_shared<RMSNorm>(config.hidden_size, config.rms_norm_eps));
}

// ---- model --------------------------------------------------------------------------------------

HybridModel::HybridModel(const ModelConfig& config) : config_(config) {
  if (config.vocab_size <= 0 || config.hidden_size <= 0 || config.num_hidden_layers <= 0)
    throw ConfigError("vocab_size, hidden_size and num_hidden_layers must be positive", {}, "hidden_size");
  model = register_module("model", std::make_shared<DecoderStack>(config));
  if (!config.tie_word_embeddings)
    lm_head = register_module("lm_head", make_linear(config.hidden_size, config.vocab_size, false));
}

at::Tensor HybridModel::output_weight() const {
  return lm_head ? lm_head->weight : model->embed_tokens->weight;
}

Caches HybridModel::make_caches(int64_t batch, at::ScalarType dtype, at::Device device) const {
  Caches caches;
  for (auto& layer : model->layer_list) caches.layers.push_back(layer->mixer->make_cache(batch, dtype, device));
  return caches;
}

HiddenStates HybridModel::hidden_states(const at::Tensor& ids, int64_t pos, Caches* caches, bool collect_layers) {
  if (ids.dim() != 2) throw ModelError("input ids must be (batch, tokens), got " + std::to_string(ids.dim()) + " dims");
  if (caches && static_cast<int64_t>(caches->layers.size()) != num_layers())
    throw ModelError("caches hold " + std::to_string(caches->layers.size()) + " layers, the model has " +
                     std::to_string(num_layers()));
  HiddenStates out;
  auto h = model->embed_tokens->forward(ids);  // (B, T, C)
  for (int64_t i = 0; i < num_layers(); ++i) {
    LayerCache* cache = caches ? caches->layers[i].get() : nullptr;
    if (collect_layers) {
      at::Tensor mixer_out;
      out.layer_inputs.push_back(h);
      h = model->layer_list[i]->forward(h, pos, cache, &mixer_out);
      out.mixer_outputs.push_back(mixer_out);
      out.layer_outputs.push_back(h);
    } else {
      h = model->layer_list[i]->forward(h, pos, cache);
    }
  }
  out.last = model->norm->forward(h);
  return out;
}

at::Tensor HybridModel::logits(const at::Tensor& hidden) {
  return lm_head ? lm_head->forward(hidden) : at::matmul(hidden, model->embed_tokens->weight.t());
}

at::Tensor HybridModel::forward(const at::Tensor& ids, int64_t pos, Caches* caches) {
  return logits(hidden_states(ids, pos, caches).last);
}

}  // namespace hylo
