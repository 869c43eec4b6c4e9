// Reading config.json is strict where a silent misread would change the maths (rope, activation,
// sliding windows, the hylo block) and lenient elsewhere: HF adds informational keys all the time.
#include "core/spec/model_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/spec/error.h"
#include "core/spec/mixers_json.h"

namespace hylo {
namespace {

using nlohmann::json;

const std::map<std::string, std::string>& architecture_of_type() {
  static const std::map<std::string, std::string> m = {{"llama", "LlamaForCausalLM"},
                                                       {"qwen2", "Qwen2ForCausalLM"},
                                                       {"qwen3", "Qwen3ForCausalLM"},
                                                       {"hylo", "HyloForCausalLM"}};
  return m;
}

// Typed access to one JSON object; every error names the file and "<prefix><key>".
class Reader {
 public:
  Reader(const json& j, std::string file, std::string prefix = {})
      : j_(j), file_(std::move(file)), prefix_(std::move(prefix)) {}

  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  std::string where(const std::string& key) const { return prefix_ + key; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError(what, file_, where(key));
  }
  const json& at(const std::string& key) const {
    if (!has(key)) fail(key, "missing");
    return j_.at(key);
  }

  int64_t integer(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number_integer()) fail(key, "expected an integer, found " + v.dump());
    return v.get<int64_t>();
  }
  int64_t integer(const std::string& key, int64_t fallback) const { return has(key) ? integer(key) : fallback; }
  int64_t positive(const std::string& key) const {
    const int64_t v = integer(key);
    if (v <= 0) fail(key, "must be positive, found " + std::to_string(v));
    return v;
  }
  double number(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number()) fail(key, "expected a number, found " + v.dump());
    return v.get<double>();
  }
  double number(const std::string& key, double fallback) const { return has(key) ? number(key) : fallback; }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_boolean()) fail(key, "expected true or false, found " + v.dump());
    return v.get<bool>();
  }
  std::string string(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_string()) fail(key, "expected a string, found " + v.dump());
    return v.get<std::string>();
  }
  std::string string(const std::string& key, const std::string& fallback) const {
    return has(key) ? string(key) : fallback;
  }

 private:
  const json& j_;
  std::string file_, prefix_;
};

const std::vector<std::string> kRopeTypes = {"default", "linear", "dynamic", "llama3", "yarn"};

// rope_scaling / rope_parameters. theta: non-null for rope_parameters, which also carries rope_theta.
RopeScaling read_rope(const json& j, const std::string& file, const std::string& name, int64_t max_positions,
                      double* theta) {
  if (!j.is_object()) throw ConfigError("expected an object, found " + j.dump(), file, name);
  static const std::vector<std::string> known = {
      "type", "rope_type", "factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor",
      "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "attention_factor", "truncate", "rope_theta",
      "partial_rotary_factor"};
  for (const auto& item : j.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end())
      throw ConfigError("unknown key", file, name + "." + item.key());
  }
  Reader r(j, file, name + ".");
  if (r.has("partial_rotary_factor") && r.number("partial_rotary_factor") != 1.0)
    r.fail("partial_rotary_factor", "partial rotary embeddings are not supported");
  if (r.has("rope_theta")) {
    if (!theta) r.fail("rope_theta", "belongs at the top level next to rope_scaling");
    *theta = r.number("rope_theta");
  }

  RopeScaling s;
  if (r.has("rope_type") && r.has("type") && r.string("rope_type") != r.string("type"))
    r.fail("type", "disagrees with rope_type");
  s.type = r.has("rope_type") ? r.string("rope_type") : r.string("type", "default");
  if (std::find(kRopeTypes.begin(), kRopeTypes.end(), s.type) == kRopeTypes.end())
    r.fail(r.has("rope_type") ? "rope_type" : "type",
           "unknown rope type '" + s.type + "' (expected default, linear, dynamic, llama3 or yarn)");

  const bool scaled = s.type != "default";
  s.factor = scaled ? r.number("factor") : r.number("factor", 1.0);
  if (s.factor <= 0 || (s.type == "dynamic" && s.factor < 1)) r.fail("factor", "must be positive (>= 1 for dynamic)");
  if (s.type == "llama3") {
    s.original_max_position_embeddings = r.integer("original_max_position_embeddings");
    s.low_freq_factor = r.number("low_freq_factor");
    s.high_freq_factor = r.number("high_freq_factor");
    if (s.low_freq_factor <= 0 || s.high_freq_factor <= s.low_freq_factor)
      r.fail("high_freq_factor", "must exceed low_freq_factor > 0");
  } else {
    s.original_max_position_embeddings = r.integer("original_max_position_embeddings", 0);
    s.low_freq_factor = r.number("low_freq_factor", s.low_freq_factor);
    s.high_freq_factor = r.number("high_freq_factor", s.high_freq_factor);
  }
  if (s.type == "yarn" && s.original_max_position_embeddings == 0) s.original_max_position_embeddings = max_positions;
  if (s.original_max_position_embeddings < 0) r.fail("original_max_position_embeddings", "must be positive");
  s.beta_fast = r.number("beta_fast", s.beta_fast);
  s.beta_slow = r.number("beta_slow", s.beta_slow);
  if (r.has("mscale")) s.mscale = r.number("mscale");
  if (r.has("mscale_all_dim")) s.mscale_all_dim = r.number("mscale_all_dim");
  if (r.has("attention_factor")) s.attention_factor = r.number("attention_factor");
  s.truncate = r.boolean("truncate", true);
  return s;
}

