// Names and JSON (de)serialisation of the mixer settings. Each settings struct is described once by
// a table of (key, member) pairs, so writing and reading cannot drift apart.
#include "core/spec/mixers.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/spec/error.h"
#include "core/spec/mixers_json.h"

namespace hylo {

std::string to_string(MixerKind kind) {
  switch (kind) {
    case MixerKind::Attention: return "attention";
    case MixerKind::MLA: return "mla";
    case MixerKind::Mamba2: return "mamba2";
    case MixerKind::GDN: return "gdn";
  }
  throw std::logic_error("to_string: MixerKind out of range");
}

MixerKind mixer_kind_from_string(const std::string& s, const std::string& file, const std::string& field) {
  if (s == "attention" || s == "keep") return MixerKind::Attention;
  if (s == "mla") return MixerKind::MLA;
  if (s == "mamba2") return MixerKind::Mamba2;
  if (s == "gdn") return MixerKind::GDN;
  throw ConfigError("unknown mixer '" + s + "' (expected attention, keep, mla, mamba2 or gdn)", file, field);
}

namespace {

template <class S>
using Member = std::variant<int64_t S::*, bool S::*, float S::*>;

template <class S>
using FieldTable = std::vector<std::pair<const char*, Member<S>>>;

const FieldTable<AttentionSettings>& fields(const AttentionSettings*) {
  static const FieldTable<AttentionSettings> t = {
      {"num_heads", &AttentionSettings::num_heads}, {"num_kv_heads", &AttentionSettings::num_kv_heads},
      {"head_dim", &AttentionSettings::head_dim},   {"bias", &AttentionSettings::bias},
      {"qk_norm", &AttentionSettings::qk_norm}};
  return t;
}

const FieldTable<MlaSettings>& fields(const MlaSettings*) {
  static const FieldTable<MlaSettings> t = {
      {"num_heads", &MlaSettings::num_heads},
      {"num_kv_heads", &MlaSettings::num_kv_heads},
      {"q_lora_rank", &MlaSettings::q_lora_rank},
      {"kv_lora_rank", &MlaSettings::kv_lora_rank},
      {"qk_rope_head_dim", &MlaSettings::qk_rope_head_dim},
      {"qk_nope_head_dim", &MlaSettings::qk_nope_head_dim},
      {"v_head_dim", &MlaSettings::v_head_dim},
      {"latent_norm", &MlaSettings::latent_norm}};
  return t;
}

const FieldTable<Mamba2Settings>& fields(const Mamba2Settings*) {
  static const FieldTable<Mamba2Settings> t = {
      {"num_heads", &Mamba2Settings::num_heads},       {"head_dim", &Mamba2Settings::head_dim},
      {"d_inner", &Mamba2Settings::d_inner},           {"d_xb", &Mamba2Settings::d_xb},
      {"d_state", &Mamba2Settings::d_state},           {"n_groups", &Mamba2Settings::n_groups},
      {"conv_kernel", &Mamba2Settings::conv_kernel},   {"chunk_size", &Mamba2Settings::chunk_size},
      {"dt_min", &Mamba2Settings::dt_min},             {"dt_max", &Mamba2Settings::dt_max},
      {"dt_init_floor", &Mamba2Settings::dt_init_floor}, {"gated_norm", &Mamba2Settings::gated_norm}};
  return t;
}

const FieldTable<GdnSettings>& fields(const GdnSettings*) {
  static const FieldTable<GdnSettings> t = {
      {"num_heads", &GdnSettings::num_heads},     {"num_k_heads", &GdnSettings::num_k_heads},
      {"head_k_dim", &GdnSettings::head_k_dim},   {"head_v_dim", &GdnSettings::head_v_dim},
      {"conv_kernel", &GdnSettings::conv_kernel}, {"chunk_size", &GdnSettings::chunk_size},
      {"output_gate", &GdnSettings::output_gate}};
  return t;
}

// The shortest decimal that reads back as the same float, so config.json shows 0.001 and not
// 0.0010000000474974513.
double shortest_decimal(float v) {
  char buf[32];
  for (int digits = 6; digits < 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) return std::strtod(buf, nullptr);
  }
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return std::strtod(buf, nullptr);
}

template <class S>
nlohmann::json settings_to_json(const S& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, member] : fields(&s)) {
    std::visit(
        [&](auto m) {
          if constexpr (std::is_same_v<std::decay_t<decltype(s.*m)>, float>) {
            j[key] = shortest_decimal(s.*m);
          } else {
            j[key] = s.*m;
          }
        },
        member);
  }
  return j;
}

