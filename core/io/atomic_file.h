// Files that appear whole or not at all: written to a temporary next to the target, fsynced, then
// renamed over it (and the folder fsynced), so a crash never leaves a half-written checkpoint.
#pragma once
#include <cstddef>
#include <string>

namespace hylo {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // IoError naming the path when the temporary cannot be made
  ~AtomicFile();                          // without commit(): the temporary is removed, the target untouched
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  void commit();  // fsync, rename over the target, fsync the folder

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};

// Writes `text` to `path` atomically.
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace hylo
