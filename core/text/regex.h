// Split patterns of tokenizer.json are Oniguruma regexes (the Rust tokenizers use onig). We
// compile them with PCRE2 (UTF, UCP, JIT) after rewriting the escapes whose meaning differs
// between the two engines; escapes we cannot map exactly are rejected, never guessed.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hylo::text {

// The PCRE2 spelling of an Oniguruma pattern. Throws TokenizerError(file, field) on an escape
// whose Oniguruma meaning PCRE2 does not share (\h, \b, \G, \W inside a class, ...).
std::string oniguruma_to_pcre2(const std::string& pattern, const std::string& file,
                               const std::string& field);

class Regex {
 public:
  // `pattern` is Oniguruma syntax; file/field name where it came from, for errors.
  Regex(const std::string& pattern, const std::string& file, const std::string& field);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Non-overlapping matches, left to right, as byte ranges [begin, end). After an empty match
  // the search resumes one character later (as onig's find_iter does). `text` is valid UTF-8.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hylo::text
