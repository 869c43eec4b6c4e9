#include "projects/store/schema.h"

#include <string>

#include "core/spec/error.h"
#include "projects/store/sqlite_db.h"

namespace hylo::store {

namespace {

// Version 1: the first release's tables. Metric ids are plain INTEGER PRIMARY KEYs: metrics are
// only ever deleted with their run, so a new id is always above any id a reader has seen.
// metrics.value is nullable because SQLite stores NaN as NULL and a diverging loss is data.
constexpr const char* kV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE models(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('teacher', 'student', 'checkpoint')),
  path TEXT NOT NULL,
  config_json TEXT NOT NULL DEFAULT '{}',
  created TEXT NOT NULL);
CREATE TABLE plans(
  id INTEGER PRIMARY KEY,
  model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  yaml TEXT NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  plan_id INTEGER REFERENCES plans(id) ON DELETE SET NULL,
  recipe_yaml TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'failed', 'stopped')),
  pid INTEGER,
  command TEXT NOT NULL DEFAULT '',
  started TEXT,
  ended TEXT,
  exit_code INTEGER,
  checkpoint_dir TEXT NOT NULL DEFAULT '');
CREATE TABLE metrics(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  wall_s REAL NOT NULL,
  name TEXT NOT NULL,
  value REAL);
CREATE INDEX metrics_run_name_step ON metrics(run_id, name, step);
CREATE TABLE evals(
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('niah', 'ruler', 'ppl', 'probe')),
  params_json TEXT NOT NULL,
  result_json TEXT NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE notes(id INTEGER PRIMARY KEY, target TEXT NOT NULL, text TEXT NOT NULL);
)sql";

// Version 2: names and timestamps for the GUI, stored recipes, run stages, evals tied to runs.
// Rows from version 1 get empty names and unknown (NULL) times.
constexpr const char* kV2 = R"sql(
ALTER TABLE models ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE plans ADD COLUMN created TEXT;
ALTER TABLE plans ADD COLUMN updated TEXT;
CREATE TABLE recipes(id INTEGER PRIMARY KEY, name TEXT NOT NULL, yaml TEXT NOT NULL);
ALTER TABLE runs ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN message TEXT NOT NULL DEFAULT '';
CREATE TABLE run_stages(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  kind TEXT NOT NULL,
  start_step INTEGER NOT NULL,
  PRIMARY KEY (run_id, idx));
ALTER TABLE evals ADD COLUMN run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL;
CREATE INDEX evals_model ON evals(model_id);
ALTER TABLE notes ADD COLUMN created TEXT;
)sql";

constexpr const char* kMigrations[] = {kV1, kV2};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version");

// 0 for an empty file; the stored version for a project; throws for any other database.
int stored_version(Db& db) {
  Query meta(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'", "meta");
  meta.step();
  if (meta.i64(0) == 0) {
    Query tables(db, "SELECT count(*) FROM sqlite_schema", "sqlite_schema");
    tables.step();
    if (tables.i64(0) != 0) throw StoreError("not a HyLo project database (no meta table)", db.file(), "meta");
    return 0;
  }
  Query version(db, "SELECT value FROM meta WHERE key = 'schema_version'", "meta.schema_version");
  if (!version.step()) throw StoreError("no schema_version row", db.file(), "meta.schema_version");
  std::string text = version.text(0);
  try {
    std::size_t used = 0;
    int v = std::stoi(text, &used);
    if (used == text.size() && v >= 1) return v;
  } catch (const std::exception&) {
  }
  throw StoreError("not a schema version: '" + text + "'", db.file(), "meta.schema_version");
}

void check_known(Db& db, int version) {
  if (version > kSchemaVersion)
    throw StoreError("schema version " + std::to_string(version) + " is newer than this build knows (" +
                         std::to_string(kSchemaVersion) + "): update hylo",
                     db.file(), "meta.schema_version");
}

}  // namespace

int migrate(Db& db) {
  int version = stored_version(db);
  check_known(db, version);
  while (version < kSchemaVersion) {
    WriteTransaction tx(db);
    // Another process may have migrated while this one waited for the write lock.
    version = stored_version(db);
    check_known(db, version);
    if (version == kSchemaVersion) break;
    db.exec(kMigrations[version], "migration " + std::to_string(version + 1));
    Query set(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)", "meta.schema_version");
    set.bind(1, std::to_string(version + 1)).run();
    tx.commit();
    ++version;
  }
  return version;
}

}  // namespace hylo::store
