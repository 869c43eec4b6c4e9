// Training windows for data parallelism: each corpus is cut into windows of seq_len + 1 tokens
// (stride seq_len, so every token is a target once), windows are shuffled per epoch from the seed,
// and rank r of W takes every W-th window of the shuffled order (ranks never overlap; the last
// windows % W of an epoch are left out so all ranks take the same number of steps). Synthetic
// long-context documents (passkey, NIAH) are mixed in by ratio, generated from the seed and
// tokenized on the fly, filling a whole window; a NIAH document's haystack is a stretch of the
// first corpus (the eval's prose-haystack format), or noise sentences when there is no corpus. The position is a small JSON state: a run that
// restores it continues with exactly the sample it would have drawn next.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/spec/recipe.h"
#include "core/train/data.h"

namespace hylo {

class Tokenizer;

struct PackedSample {
  std::vector<int32_t> tokens;           // seq_len + 1: inputs tokens[0, seq_len), targets tokens[1, seq_len]
  std::vector<int64_t> document_starts;  // positions in tokens where a document begins
  size_t source = 0;                     // index into the sampler's sources
  int64_t window = -1;                   // corpus window index; -1 for a synthetic document
  int64_t epoch = 0;                     // of its source
};

struct SamplerSource {
  std::shared_ptr<const ShardSet> corpus;  // a tokenized corpus, or
  std::optional<SyntheticTask> synthetic;  // a synthetic task
  double ratio = 1.0;
};

class PackedSampler {
 public:
  PackedSampler(const ShardSet& corpus, int64_t seq_len, uint64_t seed, int rank, int world_size);
  // `tokenizer` is needed (and kept by reference) when a source is synthetic.
  PackedSampler(std::vector<SamplerSource> sources, int64_t seq_len, uint64_t seed, int rank, int world_size,
                const Tokenizer* tokenizer = nullptr);

  PackedSample next();
  int64_t windows(size_t source) const;        // windows of a corpus source in one epoch (all ranks)
  int64_t rank_windows(size_t source) const;   // windows this rank takes per epoch
  nlohmann::json state() const;
  // A state from another seed, seq_len, rank or world size is a TrainError naming the field.
  void restore(const nlohmann::json& state);

 private:
  struct Cursor {
    int64_t epoch = 0, position = 0;  // position: this rank's windows taken in the epoch
  };
  void shuffle_epoch(size_t source);
  PackedSample corpus_sample(size_t source);
  PackedSample synthetic_sample(size_t source);

  std::vector<SamplerSource> sources_;
  int64_t seq_len_;
  uint64_t seed_;
  int rank_, world_size_;
  const Tokenizer* tokenizer_;
  int64_t samples_ = 0;  // drawn by this rank
  std::vector<Cursor> cursors_;
  std::vector<std::vector<int64_t>> order_;  // per corpus source: the epoch's shuffled windows
};

}  // namespace hylo
