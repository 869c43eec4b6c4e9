// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
// bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the data area, each tensor's bytes at [begin, end) relative to it, row-major, little-endian.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hylo {

struct TensorEntry {
  std::string name;
  std::string dtype;  // as written in the file: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL
  at::ScalarType scalar_type = at::kFloat;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data area
  int64_t numel() const;
};

// "F32" for at::kFloat etc.; IoError (naming file and field) for a dtype the format lacks.
std::string safetensors_dtype(at::ScalarType t, const std::string& file = {}, const std::string& field = {});

// Maps the file and checks the whole header at construction: every problem is an IoError naming
// the file and the tensor. Copies share the mapping.
class SafetensorsReader {
 public:
  explicit SafetensorsReader(std::string path);

  const std::string& path() const { return path_; }
  const std::vector<TensorEntry>& entries() const { return entries_; }  // in data order
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const TensorEntry& entry(const std::string& name) const;
  // A CPU tensor that owns a copy of the bytes (the mapping may go away).
  at::Tensor load(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<const Mapping> map_;
  std::vector<TensorEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes the tensors (any device or layout; stored as contiguous CPU bytes) atomically. Like the
// reference writer: tensors ordered by dtype alignment then name, header padded with spaces to a
// multiple of 8, so every tensor is aligned to its element size.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace hylo