template <class S>
void settings_from_json(S& s, const nlohmann::json& j, const std::string& file, const std::string& field,
                        const std::vector<std::string>& also_allowed) {
  if (!j.is_object()) throw ConfigError("expected an object", file, field);
  const auto& table = fields(&s);
  for (const auto& [key, value] : j.items()) {
    const std::string where = field.empty() ? key : field + "." + key;
    auto it = std::find_if(table.begin(), table.end(), [&](const auto& f) { return key == f.first; });
    if (it == table.end()) {
      if (std::find(also_allowed.begin(), also_allowed.end(), key) != also_allowed.end()) continue;
      throw ConfigError("unknown key", file, where);
    }
    std::visit(
        [&](auto m) {
          using T = std::decay_t<decltype(s.*m)>;
          if constexpr (std::is_same_v<T, bool>) {
            if (!value.is_boolean()) throw ConfigError("expected true or false", file, where);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            if (!value.is_number_integer()) throw ConfigError("expected an integer", file, where);
          } else {
            if (!value.is_number()) throw ConfigError("expected a number", file, where);
          }
          s.*m = value.template get<T>();
        },
        it->second);
  }
}

void require(bool ok, const std::string& what, const std::string& file, const std::string& field) {
  if (!ok) throw ConfigError(what, file, field);
}

}  // namespace

nlohmann::json to_json(const AttentionSettings& s) { return settings_to_json(s); }
nlohmann::json to_json(const MlaSettings& s) { return settings_to_json(s); }
nlohmann::json to_json(const Mamba2Settings& s) { return settings_to_json(s); }
nlohmann::json to_json(const GdnSettings& s) { return settings_to_json(s); }

void update_from_json(AttentionSettings& s, const nlohmann::json& j, const std::string& file, const std::string& field) {
  settings_from_json(s, j, file, field, {});
}
void update_from_json(MlaSettings& s, const nlohmann::json& j, const std::string& file, const std::string& field) {
  settings_from_json(s, j, file, field, {});
}
void update_from_json(Mamba2Settings& s, const nlohmann::json& j, const std::string& file, const std::string& field) {
  settings_from_json(s, j, file, field, {});
}
void update_from_json(GdnSettings& s, const nlohmann::json& j, const std::string& file, const std::string& field) {
  settings_from_json(s, j, file, field, {});
}

nlohmann::json to_json(const LayerSpec& layer) {
  nlohmann::json j;
  switch (layer.kind) {
    case MixerKind::Attention: j = to_json(layer.attention); break;
    case MixerKind::MLA: j = to_json(layer.mla); break;
    case MixerKind::Mamba2: j = to_json(layer.mamba2); break;
    case MixerKind::GDN: j = to_json(layer.gdn); break;
  }
  j["mixer"] = to_string(layer.kind);
  return j;
}

LayerSpec layer_spec_from_json(const nlohmann::json& j, const LayerSpec& defaults, const std::string& file,
                               const std::string& field) {
  if (!j.is_object()) throw ConfigError("expected an object", file, field);
  auto mixer = j.find("mixer");
  if (mixer == j.end()) throw ConfigError("missing", file, field + ".mixer");
  if (!mixer->is_string()) throw ConfigError("expected a string", file, field + ".mixer");
  LayerSpec layer = defaults;
  layer.kind = mixer_kind_from_string(mixer->get<std::string>(), file, field + ".mixer");
  const std::vector<std::string> mixer_key = {"mixer"};
  switch (layer.kind) {
    case MixerKind::Attention: settings_from_json(layer.attention, j, file, field, mixer_key); break;
    case MixerKind::MLA: settings_from_json(layer.mla, j, file, field, mixer_key); break;
    case MixerKind::Mamba2: settings_from_json(layer.mamba2, j, file, field, mixer_key); break;
    case MixerKind::GDN: settings_from_json(layer.gdn, j, file, field, mixer_key); break;
  }
  return layer;
}

