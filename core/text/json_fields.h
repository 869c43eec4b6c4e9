// Typed reads from a tokenizer.json that fail with a TokenizerError naming the file and the
// dotted field path (e.g. "pre_tokenizer.pretokenizers[0].pattern").
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "core/spec/error.h"

namespace hylo::text {

struct JsonSource {
  const std::string& file;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw TokenizerError(what, file, field);
  }
};

inline std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}
inline std::string index_path(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

inline const nlohmann::json& require(const JsonSource& src, const nlohmann::json& obj,
                                     const std::string& path, const char* key) {
  if (!obj.is_object()) src.fail(path, "expected an object");
  auto it = obj.find(key);
  if (it == obj.end()) src.fail(child_path(path, key), "missing");
  return *it;
}

inline std::string require_string(const JsonSource& src, const nlohmann::json& obj,
                                  const std::string& path, const char* key) {
  const auto& v = require(src, obj, path, key);
  if (!v.is_string()) src.fail(child_path(path, key), "expected a string");
  return v.get<std::string>();
}

// An optional boolean: absent or null gives `fallback`.
inline bool optional_bool(const JsonSource& src, const nlohmann::json& obj, const std::string& path,
                          const char* key, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) src.fail(child_path(path, key), "expected true or false");
  return it->get<bool>();
}

inline const nlohmann::json& require_array(const JsonSource& src, const nlohmann::json& obj,
                                           const std::string& path, const char* key) {
  const auto& v = require(src, obj, path, key);
  if (!v.is_array()) src.fail(child_path(path, key), "expected an array");
  return v;
}

}  // namespace hylo::text
