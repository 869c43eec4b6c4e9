// A model's config.json: the Hugging Face fields of a Llama / Qwen2 / Qwen3 teacher, plus, for a
// hybrid student (model_type "hylo"), a `hylo` block with one mixer per layer and the teacher it
// came from. Torch-free: the GUI and the estimates read it too.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/spec/mixers.h"

namespace hylo {

// rope_scaling (hub files) or rope_parameters (transformers 5.x), minus rope_theta.
struct RopeScaling {
  std::string type = "default";  // default | linear | dynamic | llama3 | yarn
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;  // llama3, yarn (yarn: max_position_embeddings when absent)
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  double beta_fast = 32.0, beta_slow = 1.0;              // yarn
  std::optional<double> mscale, mscale_all_dim, attention_factor;  // yarn
  bool truncate = true;                                            // yarn
};

struct ModelConfig {
  std::string model_type;    // "llama" | "qwen2" | "qwen3" | "hylo" (a hybrid student)
  std::string architecture;  // e.g. "LlamaForCausalLM"
  int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0,
          num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0, max_position_embeddings = 0;
  double rms_norm_eps = 1e-6, rope_theta = 10000;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (Qwen2 always)
  bool qk_norm = false;         // per-head RMSNorm of q and k (Qwen3 always)
  std::string torch_dtype = "float32";
  int64_t bos_token_id = -1;  // -1: none
  std::vector<int64_t> eos_token_ids;
  std::vector<LayerSpec> layers;  // one per layer; all Attention for a teacher
  std::string teacher;            // hybrids: the checkpoint they were upcycled from (may be empty)

  // Every problem is a ConfigError naming `file` and the field.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& file);
  // A config.json path, or a checkpoint folder holding one.
  static ModelConfig load(const std::string& path);
  // HF layout (top-level rope_theta + rope_scaling, the hub form); reads back through from_json.
  nlohmann::json to_json() const;

  bool is_hybrid() const { return model_type == "hylo"; }
  int64_t count_layers(MixerKind kind) const;
  // The attention settings every teacher layer has (heads, KV heads, head_dim, bias, qk_norm).
  AttentionSettings teacher_attention() const;
  // GQA KV cache bytes per token over the softmax-attention layers only:
  // sum of 2 * num_kv_heads * head_dim * dtype_bytes.
  int64_t kv_bytes_per_token(int64_t dtype_bytes) const;
};

}  // namespace hylo
