// Loading a tokenizer.json and running its pipeline: added tokens -> normalizer -> pre-tokenizer
// -> BPE -> post-processor; decoding through the ByteLevel decoder.
#include "core/text/tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/spec/error.h"
#include "core/text/added_tokens.h"
#include "core/text/bpe.h"
#include "core/text/byte_level.h"
#include "core/text/json_fields.h"
#include "core/text/normalizer.h"
#include "core/text/pretokenizer.h"
#include "core/text/utf8.h"

namespace hylo {

using nlohmann::json;
using namespace hylo::text;

namespace {

// One TemplateProcessing "single" template: special-token ids and the place of the sequence.
struct Template {
  std::vector<int32_t> before, after;
};

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError("cannot open the file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return json::parse(buffer.str());
  } catch (const json::parse_error& e) {
    throw TokenizerError(std::string("malformed JSON: ") + e.what(), path);
  }
}

Template parse_template(const json& config, const JsonSource& src, const std::string& path) {
  std::map<std::string, std::vector<int32_t>> specials;
  auto sit = config.find("special_tokens");
  std::string specials_path = child_path(path, "special_tokens");
  if (sit != config.end() && !sit->is_null()) {
    if (!sit->is_object()) src.fail(specials_path, "expected an object");
    for (auto it = sit->begin(); it != sit->end(); ++it) {
      std::string p = child_path(specials_path, it.key());
      const auto& ids = require_array(src, it.value(), p, "ids");
      for (size_t i = 0; i < ids.size(); ++i) {
        if (!ids[i].is_number_integer()) src.fail(index_path(child_path(p, "ids"), i), "expected an integer id");
        specials[it.key()].push_back(ids[i].get<int32_t>());
      }
    }
  }
  Template t;
  bool seen_sequence = false;
  const auto& single = require_array(src, config, path, "single");
  for (size_t i = 0; i < single.size(); ++i) {
    std::string p = index_path(child_path(path, "single"), i);
    const auto& item = single[i];
    if (item.is_object() && item.contains("Sequence")) {
      std::string id = require_string(src, item["Sequence"], child_path(p, "Sequence"), "id");
      if (id != "A") src.fail(child_path(p, "Sequence.id"), "the single template can only hold sequence A");
      if (seen_sequence) src.fail(p, "sequence A appears twice");
      seen_sequence = true;
    } else if (item.is_object() && item.contains("SpecialToken")) {
      std::string id = require_string(src, item["SpecialToken"], child_path(p, "SpecialToken"), "id");
      auto found = specials.find(id);
      if (found == specials.end()) src.fail(child_path(p, "SpecialToken.id"), "'" + id + "' is not in special_tokens");
      auto& side = seen_sequence ? t.after : t.before;
      side.insert(side.end(), found->second.begin(), found->second.end());
    } else {
      src.fail(p, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  if (!seen_sequence) src.fail(child_path(path, "single"), "no {\"Sequence\": {\"id\": \"A\"}} item");
  return t;
}

void parse_post_processor(const json& config, const JsonSource& src, const std::string& path,
                          std::vector<Template>& templates) {
  if (config.is_null()) return;
  std::string type = require_string(src, config, path, "type");
  if (type == "ByteLevel") return;  // it only trims offsets; ids are unchanged
  if (type == "TemplateProcessing") {
    templates.push_back(parse_template(config, src, path));
  } else if (type == "Sequence") {
    const auto& steps = require_array(src, config, path, "processors");
    for (size_t i = 0; i < steps.size(); ++i)
      parse_post_processor(steps[i], src, index_path(child_path(path, "processors"), i), templates);
  } else {
    src.fail(child_path(path, "type"),
             "post-processor '" + type + "' is not supported (ByteLevel, TemplateProcessing, Sequence)");
  }
}

}  // namespace

struct Tokenizer::Impl {
  std::string file;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  BpeModel model;
  AddedTokenMatcher raw_tokens, normalized_tokens;
  std::vector<Template> templates;
  bool byte_level_decoder = false;
  std::unordered_map<std::string, int32_t> added_ids;
  std::vector<const std::string*> id_to_token;  // nullptr for holes
  std::vector<bool> special;
  std::optional<int32_t> bos, eos;

  Impl(const std::string& path, const json& j, const JsonSource& src)
      : file(path),
        normalizer(j.value("normalizer", json()), src, "normalizer"),
        pre_tokenizer(j.value("pre_tokenizer", json()), src, "pre_tokenizer"),
        model(require(src, j, "", "model"), src, "model"),
        raw_tokens({}, {}),
        normalized_tokens({}, {}) {}
  void load_added_tokens(const json& j, const JsonSource& src);
  void load_bos_eos(const std::string& config_path);
};

void Tokenizer::Impl::load_added_tokens(const json& j, const JsonSource& src) {
  Impl& t = *this;
  auto it = j.find("added_tokens");
  if (it == j.end() || it->is_null()) return;
  if (!it->is_array()) src.fail("added_tokens", "expected an array");
  std::vector<AddedToken> raw, normalized;
  std::vector<std::string> raw_patterns, normalized_patterns;
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& a = (*it)[i];
    std::string p = index_path("added_tokens", i);
    AddedToken tok;
    const auto& id = require(src, a, p, "id");
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      src.fail(child_path(p, "id"), "expected a non-negative 32-bit id");
    tok.id = id.get<int32_t>();
    tok.content = require_string(src, a, p, "content");
    if (tok.content.empty()) src.fail(child_path(p, "content"), "an added token cannot be empty");
    tok.special = optional_bool(src, a, p, "special", false);
    tok.single_word = optional_bool(src, a, p, "single_word", false);
    tok.lstrip = optional_bool(src, a, p, "lstrip", false);
    tok.rstrip = optional_bool(src, a, p, "rstrip", false);
    tok.normalized = optional_bool(src, a, p, "normalized", !tok.special);
    t.added_ids[tok.content] = tok.id;
    if (tok.normalized && !t.normalizer.empty()) {
      normalized_patterns.push_back(t.normalizer.normalize(tok.content));
      normalized.push_back(std::move(tok));
    } else {
      raw_patterns.push_back(tok.content);
      raw.push_back(std::move(tok));
    }
  }
  // The Rust tokenizers match special tokens before the others when both fit equally well.
  auto special_first = [](std::vector<AddedToken>& toks, std::vector<std::string>& pats) {
    std::vector<size_t> order(toks.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return toks[x].special > toks[y].special; });
    std::vector<AddedToken> t2;
    std::vector<std::string> p2;
    for (size_t i : order) t2.push_back(toks[i]), p2.push_back(pats[i]);
    toks.swap(t2);
    pats.swap(p2);
  };
  special_first(raw, raw_patterns);
  special_first(normalized, normalized_patterns);
  t.raw_tokens = AddedTokenMatcher(raw, raw_patterns);
  t.normalized_tokens = AddedTokenMatcher(normalized, normalized_patterns);

  // The id table: model vocab first, added tokens override (as in the Rust id_to_token).
  size_t size = 0;
  for (const auto& [tok, id] : t.model.vocab()) size = std::max(size, static_cast<size_t>(id) + 1);
  for (const auto* group : {&raw, &normalized})
    for (const auto& tok : *group) size = std::max(size, static_cast<size_t>(tok.id) + 1);
  t.id_to_token.assign(size, nullptr);
  t.special.assign(size, false);
  for (const auto& [tok, id] : t.model.vocab()) t.id_to_token[id] = &tok;
  for (const auto& [content, id] : t.added_ids) t.id_to_token[id] = &content;
  for (const auto* group : {&raw, &normalized})
    for (const auto& tok : *group) t.special[tok.id] = tok.special;
}

// BOS/EOS: tokenizer_config.json when it names them, else the template around sequence A.
void Tokenizer::Impl::load_bos_eos(const std::string& config_path) {
  Impl& t = *this;
  auto lookup = [&](const std::string& token) -> std::optional<int32_t> {
    auto it = t.added_ids.find(token);
    if (it != t.added_ids.end()) return it->second;
    return t.model.id(token);
  };
  if (!t.templates.empty()) {
    if (!t.templates.front().before.empty()) t.bos = t.templates.front().before.front();
    if (!t.templates.back().after.empty()) t.eos = t.templates.back().after.back();
  }
  if (!std::filesystem::is_regular_file(config_path)) return;
  json config = read_json(config_path);
  if (!config.is_object()) throw TokenizerError("expected a JSON object", config_path);
  for (auto [key, slot] : {std::pair{"bos_token", &t.bos}, std::pair{"eos_token", &t.eos}}) {
    auto it = config.find(key);
    if (it == config.end()) continue;
    if (it->is_null()) {
      *slot = std::nullopt;
      continue;
    }
    std::string token;
    if (it->is_string()) token = it->get<std::string>();
    else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) token = (*it)["content"].get<std::string>();
    else throw TokenizerError("expected a token string or {\"content\": ...}", config_path, key);
    *slot = lookup(token);
    if (!*slot) throw TokenizerError("'" + token + "' is not in the vocabulary", config_path, key);
  }
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::string file = path;
  if (fs::is_directory(path)) {
    file = (fs::path(path) / "tokenizer.json").string();
    if (!fs::is_regular_file(file)) throw TokenizerError("no tokenizer.json in this directory", path);
  }
  json j = read_json(file);
  JsonSource src{file};
  if (!j.is_object()) src.fail("", "expected a JSON object");
  for (const char* key : {"truncation", "padding"}) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) src.fail(key, "must be null: truncation and padding are the caller's job");
  }
  auto impl = std::make_shared<Impl>(file, j, src);
  const auto& alphabet = ByteAlphabet::get();
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    append_utf8(ch, alphabet.char_of(static_cast<unsigned char>(b)));
    if (!impl->model.id(ch)) src.fail("model.vocab", "byte-level alphabet character '" + ch + "' (byte " + std::to_string(b) + ") is missing");
  }
  impl->load_added_tokens(j, src);
  parse_post_processor(j.value("post_processor", json()), src, "post_processor", impl->templates);
  json decoder = j.value("decoder", json());
  if (!decoder.is_null()) {
    std::string type = require_string(src, decoder, "decoder", "type");
    if (type != "ByteLevel") src.fail("decoder.type", "decoder '" + type + "' is not supported (ByteLevel)");
    impl->byte_level_decoder = true;
  }
  impl->load_bos_eos((fs::path(file).parent_path() / "tokenizer_config.json").string());
  return Tokenizer(impl);
}

