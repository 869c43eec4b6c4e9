// LayerPlan: reading and writing plan.yaml (yaml-cpp).
#include "core/spec/plan.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/spec/error.h"

namespace hylo {
namespace {

using FieldReader = std::function<void(const YAML::Node&, const std::string& field)>;

template <typename T>
T scalar(const YAML::Node& node, const std::string& source, const std::string& field, const char* expected) {
  if (!node.IsScalar()) throw ConfigError(std::string("expected ") + expected, source, field);
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError(std::string("expected ") + expected + ", got '" + node.Scalar() + "'", source, field);
  }
}

int64_t read_int(const YAML::Node& n, const std::string& source, const std::string& field) {
  auto v = scalar<int64_t>(n, source, field, "an integer");
  if (v < 0) throw ConfigError("must not be negative, got " + std::to_string(v), source, field);
  return v;
}

// Reads the keys of a map node through `readers`; any other key is an error naming it.
void read_map(const YAML::Node& node, const std::string& source, const std::string& prefix,
              const std::map<std::string, FieldReader>& readers) {
  if (!node.IsMap()) throw ConfigError("expected a map", source, prefix);
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string field = prefix.empty() ? key : prefix + "." + key;
    auto it = readers.find(key);
    if (it == readers.end()) {
      std::string known;
      for (const auto& r : readers) known += (known.empty() ? "" : ", ") + r.first;
      throw ConfigError("unknown key (known: " + known + ")", source, field);
    }
    it->second(kv.second, field);
  }
}

// Layer keys: an index ("5") or an inclusive range ("0-3").
std::pair<int64_t, int64_t> layer_range(const std::string& key, const std::string& source, const std::string& field) {
  auto parse = [&](const std::string& s) -> int64_t {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
      throw ConfigError("expected a layer index or a range like 0-3, got '" + key + "'", source, field);
    return std::stoll(s);
  };
  const auto dash = key.find('-');
  if (dash == std::string::npos) {
    const int64_t i = parse(key);
    return {i, i};
  }
  const int64_t first = parse(key.substr(0, dash)), last = parse(key.substr(dash + 1));
  if (last < first) throw ConfigError("range '" + key + "' runs backwards", source, field);
  return {first, last};
}

void read_layers(const YAML::Node& node, LayerPlan& plan) {
  const std::string& src = plan.source;
  auto set = [&](int64_t i, const YAML::Node& value, const std::string& field) {
    const auto kind = mixer_kind_from_string(scalar<std::string>(value, src, field, "a mixer name"), src, field);
    if (!plan.layers.emplace(i, kind).second)
      throw ConfigError("layer " + std::to_string(i) + " is given twice", src, field);
  };
  if (node.IsSequence()) {  // a full per-layer list states the layer count
    const auto n = static_cast<int64_t>(node.size());
    if (plan.num_layers != 0 && plan.num_layers != n)
      throw ConfigError("lists " + std::to_string(n) + " layers, num_layers is " + std::to_string(plan.num_layers),
                        src, "layers");
    plan.num_layers = n;
    for (int64_t i = 0; i < n; ++i) set(i, node[i], "layers[" + std::to_string(i) + "]");
    return;
  }
  if (!node.IsMap()) throw ConfigError("expected a map {layer: mixer} or a list of mixers", src, "layers");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar(), field = "layers." + key;
    const auto [first, last] = layer_range(key, src, field);
    for (int64_t i = first; i <= last; ++i) set(i, kv.second, field);
  }
}

// Floats written with the fewest digits that read back to the same value.
std::string shortest(float v) {
  char buf[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

std::string plan_dir(const std::string& source) {
  const auto slash = source.find_last_of('/');
  return slash == std::string::npos ? std::string() : source.substr(0, slash + 1);
}

}  // namespace

MlaSettings LayerPlan::default_mla() {
  MlaSettings s;
  s.kv_lora_rank = s.qk_rope_head_dim = s.qk_nope_head_dim = s.v_head_dim = 0;
  return s;
}
Mamba2Settings LayerPlan::default_mamba2() {
  Mamba2Settings s;
  s.d_state = 0;
  return s;
}
GdnSettings LayerPlan::default_gdn() {
  GdnSettings s;
  s.num_k_heads = 0;
  return s;
}

LayerPlan LayerPlan::from_yaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("not valid YAML: " + e.msg + " (line " + std::to_string(e.mark.line + 1) + ")", source);
  }
  LayerPlan plan;
  plan.source = source;
  const std::string& src = plan.source;
  auto str = [&](std::string& out) {
    return [&](const YAML::Node& n, const std::string& f) { out = scalar<std::string>(n, src, f, "a string"); };
  };
  auto i64 = [&](int64_t& out) { return [&](const YAML::Node& n, const std::string& f) { out = read_int(n, src, f); }; };
  auto flag = [&](bool& out) {
    return [&](const YAML::Node& n, const std::string& f) { out = scalar<bool>(n, src, f, "true or false"); };
  };
  auto real = [&](float& out) {
    return [&](const YAML::Node& n, const std::string& f) { out = scalar<float>(n, src, f, "a number"); };
  };
  MlaSettings& mla = plan.mla;
  Mamba2Settings& m2 = plan.mamba2;
  GdnSettings& gdn = plan.gdn;
  YAML::Node layers;
  read_map(root, src, "",
           {{"name", str(plan.name)},
            {"teacher", str(plan.teacher)},
            {"num_layers", i64(plan.num_layers)},
            {"default",
             [&](const YAML::Node& n, const std::string& f) {
               plan.default_kind = mixer_kind_from_string(scalar<std::string>(n, src, f, "a mixer name"), src, f);
             }},
            {"layers", [&](const YAML::Node& n, const std::string&) { layers = n; }},
            {"mla",
             [&](const YAML::Node& n, const std::string& f) {
               read_map(n, src, f,
                        {{"q_lora_rank", i64(mla.q_lora_rank)}, {"kv_lora_rank", i64(mla.kv_lora_rank)},
                         {"qk_rope_head_dim", i64(mla.qk_rope_head_dim)},
                         {"qk_nope_head_dim", i64(mla.qk_nope_head_dim)}, {"v_head_dim", i64(mla.v_head_dim)},
                         {"latent_norm", flag(mla.latent_norm)}});
             }},
            {"mamba2",
             [&](const YAML::Node& n, const std::string& f) {
               read_map(n, src, f,
                        {{"d_state", i64(m2.d_state)}, {"conv_kernel", i64(m2.conv_kernel)},
                         {"chunk_size", i64(m2.chunk_size)}, {"dt_min", real(m2.dt_min)},
                         {"dt_max", real(m2.dt_max)}, {"dt_init_floor", real(m2.dt_init_floor)},
                         {"gated_norm", flag(m2.gated_norm)}});
             }},
            {"gdn", [&](const YAML::Node& n, const std::string& f) {
               read_map(n, src, f,
                        {{"num_heads", i64(gdn.num_heads)}, {"num_k_heads", i64(gdn.num_k_heads)},
                         {"head_k_dim", i64(gdn.head_k_dim)}, {"head_v_dim", i64(gdn.head_v_dim)},
                         {"conv_kernel", i64(gdn.conv_kernel)}, {"chunk_size", i64(gdn.chunk_size)},
                         {"output_gate", flag(gdn.output_gate)}});
             }}});
  // After the other keys, so a list of layers can be checked against num_layers in any key order.
  if (!layers.IsNull()) read_layers(layers, plan);
  return plan;
}

