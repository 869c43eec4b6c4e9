// The staged distillation trainer: runs a recipe's stages (pretrain | ild | kd | long) in order on
// a student, with a frozen teacher, AdamW, accumulation, clipping, checkpoints that survive a
// crash and bit-exact resume on CPU. Everything it reports
// goes to a TrainObserver (the CLI writes JSON lines, the project store and a progress bar).
// Data parallel over ranks: each rank takes batch_size / world rows of every micro-batch, the
// gradients and losses are averaged, rank 0 alone writes checkpoints and tells the observer.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/spec/recipe.h"
#include "core/train/dist_env.h"

namespace hylo {

struct TrainOptions {
  std::string recipe;         // recipe.yaml
  std::string student;        // student checkpoint folder (a teacher folder for pretrain recipes)
  std::string teacher;        // overrides the recipe's teacher and the student's `teacher`
  std::string data;           // manifest (or its folder); overrides the recipe's data.train
  std::string out;            // run folder: checkpoints/ and final/
  bool resume = false;        // continue from the newest verified checkpoint under out/checkpoints
  std::string device = "cpu"; // cpu | cuda:N
  int64_t max_steps = 0;      // stop (with a checkpoint) after this global step; 0: run every stage
  int64_t loss_chunk_tokens = 0;  // tokens per chunk of the KD/CE loss; 0: by memory
  bool bf16_autocast = false;      // student forward in bf16 autocast; parameters stay fp32
  bool activation_checkpointing = false;  // recompute each layer in the backward (kd, long, pretrain)
  DistEnv dist;                    // this rank of a data-parallel run (one process by default)
  const std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM: checkpoint after the step, exit
};

struct StepReport {
  int64_t stage = 0, step = 0, tokens = 0;  // global step (1-based after the update) and tokens seen
  double wall_s = 0;
  std::map<std::string, double> metrics;  // "loss", "loss/kd", "loss/ce", "loss/ild", ...
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_start(const Recipe&, int64_t first_step) {}
  virtual void on_stage(int64_t idx, const Stage& stage, int64_t start_step, int64_t steps) {}
  virtual void on_step(const StepReport& r, int64_t total_steps) {}
  virtual void on_checkpoint(int64_t step, const std::string& path) {}
  virtual void on_log(const std::string& line) {}  // human-readable notes (stderr), every rank
};

enum class TrainOutcome { Finished, Stopped, MaxSteps };

// Validates everything first (recipe, student, teachers, data, lengths), then trains. Bad input is
// a ConfigError / TrainError / IoError naming the file and field, thrown before the first step.
TrainOutcome run_training(const TrainOptions& opts, TrainObserver& observer);

}  // namespace hylo
