#include "core/spec/error.h"

namespace hylo {

static std::string compose(const std::string& what, const std::string& file, const std::string& field) {
  std::string msg;
  if (!file.empty()) msg += file + ": ";
  if (!field.empty()) msg += field + ": ";
  return msg + what;
}

Error::Error(const std::string& what, std::string file, std::string field)
    : std::runtime_error(compose(what, file, field)),
      file_(std::move(file)),
      field_(std::move(field)),
      reason_(what) {}

}  // namespace hylo
