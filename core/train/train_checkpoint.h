// Training checkpoints: <out>/checkpoints/step_000000042/ holds
//   config.json + model.safetensors (+ tokenizer.json): the student, an HF folder others can load;
//   optimizer.safetensors: AdamW state and the CPU RNG state ("rng.cpu");
//   trainer_state.json: stage, steps, tokens, sampler position, lr, and a sha256 per file above.
// A checkpoint is built in a temporary folder (every file fsynced), renamed into place and the
// parent fsynced, so a crash leaves either the whole checkpoint or none. Loading verifies every
// hash; a damaged checkpoint is reported and the next older one is taken.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model/hybrid_model.h"
#include "core/train/optimizer.h"

namespace hylo {

struct CheckpointContent {
  const HybridModel* model = nullptr;
  const AdamW* optimizer = nullptr;
  // tokenizer.json's text, written beside the weights when not empty. Read once when the run
  // starts, so a student folder deleted mid-run does not break later checkpoints.
  std::string tokenizer_json;
  nlohmann::json state;        // trainer_state.json without "files" (added here)
};

// A loadable checkpoint folder: the model's config and weights (fp32 on the CPU) and, when not
// empty, tokenizer.json with the given text.
void write_model_checkpoint(const std::string& dir, const HybridModel& model, const std::string& tokenizer_json);

// Writes step_<global_step>/ under `root` (unless it exists) and keeps the newest `keep`.
// Returns the checkpoint's folder.
std::string write_train_checkpoint(const std::string& root, int64_t global_step, const CheckpointContent& content,
                                   int64_t keep);

struct FoundCheckpoint {
  std::string dir;
  nlohmann::json state;  // trainer_state.json
};

// The newest checkpoint under `root` whose files verify; every one skipped is described in
// `rejected` ("<dir>: <reason>").
std::optional<FoundCheckpoint> find_latest_checkpoint(const std::string& root, std::vector<std::string>* rejected);

// Copies the weights of an HF checkpoint folder into `model` (every parameter must be there with
// its shape; IoError naming the folder and tensor otherwise).
void load_weights(HybridModel& model, const std::string& dir);

// The named tensors of a safetensors file (CPU).
NamedTensors read_named_tensors(const std::string& path);

// RNG states as tensors for optimizer.safetensors, and back.
NamedTensors rng_state();
void restore_rng_state(const NamedTensors& tensors, const std::string& file);

}  // namespace hylo
