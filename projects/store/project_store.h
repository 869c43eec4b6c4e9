// ProjectStore: typed access to a project's project.db (SQLite, WAL). Child processes (trainer,
// evaluators) write while the GUI reads live: readers poll data_version() and fetch only new
// metric rows with metrics_since(). One ProjectStore is one connection: use one per thread.
// Every failure a user can cause (bad folder, not a project, damaged file, newer schema, disk
// full, bad JSON) is a hylo::StoreError naming the file and the field.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "projects/store/records.h"

namespace hylo::store {

class Db;

class ProjectStore {
 public:
  static constexpr const char* kDbName = "project.db";

  // `folder_or_db`: a project folder (holding project.db) or the .db file itself. With `create`,
  // a missing folder and database are made; without it they must exist. Older schemas migrate.
  static ProjectStore open(const std::string& folder_or_db, bool create);
  ProjectStore(ProjectStore&&) noexcept;
  ProjectStore& operator=(ProjectStore&&) noexcept;
  ~ProjectStore();

  const std::string& folder() const { return folder_; }  // absolute
  const std::string& db_file() const;
  int schema_version() const { return schema_version_; }
  // Changes whenever another connection commits; cheap enough to poll every few milliseconds.
  std::int64_t data_version();
  // Refuses to grow the database past `max_bytes` (SQLITE_FULL, as a full disk would): caps a
  // project's size.
  void limit_size(std::int64_t max_bytes);

  // Paths: what is inside the project folder is stored relative to it, so a project can be moved.
  // A relative `path` argument is taken as relative to the project folder.
  std::string relative_path(const std::string& path) const;
  std::string resolve_path(const std::string& stored) const;  // absolute
  bool path_exists(const std::string& stored) const;

  // Models: teachers, upcycled students and training checkpoints.
  std::int64_t add_model(const ModelRecord& m);
  ModelRecord get_model(std::int64_t id);
  std::vector<ModelRecord> list_models();
  void update_model(const ModelRecord& m);  // by id; `created` is kept

  std::int64_t add_plan(const PlanRecord& p);
  PlanRecord get_plan(std::int64_t id);
  std::vector<PlanRecord> list_plans();
  void update_plan(const PlanRecord& p);  // by id; sets `updated`

  std::int64_t add_recipe(const RecipeRecord& r);
  RecipeRecord get_recipe(std::int64_t id);
  std::vector<RecipeRecord> list_recipes();
  void update_recipe(const RecipeRecord& r);

  // Runs move queued -> running -> finished | failed | stopped; a queued run may also end
  // without starting. Any other transition is a StoreError (field "runs.state").
  std::int64_t add_run(const RunRecord& r);  // stored as queued, whatever r.state says
  RunRecord get_run(std::int64_t id);
  std::vector<RunRecord> list_runs();
  std::vector<RunSummary> run_summaries();  // every run with its last step and last loss
  void mark_run_started(std::int64_t id, std::int64_t pid, const std::string& command);
  void mark_run_ended(std::int64_t id, RunState end, std::optional<std::int64_t> exit_code,
                      const std::string& message);
  void set_run_checkpoint_dir(std::int64_t id, const std::string& dir);

  void add_run_stage(const RunStage& s);
  std::vector<RunStage> run_stages(std::int64_t run_id);

  // All rows in one transaction: a reader sees a batch entirely or not at all.
  void append_metrics(std::int64_t run_id, const std::vector<MetricRow>& rows);
  std::vector<Metric> metrics_since(std::int64_t run_id, std::int64_t last_id);  // id order
  std::vector<std::string> metric_names(std::int64_t run_id);

  std::int64_t add_eval(const EvalRecord& e);
  EvalRecord get_eval(std::int64_t id);
  std::vector<EvalRecord> list_evals();

  std::int64_t add_note(const std::string& target, const std::string& text);
  std::vector<NoteRecord> list_notes(const std::string& target);  // empty target: all notes
  void update_note(std::int64_t id, const std::string& text);

  ProjectCounts counts();

 private:
  ProjectStore(std::unique_ptr<Db> db, std::string folder, int schema_version);
  void require_json(const std::string& json, const char* field) const;
  [[noreturn]] void not_found(const char* table, std::int64_t id) const;

  std::unique_ptr<Db> db_;
  std::string folder_;
  int schema_version_ = 0;
};

}  // namespace hylo::store
