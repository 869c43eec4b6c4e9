// SHA-256 (FIPS 180-4), streaming. Used for data-shard and tokenizer checksums in manifests, so
// the trainer can tell that its data is the data that was tokenized.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace hylo {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finishes the hash; the object is spent afterwards

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256_hex(const void* data, size_t size);
// Hash of a whole file, read in blocks; an IoError names the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace hylo
