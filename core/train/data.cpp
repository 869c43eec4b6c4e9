#include "core/train/data.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/spec/error.h"
#include "core/spec/sha256.h"

namespace fs = std::filesystem;

namespace hylo {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "shards are little-endian; mmap reads them as is");

std::string shard_name(size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shard_%05zu.bin", index);
  return buf;
}

// Writes bytes to `path` via a temporary file and a rename, so readers never see half a file.
void write_atomically(const std::string& path, const void* data, size_t size) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot create", tmp);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.flush();
    if (!out) throw IoError("write failed (disk full?)", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw IoError("cannot rename into place: " + ec.message(), path);
}

class MappedFile {
 public:
  MappedFile(const std::string& path, uint64_t expected_bytes, const std::string& field) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw IoError("shard missing or unreadable", path, field);
    struct stat st {};
    ::fstat(fd, &st);
    if (static_cast<uint64_t>(st.st_size) != expected_bytes) {
      ::close(fd);
      throw IoError("size " + std::to_string(st.st_size) + " bytes, the manifest says " +
                        std::to_string(expected_bytes) + " (truncated or rewritten?)",
                    path, field);
    }
    size_ = expected_bytes;
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
      ::close(fd);
      if (p == MAP_FAILED) throw IoError(std::string("mmap failed: ") + std::strerror(errno), path, field);
      data_ = p;
    } else {
      ::close(fd);
    }
  }
  ~MappedFile() {
    if (data_) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

template <class T>
T field_of(const nlohmann::json& j, const char* key, const std::string& file, const std::string& where) {
  if (!j.contains(key)) throw IoError("missing", file, where + key);
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw IoError("wrong type", file, where + key);
  }
}

}  // namespace

std::string ShardInfo::index_file() const { return file.substr(0, file.size() - 4) + ".idx"; }

int64_t Manifest::total_tokens() const {
  int64_t n = 0;
  for (const auto& s : shards) n += s.tokens;
  return n;
}
int64_t Manifest::total_documents() const {
  int64_t n = 0;
  for (const auto& s : shards) n += s.documents;
  return n;
}

nlohmann::json Manifest::to_json() const {
  nlohmann::json shards_json = nlohmann::json::array();
  for (const auto& s : shards)
    shards_json.push_back({{"file", s.file}, {"tokens", s.tokens}, {"documents", s.documents},
                           {"sha256", s.sha256}, {"index_sha256", s.index_sha256}});
  nlohmann::json j = {{"format", 1}, {"tokenizer_sha256", tokenizer_sha256}, {"vocab_size", vocab_size},
                      {"eos_between_docs", eos_between_docs}, {"total_tokens", total_tokens()},
                      {"total_documents", total_documents()}, {"shards", shards_json}};
  j["eos_id"] = eos_id ? nlohmann::json(*eos_id) : nlohmann::json(nullptr);
  return j;
}

std::string manifest_path(const std::string& path) {
  return fs::is_directory(path) ? (fs::path(path) / "manifest.json").string() : path;
}

Manifest Manifest::read(const std::string& path) {
  std::string file = manifest_path(path);
  std::ifstream in(file);
  if (!in) throw IoError("cannot open data manifest", file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(std::string("not valid JSON: ") + e.what(), file);
  }
  if (field_of<int>(j, "format", file, "") != 1) throw IoError("unsupported format", file, "format");
  Manifest m;
  m.tokenizer_sha256 = field_of<std::string>(j, "tokenizer_sha256", file, "");
  m.vocab_size = field_of<int64_t>(j, "vocab_size", file, "");
  m.eos_between_docs = field_of<bool>(j, "eos_between_docs", file, "");
  if (j.contains("eos_id") && !j["eos_id"].is_null()) m.eos_id = field_of<int32_t>(j, "eos_id", file, "");
  if (m.eos_between_docs && !m.eos_id) throw IoError("eos_between_docs without an eos_id", file, "eos_id");
  if (!j.contains("shards") || !j["shards"].is_array()) throw IoError("missing or not a list", file, "shards");
  for (size_t i = 0; i < j["shards"].size(); ++i) {
    const auto& s = j["shards"][i];
    std::string where = "shards[" + std::to_string(i) + "].";
    ShardInfo info{field_of<std::string>(s, "file", file, where), field_of<int64_t>(s, "tokens", file, where),
                   field_of<int64_t>(s, "documents", file, where), field_of<std::string>(s, "sha256", file, where),
                   field_of<std::string>(s, "index_sha256", file, where)};
    if (info.file.size() < 5 || info.file.substr(info.file.size() - 4) != ".bin" ||
        info.file.find('/') != std::string::npos)
      throw IoError("expected a plain shard_NNNNN.bin name", file, where + "file");
    if (info.tokens < 0 || info.documents < 0) throw IoError("negative count", file, where + "tokens");
    m.shards.push_back(std::move(info));
  }
  return m;
}