json rope_to_json(const RopeScaling& s) {
  json j = {{"rope_type", s.type}, {"factor", s.factor}};
  if (s.original_max_position_embeddings > 0)
    j["original_max_position_embeddings"] = s.original_max_position_embeddings;
  if (s.type == "llama3") {
    j["low_freq_factor"] = s.low_freq_factor;
    j["high_freq_factor"] = s.high_freq_factor;
  }
  if (s.type == "yarn") {
    j["beta_fast"] = s.beta_fast;
    j["beta_slow"] = s.beta_slow;
    j["truncate"] = s.truncate;
    if (s.mscale) j["mscale"] = *s.mscale;
    if (s.mscale_all_dim) j["mscale_all_dim"] = *s.mscale_all_dim;
    if (s.attention_factor) j["attention_factor"] = *s.attention_factor;
  }
  return j;
}

// Keys that would change the forward pass if we ignored them.
void reject_unsupported(const Reader& r, const json& j) {
  const std::string act = r.string("hidden_act", "silu");
  if (act != "silu") r.fail("hidden_act", "only silu is supported, found '" + act + "'");
  if (r.boolean("use_sliding_window", false) && r.has("sliding_window"))
    r.fail("sliding_window", "sliding-window attention is not supported (use_sliding_window is true)");
  if (r.has("layer_types")) {
    const json& types = j.at("layer_types");
    if (!types.is_array()) r.fail("layer_types", "expected an array");
    for (const auto& t : types)
      if (t != "full_attention") r.fail("layer_types", "only full_attention layers are supported, found " + t.dump());
  }
  if (r.boolean("mlp_bias", false)) r.fail("mlp_bias", "MLP biases are not supported");
  if (r.has("partial_rotary_factor") && r.number("partial_rotary_factor") != 1.0)
    r.fail("partial_rotary_factor", "partial rotary embeddings are not supported");
}

std::vector<int64_t> read_eos(const Reader& r, const json& j) {
  if (!r.has("eos_token_id")) return {};
  const json& v = j.at("eos_token_id");
  if (v.is_number_integer()) return {v.get<int64_t>()};
  if (!v.is_array()) r.fail("eos_token_id", "expected an integer or a list of integers");
  std::vector<int64_t> ids;
  for (const auto& id : v) {
    if (!id.is_number_integer()) r.fail("eos_token_id", "expected an integer or a list of integers");
    ids.push_back(id.get<int64_t>());
  }
  return ids;
}

