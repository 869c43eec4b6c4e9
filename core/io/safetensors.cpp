#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/spec/error.h"

namespace hylo {
namespace {

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  int rank;  // the reference writer's dtype order; higher = stronger alignment, written first
};

const std::vector<DtypeInfo>& dtypes() {
  static const std::vector<DtypeInfo> d = {
      {"BOOL", at::kBool, 0}, {"U8", at::kByte, 1},      {"I8", at::kChar, 2},    {"I16", at::kShort, 3},
      {"F16", at::kHalf, 4},  {"BF16", at::kBFloat16, 5}, {"I32", at::kInt, 6},    {"F32", at::kFloat, 7},
      {"F64", at::kDouble, 8}, {"I64", at::kLong, 9}};
  return d;
}

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : dtypes())
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeInfo* find_dtype(at::ScalarType t) {
  for (const auto& d : dtypes())
    if (t == d.type) return &d;
  return nullptr;
}

std::string range(uint64_t b, uint64_t e) { return "[" + std::to_string(b) + ", " + std::to_string(e) + ")"; }

TensorEntry parse_entry(const std::string& name, const nlohmann::json& j, uint64_t data_size, const std::string& file) {
  auto fail = [&](const std::string& what) { throw IoError(what, file, name); };
  if (!j.is_object()) fail("expected an object with dtype, shape and data_offsets");
  TensorEntry e;
  e.name = name;
  if (!j.contains("dtype") || !j["dtype"].is_string()) fail("dtype: missing or not a string");
  e.dtype = j["dtype"].get<std::string>();
  const DtypeInfo* d = find_dtype(e.dtype);
  if (!d) fail("unknown dtype '" + e.dtype + "' (expected F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
  e.scalar_type = d->type;

  if (!j.contains("shape") || !j["shape"].is_array()) fail("shape: missing or not a list");
  uint64_t numel = 1;
  for (const auto& dim : j["shape"]) {
    if (!dim.is_number_unsigned()) fail("shape: expected non-negative integers, found " + j["shape"].dump());
    const uint64_t n = dim.get<uint64_t>();
    if (n > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, n, &numel))
      fail("shape: " + j["shape"].dump() + " overflows");
    e.shape.push_back(static_cast<int64_t>(n));
  }

  const auto& off = j.contains("data_offsets") ? j["data_offsets"] : nlohmann::json();
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    fail("data_offsets: expected [begin, end] with non-negative integers");
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  if (e.begin > e.end) fail("data_offsets " + range(e.begin, e.end) + ": begin after end");
  if (e.end > data_size)
    fail("data_offsets " + range(e.begin, e.end) + " reach past the data area of " + std::to_string(data_size) +
         " bytes");
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(c10::elementSize(e.scalar_type)), &bytes) ||
      bytes != e.end - e.begin)
    fail("data_offsets " + range(e.begin, e.end) + " hold " + std::to_string(e.end - e.begin) + " bytes, but " +
         e.dtype + " " + j["shape"].dump() + " needs " + std::to_string(bytes));
  return e;
}

}  // namespace

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string safetensors_dtype(at::ScalarType t, const std::string& file, const std::string& field) {
  const DtypeInfo* d = find_dtype(t);
  if (!d) throw IoError(std::string("dtype ") + c10::toString(t) + " cannot be stored in safetensors", file, field);
  return d->name;
}

struct SafetensorsReader::Mapping {
  const uint8_t* bytes = nullptr;
  uint64_t size = 0;
  uint64_t data_start = 0;  // 8 + header length
  ~Mapping() {
    if (bytes) ::munmap(const_cast<uint8_t*>(bytes), size);
  }
};