ShardWriter::ShardWriter(std::string dir, int64_t shard_tokens, std::string tokenizer_sha256,
                         int64_t vocab_size, std::optional<int32_t> eos_id, bool eos_between_docs)
    : dir_(std::move(dir)), shard_tokens_(shard_tokens) {
  if (shard_tokens <= 0) throw IoError("must be > 0", "", "shard_tokens");
  if (eos_between_docs && !eos_id) throw IoError("the tokenizer has no EOS token", dir_, "eos_between_docs");
  if (vocab_size <= 0 || vocab_size > (int64_t(1) << 32)) throw IoError("out of range", dir_, "vocab_size");
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw IoError("cannot create folder: " + ec.message(), dir_);
  if (fs::exists(fs::path(dir_) / "manifest.json"))
    throw IoError("already holds a manifest.json; choose an empty folder", dir_);
  manifest_.tokenizer_sha256 = std::move(tokenizer_sha256);
  manifest_.vocab_size = vocab_size;
  manifest_.eos_id = eos_id;
  manifest_.eos_between_docs = eos_between_docs;
}

ShardWriter::~ShardWriter() {
  // An unfinished writer leaves no half shard behind under a final name; tmp files are removed.
  if (!finished_) {
    std::error_code ec;
    for (const char* ext : {".bin.tmp", ".idx.tmp"}) {
      std::string name = shard_name(manifest_.shards.size());
      fs::remove(fs::path(dir_) / (name.substr(0, name.size() - 4) + ext), ec);
    }
  }
}

void ShardWriter::add_document(const std::vector<int32_t>& ids) {
  if (finished_) throw IoError("writer already finished", dir_);
  int64_t doc_tokens = static_cast<int64_t>(ids.size()) + (manifest_.eos_between_docs ? 1 : 0);
  if (doc_tokens == 0) return;  // an empty document without EOS carries nothing
  if (!tokens_.empty() && static_cast<int64_t>(tokens_.size()) + doc_tokens > shard_tokens_) close_shard();
  for (int32_t id : ids) {
    if (id < 0 || id >= manifest_.vocab_size)
      throw IoError("token id " + std::to_string(id) + " outside the vocabulary", dir_, "vocab_size");
    tokens_.push_back(static_cast<uint32_t>(id));
  }
  if (manifest_.eos_between_docs) tokens_.push_back(static_cast<uint32_t>(*manifest_.eos_id));
  offsets_.push_back(tokens_.size());
  total_tokens_ += doc_tokens;
  ++total_documents_;
}

void ShardWriter::close_shard() {
  if (tokens_.empty()) return;
  ShardInfo info;
  info.file = shard_name(manifest_.shards.size());
  info.tokens = static_cast<int64_t>(tokens_.size());
  info.documents = static_cast<int64_t>(offsets_.size()) - 1;
  size_t bin_bytes = tokens_.size() * sizeof(uint32_t), idx_bytes = offsets_.size() * sizeof(uint64_t);
  info.sha256 = sha256_hex(tokens_.data(), bin_bytes);
  info.index_sha256 = sha256_hex(offsets_.data(), idx_bytes);
  write_atomically((fs::path(dir_) / info.file).string(), tokens_.data(), bin_bytes);
  write_atomically((fs::path(dir_) / info.index_file()).string(), offsets_.data(), idx_bytes);
  manifest_.shards.push_back(std::move(info));
  tokens_.clear();
  offsets_.assign(1, 0);
}