void read_hylo_block(ModelConfig& c, const json& block, const std::string& file) {
  if (!block.is_object()) throw ConfigError("expected an object", file, "hylo");
  for (const auto& item : block.items()) {
    if (item.key() != "layers" && item.key() != "teacher") throw ConfigError("unknown key", file, "hylo." + item.key());
  }
  Reader r(block, file, "hylo.");
  c.teacher = r.string("teacher", "");
  const json& layers = r.at("layers");
  if (!layers.is_array()) r.fail("layers", "expected an array");
  if (static_cast<int64_t>(layers.size()) != c.num_hidden_layers)
    r.fail("layers", "has " + std::to_string(layers.size()) + " entries, num_hidden_layers is " +
                         std::to_string(c.num_hidden_layers));
  // Sizes a layer leaves out come from the teacher it replaces.
  LayerSpec defaults;
  defaults.attention = c.teacher_attention();
  defaults.mla.num_heads = c.num_attention_heads;
  defaults.mla.num_kv_heads = c.num_key_value_heads;
  c.layers.clear();
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string field = "hylo.layers[" + std::to_string(i) + "]";
    LayerSpec layer = layer_spec_from_json(layers[i], defaults, file, field);
    if (layer.kind == MixerKind::Mamba2) {
      if (layer.mamba2.d_inner == 0) layer.mamba2.d_inner = c.hidden_size;
      if (layer.mamba2.num_heads == 0 && layer.mamba2.head_dim > 0)
        layer.mamba2.num_heads = layer.mamba2.d_inner / layer.mamba2.head_dim;
    }
    validate_layer_spec(layer, file, field);
    c.layers.push_back(layer);
  }
}

}  // namespace

AttentionSettings ModelConfig::teacher_attention() const {
  AttentionSettings a;
  a.num_heads = num_attention_heads;
  a.num_kv_heads = num_key_value_heads;
  a.head_dim = head_dim;
  a.bias = attention_bias;
  a.qk_norm = qk_norm;
  return a;
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& file) {
  if (!j.is_object()) throw ConfigError("expected a JSON object at the top level", file);
  Reader r(j, file);
  ModelConfig c;

  c.model_type = r.string("model_type");
  const auto arch = architecture_of_type().find(c.model_type);
  if (arch == architecture_of_type().end())
    r.fail("model_type", "unknown model_type '" + c.model_type + "' (expected llama, qwen2, qwen3 or hylo)");
  c.architecture = arch->second;
  if (r.has("architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array() || a.size() != 1 || !a[0].is_string()) r.fail("architectures", "expected one name in a list");
    if (a[0].get<std::string>() != arch->second)
      r.fail("architectures", "'" + a[0].get<std::string>() + "' does not match model_type " + c.model_type +
                                  " (expected " + arch->second + ")");
  }
  reject_unsupported(r, j);

  c.vocab_size = r.positive("vocab_size");
  c.hidden_size = r.positive("hidden_size");
  c.intermediate_size = r.positive("intermediate_size");
  c.num_hidden_layers = r.positive("num_hidden_layers");
  c.num_attention_heads = r.positive("num_attention_heads");
  c.num_key_value_heads = r.has("num_key_value_heads") ? r.positive("num_key_value_heads") : c.num_attention_heads;
  c.max_position_embeddings = r.positive("max_position_embeddings");
  if (r.has("head_dim")) {
    c.head_dim = r.positive("head_dim");
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      r.fail("num_attention_heads", "must divide hidden_size " + std::to_string(c.hidden_size) +
                                        " when head_dim is not given");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) r.fail("head_dim", "must be even (RoPE rotates pairs)");
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.fail("num_key_value_heads", "must divide num_attention_heads " + std::to_string(c.num_attention_heads));

  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  if (c.rms_norm_eps <= 0) r.fail("rms_norm_eps", "must be positive");
  c.rope_theta = r.number("rope_theta", 10000.0);
  if (r.has("rope_parameters")) {
    double theta = c.rope_theta;
    c.rope_scaling = read_rope(j.at("rope_parameters"), file, "rope_parameters", c.max_position_embeddings, &theta);
    // Files written for both readers carry both forms: they must say the same.
    if (r.has("rope_theta") && c.rope_theta != theta) r.fail("rope_theta", "disagrees with rope_parameters");
    if (r.has("rope_scaling")) {
      const RopeScaling legacy =
          read_rope(j.at("rope_scaling"), file, "rope_scaling", c.max_position_embeddings, nullptr);
      if (rope_to_json(legacy) != rope_to_json(c.rope_scaling)) r.fail("rope_scaling", "disagrees with rope_parameters");
    }
    c.rope_theta = theta;
  } else if (r.has("rope_scaling")) {
    c.rope_scaling = read_rope(j.at("rope_scaling"), file, "rope_scaling", c.max_position_embeddings, nullptr);
  }
  if (c.rope_theta <= 0) r.fail("rope_theta", "must be positive");

  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  // Qwen2 always has q/k/v biases and Qwen3 always normalises q and k; the config does not say so.
  c.attention_bias = r.boolean("attention_bias", c.model_type == "qwen2");
  if (c.model_type == "qwen2" && !c.attention_bias) r.fail("attention_bias", "Qwen2 always has q/k/v biases");
  c.qk_norm = c.model_type == "qwen3" || (c.model_type == "hylo" && r.boolean("qk_norm", false));
  // transformers 5.x writes "dtype", earlier versions "torch_dtype".
  c.torch_dtype = r.has("dtype") ? r.string("dtype") : r.string("torch_dtype", "float32");
  static const std::vector<std::string> dtypes = {"float32", "float16", "bfloat16", "float64"};
  if (std::find(dtypes.begin(), dtypes.end(), c.torch_dtype) == dtypes.end())
    r.fail(r.has("dtype") ? "dtype" : "torch_dtype", "unknown dtype '" + c.torch_dtype + "'");
  c.bos_token_id = r.integer("bos_token_id", -1);
  c.eos_token_ids = read_eos(r, j);

  const bool has_block = r.has("hylo");
  if (c.is_hybrid() != has_block)
    r.fail("hylo", c.is_hybrid() ? "missing (model_type hylo needs its layer plan)"
                                 : "a hylo block needs model_type hylo");
  if (has_block) {
    read_hylo_block(c, j.at("hylo"), file);
  } else {
    LayerSpec teacher_layer;
    teacher_layer.attention = c.teacher_attention();
    c.layers.assign(static_cast<size_t>(c.num_hidden_layers), teacher_layer);
  }
  return c;
}

ModelConfig ModelConfig::load(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string file = fs::is_directory(path) ? (fs::path(path) / "config.json").string() : path;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError("cannot open", file);
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw ConfigError(std::string("malformed JSON: ") + e.what(), file);
  }
  return from_json(j, file);
}

