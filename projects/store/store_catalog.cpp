// ProjectStore: models, plans, recipes, evals and notes.
#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "projects/store/sqlite_db.h"

namespace hylo::store {

namespace {

ModelRecord read_model(const Query& q) {
  return {q.i64(0), q.decoded(1, parse_model_kind), q.text(2), q.text(3), q.text(4), q.text(5)};
}

PlanRecord read_plan(const Query& q) {
  return {q.i64(0), q.opt_i64(1), q.text(2), q.text(3), q.text(4), q.text(5)};
}

RecipeRecord read_recipe(const Query& q) { return {q.i64(0), q.text(1), q.text(2)}; }

EvalRecord read_eval(const Query& q) {
  return {q.i64(0), q.i64(1), q.opt_i64(2), q.decoded(3, parse_eval_kind), q.text(4), q.text(5), q.text(6)};
}

}  // namespace

std::int64_t ProjectStore::add_model(const ModelRecord& m) {
  require_json(m.config_json, "models.config_json");
  WriteTransaction tx(*db_);
  Query q(*db_,
          "INSERT INTO models(kind, name, path, config_json, created)"
          " VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
          "models");
  q.bind(1, std::string(to_string(m.kind))).bind(2, m.name).bind(3, relative_path(m.path)).bind(4, m.config_json).run();
  std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return id;
}

ModelRecord ProjectStore::get_model(std::int64_t id) {
  Query q(*db_, "SELECT id, kind, name, path, config_json, created FROM models WHERE id = ?1", "models");
  if (!q.bind(1, id).step()) not_found("models", id);
  return read_model(q);
}

std::vector<ModelRecord> ProjectStore::list_models() {
  Query q(*db_, "SELECT id, kind, name, path, config_json, created FROM models ORDER BY id", "models");
  std::vector<ModelRecord> out;
  while (q.step()) out.push_back(read_model(q));
  return out;
}

void ProjectStore::update_model(const ModelRecord& m) {
  require_json(m.config_json, "models.config_json");
  WriteTransaction tx(*db_);
  Query q(*db_, "UPDATE models SET kind = ?2, name = ?3, path = ?4, config_json = ?5 WHERE id = ?1", "models");
  q.bind(1, m.id).bind(2, std::string(to_string(m.kind))).bind(3, m.name).bind(4, relative_path(m.path));
  q.bind(5, m.config_json).run();
  if (db_->changes() == 0) not_found("models", m.id);
  tx.commit();
}

std::int64_t ProjectStore::add_plan(const PlanRecord& p) {
  WriteTransaction tx(*db_);
  Query q(*db_,
          "INSERT INTO plans(model_id, name, yaml, created, updated)"
          " VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
          "plans");
  q.bind(1, p.model_id).bind(2, p.name).bind(3, p.yaml).run();
  std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return id;
}

PlanRecord ProjectStore::get_plan(std::int64_t id) {
  Query q(*db_, "SELECT id, model_id, name, yaml, created, updated FROM plans WHERE id = ?1", "plans");
  if (!q.bind(1, id).step()) not_found("plans", id);
  return read_plan(q);
}

std::vector<PlanRecord> ProjectStore::list_plans() {
  Query q(*db_, "SELECT id, model_id, name, yaml, created, updated FROM plans ORDER BY id", "plans");
  std::vector<PlanRecord> out;
  while (q.step()) out.push_back(read_plan(q));
  return out;
}

void ProjectStore::update_plan(const PlanRecord& p) {
  WriteTransaction tx(*db_);
  Query q(*db_,
          "UPDATE plans SET model_id = ?2, name = ?3, yaml = ?4, updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
          " WHERE id = ?1",
          "plans");
  q.bind(1, p.id).bind(2, p.model_id).bind(3, p.name).bind(4, p.yaml).run();
  if (db_->changes() == 0) not_found("plans", p.id);
  tx.commit();
}

std::int64_t ProjectStore::add_recipe(const RecipeRecord& r) {
  WriteTransaction tx(*db_);
  Query q(*db_, "INSERT INTO recipes(name, yaml) VALUES (?1, ?2)", "recipes");
  q.bind(1, r.name).bind(2, r.yaml).run();
  std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return id;
}

RecipeRecord ProjectStore::get_recipe(std::int64_t id) {
  Query q(*db_, "SELECT id, name, yaml FROM recipes WHERE id = ?1", "recipes");
  if (!q.bind(1, id).step()) not_found("recipes", id);
  return read_recipe(q);
}

std::vector<RecipeRecord> ProjectStore::list_recipes() {
  Query q(*db_, "SELECT id, name, yaml FROM recipes ORDER BY id", "recipes");
  std::vector<RecipeRecord> out;
  while (q.step()) out.push_back(read_recipe(q));
  return out;
}

void ProjectStore::update_recipe(const RecipeRecord& r) {
  WriteTransaction tx(*db_);
  Query q(*db_, "UPDATE recipes SET name = ?2, yaml = ?3 WHERE id = ?1", "recipes");
  q.bind(1, r.id).bind(2, r.name).bind(3, r.yaml).run();
  if (db_->changes() == 0) not_found("recipes", r.id);
  tx.commit();
}

std::int64_t ProjectStore::add_eval(const EvalRecord& e) {
  require_json(e.params_json, "evals.params_json");
  require_json(e.result_json, "evals.result_json");
  WriteTransaction tx(*db_);
  Query q(*db_,
          "INSERT INTO evals(model_id, run_id, kind, params_json, result_json, created)"
          " VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
          "evals");
  q.bind(1, e.model_id).bind(2, e.run_id).bind(3, std::string(to_string(e.kind))).bind(4, e.params_json);
  q.bind(5, e.result_json).run();
  std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return id;
}

EvalRecord ProjectStore::get_eval(std::int64_t id) {
  Query q(*db_, "SELECT id, model_id, run_id, kind, params_json, result_json, created FROM evals WHERE id = ?1",
          "evals");
  if (!q.bind(1, id).step()) not_found("evals", id);
  return read_eval(q);
}

std::vector<EvalRecord> ProjectStore::list_evals() {
  Query q(*db_, "SELECT id, model_id, run_id, kind, params_json, result_json, created FROM evals ORDER BY id",
          "evals");
  std::vector<EvalRecord> out;
  while (q.step()) out.push_back(read_eval(q));
  return out;
}

std::int64_t ProjectStore::add_note(const std::string& target, const std::string& text) {
  WriteTransaction tx(*db_);
  Query q(*db_,
          "INSERT INTO notes(target, text, created) VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
          "notes");
  q.bind(1, target).bind(2, text).run();
  std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return id;
}

std::vector<NoteRecord> ProjectStore::list_notes(const std::string& target) {
  Query q(*db_, "SELECT id, target, text, created FROM notes WHERE ?1 = '' OR target = ?1 ORDER BY id", "notes");
  q.bind(1, target);
  std::vector<NoteRecord> out;
  while (q.step()) out.push_back({q.i64(0), q.text(1), q.text(2), q.text(3)});
  return out;
}

void ProjectStore::update_note(std::int64_t id, const std::string& text) {
  WriteTransaction tx(*db_);
  Query q(*db_, "UPDATE notes SET text = ?2 WHERE id = ?1", "notes");
  q.bind(1, id).bind(2, text).run();
  if (db_->changes() == 0) not_found("notes", id);
  tx.commit();
}

}  // namespace hylo::store
