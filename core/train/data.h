// Tokenized training data on disk: shards of little-endian uint32 token ids (shard_00000.bin),
// document boundaries per shard (shard_00000.idx: documents + 1 uint64 offsets, 0 first, the
// shard's token count last) and manifest.json:
//   {"format": 1, "tokenizer_sha256": "...", "vocab_size": 128256, "eos_id": 128001,
//    "eos_between_docs": true, "shards": [{"file": "shard_00000.bin", "tokens": N,
//    "documents": D, "sha256": "...", "index_sha256": "..."}]}
// A document never spans two shards. Every file is written under a temporary name and renamed,
// and the manifest comes last, so a folder with a manifest holds complete shards.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hylo {

struct ShardInfo {
  std::string file;  // relative to the manifest's folder
  int64_t tokens = 0;
  int64_t documents = 0;
  std::string sha256;        // of the .bin
  std::string index_sha256;  // of the .idx
  std::string index_file() const;  // shard_00000.idx beside shard_00000.bin
};

struct Manifest {
  std::string tokenizer_sha256;  // of the tokenizer.json used
  int64_t vocab_size = 0;
  std::optional<int32_t> eos_id;
  bool eos_between_docs = false;  // each document ends with eos_id
  std::vector<ShardInfo> shards;

  int64_t total_tokens() const;
  int64_t total_documents() const;
  nlohmann::json to_json() const;
  // `path`: a manifest.json or the folder holding one. Bad fields are IoErrors naming the file.
  static Manifest read(const std::string& path);
};

// The manifest.json of a data folder (or the path itself when it names a file).
std::string manifest_path(const std::string& path);

// Writes documents into shards of at most `shard_tokens` tokens (a longer document gets a shard of
// its own). `dir` is created; it must not already hold a manifest.
class ShardWriter {
 public:
  ShardWriter(std::string dir, int64_t shard_tokens, std::string tokenizer_sha256, int64_t vocab_size,
              std::optional<int32_t> eos_id, bool eos_between_docs);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Appends one document (plus EOS when eos_between_docs). Ids must lie in [0, vocab_size).
  void add_document(const std::vector<int32_t>& ids);
  int64_t tokens_written() const { return total_tokens_; }
  int64_t documents_written() const { return total_documents_; }
  // Closes the last shard and writes manifest.json. Without it nothing becomes visible.
  Manifest finish();

 private:
  void close_shard();
  std::string dir_;
  int64_t shard_tokens_;
  Manifest manifest_;
  std::vector<uint32_t> tokens_;      // the open shard
  std::vector<uint64_t> offsets_{0};  // its document ends
  int64_t total_tokens_ = 0, total_documents_ = 0;
  bool finished_ = false;
};

// Read-only view of a data folder: every shard memory-mapped, sizes checked against the manifest
// (a missing or truncated shard is an IoError naming it); `verify_checksums` also hashes every
// byte. Token positions are global: shard 0's tokens first, then shard 1's, and so on.
class ShardSet {
 public:
  static ShardSet open(const std::string& path, bool verify_checksums = false);

  const Manifest& manifest() const;
  const std::string& dir() const;
  int64_t size() const;  // total tokens
  // Copies `count` tokens starting at global position `start` (may cross shards).
  void read(int64_t start, int64_t count, int32_t* out) const;
  // Offsets o in [0, count) such that a document begins at global position start + o.
  std::vector<int64_t> document_starts(int64_t start, int64_t count) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace hylo
