// The BPE model of a tokenizer.json: vocab, ranked merges (either "a b" strings or ["a", "b"]
// pairs) and ignore_merges (Llama-3: a word already in the vocab is one token). Words arrive
// spelt in the byte alphabet. Results are cached per word, so running text costs one hash
// lookup per repeated word.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/text/json_fields.h"

namespace hylo::text {

class BpeModel {
 public:
  BpeModel(const nlohmann::json& model, const JsonSource& src, const std::string& path);
  // Appends the ids of `word` (non-empty, every character in the vocab).
  void encode_word(const std::string& word, std::vector<int32_t>& out) const;
  const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }
  std::optional<int32_t> id(const std::string& token) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void merge_word(const std::string& word, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  bool ignore_merges_ = false;

  static constexpr size_t kCacheCapacity = 1 << 18;  // words; past it new words are not cached
  static constexpr size_t kMaxCachedWordBytes = 256;
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace hylo::text
