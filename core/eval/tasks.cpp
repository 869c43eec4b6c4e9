#include "core/eval/tasks.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "core/eval/haystack.h"
#include "core/spec/error.h"
#include "core/spec/rng.h"
#include "core/text/tokenizer.h"

namespace hylo {
namespace {

struct Needle {
  std::string text;
  double depth;  // % of the haystack
};

// A prompt = prefix + haystack words with needles at sentence boundaries + suffix.
struct Layout {
  std::string prefix, suffix;
  std::vector<std::string> words;
  std::vector<Needle> needles;  // asked needles first
};

struct Assembled {
  std::string text;
  std::vector<std::pair<size_t, size_t>> needle_chars;  // [begin, end) per needle, incl. the leading space
};

bool ends_sentence(const std::string& w) {
  char c = w.back();
  if (c == '"' && w.size() > 1) c = w[w.size() - 2];
  return c == '.' || c == '!' || c == '?';
}

Assembled assemble(const Layout& l, int64_t n_words) {
  // Sentence boundaries among the first n words: before word 0, after each sentence end, at n.
  std::vector<int64_t> bounds{0};
  for (int64_t i = 1; i < n_words; ++i)
    if (ends_sentence(l.words[i - 1])) bounds.push_back(i);
  if (n_words > 0) bounds.push_back(n_words);
  std::multimap<int64_t, size_t> at;  // word index -> needle, needles in order at one boundary
  for (size_t k = 0; k < l.needles.size(); ++k) {
    double want = l.needles[k].depth / 100.0 * static_cast<double>(n_words);
    auto it = std::min_element(bounds.begin(), bounds.end(), [&](int64_t a, int64_t b) {
      return std::fabs(a - want) < std::fabs(b - want);
    });
    at.emplace(*it, k);
  }
  Assembled out;
  out.needle_chars.resize(l.needles.size());
  out.text = l.prefix;
  bool first = true;
  auto put = [&](const std::string& piece) {
    if (!first) out.text += ' ';
    first = false;
    out.text += piece;
  };
  for (int64_t i = 0; i <= n_words; ++i) {
    for (auto [it, end] = at.equal_range(i); it != end; ++it) {
      size_t begin = out.text.size();
      put(l.needles[it->second].text);
      out.needle_chars[it->second] = {begin, out.text.size()};
    }
    if (i < n_words) put(l.words[i]);
  }
  out.text += l.suffix;
  return out;
}

// Largest n in [0, max_n] whose prompt stays within `target` tokens, by secant steps on the true
// token count inside a shrinking bracket. Returns n and its token count.
std::pair<int64_t, int64_t> fit(const Tokenizer& tok, int64_t target, int64_t max_n,
                                const std::function<std::string(int64_t)>& build) {
  auto count = [&](int64_t n) { return static_cast<int64_t>(tok.encode(build(n), false).size()); };
  int64_t lo = 0, lo_tokens = count(0), hi = max_n + 1;
  const int64_t base_tokens = lo_tokens;
  if (lo_tokens > target - kLengthSlack)
    throw EvalError("too short: the needles, instructions and question alone take " +
                        std::to_string(lo_tokens) + " tokens (need a target of at least " +
                        std::to_string(lo_tokens + kLengthSlack) + ")",
                    "", "length");
  double per_unit = 1.5;  // tokens per word, refined from every measurement
  while (hi - lo > 1 && target - lo_tokens > kLengthSlack / 2) {
    int64_t guess = lo + static_cast<int64_t>(std::floor((target - lo_tokens) / per_unit));
    guess = std::clamp<int64_t>(guess, lo + 1, hi - 1);
    int64_t tokens = count(guess);
    per_unit = std::max(0.25, static_cast<double>(tokens - base_tokens) / static_cast<double>(guess));
    if (tokens <= target) {
      lo = guess;
      lo_tokens = tokens;
    } else {
      hi = guess;
      per_unit *= 1.02;  // overshot: step more cautiously
    }
  }
  // The loop ends within the slack or with hi == lo + 1 (one more word overshoots; a byte-level
  // word can be longer than the slack). Only a haystack that runs out leaves the prompt short.
  if (target - lo_tokens > kLengthSlack && lo == max_n)
    throw EvalError("the haystack runs out at " + std::to_string(lo_tokens) + " tokens, short of " +
                        std::to_string(target), "", "length");
  return {lo, lo_tokens};
}

std::string plural(const std::string& kind) { return kind == "number" ? "numbers" : "UUIDs"; }

std::string join_keys(const std::vector<std::string>& keys) {
  std::string s;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) s += keys.size() > 2 ? ", " : " ";
    if (i > 0 && i + 1 == keys.size()) s += "and ";
    s += keys[i];
  }
  return s;
}

