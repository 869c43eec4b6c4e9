#include "core/spec/model_shapes.h"

#include <filesystem>

#include "core/spec/error.h"
#include "core/spec/plan.h"

namespace hylo {

namespace {

ModelConfig llama_shape(int64_t vocab, int64_t hidden, int64_t intermediate, int64_t layers, int64_t heads,
                        int64_t kv_heads, int64_t head_dim) {
  ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.intermediate_size = intermediate;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
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

// The teacher's first plan preset with `linear` on the non-MLA layers (presets list the few-MLA
// layout first: the paper's layers for known teachers, every fourth layer otherwise).
ModelConfig student(const ModelConfig& teacher, MixerKind linear) {
  for (const auto& p : plan_presets(teacher))
    if (p.plan.default_kind == linear) return p.plan.resolve(teacher);
  throw ConfigError("no preset with " + to_string(linear) + " layers for this teacher", {}, "model");
}

}  // namespace

std::vector<std::string> model_shape_names() {
  std::vector<std::string> names;
  for (const char* base : {"llama-1b", "llama-3b", "tiny"})
    for (const char* suffix : {"", "-hylo", "-hylo-gdn"}) names.push_back(std::string(base) + suffix);
  return names;
}

ModelConfig model_shape(const std::string& s, const std::string& field) {
  for (const char* suffix : {"-hylo-gdn", "-hylo", ""}) {
    const std::string sfx(suffix);
    if (s.size() < sfx.size() || s.compare(s.size() - sfx.size(), sfx.size(), sfx) != 0) continue;
    const std::string base = s.substr(0, s.size() - sfx.size());
    ModelConfig t;
    if (base == "llama-1b")
      t = llama_shape(128256, 2048, 8192, 16, 32, 8, 64);
    else if (base == "llama-3b")
      t = llama_shape(128256, 3072, 8192, 28, 24, 8, 128);
    else if (base == "tiny")
      t = llama_shape(1024, 64, 128, 4, 4, 2, 16);
    else
      continue;
    if (sfx.empty()) return t;
    return student(t, sfx == "-hylo" ? MixerKind::Mamba2 : MixerKind::GDN);
  }
  const std::filesystem::path p(s);
  if (p.extension() == ".yaml" || p.extension() == ".yml") {
    auto plan = LayerPlan::load(s);
    if (plan.teacher_path().empty()) throw ConfigError("the plan names no teacher", s, "teacher");
    const std::filesystem::path tp(plan.teacher_path());
    return plan.resolve(ModelConfig::load((std::filesystem::is_directory(tp) ? tp / "config.json" : tp).string()));
  }
  if (std::filesystem::is_directory(p)) return ModelConfig::load((p / "config.json").string());
  if (std::filesystem::is_regular_file(p)) return ModelConfig::load(s);
  std::string names;
  for (const auto& n : model_shape_names()) names += (names.empty() ? "" : ", ") + n;
  throw ConfigError("not a shape (" + names + "), plan, checkpoint folder or config.json", s, field);
}

}  // namespace hylo
