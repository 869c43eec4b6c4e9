#include "core/io/checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/spec/error.h"

namespace hylo {
namespace {

namespace fs = std::filesystem;
const char* kSingleFile = "model.safetensors";
const char* kIndexFile = "model.safetensors.index.json";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open", path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// tensor -> shard file name, from the index's weight_map.
std::map<std::string, std::string> read_weight_map(const std::string& index) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text(index));
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError(std::string("malformed JSON: ") + e.what(), index);
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw IoError("missing or not an object", index, "weight_map");
  std::map<std::string, std::string> map;
  for (const auto& item : j["weight_map"].items()) {
    const auto& shard = item.value();
    // Shards live beside the index; a path would let an index point anywhere on disk.
    if (!shard.is_string() || shard.get<std::string>().empty() ||
        shard.get<std::string>().find('/') != std::string::npos || shard.get<std::string>() == "..")
      throw IoError("expected a shard file name, found " + shard.dump(), index, "weight_map." + item.key());
    map[item.key()] = shard.get<std::string>();
  }
  return map;
}

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

// Removes model.safetensors / the index / model-*-of-*.safetensors not in `keep`.
void remove_stale_weights(const fs::path& dir, const std::set<std::string>& keep) {
  static const std::regex shard_pattern(R"(model-\d+-of-\d+\.safetensors)");
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const bool ours = name == kSingleFile || name == kIndexFile || std::regex_match(name, shard_pattern);
    if (ours && !keep.count(name)) fs::remove(e.path());
  }
}

}  // namespace

CheckpointReader::CheckpointReader(std::string dir) : dir_(std::move(dir)) {
  if (!fs::is_directory(dir_)) throw IoError("not a checkpoint folder", dir_);
  config_ = ModelConfig::load((fs::path(dir_) / "config.json").string());
  const fs::path index = fs::path(dir_) / kIndexFile;
  const fs::path single = fs::path(dir_) / kSingleFile;
  if (fs::exists(index)) {
    const auto weight_map = read_weight_map(index.string());
    std::map<std::string, size_t> shard_index;
    for (const auto& [tensor, shard] : weight_map) {
      if (!shard_index.count(shard)) {
        const fs::path file = fs::path(dir_) / shard;
        if (!fs::exists(file)) throw IoError("shard file " + file.string() + " is missing", index.string(), shard);
        shard_index[shard] = shards_.size();
        shards_.emplace_back(file.string());
      }
      const size_t s = shard_index[shard];
      if (!shards_[s].contains(tensor))
        throw IoError("listed in weight_map but absent from " + shards_[s].path(), index.string(), tensor);
      shard_of_[tensor] = s;
    }
  } else if (fs::exists(single)) {
    shards_.emplace_back(single.string());
    for (const auto& e : shards_[0].entries()) shard_of_[e.name] = 0;
  } else {
    throw IoError(std::string("no ") + kSingleFile + " or " + kIndexFile, dir_);
  }
}

std::vector<std::string> CheckpointReader::tensor_names() const {
  std::vector<std::string> names;
  names.reserve(shard_of_.size());
  for (const auto& kv : shard_of_) names.push_back(kv.first);
  return names;
}

const std::string& CheckpointReader::file_of(const std::string& name) const {
  auto it = shard_of_.find(name);
  if (it == shard_of_.end()) throw IoError("no such tensor in the checkpoint", dir_, name);
  return shards_[it->second].path();
}

const TensorEntry& CheckpointReader::entry(const std::string& name) const {
  auto it = shard_of_.find(name);
  if (it == shard_of_.end()) throw IoError("no such tensor in the checkpoint", dir_, name);
  return shards_[it->second].entry(name);
}

at::Tensor CheckpointReader::load(const std::string& name, std::optional<at::ScalarType> dtype) const {
  auto it = shard_of_.find(name);
  if (it == shard_of_.end()) throw IoError("no such tensor in the checkpoint", dir_, name);
  at::Tensor t = shards_[it->second].load(name);
  return dtype && *dtype != t.scalar_type() ? t.to(*dtype) : t;
}

at::Tensor CheckpointReader::load_checked(const std::string& name, at::IntArrayRef expected,
                                          std::optional<at::ScalarType> dtype) const {
  const TensorEntry& e = entry(name);
  if (at::IntArrayRef(e.shape) != expected)
    throw IoError("expected shape " + shape_string(expected) + ", found " + shape_string(e.shape), file_of(name),
                  name);
  return load(name, dtype);
}

std::string CheckpointReader::tokenizer_path() const {
  const fs::path p = fs::path(dir_) / "tokenizer.json";
  return fs::exists(p) ? p.string() : std::string();
}

void write_checkpoint(const std::string& dir, const ModelConfig& config,
                      const std::vector<std::pair<std::string, at::Tensor>>& tensors, const std::string& tokenizer_json,
                      int64_t max_shard_bytes) {
  if (max_shard_bytes <= 0) throw IoError("max_shard_bytes must be positive", dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create the folder: " + ec.message(), dir);

  std::set<std::string> seen;
  for (const auto& kv : tensors)
    if (!seen.insert(kv.first).second) throw IoError("tensor given twice", dir, kv.first);

  // Greedy in the given order, so a layer's tensors stay together.
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  int64_t shard_bytes = 0, total_bytes = 0;
  for (const auto& kv : tensors) {
    const int64_t nbytes = kv.second.numel() * static_cast<int64_t>(kv.second.element_size());
    if (!shards.back().empty() && shard_bytes + nbytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(kv);
    shard_bytes += nbytes;
    total_bytes += nbytes;
  }

  const std::map<std::string, std::string> format = {{"format", "pt"}};  // transformers checks it
  std::set<std::string> written;
  if (shards.size() == 1) {
    write_safetensors((fs::path(dir) / kSingleFile).string(), shards[0], format);
    written.insert(kSingleFile);
  } else {
    nlohmann::json weight_map = nlohmann::json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
      const std::string name = shard_name(i, shards.size());
      write_safetensors((fs::path(dir) / name).string(), shards[i], format);
      for (const auto& kv : shards[i]) weight_map[kv.first] = name;
      written.insert(name);
    }
    const nlohmann::json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
    write_text_atomically((fs::path(dir) / kIndexFile).string(), index.dump(2) + "\n");
    written.insert(kIndexFile);
  }
  remove_stale_weights(dir, written);

  if (!tokenizer_json.empty()) {
    if (!fs::is_regular_file(tokenizer_json)) throw IoError("tokenizer file not found", tokenizer_json);
    const fs::path target = fs::path(dir) / "tokenizer.json";
    if (!fs::exists(target) || !fs::equivalent(tokenizer_json, target))
      write_text_atomically(target.string(), read_text(tokenizer_json));
  }
  write_text_atomically((fs::path(dir) / "config.json").string(), config.to_json().dump(2) + "\n");
}

}  // namespace hylo
