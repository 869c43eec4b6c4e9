#include "core/text/added_tokens.h"

#include <unicode/uchar.h>

#include <algorithm>

#include "core/text/utf8.h"

namespace hylo::text {

bool is_white_space(char32_t cp) { return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE); }

bool is_word_char(char32_t cp) {
  auto c = static_cast<UChar32>(cp);
  return u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL) ||
         (U_GET_GC_MASK(c) & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0;
}

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens, const std::vector<std::string>& patterns)
    : tokens_(std::move(tokens)) {
  trie_.emplace_back();
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    starts_[static_cast<unsigned char>(p[0])] = true;
    int node = 0;
    for (unsigned char b : p) {
      int next = child(node, b);
      if (next < 0) {
        next = static_cast<int>(trie_.size());
        trie_.emplace_back();
        auto& ch = trie_[node].children;
        ch.insert(std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, -1)), {b, next});
      }
      node = next;
    }
    if (trie_[node].token < 0) trie_[node].token = static_cast<int>(t);  // first of duplicates wins
  }
}

int AddedTokenMatcher::child(int node, unsigned char byte) const {
  const auto& ch = trie_[node].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(byte, -1));
  return it != ch.end() && it->first == byte ? it->second : -1;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Section>& out) const {
  size_t emitted = 0;  // end of the last section pushed
  size_t pos = 0;
  while (pos < text.size()) {
    if (!starts_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    // Longest token starting at pos.
    int best = -1;
    size_t best_end = 0;
    for (int node = 0, i = static_cast<int>(pos); i < static_cast<int>(text.size());) {
      node = child(node, static_cast<unsigned char>(text[i++]));
      if (node < 0) break;
      if (trie_[node].token >= 0) best = trie_[node].token, best_end = static_cast<size_t>(i);
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[best];
    size_t start = pos, stop = best_end;
    if (tok.single_word) {
      size_t len;
      bool word_before = start > 0 && is_word_char(last_code_point(text.substr(0, start), len));
      size_t j = stop;
      bool word_after = stop < text.size() && is_word_char(next_code_point(text, j));
      if (word_before || word_after) {  // not a match; the search goes on after it
        pos = best_end;
        continue;
      }
    }
    if (tok.lstrip) {
      while (start > emitted) {
        size_t len;
        if (!is_white_space(last_code_point(text.substr(0, start), len))) break;
        start -= len;
      }
    }
    if (tok.rstrip) {
      while (stop < text.size()) {
        size_t j = stop;
        if (!is_white_space(next_code_point(text, j))) break;
        stop = j;
      }
    }
    if (start > emitted) out.push_back({text.substr(emitted, start - emitted), -1});
    out.push_back({text.substr(start, stop - start), tok.id});
    emitted = pos = stop;
  }
  if (emitted < text.size()) out.push_back({text.substr(emitted), -1});
}

}  // namespace hylo::text