struct NiahConfig {
  std::string haystack;  // noise | essay | needles
  std::string key_kind, value_kind;  // word | uuid ; number | uuid
  int keys = 1, values = 1, queries = 1;
};

const std::map<std::string, NiahConfig>& niah_configs() {
  static const std::map<std::string, NiahConfig> m = {
      {"niah_single_1", {"noise", "word", "number", 1, 1, 1}},
      {"niah_single_2", {"essay", "word", "number", 1, 1, 1}},
      {"niah_single_3", {"essay", "word", "uuid", 1, 1, 1}},
      {"niah_multikey_1", {"essay", "word", "number", 4, 1, 1}},
      {"niah_multikey_2", {"needles", "word", "number", 1, 1, 1}},
      {"niah_multikey_3", {"needles", "uuid", "uuid", 1, 1, 1}},
      {"niah_multivalue", {"essay", "word", "number", 1, 4, 1}},
      {"niah_multiquery", {"essay", "word", "number", 4, 1, 4}},
  };
  return m;
}

std::string needle_text(const std::string& value_kind, const std::string& key, const std::string& value) {
  return "One of the special magic " + plural(value_kind) + " for " + key + " is: " + value + ".";
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Layout niah_layout(const NiahConfig& c, const TaskSpec& spec, Rng& rng, std::vector<std::string>& expected,
                   nlohmann::json& meta) {
  auto make_key = [&] { return c.key_kind == "uuid" ? random_uuid(rng) : random_key(rng); };
  auto make_value = [&] { return c.value_kind == "uuid" ? random_uuid(rng) : random_number(rng, 7); };
  std::set<std::string> used;
  std::vector<std::string> keys;
  while (static_cast<int>(keys.size()) < c.keys) {
    std::string k = make_key();
    if (used.insert(k).second) keys.push_back(k);
  }
  Layout l;
  // Asked needles first: the first at the requested depth, the rest at random depths.
  std::vector<std::string> asked(keys.begin(), keys.begin() + c.queries);
  for (int q = 0; q < c.queries; ++q)
    for (int v = 0; v < c.values; ++v) {
      std::string value = make_value();
      expected.push_back(value);
      double depth = l.needles.empty() ? spec.depth : 100.0 * rng.uniform();
      l.needles.push_back({needle_text(c.value_kind, keys[q], value), depth});
    }
  for (int k = c.queries; k < c.keys; ++k)
    l.needles.push_back({needle_text(c.value_kind, keys[k], make_value()), 100.0 * rng.uniform()});

  int64_t words_needed = spec.length + 64;  // every word is at least one token
  if (c.haystack == "noise") {
    l.words = noise_words(words_needed);
  } else if (c.haystack == "essay") {
    if (!spec.essay_words.empty()) {
      while (static_cast<int64_t>(l.words.size()) < words_needed)
        l.words.insert(l.words.end(), spec.essay_words.begin(), spec.essay_words.end());
    } else {
      if (spec.essay_dir.empty()) throw EvalError("the essay haystack needs a folder of essay text", "", "essay_dir");
      l.words = essay_words(spec.essay_dir, words_needed, rng);
    }
  } else {
    // Distractor needles whose keys differ from every asked key.
    while (static_cast<int64_t>(l.words.size()) < words_needed) {
      std::string k = make_key();
      if (used.count(k)) continue;
      for (auto& w : words_of(needle_text(c.value_kind, k, make_value()))) l.words.push_back(std::move(w));
    }
  }
  std::string kind = c.value_kind == "uuid" ? "UUID" : "number";
  std::string kinds = plural(c.value_kind);
  l.prefix = "Hidden in the text below are special magic " + kinds +
             " for some keys. Remember them: a question about them follows the text.\n\n";
  std::string about = join_keys(asked);
  if (c.values == 1 && c.queries == 1)
    l.suffix = "\n\nQuestion: What is the special magic " + kind + " for " + about +
               " mentioned in the text above?\nAnswer: The special magic " + kind + " for " + about +
               " mentioned in the text above is";
  else
    l.suffix = "\n\nQuestion: What are all the special magic " + kinds + " for " + about +
               " mentioned in the text above?\nAnswer: The special magic " + kinds + " for " + about +
               " mentioned in the text above are";
  meta["haystack"] = c.haystack;
  meta["keys"] = keys;
  meta["asked_keys"] = asked;
  return l;
}

Layout vt_layout(const TaskSpec& spec, Rng& rng, std::vector<std::string>& expected, nlohmann::json& meta) {
  const int hops = 5;
  std::string value = random_number(rng, 5);
  std::set<std::string> names;
  while (static_cast<int>(names.size()) < hops) names.insert(random_variable(rng));
  std::vector<std::string> chain(names.begin(), names.end());
  rng.shuffle(chain);
  Layout l;
  for (int i = 0; i < hops; ++i) {
    std::string rhs = i == 0 ? value : "VAR " + chain[i - 1];
    // The chain reads in order from the requested depth towards the end.
    l.needles.push_back({"VAR " + chain[i] + " = " + rhs + ".", spec.depth + (100.0 - spec.depth) * i / hops});
  }
  expected = chain;
  l.words = noise_words(spec.length + 64);
  l.prefix = "Follow the chain of variable assignments hidden in the text below; a question about it follows.\n\n";
  l.suffix = "\n\nQuestion: Find all variables that are assigned the value " + value +
             " in the text above.\nAnswer: According to the chain of assignments, the variables assigned the value " +
             value + " are:";
  meta["haystack"] = "noise";
  meta["value"] = value;
  return l;
}

Layout passkey_layout(const TaskSpec& spec, Rng& rng, std::vector<std::string>& expected, nlohmann::json& meta) {
  std::string key = random_number(rng, 5);
  Layout l;
  l.needles.push_back({"The pass key is " + key + ". Remember it. " + key + " is the pass key.", spec.depth});
  expected = {key};
  l.words = noise_words(spec.length + 64);
  l.prefix = "A pass key is hidden in the long text below. Find it and remember it: you will be asked for it at the end.\n\n";
  l.suffix = "\n\nWhat is the pass key? The pass key is";
  meta["haystack"] = "noise";
  return l;
}

TaskSample needle_task(const Tokenizer& tok, const TaskSpec& spec, const Layout& l, std::vector<std::string> expected,
                       nlohmann::json meta) {
  auto [n, tokens] = fit(tok, spec.length, static_cast<int64_t>(l.words.size()),
                         [&](int64_t k) { return assemble(l, k).text; });
  Assembled a = assemble(l, n);
  TaskSample s;
  s.prompt = std::move(a.text);
  s.prompt_tokens = tokens;
  s.expected = std::move(expected);
  // Token spans: the tokens of the text before a needle's leading space are a prefix of the
  // prompt's tokens, since pre-tokenization splits before " One", " VAR", " The".
  int64_t needle_tokens = 0;
  for (const auto& [begin, end] : a.needle_chars) {
    int64_t b = static_cast<int64_t>(tok.encode(s.prompt.substr(0, begin), false).size());
    int64_t e = static_cast<int64_t>(tok.encode(s.prompt.substr(0, end), false).size());
    s.needle_spans.emplace_back(b, e);
    needle_tokens += e - b;
  }
  int64_t prefix_tokens = static_cast<int64_t>(tok.encode(l.prefix, false).size());
  int64_t suffix_tokens = static_cast<int64_t>(tok.encode(l.suffix, false).size());
  int64_t haystack_tokens = tokens - prefix_tokens - suffix_tokens - needle_tokens;
  std::vector<double> depths;
  for (const auto& nd : l.needles) depths.push_back(nd.depth);
  meta["needle_depths"] = depths;
  meta["needles"] = nlohmann::json::array();
  for (const auto& nd : l.needles) meta["needles"].push_back(nd.text);
  // Where the asked needle landed, as % of the haystack tokens (before it, needles excluded).
  int64_t before = s.needle_spans[0].first - prefix_tokens;
  for (size_t k = 1; k < s.needle_spans.size(); ++k)
    if (s.needle_spans[k].second <= s.needle_spans[0].first) before -= s.needle_spans[k].second - s.needle_spans[k].first;
  meta["depth_actual"] = haystack_tokens > 0 ? 100.0 * before / haystack_tokens : 0.0;
  meta["haystack_words"] = n;
  s.metadata = std::move(meta);
  return s;
}

TaskSample cwe_task(const Tokenizer& tok, const TaskSpec& spec, Rng& rng, nlohmann::json meta) {
  const int common = 10, rare_freq = 3;
  std::string prefix = "Below is a numbered list of words. Some of them appear many times.\n\n";
  std::string suffix = "\nQuestion: What are the 10 most common words in the list above?\n"
                       "Answer: The 10 most common words in the list are:";
  int64_t budget = spec.length - static_cast<int64_t>(tok.encode(prefix + suffix, false).size());
  int64_t max_entries = std::max<int64_t>(budget, 0);
  std::vector<std::string> pool = distinct_words(rng, common + max_entries / rare_freq + 2);
  // An entry ("123. tavomi\n") takes ~5 tokens; the common words may fill at most half the list.
  int64_t common_freq = std::min<int64_t>(30, budget / 2 / 5 / common);
  if (common_freq <= rare_freq)
    throw EvalError("too short for common-words extraction (need ~" + std::to_string(2 * 5 * common * (rare_freq + 1)) +
                        " tokens of list)", "", "length");
  uint64_t order_seed = rng.next();
  auto build = [&](int64_t entries) {
    std::vector<std::string> list;
    for (int c = 0; c < common; ++c) list.insert(list.end(), common_freq, pool[c]);
    for (size_t r = common; static_cast<int64_t>(list.size()) < common * common_freq + entries; ++r)
      for (int f = 0; f < rare_freq && static_cast<int64_t>(list.size()) < common * common_freq + entries; ++f)
        list.push_back(pool[r]);
    Rng order(order_seed);
    order.shuffle(list);
    std::string text = prefix;
    for (size_t i = 0; i < list.size(); ++i) text += std::to_string(i + 1) + ". " + list[i] + "\n";
    return text + suffix;
  };
  auto [entries, tokens] = fit(tok, spec.length, max_entries, build);
  TaskSample s;
  s.prompt = build(entries);
  s.prompt_tokens = tokens;
  s.expected.assign(pool.begin(), pool.begin() + common);
  meta["common_frequency"] = common_freq;
  meta["rare_frequency"] = rare_freq;
  meta["rare_entries"] = entries;
  meta["depth_applies"] = false;
  s.metadata = std::move(meta);
  return s;
}

}  // namespace

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {
      "niah_single_1", "niah_single_2", "niah_single_3",   "niah_multikey_1", "niah_multikey_2",
      "niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe", "passkey"};
  return names;
}