std::vector<int32_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  const Impl& t = *impl_;
  size_t bad = first_invalid_utf8(text);
  if (bad != std::string::npos) throw TokenizerError("not valid UTF-8 at byte " + std::to_string(bad), "", "text");
  std::vector<int32_t> ids;
  std::vector<Section> raw_sections, sections;
  std::vector<std::string> words;
  t.raw_tokens.split(text, raw_sections);
  for (const Section& raw : raw_sections) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    std::string normalized = t.normalizer.normalize(std::string(raw.text));
    sections.clear();
    t.normalized_tokens.split(normalized, sections);
    for (const Section& s : sections) {
      if (s.id >= 0) {
        ids.push_back(s.id);
        continue;
      }
      words.clear();
      t.pre_tokenizer.split(std::string(s.text), words);
      for (const auto& w : words) t.model.encode_word(w, ids);
    }
  }
  if (add_special_tokens) {
    for (const Template& tpl : t.templates) {
      std::vector<int32_t> wrapped(tpl.before);
      wrapped.insert(wrapped.end(), ids.begin(), ids.end());
      wrapped.insert(wrapped.end(), tpl.after.begin(), tpl.after.end());
      ids.swap(wrapped);
    }
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  const Impl& t = *impl_;
  std::vector<const std::string*> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= t.id_to_token.size() || !t.id_to_token[id])
      throw TokenizerError("id " + std::to_string(id) + " is not in the vocabulary", t.file, "ids");
    if (skip_special_tokens && t.special[id]) continue;
    tokens.push_back(t.id_to_token[id]);
  }
  if (t.byte_level_decoder) return byte_level_decode(tokens);
  std::string joined;  // no decoder: tokens joined by spaces, as the Rust tokenizers do
  for (size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + *tokens[i];
  return joined;
}

int64_t Tokenizer::vocab_size() const { return static_cast<int64_t>(impl_->id_to_token.size()); }

std::optional<int32_t> Tokenizer::token_id(const std::string& token) const {
  auto it = impl_->added_ids.find(token);
  if (it != impl_->added_ids.end()) return it->second;
  return impl_->model.id(token);
}

std::optional<std::string> Tokenizer::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_to_token.size() || !impl_->id_to_token[id]) return std::nullopt;
  return *impl_->id_to_token[id];
}

std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }
const std::string& Tokenizer::path() const { return impl_->file; }

}  // namespace hylo
