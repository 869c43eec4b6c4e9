// ProjectStore: runs, their stages and their metrics.
#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "projects/store/sqlite_db.h"

namespace hylo::store {

namespace {

constexpr const char* kRunSelect =
    "SELECT id, plan_id, recipe_yaml, name, state, pid, command, started, ended, exit_code, checkpoint_dir,"
    " message FROM runs";

RunRecord read_run(const Query& q) {
  RunRecord r;
  r.id = q.i64(0);
  r.plan_id = q.opt_i64(1);
  r.recipe_yaml = q.text(2);
  r.name = q.text(3);
  r.state = q.decoded(4, parse_run_state);
  r.pid = q.opt_i64(5);
  r.command = q.text(6);
  r.started = q.text(7);
  r.ended = q.text(8);
  r.exit_code = q.opt_i64(9);
  r.checkpoint_dir = q.text(10);
  r.message = q.text(11);
  return r;
}

// The state of run `id`, read inside the caller's transaction.
std::optional<RunState> run_state(Db& db, std::int64_t id) {
  Query q(db, "SELECT state FROM runs WHERE id = ?1", "runs");
  if (!q.bind(1, id).step()) return std::nullopt;
  return q.decoded(0, parse_run_state);
}

}  // namespace

std::int64_t ProjectStore::add_run(const RunRecord& r) {
  WriteTransaction tx(*db_);
  Query q(*db_,
          "INSERT INTO runs(plan_id, recipe_yaml, name, state, command, checkpoint_dir, message)"
          " VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6)",
          "runs");
  q.bind(1, r.plan_id).bind(2, r.recipe_yaml).bind(3, r.name).bind(4, r.command);
  q.bind(5, relative_path(r.checkpoint_dir)).bind(6, r.message).run();
  std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return id;
}

RunRecord ProjectStore::get_run(std::int64_t id) {
  std::string sql = std::string(kRunSelect) + " WHERE id = ?1";
  Query q(*db_, sql.c_str(), "runs");
  if (!q.bind(1, id).step()) not_found("runs", id);
  return read_run(q);
}

std::vector<RunRecord> ProjectStore::list_runs() {
  std::string sql = std::string(kRunSelect) + " ORDER BY id";
  Query q(*db_, sql.c_str(), "runs");
  std::vector<RunRecord> out;
  while (q.step()) out.push_back(read_run(q));
  return out;
}

std::vector<RunSummary> ProjectStore::run_summaries() {
  std::vector<RunSummary> out;
  for (auto& run : list_runs()) {
    RunSummary s{run, std::nullopt, std::nullopt};
    Query step(*db_, "SELECT max(step) FROM metrics WHERE run_id = ?1", "metrics");
    if (step.bind(1, run.id).step()) s.last_step = step.opt_i64(0);
    // The index (run_id, name, step) answers this without a scan.
    Query loss(*db_, "SELECT value FROM metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step DESC, id DESC LIMIT 1",
               "metrics");
    if (loss.bind(1, run.id).bind(2, std::string(kLossMetric)).step()) s.last_loss = loss.f64(0);
    out.push_back(std::move(s));
  }
  return out;
}

void ProjectStore::mark_run_started(std::int64_t id, std::int64_t pid, const std::string& command) {
  WriteTransaction tx(*db_);
  auto state = run_state(*db_, id);
  if (!state) not_found("runs", id);
  if (*state != RunState::Queued)
    throw StoreError("run " + std::to_string(id) + " cannot start: it is " + to_string(*state), db_->file(),
                     "runs.state");
  Query q(*db_,
          "UPDATE runs SET state = 'running', pid = ?2, command = ?3,"
          " started = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
          "runs");
  q.bind(1, id).bind(2, pid).bind(3, command).run();
  tx.commit();
}

void ProjectStore::mark_run_ended(std::int64_t id, RunState end, std::optional<std::int64_t> exit_code,
                                  const std::string& message) {
  if (!is_terminal(end))
    throw StoreError(std::string("not an end state: ") + to_string(end), db_->file(), "runs.state");
  WriteTransaction tx(*db_);
  auto state = run_state(*db_, id);
  if (!state) not_found("runs", id);
  if (is_terminal(*state))
    throw StoreError("run " + std::to_string(id) + " already ended (" + to_string(*state) + ")", db_->file(),
                     "runs.state");
  Query q(*db_,
          "UPDATE runs SET state = ?2, exit_code = ?3, message = ?4,"
          " ended = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
          "runs");
  q.bind(1, id).bind(2, std::string(to_string(end))).bind(3, exit_code).bind(4, message).run();
  tx.commit();
}

void ProjectStore::set_run_checkpoint_dir(std::int64_t id, const std::string& dir) {
  WriteTransaction tx(*db_);
  Query q(*db_, "UPDATE runs SET checkpoint_dir = ?2 WHERE id = ?1", "runs");
  q.bind(1, id).bind(2, relative_path(dir)).run();
  if (db_->changes() == 0) not_found("runs", id);
  tx.commit();
}

void ProjectStore::add_run_stage(const RunStage& s) {
  WriteTransaction tx(*db_);
  if (!run_state(*db_, s.run_id)) not_found("runs", s.run_id);
  Query q(*db_, "INSERT INTO run_stages(run_id, idx, kind, start_step) VALUES (?1, ?2, ?3, ?4)", "run_stages");
  q.bind(1, s.run_id).bind(2, s.idx).bind(3, s.kind).bind(4, s.start_step).run();
  tx.commit();
}

std::vector<RunStage> ProjectStore::run_stages(std::int64_t run_id) {
  Query q(*db_, "SELECT run_id, idx, kind, start_step FROM run_stages WHERE run_id = ?1 ORDER BY idx",
          "run_stages");
  q.bind(1, run_id);
  std::vector<RunStage> out;
  while (q.step()) out.push_back({q.i64(0), q.i64(1), q.text(2), q.i64(3)});
  return out;
}

void ProjectStore::append_metrics(std::int64_t run_id, const std::vector<MetricRow>& rows) {
  if (rows.empty()) return;
  for (auto& r : rows)
    if (r.name.empty()) throw StoreError("empty metric name at step " + std::to_string(r.step), db_->file(),
                                         "metrics.name");
  WriteTransaction tx(*db_);
  if (!run_state(*db_, run_id)) not_found("runs", run_id);
  for (auto& r : rows) {
    Query q(*db_, "INSERT INTO metrics(run_id, step, tokens, wall_s, name, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            "metrics");
    q.bind(1, run_id).bind(2, r.step).bind(3, r.tokens).bind(4, r.wall_s).bind(5, r.name).bind(6, r.value).run();
  }
  tx.commit();
}

std::vector<Metric> ProjectStore::metrics_since(std::int64_t run_id, std::int64_t last_id) {
  // `+run_id` keeps the planner off the (run_id, name, step) index, which would read and sort all
  // of the run's rows on every poll; walking ids above last_id reads only what is new.
  Query q(*db_,
          "SELECT id, run_id, step, tokens, wall_s, name, value FROM metrics"
          " WHERE id > ?2 AND +run_id = ?1 ORDER BY id",
          "metrics");
  q.bind(1, run_id).bind(2, last_id);
  std::vector<Metric> out;
  while (q.step()) {
    Metric m;
    m.id = q.i64(0);
    m.run_id = q.i64(1);
    m.step = q.i64(2);
    m.tokens = q.i64(3);
    m.wall_s = q.f64(4);
    m.name = q.text(5);
    m.value = q.f64(6);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> ProjectStore::metric_names(std::int64_t run_id) {
  Query q(*db_, "SELECT DISTINCT name FROM metrics WHERE run_id = ?1 ORDER BY name", "metrics");
  q.bind(1, run_id);
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.text(0));
  return out;
}

}  // namespace hylo::store
