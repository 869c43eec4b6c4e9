#include "core/io/remove_tree.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/spec/error.h"

namespace hylo {
namespace {

thread_local std::string failed_path;
thread_local int failed_errno = 0;

int remove_entry(const char* path, const struct stat*, int type, struct FTW*) {
  int rc = (type == FTW_DP) ? ::rmdir(path) : ::unlink(path);
  if (rc != 0 && errno != ENOENT) {
    failed_path = path;
    failed_errno = errno;
    return 1;  // stops the walk
  }
  return 0;
}

}  // namespace

void remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw IoError(std::string("cannot remove: ") + std::strerror(errno), path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw IoError(std::string("cannot remove: ") + std::strerror(errno), path);
    return;
  }
  failed_path.clear();
  // Depth first (children before their folder), never following links out of the tree.
  if (::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    throw IoError(std::string("cannot remove: ") + std::strerror(failed_path.empty() ? errno : failed_errno),
                  failed_path.empty() ? path : failed_path);
}

}  // namespace hylo
