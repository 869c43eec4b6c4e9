// Word sources for synthetic long-context prompts: the noise haystack (one paragraph repeated),
// essay text (the Brown corpus, tags stripped), and generated keys, values and words.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/spec/rng.h"

namespace hylo {

// "The grass is green. The sky is blue. ..." repeated until `min_words` words.
std::vector<std::string> noise_words(int64_t min_words);

// Words of the essay corpus in `dir` (Brown corpus files such as ca01, or .txt files), starting
// at a document chosen by `rng` and wrapping around, until `min_words` words. A folder without
// text is an EvalError naming it. The corpus is read once per folder and kept.
std::vector<std::string> essay_words(const std::string& dir, int64_t min_words, Rng& rng);

// Strips Brown-corpus part-of-speech tags ("The/at jury/nn ./.") and fixes quote and punctuation
// spacing; untagged text comes back as its words.
std::vector<std::string> words_of_brown_text(const std::string& text);

std::string random_key(Rng& rng);            // "amber-harbor"
std::string random_number(Rng& rng, int digits);  // no leading zero
std::string random_uuid(Rng& rng);           // version-4 layout, lower-case hex
std::string random_variable(Rng& rng);       // five upper-case letters
// `count` distinct pronounceable pseudo-words ("tavomi"), for word-frequency tasks.
std::vector<std::string> distinct_words(Rng& rng, int64_t count);

}  // namespace hylo
