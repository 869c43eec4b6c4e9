// Plain records of the project store (project.db), one per table. Paths (models.path,
// runs.checkpoint_dir) are kept as stored: relative to the project folder where they lie inside
// it; ProjectStore::resolve_path turns them into absolute paths. Times are UTC ISO-8601 text.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hylo::store {

enum class ModelKind { Teacher, Student, Checkpoint };
enum class RunState { Queued, Running, Finished, Failed, Stopped };
enum class EvalKind { Niah, Ruler, Ppl, Probe };

const char* to_string(ModelKind k);
const char* to_string(RunState s);
const char* to_string(EvalKind k);
std::optional<ModelKind> parse_model_kind(std::string_view s);
std::optional<RunState> parse_run_state(std::string_view s);
std::optional<EvalKind> parse_eval_kind(std::string_view s);
bool is_terminal(RunState s);  // finished, failed or stopped: the run will not change again

// The metric the trainer logs as its objective; `hylo runs` shows its latest value.
inline constexpr const char* kLossMetric = "loss";

struct ModelRecord {
  std::int64_t id = 0;
  ModelKind kind = ModelKind::Teacher;
  std::string name;
  std::string path;  // checkpoint folder
  std::string config_json = "{}";
  std::string created;
};

struct PlanRecord {
  std::int64_t id = 0;
  std::optional<std::int64_t> model_id;  // the teacher it applies to, if registered
  std::string name;
  std::string yaml;
  std::string created, updated;
};

struct RecipeRecord {
  std::int64_t id = 0;
  std::string name;
  std::string yaml;
};

struct RunRecord {
  std::int64_t id = 0;
  std::optional<std::int64_t> plan_id;
  std::string recipe_yaml;  // a copy: the run keeps the recipe it was started with
  std::string name;
  RunState state = RunState::Queued;
  std::optional<std::int64_t> pid;
  std::string command;
  std::string started, ended;  // empty until they happen
  std::optional<std::int64_t> exit_code;
  std::string checkpoint_dir;
  std::string message;  // why it failed or stopped, or a last status line
};

struct RunStage {
  std::int64_t run_id = 0;
  std::int64_t idx = 0;  // position in the recipe's stages
  std::string kind;      // the recipe's stage kind (ild, kd, long, ...)
  std::int64_t start_step = 0;
};

// One value the trainer logs at a step.
struct MetricRow {
  std::int64_t step = 0;
  std::int64_t tokens = 0;  // tokens seen so far
  double wall_s = 0;        // seconds since the run started
  std::string name;
  double value = 0;  // NaN round-trips (stored as NULL)
};

// A stored metric: ids increase with insertion, so a reader asks for `id > last seen`.
struct Metric : MetricRow {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
};

struct EvalRecord {
  std::int64_t id = 0;
  std::int64_t model_id = 0;
  std::optional<std::int64_t> run_id;  // the training run it belongs to, if any
  EvalKind kind = EvalKind::Ppl;
  std::string params_json = "{}";
  std::string result_json = "{}";
  std::string created;
};

struct NoteRecord {
  std::int64_t id = 0;
  std::string target;  // what it is about, e.g. "run:3" or "model:1"
  std::string text;
  std::string created;
};

// A run with its progress, for run lists.
struct RunSummary {
  RunRecord run;
  std::optional<std::int64_t> last_step;
  std::optional<double> last_loss;  // latest kLossMetric value
};

struct ProjectCounts {
  std::int64_t models = 0, plans = 0, recipes = 0, runs = 0, metrics = 0, evals = 0, notes = 0;
};

}  // namespace hylo::store
