#include "core/text/pretokenizer.h"

#include "core/text/byte_level.h"

namespace hylo::text {

// The split pattern GPT-2 used, applied by ByteLevel when use_regex is true.
static const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

PreTokenizer::PreTokenizer(const nlohmann::json& config, const JsonSource& src, const std::string& path) {
  if (config.is_null()) src.fail(path, "missing: only byte-level BPE is supported (needs a ByteLevel pre-tokenizer)");
  add(config, src, path);
  bool has_byte_level = false;
  for (const auto& s : steps_) has_byte_level |= s.kind == Step::Kind::kByteLevel;
  if (!has_byte_level) src.fail(path, "no ByteLevel step: only byte-level BPE is supported");
}

void PreTokenizer::add(const nlohmann::json& config, const JsonSource& src, const std::string& path) {
  std::string type = require_string(src, config, path, "type");
  if (type == "Sequence") {
    const auto& steps = require_array(src, config, path, "pretokenizers");
    for (size_t i = 0; i < steps.size(); ++i) add(steps[i], src, index_path(child_path(path, "pretokenizers"), i));
    return;
  }
  Step step;
  if (type == "Split") {
    step.kind = Step::Kind::kSplit;
    const auto& pattern = require(src, config, path, "pattern");
    std::string pattern_path = child_path(path, "pattern");
    if (pattern.is_object() && pattern.contains("Regex"))
      step.regex = std::make_shared<Regex>(require_string(src, pattern, pattern_path, "Regex"), src.file,
                                           child_path(pattern_path, "Regex"));
    else if (pattern.is_object() && pattern.contains("String"))
      step.literal = require_string(src, pattern, pattern_path, "String");
    else
      src.fail(pattern_path, "expected {\"Regex\": ...} or {\"String\": ...}");
    std::string behavior = require_string(src, config, path, "behavior");
    if (behavior == "Removed") step.removed = true;
    else if (behavior != "Isolated")
      src.fail(child_path(path, "behavior"), "split behavior '" + behavior + "' is not supported (Isolated, Removed)");
    step.invert = optional_bool(src, config, path, "invert", false);
  } else if (type == "ByteLevel") {
    step.kind = Step::Kind::kByteLevel;
    step.add_prefix_space = optional_bool(src, config, path, "add_prefix_space", true);
    if (optional_bool(src, config, path, "use_regex", true))
      step.regex = std::make_shared<Regex>(kGpt2Pattern, src.file, child_path(path, "use_regex"));
  } else {
    src.fail(child_path(path, "type"), "pre-tokenizer '" + type + "' is not supported (Split, ByteLevel, Sequence)");
  }
  steps_.push_back(std::move(step));
}

// Byte ranges of the pattern's matches in `piece`.
static std::vector<std::pair<size_t, size_t>> literal_matches(const std::string& literal, const std::string& piece) {
  std::vector<std::pair<size_t, size_t>> matches;
  if (literal.empty()) return matches;
  for (size_t at = piece.find(literal); at != std::string::npos; at = piece.find(literal, at + literal.size()))
    matches.emplace_back(at, at + literal.size());
  return matches;
}

void PreTokenizer::apply(const Step& step, const std::string& piece, std::vector<std::string>& out) {
  if (step.kind == Step::Kind::kByteLevel) {
    std::string prefixed;
    std::string_view text = piece;
    if (step.add_prefix_space && (piece.empty() || piece[0] != ' ')) text = prefixed = " " + piece;
    const auto& alphabet = ByteAlphabet::get();
    auto emit = [&](size_t b, size_t e) {
      if (e <= b) return;
      std::string mapped;
      mapped.reserve(2 * (e - b));
      alphabet.encode(text.substr(b, e - b), mapped);
      out.push_back(std::move(mapped));
    };
    if (!step.regex) {
      emit(0, text.size());
      return;
    }
    size_t prev = 0;  // Isolated: the gaps between matches are words too
    for (auto [b, e] : step.regex->find_all(text)) {
      emit(prev, b);
      emit(b, e);
      prev = e;
    }
    emit(prev, text.size());
    return;
  }
  auto matches = step.regex ? step.regex->find_all(piece) : literal_matches(step.literal, piece);
  // Isolated keeps matches and gaps; Removed drops the matches (or the gaps when inverted).
  bool keep_gaps = !step.removed || !step.invert;
  bool keep_matches = !step.removed || step.invert;
  size_t prev = 0;
  auto emit = [&](size_t b, size_t e, bool keep) {
    if (keep && e > b) out.push_back(piece.substr(b, e - b));
  };
  for (auto [b, e] : matches) {
    emit(prev, b, keep_gaps);
    emit(b, e, keep_matches);
    prev = e;
  }
  emit(prev, piece.size(), keep_gaps);
}

void PreTokenizer::split(const std::string& text, std::vector<std::string>& words) const {
  std::vector<std::string> pieces{text}, next;
  for (const auto& step : steps_) {
    next.clear();
    for (const auto& piece : pieces) apply(step, piece, next);
    pieces.swap(next);
  }
  for (auto& p : pieces) words.push_back(std::move(p));
}

}  // namespace hylo::text
