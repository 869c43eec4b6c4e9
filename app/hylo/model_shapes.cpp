#include "app/hylo/model_shapes.h"

#include <filesystem>

#include "core/spec/error.h"
#include "core/spec/plan.h"

namespace hylo::cli {
namespace {

hylo::ModelConfig llama_shape(int64_t hidden, int64_t layers, int64_t heads, int64_t head_dim) {
  hylo::ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 128256;
  c.hidden_size = hidden;
  c.intermediate_size = 8192;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = 8;
  c.head_dim = head_dim;
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 500000.0;
  c.rope_scaling.type = "llama3";
  c.rope_scaling.factor = 32;
  c.rope_scaling.low_freq_factor = 1;
  c.rope_scaling.high_freq_factor = 4;
  c.rope_scaling.original_max_position_embeddings = 8192;
  c.tie_word_embeddings = true;
  c.torch_dtype = "bfloat16";
  return c;
}

hylo::ModelConfig hylo_student(const hylo::ModelConfig& teacher) {
  for (const auto& p : hylo::plan_presets(teacher))
    if (p.name.find("HyLo") != std::string::npos) return p.plan.resolve(teacher);
  throw hylo::ConfigError("no HyLo preset for this teacher shape", {}, "model");
}

}  // namespace

hylo::ModelConfig shape_config(const std::string& s) {
  const auto l1 = llama_shape(2048, 16, 32, 64), l3 = llama_shape(3072, 28, 24, 128);
  if (s == "llama-1b") return l1;
  if (s == "llama-3b") return l3;
  if (s == "llama-1b-hylo") return hylo_student(l1);
  if (s == "llama-3b-hylo") return hylo_student(l3);
  const std::filesystem::path p(s);
  if (p.extension() == ".yaml" || p.extension() == ".yml") {
    auto plan = hylo::LayerPlan::load(s);
    if (plan.teacher_path().empty()) throw hylo::ConfigError("the plan names no teacher", s, "teacher");
    auto tp = std::filesystem::path(plan.teacher_path());
    return plan.resolve(hylo::ModelConfig::load((std::filesystem::is_directory(tp) ? tp / "config.json" : tp).string()));
  }
  if (std::filesystem::is_directory(p)) return hylo::ModelConfig::load((p / "config.json").string());
  if (std::filesystem::exists(p)) return hylo::ModelConfig::load(s);
  throw hylo::ConfigError("not a shape (llama-1b, llama-3b, llama-1b-hylo, llama-3b-hylo), plan or config", s, "model");
}

}  // namespace hylo::cli
