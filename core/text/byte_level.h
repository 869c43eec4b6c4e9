// The GPT-2 byte-level alphabet: every byte maps to one printable code point, so BPE can work on
// any UTF-8 text without an unknown token.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hylo::text {

class ByteAlphabet {
 public:
  static const ByteAlphabet& get();
  // Appends the mapped characters (UTF-8) of every byte of `bytes` to `out`.
  void encode(std::string_view bytes, std::string& out) const;
  // The byte a code point stands for, or nothing when it is not in the alphabet.
  std::optional<unsigned char> byte_of(char32_t cp) const;
  char32_t char_of(unsigned char byte) const { return chars_[byte]; }

 private:
  ByteAlphabet();
  std::array<char32_t, 256> chars_;
  std::array<std::string, 256> utf8_;  // chars_ encoded, for the hot path
  std::array<int, 256 + 68> bytes_;     // code point -> byte, -1 when none (68 bytes are remapped)
};

// Decodes byte-level tokens back to text like the ByteLevel decoder of HF tokenizers: a token
// whose characters are all in the alphabet gives their bytes, any other token its own UTF-8;
// the byte string is then read as UTF-8 with U+FFFD for invalid parts.
std::string byte_level_decode(const std::vector<const std::string*>& tokens);

}  // namespace hylo::text
