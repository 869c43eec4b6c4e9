#include "core/text/regex.h"

#include <algorithm>
#include <cctype>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/spec/error.h"
#include "core/text/utf8.h"

namespace hylo::text {

// Oniguruma's Unicode \w is the Word property (Alphabetic, marks, decimal digits, connector
// punctuation, join controls); PCRE2's UCP \w is letters, numbers and underscore. \s is
// White_Space in Oniguruma; PCRE2 also counts U+180E.
static const char* kWordChars = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}";

std::string oniguruma_to_pcre2(const std::string& pattern, const std::string& file,
                               const std::string& field) {
  auto reject = [&](const std::string& what) {
    throw TokenizerError("regex " + what + " is not supported (its Oniguruma meaning differs in PCRE2)",
                         file, field);
  };
  std::string out;
  bool in_class = false;
  bool class_start = false;  // just after '[' or '[^': a ']' here is a literal
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= pattern.size()) reject("ending in a backslash");
      char e = pattern[++i];
      class_start = false;
      switch (e) {
        case 's': out += "\\p{White_Space}"; break;
        case 'S': out += "\\P{White_Space}"; break;
        case 'w': out += in_class ? std::string(kWordChars) : "[" + std::string(kWordChars) + "]"; break;
        case 'W':
          if (in_class) reject("\\W inside a character class");
          out += "[^" + std::string(kWordChars) + "]";
          break;
        case 'u':  // Oniguruma \uHHHH
          if (i + 4 >= pattern.size() ||
              !std::all_of(pattern.begin() + i + 1, pattern.begin() + i + 5,
                           [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); }))
            reject("\\u without four hex digits");
          out += "\\x{" + pattern.substr(i + 1, 4) + "}";
          i += 4;
          break;
        case 'd': case 'D': case 'n': case 'r': case 't': case 'f': case 'v': case 'e': case 'a':
        case 'x': case 'p': case 'P': case 'A': case 'z': case 'Z': case '0': case '1': case '2':
        case '3': case '4': case '5': case '6': case '7': case '8': case '9':
          out += '\\';
          out += e;
          break;
        default:
          if (std::isalnum(static_cast<unsigned char>(e))) reject(std::string("escape \\") + e);
          out += '\\';
          out += e;  // an escaped literal
      }
      continue;
    }
    if (in_class) {
      if (c == ']' && !class_start) {
        in_class = false;
      } else if (c == '[') {
        if (i + 1 < pattern.size() && pattern[i + 1] == ':') {
          size_t close = pattern.find(":]", i + 2);
          if (close == std::string::npos) reject("unterminated POSIX class");
          out += pattern.substr(i, close + 2 - i);
          i = close + 1;
          class_start = false;
          continue;
        }
        reject("nested character class");
      } else if (c == '&' && i + 1 < pattern.size() && pattern[i + 1] == '&') {
        reject("class intersection &&");
      }
      class_start = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      class_start = true;
      out += c;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      continue;
    }
    out += c;
  }
  return out;
}

struct Regex::Impl {
  pcre2_code* code = nullptr;
  ~Impl() { pcre2_code_free(code); }
};

Regex::Regex(const std::string& pattern, const std::string& file, const std::string& field)
    : impl_(std::make_unique<Impl>()) {
  std::string translated = oniguruma_to_pcre2(pattern, file, field);
  // Oniguruma (Ruby syntax) treats ^ and $ as line anchors, with only \n ending a line.
  pcre2_compile_context* ctx = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(ctx, PCRE2_NEWLINE_LF);
  int err = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &err, &offset, ctx);
  pcre2_compile_context_free(ctx);
  if (!impl_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    throw TokenizerError("regex does not compile at offset " + std::to_string(offset) + ": " +
                             reinterpret_cast<const char*>(msg),
                         file, field);
  }
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // failure leaves the interpreter: slower, same answers
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> md(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), pcre2_match_data_free);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    // The text was validated once by the caller: skip PCRE2's per-call UTF check.
    int rc = pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md.get(), nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
      rc = pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                       md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof(msg));
      throw TokenizerError(std::string("regex match failed: ") + reinterpret_cast<const char*>(msg));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    matches.emplace_back(ov[0], ov[1]);
    if (ov[1] > ov[0]) {
      pos = ov[1];
    } else {
      if (ov[1] >= text.size()) break;
      pos = ov[1] + utf8_length(static_cast<unsigned char>(text[ov[1]]));
    }
  }
  return matches;
}

}  // namespace hylo::text
