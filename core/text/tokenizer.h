// A byte-level BPE tokenizer read from a Hugging Face tokenizer.json (Llama-3, Qwen2/3, GPT-2
// style). Torch-free. Everything in the file that changes the ids is either implemented exactly
// or rejected with a TokenizerError naming the file and the JSON field.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hylo {

class Tokenizer {
 public:
  // `path`: a tokenizer.json, or a checkpoint directory holding one. A tokenizer_config.json
  // beside it, when present, names the BOS/EOS tokens.
  static Tokenizer from_file(const std::string& path);

  // `text` must be valid UTF-8. add_special_tokens applies the post-processor's template
  // (e.g. Llama-3's <|begin_of_text|>).
  std::vector<int32_t> encode(const std::string& text, bool add_special_tokens = false) const;
  // Unknown ids are a TokenizerError. Byte sequences that are not UTF-8 decode to U+FFFD.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  int64_t vocab_size() const;  // largest id + 1, added tokens included (the embedding rows)
  std::optional<int32_t> token_id(const std::string& token) const;
  std::optional<std::string> token(int32_t id) const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  const std::string& path() const;  // the tokenizer.json read

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace hylo