TaskSample generate_task(const Tokenizer& tok, const TaskSpec& spec) {
  const auto& names = task_names();
  if (std::find(names.begin(), names.end(), spec.task) == names.end())
    throw EvalError("unknown task '" + spec.task + "'", "", "task");
  if (!(spec.depth >= 0.0 && spec.depth <= 100.0))
    throw EvalError("depth " + std::to_string(spec.depth) + " is outside 0-100", "", "depth");
  if (spec.length <= 0) throw EvalError("must be > 0", "", "length");
  // FNV-1a of the task name: each task draws its own stream from the same seed, on any platform.
  uint64_t task_hash = 1469598103934665603ULL;
  for (unsigned char ch : spec.task) task_hash = (task_hash ^ ch) * 1099511628211ULL;
  Rng rng = Rng::derive(spec.seed, task_hash);
  nlohmann::json meta = {{"task", spec.task}, {"length", spec.length}, {"depth", spec.depth}, {"seed", spec.seed}};
  std::vector<std::string> expected;
  if (spec.task == "cwe") return cwe_task(tok, spec, rng, meta);
  Layout l = spec.task == "vt"        ? vt_layout(spec, rng, expected, meta)
             : spec.task == "passkey" ? passkey_layout(spec, rng, expected, meta)
                                      : niah_layout(niah_configs().at(spec.task), spec, rng, expected, meta);
  return needle_task(tok, spec, l, std::move(expected), std::move(meta));
}

}  // namespace hylo