void validate_layer_spec(const LayerSpec& layer, const std::string& file, const std::string& field) {
  const auto at = [&](const char* key) { return field + "." + key; };
  switch (layer.kind) {
    case MixerKind::Attention: {
      const auto& a = layer.attention;
      require(a.num_heads > 0, "must be positive", file, at("num_heads"));
      require(a.num_kv_heads > 0, "must be positive", file, at("num_kv_heads"));
      require(a.head_dim > 0 && a.head_dim % 2 == 0, "must be positive and even (RoPE pairs)", file, at("head_dim"));
      require(a.num_heads % a.num_kv_heads == 0, "must divide num_heads", file, at("num_kv_heads"));
      break;
    }
    case MixerKind::MLA: {
      const auto& m = layer.mla;
      require(m.num_heads > 0, "must be positive", file, at("num_heads"));
      require(m.num_kv_heads > 0, "must be positive", file, at("num_kv_heads"));
      require(m.num_heads % m.num_kv_heads == 0, "must divide num_heads", file, at("num_kv_heads"));
      require(m.q_lora_rank >= 0, "must be 0 (no query compression) or positive", file, at("q_lora_rank"));
      require(m.kv_lora_rank > 0, "must be positive", file, at("kv_lora_rank"));
      require(m.qk_rope_head_dim > 0 && m.qk_rope_head_dim % 2 == 0, "must be positive and even (RoPE pairs)",
              file, at("qk_rope_head_dim"));
      require(m.qk_nope_head_dim >= 0, "must not be negative", file, at("qk_nope_head_dim"));
      require(m.v_head_dim > 0, "must be positive", file, at("v_head_dim"));
      break;
    }
    case MixerKind::Mamba2: {
      const auto& m = layer.mamba2;
      require(m.num_heads > 0, "must be positive", file, at("num_heads"));
      require(m.head_dim > 0, "must be positive", file, at("head_dim"));
      require(m.d_inner == m.num_heads * m.head_dim, "must equal num_heads * head_dim", file, at("d_inner"));
      require(m.d_xb >= 0 && (m.d_xb == 0 || (m.d_xb % m.head_dim == 0 && m.d_inner % m.d_xb == 0)),
              "must be 0 or a multiple of head_dim dividing d_inner", file, at("d_xb"));
      require(m.d_state > 0, "must be positive", file, at("d_state"));
      require(m.n_groups > 0 && m.num_heads % m.n_groups == 0, "must be positive and divide num_heads", file,
              at("n_groups"));
      require(m.conv_kernel > 0, "must be positive", file, at("conv_kernel"));
      require(m.chunk_size > 0, "must be positive", file, at("chunk_size"));
      require(m.dt_min > 0 && m.dt_min <= m.dt_max, "must be positive and at most dt_max", file, at("dt_min"));
      require(m.dt_init_floor > 0, "must be positive", file, at("dt_init_floor"));
      break;
    }
    case MixerKind::GDN: {
      const auto& g = layer.gdn;
      require(g.num_heads > 0, "must be positive", file, at("num_heads"));
      require(g.num_k_heads > 0 && g.num_heads % g.num_k_heads == 0, "must be positive and divide num_heads", file,
              at("num_k_heads"));
      require(g.head_k_dim > 0, "must be positive", file, at("head_k_dim"));
      require(g.head_v_dim > 0, "must be positive", file, at("head_v_dim"));
      require(g.conv_kernel > 0, "must be positive", file, at("conv_kernel"));
      require(g.chunk_size > 0, "must be positive", file, at("chunk_size"));
      break;
    }
  }
}

}  // namespace hylo
