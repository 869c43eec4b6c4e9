#include "core/train/train_checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/checkpoint.h"
#include "core/io/remove_tree.h"
#include "core/io/safetensors.h"
#include "core/spec/error.h"
#include "core/spec/sha256.h"

namespace hylo {
namespace fs = std::filesystem;
namespace {

constexpr const char* kStateFile = "trainer_state.json";
constexpr const char* kOptimizerFile = "optimizer.safetensors";

std::string step_dir_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%09lld", static_cast<long long>(step));
  return buf;
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw IoError("cannot open folder to sync it", dir.string());
  ::fsync(fd);
  ::close(fd);
}

// step_* folders, newest first.
std::vector<fs::path> checkpoint_dirs(const fs::path& root) {
  std::vector<fs::path> dirs;
  if (!fs::is_directory(root)) return dirs;
  for (auto& e : fs::directory_iterator(root))
    if (e.is_directory() && e.path().filename().string().rfind("step_", 0) == 0) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) { return a.filename() > b.filename(); });
  return dirs;
}

}  // namespace

void write_model_checkpoint(const std::string& dir, const HybridModel& model, const std::string& tokenizer_json) {
  NamedTensors weights;
  for (auto& item : model.named_parameters()) weights.emplace_back(item.key(), item.value().detach().cpu());
  write_checkpoint(dir, model.config(), weights);
  if (!tokenizer_json.empty()) write_text_atomically((fs::path(dir) / "tokenizer.json").string(), tokenizer_json);
}

std::string write_train_checkpoint(const std::string& root, int64_t global_step, const CheckpointContent& c,
                                   int64_t keep) {
  const fs::path final_dir = fs::path(root) / step_dir_name(global_step);
  if (fs::exists(final_dir)) return final_dir.string();
  fs::create_directories(root);
  const fs::path tmp = fs::path(root) / (".tmp-" + step_dir_name(global_step));
  remove_tree(tmp.string());
  fs::create_directories(tmp);

  write_model_checkpoint(tmp.string(), *c.model, c.tokenizer_json);
  NamedTensors opt = c.optimizer->state();
  for (auto& t : rng_state()) opt.push_back(t);
  write_safetensors((tmp / kOptimizerFile).string(), opt);

  nlohmann::json state = c.state;
  nlohmann::json files = nlohmann::json::object();
  for (auto& e : fs::directory_iterator(tmp))
    if (e.is_regular_file()) files[e.path().filename().string()] = sha256_file(e.path().string());
  state["files"] = files;
  write_text_atomically((tmp / kStateFile).string(), state.dump(2) + "\n");
  fsync_dir(tmp);
  fs::rename(tmp, final_dir);
  fsync_dir(root);

  auto dirs = checkpoint_dirs(root);
  for (size_t i = static_cast<size_t>(std::max<int64_t>(keep, 1)); i < dirs.size(); ++i) remove_tree(dirs[i].string());
  return final_dir.string();
}

std::optional<FoundCheckpoint> find_latest_checkpoint(const std::string& root, std::vector<std::string>* rejected) {
  for (auto& dir : checkpoint_dirs(root)) {
    auto reject = [&](const std::string& why) {
      if (rejected) rejected->push_back(dir.string() + ": " + why);
    };
    std::ifstream in(dir / kStateFile);
    if (!in) {
      reject(std::string("no ") + kStateFile);
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json state = nlohmann::json::parse(text.str(), nullptr, false);
    if (state.is_discarded() || !state.is_object() || !state.contains("files") || !state["files"].is_object()) {
      reject(std::string(kStateFile) + " is damaged");
      continue;
    }
    std::string bad;
    for (auto& [file, hash] : state["files"].items()) {
      const fs::path p = dir / file;
      if (!fs::is_regular_file(p)) bad = file + " is missing";
      else if (!hash.is_string() || sha256_file(p.string()) != hash.get<std::string>()) bad = file + " fails its sha256";
      if (!bad.empty()) break;
    }
    if (!bad.empty()) {
      reject(bad);
      continue;
    }
    return FoundCheckpoint{dir.string(), state};
  }
  return std::nullopt;
}

void load_weights(HybridModel& model, const std::string& dir) {
  CheckpointReader reader(dir);
  at::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    at::Tensor p = item.value();
    p.copy_(reader.load_checked(item.key(), p.sizes(), p.scalar_type()));
  }
}

NamedTensors read_named_tensors(const std::string& path) {
  SafetensorsReader reader(path);
  NamedTensors out;
  for (auto& e : reader.entries()) out.emplace_back(e.name, reader.load(e.name));
  return out;
}

NamedTensors rng_state() {
  NamedTensors out;
  out.emplace_back("rng.cpu", at::detail::getDefaultCPUGenerator().get_state());
  return out;
}

void restore_rng_state(const NamedTensors& tensors, const std::string& file) {
  for (auto& [name, t] : tensors)
    if (name == "rng.cpu") {
      at::Generator gen = at::detail::getDefaultCPUGenerator();  // shares the default generator
      gen.set_state(t);
      return;
    }
  throw IoError("no CPU RNG state", file, "rng.cpu");
}

}  // namespace hylo