json ModelConfig::to_json() const {
  json j = {{"architectures", {architecture}},
            {"model_type", model_type},
            {"hidden_act", "silu"},
            {"vocab_size", vocab_size},
            {"hidden_size", hidden_size},
            {"intermediate_size", intermediate_size},
            {"num_hidden_layers", num_hidden_layers},
            {"num_attention_heads", num_attention_heads},
            {"num_key_value_heads", num_key_value_heads},
            {"head_dim", head_dim},
            {"max_position_embeddings", max_position_embeddings},
            {"rms_norm_eps", rms_norm_eps},
            {"rope_theta", rope_theta},
            {"rope_scaling", rope_scaling.type == "default" ? json(nullptr) : rope_to_json(rope_scaling)},
            {"tie_word_embeddings", tie_word_embeddings},
            {"attention_bias", attention_bias},
            {"torch_dtype", torch_dtype},
            {"bos_token_id", bos_token_id >= 0 ? json(bos_token_id) : json(nullptr)}};
  if (eos_token_ids.size() == 1) {
    j["eos_token_id"] = eos_token_ids[0];
  } else if (!eos_token_ids.empty()) {
    j["eos_token_id"] = eos_token_ids;
  }
  if (is_hybrid()) {
    j["qk_norm"] = qk_norm;
    json layer_list = json::array();
    for (const auto& layer : layers) layer_list.push_back(hylo::to_json(layer));
    j["hylo"] = {{"layers", layer_list}, {"teacher", teacher}};
  }
  return j;
}

int64_t ModelConfig::count_layers(MixerKind kind) const {
  return std::count_if(layers.begin(), layers.end(), [&](const LayerSpec& l) { return l.kind == kind; });
}

int64_t ModelConfig::kv_bytes_per_token(int64_t dtype_bytes) const {
  int64_t bytes = 0;
  for (const auto& layer : layers) {
    if (layer.kind == MixerKind::Attention)
      bytes += 2 * layer.attention.num_kv_heads * layer.attention.head_dim * dtype_bytes;
  }
  return bytes;
}

}  // namespace hylo
