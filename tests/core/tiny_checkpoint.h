// Test helper: a tiny random Llama checkpoint folder with the real Llama-3 tokenizer
// ($HYLO_CACHE/tokenizer-llama3/models/tokenizer.json), so text evaluations run on the CPU in
// seconds. vocab 128256 is fixed by the tokenizer; hidden and layers stay tiny.
#pragma once
#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/io/checkpoint.h"
#include "core/model/hybrid_model.h"

namespace hylo::testing {

inline std::string cache_dir() {
  const char* c = std::getenv("HYLO_CACHE");
  return c ? c : std::string(std::getenv("HOME")) + "/.cache/hylo";
}

inline std::string llama3_tokenizer_path() { return cache_dir() + "/tokenizer-llama3/models/tokenizer.json"; }

inline ModelConfig tiny_llama3_config() {
  ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 128256;
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 8;
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 500000.0;
  c.tie_word_embeddings = true;
  c.eos_token_ids = {128001};
  return c;
}

// Writes the checkpoint (random weights from `seed`) into `dir`; with_tokenizer copies tokenizer.json.
inline void write_tiny_checkpoint(const std::filesystem::path& dir, bool with_tokenizer, uint64_t seed = 5) {
  const auto config = tiny_llama3_config();
  at::manual_seed(static_cast<int64_t>(seed));
  HybridModel model(config);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : model.named_parameters()) tensors.emplace_back(p.key(), p.value().detach().clone());
  std::filesystem::remove_all(dir);
  // write_checkpoint copies the tokenizer file it is given (a path, not JSON text).
  write_checkpoint(dir.string(), config, tensors, with_tokenizer ? llama3_tokenizer_path() : std::string());
}

}  // namespace hylo::testing