Manifest ShardWriter::finish() {
  close_shard();
  std::string text = manifest_.to_json().dump(2) + "\n";
  write_atomically((fs::path(dir_) / "manifest.json").string(), text.data(), text.size());
  finished_ = true;
  return manifest_;
}

struct ShardSet::Impl {
  Manifest manifest;
  std::string dir;
  std::vector<std::unique_ptr<MappedFile>> bins, idxs;
  std::vector<int64_t> starts;  // global position of each shard's first token; one extra at the end
};

ShardSet ShardSet::open(const std::string& path, bool verify_checksums) {
  auto impl = std::make_shared<Impl>();
  std::string file = manifest_path(path);
  impl->manifest = Manifest::read(file);
  impl->dir = fs::path(file).parent_path().string();
  int64_t position = 0;
  for (size_t i = 0; i < impl->manifest.shards.size(); ++i) {
    const ShardInfo& s = impl->manifest.shards[i];
    std::string field = "shards[" + std::to_string(i) + "]";
    std::string bin = (fs::path(impl->dir) / s.file).string(), idx = (fs::path(impl->dir) / s.index_file()).string();
    impl->bins.push_back(std::make_unique<MappedFile>(bin, uint64_t(s.tokens) * 4, field));
    impl->idxs.push_back(std::make_unique<MappedFile>(idx, uint64_t(s.documents + 1) * 8, field));
    const auto* offsets = static_cast<const uint64_t*>(impl->idxs.back()->data());
    if (offsets[0] != 0 || offsets[s.documents] != uint64_t(s.tokens))
      throw IoError("document index does not span the shard", idx, field);
    if (verify_checksums) {
      if (sha256_hex(impl->bins.back()->data(), impl->bins.back()->size()) != s.sha256)
        throw IoError("sha256 mismatch (corrupted shard)", bin, field + ".sha256");
      if (sha256_hex(offsets, impl->idxs.back()->size()) != s.index_sha256)
        throw IoError("sha256 mismatch (corrupted index)", idx, field + ".index_sha256");
    }
    impl->starts.push_back(position);
    position += s.tokens;
  }
  impl->starts.push_back(position);
  ShardSet set;
  set.impl_ = std::move(impl);
  return set;
}

const Manifest& ShardSet::manifest() const { return impl_->manifest; }
const std::string& ShardSet::dir() const { return impl_->dir; }
int64_t ShardSet::size() const { return impl_->starts.back(); }

void ShardSet::read(int64_t start, int64_t count, int32_t* out) const {
  if (start < 0 || count < 0 || start + count > size())
    throw IoError("token range [" + std::to_string(start) + ", " + std::to_string(start + count) +
                  ") outside the data (" + std::to_string(size()) + " tokens)", impl_->dir);
  const auto& starts = impl_->starts;
  size_t shard = std::upper_bound(starts.begin(), starts.end(), start) - starts.begin() - 1;
  while (count > 0) {
    int64_t local = start - starts[shard];
    int64_t take = std::min(count, starts[shard + 1] - start);
    std::memcpy(out, static_cast<const uint32_t*>(impl_->bins[shard]->data()) + local, take * 4);
    out += take; start += take; count -= take;
    ++shard;
  }
}

std::vector<int64_t> ShardSet::document_starts(int64_t start, int64_t count) const {
  std::vector<int64_t> result;
  const auto& starts = impl_->starts;
  int64_t end = start + count;
  size_t shard = std::upper_bound(starts.begin(), starts.end(), start) - starts.begin() - 1;
  for (; shard + 1 < starts.size() && starts[shard] < end; ++shard) {
    const auto* offsets = static_cast<const uint64_t*>(impl_->idxs[shard]->data());
    int64_t docs = impl_->manifest.shards[shard].documents;
    // Document begins are offsets[0 .. docs-1]; keep those inside [start, end).
    int64_t lo = std::max<int64_t>(start - starts[shard], 0), hi = end - starts[shard];
    const uint64_t* first = std::lower_bound(offsets, offsets + docs, uint64_t(lo));
    for (const uint64_t* p = first; p < offsets + docs && int64_t(*p) < hi; ++p)
      result.push_back(starts[shard] + int64_t(*p) - start);
  }
  return result;
}

}  // namespace hylo
