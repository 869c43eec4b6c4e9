// Test helpers for the trainer tests: a tiny teacher and student (layer 1 of the student has a
// mixer the teacher lacks), learnable token shards, and `hylo` run as a child process whose JSON
// lines are read back.
#pragma once
#include <ATen/ATen.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/model/hybrid_model.h"
#include "core/train/data.h"
#include "core/train/optimizer.h"
#include "core/train/trainer.h"

namespace hylo::testing {

namespace fs = std::filesystem;

inline ModelConfig tiny_config() {
  ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 256;
  c.rms_norm_eps = 1e-5;
  return c;
}

inline NamedTensors weights_of(HybridModel& m) {
  NamedTensors out;
  for (auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value().detach().clone());
  return out;
}

inline void write_model(const std::string& dir, const ModelConfig& c, uint64_t seed, HybridModel* copy_from = nullptr) {
  at::manual_seed(seed);
  HybridModel m(c);
  if (copy_from) {
    at::NoGradGuard g;
    auto src = copy_from->named_parameters();
    for (auto& item : m.named_parameters())
      if (auto* t = src.find(item.key()); t && t->sizes() == item.value().sizes()) item.value().copy_(*t);
  }
  write_checkpoint(dir, c, weights_of(m));
}

// Layer 1 of the student has one KV head where the teacher has two: a mixer the teacher lacks.
inline ModelConfig student_config() {
  ModelConfig c = tiny_config();
  c.model_type = "hylo";  // only a hylo config.json keeps a per-layer plan
  c.architecture = "HyloForCausalLM";
  LayerSpec keep;
  keep.attention = c.teacher_attention();
  LayerSpec changed = keep;
  changed.attention.num_kv_heads = 1;
  c.layers = {keep, changed};
  return c;
}

inline void write_data(const std::string& dir, int64_t tokens, uint64_t seed) {
  ShardWriter w(dir, 1 << 20, "", 64, 0, true);
  std::mt19937 rng(seed);
  int64_t written = 0;
  while (written < tokens) {
    std::vector<int32_t> doc(std::min<int64_t>(40, tokens - written - 1 > 0 ? tokens - written - 1 : 1));
    // A repeating pattern the model can learn, with some noise.
    for (size_t i = 0; i < doc.size(); ++i) doc[i] = 1 + static_cast<int32_t>((i * 7 + rng() % 2) % 63);
    w.add_document(doc);
    written = w.tokens_written();
  }
  w.finish();
}

struct Collect : TrainObserver {
  std::vector<double> losses;
  std::vector<std::map<std::string, double>> metrics;
  void on_step(const StepReport& r, int64_t) override {
    losses.push_back(r.metrics.at("loss"));
    metrics.push_back(r.metrics);
  }
};

inline std::string write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

inline int64_t max_rss() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss * 1024;
}

// Runs `hylo train ...`, reading its JSON lines; `on_step(step)` returning true sends `sig`.
struct Child {
  int exit_code = -1, signal = 0;
  std::map<int64_t, double> losses;  // step -> loss
};
inline Child run_hylo(const std::vector<std::string>& args, int64_t signal_at_step = -1, int sig = SIGKILL) {
  const char* bin = std::getenv("HYLO_BINARY_DIR");
  const std::string exe = std::string(bin ? bin : ".") + "/app/hylo";
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  Child c;
  FILE* out = fdopen(fds[0], "r");
  char* line = nullptr;
  size_t cap = 0;
  bool sent = false;
  while (getline(&line, &cap, out) > 0) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != "step") continue;
    const int64_t step = j["step"].get<int64_t>();
    c.losses[step] = j["metrics"]["loss"].get<double>();
    if (!sent && step == signal_at_step) {
      kill(pid, sig);
      sent = true;
    }
  }
  free(line);
  fclose(out);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) c.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) c.signal = WTERMSIG(status);
  return c;
}

inline std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}


}  // namespace hylo::testing
