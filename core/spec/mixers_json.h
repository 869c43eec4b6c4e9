// JSON form of the mixer settings of core/spec/mixers.h, as they appear in the `hylo` block of a
// hybrid's config.json: one object per layer, {"mixer": "mla", "kv_lora_rank": 128, ...}, whose
// other keys are the fields of that kind's settings struct under their C++ names.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/spec/mixers.h"

namespace hylo {

nlohmann::json to_json(const AttentionSettings& s);
nlohmann::json to_json(const MlaSettings& s);
nlohmann::json to_json(const Mamba2Settings& s);
nlohmann::json to_json(const GdnSettings& s);

// Overwrite the fields named in j (an object); keys not named keep their value. An unknown key or
// a value of the wrong type is a ConfigError naming file and "<field>.<key>".
void update_from_json(AttentionSettings& s, const nlohmann::json& j, const std::string& file, const std::string& field);
void update_from_json(MlaSettings& s, const nlohmann::json& j, const std::string& file, const std::string& field);
void update_from_json(Mamba2Settings& s, const nlohmann::json& j, const std::string& file, const std::string& field);
void update_from_json(GdnSettings& s, const nlohmann::json& j, const std::string& file, const std::string& field);

// {"mixer": to_string(kind), <fields of that kind's settings>}.
nlohmann::json to_json(const LayerSpec& layer);

// Reads {"mixer": ..., ...}: starts from `defaults` (e.g. sizes taken from the teacher) and
// overwrites the keys given for the layer's kind.
LayerSpec layer_spec_from_json(const nlohmann::json& j, const LayerSpec& defaults, const std::string& file,
                               const std::string& field);

// Sizes are positive and divide as the kind's maths needs (ConfigError naming file and field).
void validate_layer_spec(const LayerSpec& layer, const std::string& file, const std::string& field);

}  // namespace hylo
