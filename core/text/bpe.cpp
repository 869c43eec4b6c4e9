#include "core/text/bpe.h"

#include <mutex>
#include <queue>

#include "core/text/utf8.h"

namespace hylo::text {

BpeModel::BpeModel(const nlohmann::json& model, const JsonSource& src, const std::string& path) {
  std::string type = require_string(src, model, path, "type");
  if (type != "BPE") src.fail(child_path(path, "type"), "model '" + type + "' is not supported (BPE)");
  auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null() && !(dropout->is_number() && dropout->get<double>() == 0.0))
    src.fail(child_path(path, "dropout"), "BPE dropout is random and not supported at inference");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
      src.fail(child_path(path, key), "not supported by byte-level BPE");
  }
  ignore_merges_ = optional_bool(src, model, path, "ignore_merges", false);

  const auto& vocab = require(src, model, path, "vocab");
  std::string vocab_path = child_path(path, "vocab");
  if (!vocab.is_object()) src.fail(vocab_path, "expected an object of token: id");
  vocab_.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > INT32_MAX)
      src.fail(child_path(vocab_path, it.key()), "expected a non-negative 32-bit id");
    vocab_.emplace(it.key(), static_cast<int32_t>(it.value().get<int64_t>()));
  }

  const auto& merges = require_array(src, model, path, "merges");
  std::string merges_path = child_path(path, "merges");
  merges_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto& m = merges[i];
    std::string field = index_path(merges_path, i);
    std::string a, b;
    if (m.is_string()) {  // "a b": exactly one space, as the Rust loader demands
      const auto& s = m.get_ref<const std::string&>();
      size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        src.fail(field, "expected \"left right\" with one space, got \"" + s + "\"");
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      src.fail(field, "expected \"left right\" or [\"left\", \"right\"]");
    }
    auto ia = vocab_.find(a), ib = vocab_.find(b), im = vocab_.find(a + b);
    if (ia == vocab_.end()) src.fail(field, "token \"" + a + "\" is not in model.vocab");
    if (ib == vocab_.end()) src.fail(field, "token \"" + b + "\" is not in model.vocab");
    if (im == vocab_.end()) src.fail(field, "merged token \"" + a + b + "\" is not in model.vocab");
    // A repeated pair keeps its last rank, as both reference loaders do.
    merges_[pair_key(ia->second, ib->second)] = Merge{static_cast<int32_t>(i), im->second};
  }
}

std::optional<int32_t> BpeModel::id(const std::string& token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

// Applies merges lowest rank first, leftmost first among equal ranks, over a linked list of
// symbols; heap entries made stale by an earlier merge are skipped when popped.
void BpeModel::merge_word(const std::string& word, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int prev, next;  // -1 at the ends
    bool alive;
  };
  std::vector<Symbol> symbols;
  for (size_t i = 0; i < word.size();) {
    size_t start = i;
    i += utf8_length(static_cast<unsigned char>(word[i]));
    auto it = vocab_.find(word.substr(start, i - start));
    if (it == vocab_.end())  // cannot happen for byte-alphabet words: the loader checked the alphabet
      throw TokenizerError("character '" + word.substr(start, i - start) + "' is not in the vocab");
    int n = static_cast<int>(symbols.size());
    symbols.push_back({it->second, n - 1, -1, true});
    if (n > 0) symbols[n - 1].next = n;
  }
  struct Candidate {
    int32_t rank;
    int pos;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push = [&](int pos) {
    int next = symbols[pos].next;
    if (next < 0) return;
    auto it = merges_.find(pair_key(symbols[pos].id, symbols[next].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) push(i);
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    auto it = merges_.find(pair_key(left.id, symbols[left.next].id));
    if (it == merges_.end() || it->second.rank != top.rank) continue;  // stale entry
    Symbol& right = symbols[left.next];
    left.id = it->second.merged_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) push(left.prev);
    push(top.pos);
  }
  for (int i = 0; i >= 0 && i < static_cast<int>(symbols.size()); i = symbols[i].next) out.push_back(symbols[i].id);
}

void BpeModel::encode_word(const std::string& word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    auto it = vocab_.find(word);
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  {
    std::shared_lock<std::shared_mutex> lock(cache_mutex_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  size_t first = out.size();
  merge_word(word, out);
  if (word.size() <= kMaxCachedWordBytes) {
    std::unique_lock<std::shared_mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(word, std::vector<int32_t>(out.begin() + first, out.end()));
  }
}

}  // namespace hylo::text
