// The "normalizer" of a tokenizer.json: none, a Unicode normal form (NFC, NFD, NFKC, NFKD, via
// ICU) or a Sequence of them. Other normalizers are rejected with the field that names them.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/text/json_fields.h"

namespace hylo::text {

class Normalizer {
 public:
  // `config` is the JSON at `path` (may be null: no normalization).
  Normalizer(const nlohmann::json& config, const JsonSource& src, const std::string& path);
  bool empty() const { return forms_.empty(); }
  std::string normalize(const std::string& text) const;

 private:
  void add(const nlohmann::json& config, const JsonSource& src, const std::string& path);
  std::vector<const void*> forms_;  // const UNormalizer2*, kept opaque so ICU stays private
};

}  // namespace hylo::text
