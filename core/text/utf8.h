// UTF-8 helpers shared by the tokenizer stages (internal to core/text).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hylo::text {

// Length of the UTF-8 sequence that starts with `lead` (1 for a stray continuation byte, so
// callers always advance).
inline size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at s[i] (s must be valid UTF-8) and advances i past it.
char32_t next_code_point(std::string_view s, size_t& i);

// Code point of the last character of s (valid UTF-8, non-empty) and its byte length.
char32_t last_code_point(std::string_view s, size_t& length);

void append_utf8(std::string& out, char32_t cp);

// Byte offset of the first invalid UTF-8 sequence, or npos when s is valid (no surrogates,
// no overlongs, nothing past U+10FFFF).
size_t first_invalid_utf8(std::string_view s);

// Bytes to text the way Rust's String::from_utf8_lossy and WHATWG TextDecoder do: each maximal
// invalid subpart becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace hylo::text
