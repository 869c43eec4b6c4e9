// The "pre_tokenizer" of a byte-level BPE tokenizer.json: Split (Oniguruma regex or literal,
// behavior Isolated or Removed, optional invert), ByteLevel (add_prefix_space, use_regex with
// the GPT-2 pattern), or a Sequence of them. One ByteLevel step is required: it guarantees
// that every word BPE sees is spelt in the byte alphabet.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/text/json_fields.h"
#include "core/text/regex.h"

namespace hylo::text {

class PreTokenizer {
 public:
  PreTokenizer(const nlohmann::json& config, const JsonSource& src, const std::string& path);
  // Splits `text` (valid UTF-8, one piece between added tokens) into words, appended to `words`.
  void split(const std::string& text, std::vector<std::string>& words) const;

 private:
  struct Step {
    enum class Kind { kSplit, kByteLevel } kind;
    std::shared_ptr<const Regex> regex;  // Split with a Regex pattern; ByteLevel with use_regex
    std::string literal;                 // Split with a String pattern
    bool invert = false;
    bool removed = false;  // behavior Removed (else Isolated)
    bool add_prefix_space = false;
  };
  void add(const nlohmann::json& config, const JsonSource& src, const std::string& path);
  static void apply(const Step& step, const std::string& piece, std::vector<std::string>& out);
  std::vector<Step> steps_;
};

}  // namespace hylo::text