LayerPlan LayerPlan::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot open the plan file", path);
  std::stringstream text;
  text << in.rdbuf();
  return from_yaml(text.str(), path);
}

std::string LayerPlan::to_yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!name.empty()) out << YAML::Key << "name" << YAML::Value << name;
  if (!teacher.empty()) out << YAML::Key << "teacher" << YAML::Value << teacher;
  if (num_layers) out << YAML::Key << "num_layers" << YAML::Value << num_layers;
  out << YAML::Key << "default" << YAML::Value << to_string(default_kind);
  out << YAML::Key << "layers" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto& [i, kind] : layers) out << YAML::Key << i << YAML::Value << to_string(kind);
  out << YAML::EndMap;
  // Derived sizes (0) are left out, so the file keeps saying "from the teacher".
  auto put_if = [&](const char* key, int64_t v) {
    if (v) out << YAML::Key << key << YAML::Value << v;
  };
  out << YAML::Key << "mla" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "q_lora_rank" << YAML::Value << mla.q_lora_rank;
  put_if("kv_lora_rank", mla.kv_lora_rank);
  put_if("qk_rope_head_dim", mla.qk_rope_head_dim);
  put_if("qk_nope_head_dim", mla.qk_nope_head_dim);
  put_if("v_head_dim", mla.v_head_dim);
  out << YAML::Key << "latent_norm" << YAML::Value << mla.latent_norm << YAML::EndMap;

  const Mamba2Settings m2_defaults;
  out << YAML::Key << "mamba2" << YAML::Value << YAML::Flow << YAML::BeginMap;
  put_if("d_state", mamba2.d_state);
  out << YAML::Key << "conv_kernel" << YAML::Value << mamba2.conv_kernel;
  out << YAML::Key << "chunk_size" << YAML::Value << mamba2.chunk_size;
  auto put_float = [&](const char* key, float v, float fallback) {
    if (v != fallback) out << YAML::Key << key << YAML::Value << shortest(v);
  };
  put_float("dt_min", mamba2.dt_min, m2_defaults.dt_min);
  put_float("dt_max", mamba2.dt_max, m2_defaults.dt_max);
  put_float("dt_init_floor", mamba2.dt_init_floor, m2_defaults.dt_init_floor);
  out << YAML::Key << "gated_norm" << YAML::Value << mamba2.gated_norm << YAML::EndMap;

  out << YAML::Key << "gdn" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "num_heads" << YAML::Value << gdn.num_heads;
  put_if("num_k_heads", gdn.num_k_heads);
  out << YAML::Key << "head_k_dim" << YAML::Value << gdn.head_k_dim;
  out << YAML::Key << "head_v_dim" << YAML::Value << gdn.head_v_dim;
  out << YAML::Key << "conv_kernel" << YAML::Value << gdn.conv_kernel;
  out << YAML::Key << "chunk_size" << YAML::Value << gdn.chunk_size;
  out << YAML::Key << "output_gate" << YAML::Value << gdn.output_gate << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void LayerPlan::save(const std::string& path) const {
  std::ofstream f(path);
  if (!f) throw ConfigError("cannot write the plan file", path);
  f << to_yaml();
  if (!f) throw ConfigError("writing the plan file failed", path);
}

MixerKind LayerPlan::kind_of(int64_t layer) const {
  auto it = layers.find(layer);
  return it == layers.end() ? default_kind : it->second;
}

std::string LayerPlan::teacher_path() const {
  if (teacher.empty() || teacher.front() == '/') return teacher;
  return plan_dir(source) + teacher;
}

}  // namespace hylo
