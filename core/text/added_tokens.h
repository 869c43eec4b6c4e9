// Added tokens (special or not) are found in the text before pre-tokenization: leftmost match
// first, the longest at that position, like the Rust tokenizers' AddedVocabulary. Flags:
// single_word (no word character may touch the match), lstrip / rstrip (the match swallows the
// whitespace on that side), normalized (matched in the normalized text, after the
// non-normalized tokens have been taken out of the raw text).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hylo::text {

struct AddedToken {
  int32_t id;
  std::string content;
  bool special = false, single_word = false, lstrip = false, rstrip = false, normalized = false;
};

// One stretch of the text: an added token (id >= 0) or plain text (id < 0) to pre-tokenize.
struct Section {
  std::string_view text;
  int32_t id;
};

class AddedTokenMatcher {
 public:
  // `patterns[i]` is what token `tokens[i]` looks like in the text searched (its content, or
  // its normalized content).
  AddedTokenMatcher(std::vector<AddedToken> tokens, const std::vector<std::string>& patterns);
  bool empty() const { return tokens_.empty(); }
  // Cuts `text` into sections covering all of it, in order (empty plain sections omitted).
  void split(std::string_view text, std::vector<Section>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> children;  // sorted by byte
    int token = -1;                                        // index into tokens_ ending here
  };
  int child(int node, unsigned char byte) const;
  std::vector<AddedToken> tokens_;
  std::vector<Node> trie_;
  std::array<bool, 256> starts_{};  // bytes some token starts with: a cheap skip of the others
};

// Unicode White_Space and the regex-crate \w (Alphabetic, M, Nd, Pc, Join_Control).
bool is_white_space(char32_t cp);
bool is_word_char(char32_t cp);

}  // namespace hylo::text
