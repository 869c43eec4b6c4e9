// A training recipe (recipe.yaml): the teacher, the data mixture and the ordered stages
// (pretrain | ild | kd | long) with their schedules. Torch-free; the trainer and the GUI share it.
//
//   teacher: ../models/Llama-3.1-8B-Instruct      # optional; default = the model upcycled from
//   data:
//     train: data/mix/manifest.json               # takes the ratio the mixture leaves over
//     seed: 17
//     mixture: [{synthetic: passkey, ratio: 0.02}, {manifest: data/code/manifest.json, ratio: 0.1}]
//   stages:
//     - {kind: ild, seq_len: 2k, tokens: 50M, lr: 2e-4, train: new-mixers, ild_loss: l2}
//     - {kind: kd, seq_len: 8k, tokens: 2B, lr: 6e-5, warmup: 0.01, temperature: 1.0}
//     - {kind: long, seq_len: 64k, tokens: 1B, lr: 6e-5, rope: {type: yarn, factor: 32, original: 2k}}
//     - {kind: kd, seq_len: 8k, tokens: 1B, lr: 6e-5, teacher_rope: {type: yarn, factor: 4, original: 2k}}
//   checkpoint: {every: 500, keep: 3}
//
// Counts take suffixes (core/spec/count.h): tokens are decimal (2B = 2e9), lengths binary (8k = 8192).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hylo {

enum class StageKind { Pretrain, Ild, Kd, Long };
enum class LrSchedule { Cosine, Constant };
enum class IldLoss { L2, L2Squared };  // un-squared L2 per token (authors' code) or squared (paper)
enum class SyntheticTask { Passkey, Niah };

std::string to_string(StageKind k);
std::string to_string(LrSchedule s);
std::string to_string(IldLoss l);
std::string to_string(SyntheticTask t);

struct StageRope {
  std::string type;          // yarn | linear | llama3
  double factor = 1.0;       // > 1
  int64_t original = 0;      // the context the model was trained at
};

// Which parameters a stage trains.
struct TrainSelection {
  enum class Mode { NewMixers, All, Patterns } mode = Mode::NewMixers;
  std::vector<std::string> patterns;  // globs on parameter names ('*' any run, '?' one char)
};
bool glob_match(const std::string& pattern, const std::string& name);

struct Warmup {
  bool is_fraction = true;  // fraction of the stage's steps, else a step count
  double fraction = 0.0;
  int64_t steps = 0;
};

struct Stage {
  std::string name;                 // optional label; defaults to "<index>-<kind>"
  StageKind kind = StageKind::Kd;
  int64_t seq_len = 0;
  int64_t tokens = 0;               // exactly one of tokens / steps is set (> 0)
  int64_t steps = 0;
  int64_t batch_size = 1;           // sequences per micro-batch (global, all ranks)
  int64_t grad_accum = 1;
  double lr = 0.0;
  double min_lr = 0.0;
  Warmup warmup;
  LrSchedule schedule = LrSchedule::Cosine;
  double weight_decay = 0.0;
  double clip = 1.0;                // max global grad norm; 0 = no clipping
  double temperature = 1.0;         // kd, long
  double ce_weight = 0.0;           // kd, long: weight of next-token CE beside the KL
  IldLoss ild_loss = IldLoss::L2;   // ild
  TrainSelection train;
  std::optional<StageRope> rope;  // required for long: the student's scaling in this stage
  // kd, long: the teacher's scaling in this stage, apart from the student's. Absent: a long stage
  // past an unscaled teacher's context runs the teacher with `rope`; otherwise as its config says.
  std::optional<StageRope> teacher_rope;
  std::optional<std::string> teacher;
};

struct MixtureEntry {
  std::optional<std::string> manifest;      // a tokenized corpus (manifest.json) ...
  std::optional<SyntheticTask> synthetic;   // ... or a synthetic long-context task
  double ratio = 0.0;
};

struct DataSpec {
  std::optional<std::string> train;  // main corpus; gets 1 - sum(mixture ratios)
  uint64_t seed = 0;
  std::vector<MixtureEntry> mixture;
  // Every source with its ratio, the main corpus first; ratios sum to 1.
  std::vector<MixtureEntry> sources() const;
};

struct CheckpointSpec {
  int64_t every = 1000;  // optimizer steps
  int64_t keep = 3;      // most recent checkpoints kept on disk
};

struct Recipe {
  std::optional<std::string> teacher;
  DataSpec data;
  std::vector<Stage> stages;
  CheckpointSpec checkpoint;
  std::string source_path;  // file it was read from ("" if built in code); relative paths resolve against it

  // Reads and validates; every problem is a ConfigError naming the file and the field
  // (e.g. "stages[1].lr").
  static Recipe from_yaml_file(const std::string& path);
  static Recipe from_yaml_string(const std::string& yaml, const std::string& origin = "<string>");
  std::string to_yaml() const;
  void validate() const;  // the checks from_yaml_* runs, for recipes built in code
  // A path from the recipe, made relative to the recipe file's folder when it is relative.
  std::string resolve(const std::string& path) const;
  std::string teacher_for(size_t stage) const;  // stage override, else recipe teacher, else ""
};

// Optimizer steps of a stage: `steps`, or ceil(tokens / (batch_size * grad_accum * seq_len)) so
// that at least `tokens` are seen.
int64_t total_steps(const Stage& s);
int64_t warmup_steps(const Stage& s);  // round(fraction * total) for a fraction
// Learning rate at optimizer step `step` (0-based): linear warmup lr*(step+1)/W over the W warmup
// steps, then cosine from lr towards min_lr, reached when the stage ends (or constant lr).
double lr_at(const Stage& s, int64_t step);

}  // namespace hylo
