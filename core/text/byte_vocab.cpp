#include "core/text/byte_vocab.h"

#include <nlohmann/json.hpp>

#include "core/text/byte_level.h"

namespace hylo::text {

std::string byte_level_tokenizer_json() {
  using ordered = nlohmann::ordered_json;
  const ByteAlphabet& alphabet = ByteAlphabet::get();
  ordered vocab = ordered::object();
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    alphabet.encode(std::string(1, static_cast<char>(b)), ch);
    vocab[ch] = b;
  }
  const ordered eos_token = {{"id", kByteLevelEosId}, {"content", kByteLevelEos}, {"single_word", false},
                             {"lstrip", false},       {"rstrip", false},          {"normalized", false},
                             {"special", true}};
  const ordered byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                              {"use_regex", true}};
  ordered eos_item = {{"SpecialToken", {{"id", kByteLevelEos}, {"type_id", 0}}}};
  ordered post = {
      {"type", "TemplateProcessing"},
      {"single", ordered::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, eos_item})},
      {"pair", ordered::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, eos_item,
                               {{"Sequence", {{"id", "B"}, {"type_id", 1}}}},
                               {{"SpecialToken", {{"id", kByteLevelEos}, {"type_id", 1}}}}})},
      {"special_tokens",
       {{kByteLevelEos, {{"id", kByteLevelEos}, {"ids", {kByteLevelEosId}}, {"tokens", {kByteLevelEos}}}}}}};
  ordered model = {{"type", "BPE"},
                   {"dropout", nullptr},
                   {"unk_token", nullptr},
                   {"continuing_subword_prefix", nullptr},
                   {"end_of_word_suffix", nullptr},
                   {"fuse_unk", false},
                   {"byte_fallback", false},
                   {"ignore_merges", false},
                   {"vocab", vocab},
                   {"merges", ordered::array()}};
  ordered file = {{"version", "1.0"},
                  {"truncation", nullptr},
                  {"padding", nullptr},
                  {"added_tokens", ordered::array({eos_token})},
                  {"normalizer", nullptr},
                  {"pre_tokenizer", byte_level},
                  {"post_processor", post},
                  {"decoder", byte_level},
                  {"model", model}};
  return file.dump(1) + "\n";
}

}  // namespace hylo::text
