// Hugging Face checkpoint folders: config.json + model.safetensors, or shards listed by
// model.safetensors.index.json ({"weight_map": {tensor: shard file}}), + tokenizer.json.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/io/safetensors.h"
#include "core/spec/model_config.h"

namespace hylo {

// Opens config.json and every shard at construction (headers checked, data mapped, not read).
class CheckpointReader {
 public:
  explicit CheckpointReader(std::string dir);

  const std::string& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  std::vector<std::string> tensor_names() const;  // sorted
  bool contains(const std::string& name) const { return shard_of_.count(name) != 0; }
  const TensorEntry& entry(const std::string& name) const;  // dtype and shape without reading data
  const std::string& file_of(const std::string& name) const;  // the shard holding it

  // A CPU tensor, converted to `dtype` when given. IoError naming the folder and tensor when absent.
  at::Tensor load(const std::string& name, std::optional<at::ScalarType> dtype = {}) const;
  // As load, but a shape other than `expected` is an IoError naming file, tensor and both shapes.
  at::Tensor load_checked(const std::string& name, at::IntArrayRef expected,
                          std::optional<at::ScalarType> dtype = {}) const;

  std::string tokenizer_path() const;  // <dir>/tokenizer.json, or empty when there is none

 private:
  std::string dir_;
  ModelConfig config_;
  std::vector<SafetensorsReader> shards_;
  std::map<std::string, size_t> shard_of_;
};

constexpr int64_t kDefaultMaxShardBytes = int64_t(2) << 30;

// Writes config.json, the tensors (one model.safetensors, or model-0000i-of-0000n.safetensors +
// index when they exceed max_shard_bytes; a tensor larger than that gets a shard of its own) and,
// when given, a copy of tokenizer_json. Every file is written atomically; files of an earlier
// layout in `dir` (a stale index or shards) are removed so readers cannot mix the two.
void write_checkpoint(const std::string& dir, const ModelConfig& config,
                      const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::string& tokenizer_json = {}, int64_t max_shard_bytes = kDefaultMaxShardBytes);

}  // namespace hylo
