// Teacher configs of the published HyLo models, field by field from their Hugging Face config.json
// (independent of the config loader, so plan and estimate tests do not depend on it).
#pragma once
#include "core/spec/model_config.h"

namespace hylo::test {

inline ModelConfig llama_teacher(int64_t layers, int64_t hidden, int64_t heads, int64_t head_dim) {
  ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = 128256;
  c.hidden_size = hidden;
  c.intermediate_size = 8192;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = 8;
  c.head_dim = head_dim;
  c.max_position_embeddings = 131072;
  c.tie_word_embeddings = true;
  return c;
}
inline ModelConfig llama_3_2_1b() { return llama_teacher(16, 2048, 32, 64); }
inline ModelConfig llama_3_2_3b() { return llama_teacher(28, 3072, 24, 128); }
inline ModelConfig qwen3_1_7b() {
  ModelConfig c;
  c.model_type = "qwen3";
  c.vocab_size = 151936;
  c.hidden_size = 2048;
  c.intermediate_size = 6144;
  c.num_hidden_layers = 28;
  c.num_attention_heads = 16;
  c.num_key_value_heads = 8;
  c.head_dim = 128;
  c.max_position_embeddings = 40960;
  c.tie_word_embeddings = true;
  c.qk_norm = true;
  return c;
}

}  // namespace hylo::test