SafetensorsReader::SafetensorsReader(std::string path) : path_(std::move(path)) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(std::string("cannot open: ") + std::strerror(errno), path_);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw IoError(std::string("cannot stat: ") + std::strerror(errno), path_);
  }
  auto map = std::make_shared<Mapping>();
  map->size = static_cast<uint64_t>(st.st_size);
  if (map->size < 8) {
    ::close(fd);
    throw IoError("file of " + std::to_string(map->size) + " bytes is too short for the 8-byte header length", path_);
  }
  void* p = ::mmap(nullptr, map->size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (p == MAP_FAILED) throw IoError(std::string("mmap failed: ") + std::strerror(errno), path_);
  map->bytes = static_cast<const uint8_t*>(p);
  map_ = map;

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map->bytes[i];
  if (header_len == 0 || header_len > map->size - 8)
    throw IoError("header length " + std::to_string(header_len) + " does not fit in a file of " +
                      std::to_string(map->size) + " bytes",
                  path_, "header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(map->bytes + 8, map->bytes + 8 + header_len);
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError(std::string("malformed header JSON: ") + e.what(), path_, "header");
  }
  if (!header.is_object()) throw IoError("header is not a JSON object", path_, "header");

  map->data_start = 8 + header_len;
  const uint64_t data_size = map->size - map->data_start;
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      if (!item.value().is_object()) throw IoError("expected an object of strings", path_, "__metadata__");
      for (const auto& kv : item.value().items()) {
        if (!kv.value().is_string())
          throw IoError("expected a string, found " + kv.value().dump(), path_, "__metadata__." + kv.key());
        metadata_[kv.key()] = kv.value().get<std::string>();
      }
      continue;
    }
    entries_.push_back(parse_entry(item.key(), item.value(), data_size, path_));
  }
  // The tensors must tile the data area exactly, as the reference reader demands.
  std::sort(entries_.begin(), entries_.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const TensorEntry& e = entries_[i];
    if (e.begin < expected)
      throw IoError("data_offsets " + range(e.begin, e.end) + " overlap " + entries_[i - 1].name + " " +
                        range(entries_[i - 1].begin, entries_[i - 1].end),
                    path_, e.name);
    if (e.begin > expected)
      throw IoError("data_offsets " + range(e.begin, e.end) + " leave bytes " + range(expected, e.begin) +
                        " unused",
                    path_, e.name);
    expected = e.end;
    index_[e.name] = i;
  }
  if (expected != data_size)
    throw IoError("data area has " + std::to_string(data_size) + " bytes but the tensors cover " +
                      std::to_string(expected),
                  path_, "data_offsets");
}

const TensorEntry& SafetensorsReader::entry(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw IoError("no such tensor", path_, name);
  return entries_[it->second];
}

at::Tensor SafetensorsReader::load(const std::string& name) const {
  const TensorEntry& e = entry(name);
  at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.scalar_type));
  if (e.end > e.begin) std::memcpy(t.data_ptr(), map_->bytes + map_->data_start + e.begin, e.end - e.begin);
  return t;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  struct Item {
    std::string name;
    at::Tensor cpu;  // contiguous
    const DtypeInfo* dtype;
  };
  std::vector<Item> items;
  items.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__") throw IoError("invalid tensor name '" + name + "'", path, name);
    if (!t.defined()) throw IoError("undefined tensor", path, name);
    const DtypeInfo* d = find_dtype(safetensors_dtype(t.scalar_type(), path, name));  // throws if unsupported
    items.push_back({name, t.to(at::kCPU).contiguous(), d});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.dtype->rank != b.dtype->rank ? a.dtype->rank > b.dtype->rank : a.name < b.name;
  });
  for (size_t i = 1; i < items.size(); ++i)
    if (items[i].name == items[i - 1].name) throw IoError("tensor given twice", path, items[i].name);

  // ordered_json keeps the reference's key order: __metadata__, then tensors in data order, each
  // with dtype, shape, data_offsets.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const Item& it : items) {
    const uint64_t nbytes = it.cpu.numel() * it.cpu.element_size();
    header[it.name] = {{"dtype", it.dtype->name}, {"shape", it.cpu.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  AtomicFile f(path);
  f.write(len, 8);
  f.write(text);
  for (const Item& it : items) f.write(it.cpu.data_ptr(), it.cpu.numel() * it.cpu.element_size());
  f.commit();
}

}  // namespace hylo
