// Error types. Bad input (a file, a field, a value a user can fix) is a hylo::Error that names
// the file and the field; anything else is a bug. The CLI maps Error to exit code 1, others to 2.
#pragma once
#include <stdexcept>
#include <string>

namespace hylo {

class Error : public std::runtime_error {
 public:
  // what: the problem; file: the file it was found in (may be empty); field: the key, tensor
  // or column concerned (may be empty). The message reads "file: field: what".
  explicit Error(const std::string& what, std::string file = {}, std::string field = {});
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_, field_, reason_;
};

// One type per module family, so callers and tests can tell where a problem came from.
struct ConfigError : Error { using Error::Error; };     // config.json, plans, recipes
struct IoError : Error { using Error::Error; };         // safetensors, checkpoints, files
struct TokenizerError : Error { using Error::Error; };  // tokenizer.json, text
struct ModelError : Error { using Error::Error; };      // shapes, layer settings
struct StoreError : Error { using Error::Error; };      // project.db
struct TrainError : Error { using Error::Error; };      // recipes at run time, data
struct EvalError : Error { using Error::Error; };       // NIAH/RULER/probe parameters

}  // namespace hylo
