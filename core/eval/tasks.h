// RULER-style synthetic long-context tasks (RULER, arXiv 2404.06654), generated from a seed for a
// target prompt length in tokens of a given tokenizer. Torch-free.
//
//   niah_single_1   noise haystack, word key -> 7-digit number
//   niah_single_2   essay haystack, word key -> number
//   niah_single_3   essay haystack, word key -> UUID
//   niah_multikey_1 essay haystack, 4 keys, one asked
//   niah_multikey_2 haystack made of needles (number values), one asked
//   niah_multikey_3 haystack made of needles (UUID keys and values), one asked
//   niah_multivalue essay haystack, one key with 4 values, all expected
//   niah_multiquery essay haystack, 4 keys, all asked
//   vt              variable tracking: a chain of 5 assignments in noise, list the variables
//   cwe             common-words extraction: 10 words repeated often among rare ones
//   passkey         "The pass key is 71432. Remember it." in noise
//
// Needles go to the sentence boundary nearest to `depth` % of the haystack (the asked needle; other
// needles at seeded random depths). Length fitting: the haystack is a prefix of a word sequence; the
// number of words is searched (secant steps on the true token count of the whole prompt) for the
// largest prompt that does not exceed the target, so a prompt has between target - kLengthSlack
// and target tokens (one haystack word is 1-3 tokens); with a byte-level tokenizer, whose words
// can be longer than the slack, it is the largest prompt within target.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hylo {

class Tokenizer;

constexpr int64_t kLengthSlack = 8;

struct TaskSpec {
  std::string task = "niah_single_1";
  int64_t length = 4096;   // target prompt length in tokens
  double depth = 50.0;     // 0 (start) .. 100 (end) of the haystack
  uint64_t seed = 0;
  std::string essay_dir;   // Brown corpus folder for the essay haystacks
  // An essay haystack given as words (the trainer's own text), repeated as needed; used instead
  // of essay_dir when not empty.
  std::vector<std::string> essay_words;
};

struct TaskSample {
  std::string prompt;
  std::vector<std::string> expected;                    // every string the answer should contain
  std::vector<std::pair<int64_t, int64_t>> needle_spans;  // [start, end) in prompt tokens, asked needles first
  int64_t prompt_tokens = 0;
  nlohmann::json metadata;  // task, haystack, depths, needle texts, ...
};

const std::vector<std::string>& task_names();
// Bad parameters (unknown task, depth outside 0-100, a length below what the needles and question
// need, no essay folder) are EvalErrors naming the parameter.
TaskSample generate_task(const Tokenizer& tokenizer, const TaskSpec& spec);

// RULER's score: the share of expected strings found (case-insensitive) in the answer.
double score_contains(const std::string& answer, const std::vector<std::string>& expected);
// 1 when the answer lists exactly the expected items (any order, case-insensitive; items split at
// commas, semicolons and white space, surrounding punctuation dropped), else 0.
double score_exact(const std::string& answer, const std::vector<std::string>& expected);

// "1k,2k,4k" or "1k,2k,...,1M" (geometric, the ratio of the first two; binary suffixes) -> tokens.
std::vector<int64_t> parse_lengths(const std::string& text);
// "0:100:10" (start:stop:step, stop included) or "0,25,50" -> depths in [0, 100].
std::vector<double> parse_depths(const std::string& text);

}  // namespace hylo
