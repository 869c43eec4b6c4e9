#include "core/text/byte_level.h"

#include "core/text/utf8.h"

namespace hylo::text {

ByteAlphabet::ByteAlphabet() {
  // Printable Latin-1 bytes stand for themselves; the rest (controls, space, 0x7F-0xA0, 0xAD)
  // take code points 256, 257, ... in byte order.
  auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); };
  char32_t next = 256;
  bytes_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    chars_[b] = printable(b) ? static_cast<char32_t>(b) : next++;
    append_utf8(utf8_[b], chars_[b]);
    bytes_[chars_[b]] = b;
  }
}

const ByteAlphabet& ByteAlphabet::get() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

void ByteAlphabet::encode(std::string_view bytes, std::string& out) const {
  for (unsigned char b : bytes) out += utf8_[b];
}

std::optional<unsigned char> ByteAlphabet::byte_of(char32_t cp) const {
  if (cp >= bytes_.size() || bytes_[cp] < 0) return std::nullopt;
  return static_cast<unsigned char>(bytes_[cp]);
}

std::string byte_level_decode(const std::vector<const std::string*>& tokens) {
  const auto& alphabet = ByteAlphabet::get();
  std::string bytes;
  for (const std::string* token_ptr : tokens) {
    const std::string& token = *token_ptr;
    size_t mark = bytes.size();
    bool all_mapped = true;
    for (size_t i = 0; i < token.size();) {
      auto b = alphabet.byte_of(next_code_point(token, i));
      if (!b) {
        all_mapped = false;
        break;
      }
      bytes += static_cast<char>(*b);
    }
    if (!all_mapped) {
      bytes.resize(mark);
      bytes += token;
    }
  }
  return utf8_lossy(bytes);
}

}  // namespace hylo::text
