// project.db schema: a version-1 file made by hand migrates with its data kept and ends with the
// same columns as a fresh project; newer schemas, foreign and damaged files, unusable folders and
// a full disk are StoreErrors naming the file.
#include <sqlite3.h>
#include <unistd.h>

#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <map>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "projects/store/schema.h"

using namespace hylo::store;
namespace fs = std::filesystem;

namespace {
QString q(const std::string& s) { return QString::fromStdString(s); }

// A second, raw connection: what an older build or another tool would have written.
void raw_exec(const std::string& file, const char* sql) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  QString msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  QVERIFY2(rc == SQLITE_OK, qPrintable(msg));
}

// table -> "name type notnull default" of every column, in order.
std::map<std::string, QStringList> columns(const std::string& file) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::map<std::string, QStringList> out;
  sqlite3_stmt* tables = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1, &tables, nullptr);
  while (sqlite3_step(tables) == SQLITE_ROW) {
    std::string table = reinterpret_cast<const char*>(sqlite3_column_text(tables, 0));
    sqlite3_stmt* info = nullptr;
    sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ")").c_str(), -1, &info, nullptr);
    while (sqlite3_step(info) == SQLITE_ROW) {
      auto text = [&](int c) {
        auto* p = sqlite3_column_text(info, c);
        return p ? QString(reinterpret_cast<const char*>(p)) : QString("NULL");
      };
      out[table] << text(1) + " " + text(2) + " " + text(3) + " " + text(4);
    }
    sqlite3_finalize(info);
  }
  sqlite3_finalize(tables);
  sqlite3_close(db);
  return out;
}

// Expects opening `path` to fail with a StoreError naming `file`; returns its message.
QString open_error(const std::string& path, bool create, const std::string& file) {
  try {
    ProjectStore::open(path, create);
  } catch (const hylo::StoreError& e) {
    if (q(e.file()) != q(file)) return "wrong file: " + q(e.what());
    return q(e.reason());
  }
  return "opened";
}

// The first release's schema and rows, written independently of the store's own migration.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE models(id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('teacher', 'student', 'checkpoint')),
  path TEXT NOT NULL, config_json TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL);
CREATE TABLE plans(id INTEGER PRIMARY KEY, model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  name TEXT NOT NULL, yaml TEXT NOT NULL);
CREATE TABLE runs(id INTEGER PRIMARY KEY, plan_id INTEGER REFERENCES plans(id) ON DELETE SET NULL,
  recipe_yaml TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'failed', 'stopped')),
  pid INTEGER, command TEXT NOT NULL DEFAULT '', started TEXT, ended TEXT, exit_code INTEGER,
  checkpoint_dir TEXT NOT NULL DEFAULT '');
CREATE TABLE metrics(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL, tokens INTEGER NOT NULL, wall_s REAL NOT NULL, name TEXT NOT NULL, value REAL);
CREATE INDEX metrics_run_name_step ON metrics(run_id, name, step);
CREATE TABLE evals(id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('niah', 'ruler', 'ppl', 'probe')),
  params_json TEXT NOT NULL, result_json TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE notes(id INTEGER PRIMARY KEY, target TEXT NOT NULL, text TEXT NOT NULL);
INSERT INTO models VALUES (1, 'teacher', 'models/llama', '{"hidden_size": 64}', '2026-01-02T03:04:05Z');
INSERT INTO plans VALUES (1, 1, '4mla', 'default: mamba2');
INSERT INTO runs VALUES (1, 1, 'stages: []', 'finished', 99, 'hylo train', '2026-01-02T04:00:00Z',
  '2026-01-02T05:00:00Z', 0, 'runs/1');
INSERT INTO metrics VALUES (1, 1, 10, 40960, 12.5, 'loss', 3.25);
INSERT INTO metrics VALUES (2, 1, 20, 81920, 25.0, 'loss', 2.75);
INSERT INTO evals VALUES (1, 1, 'ppl', '{"seq_len": 2048}', '{"ppl": 9.5}', '2026-01-03T00:00:00Z');
INSERT INTO notes VALUES (1, 'run:1', 'first try');
)sql";
}  // namespace

class TestSchema : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    root_ = dir_->path().toStdString();
  }

  void freshProjectIsCurrent() {
    auto store = ProjectStore::open(root_ + "/new/deeper", true);  // missing folders are made
    QCOMPARE(store.schema_version(), kSchemaVersion);
    QVERIFY(fs::exists(root_ + "/new/deeper/project.db"));
    auto cols = columns(store.db_file());
    for (const char* t : {"meta", "models", "plans", "recipes", "runs", "run_stages", "metrics", "evals", "notes"})
      QVERIFY2(cols.count(t), t);
  }

  void migratesVersion1() {
    const std::string old_db = root_ + "/old/project.db";
    fs::create_directories(root_ + "/old");
    raw_exec(old_db, kVersion1);
    {
      auto store = ProjectStore::open(root_ + "/old", false);
      QCOMPARE(store.schema_version(), kSchemaVersion);
      ModelRecord m = store.get_model(1);
      QVERIFY(m.kind == ModelKind::Teacher);
      QCOMPARE(q(m.path), QString("models/llama"));
      QCOMPARE(q(m.config_json), QString(R"({"hidden_size": 64})"));
      QCOMPARE(q(m.created), QString("2026-01-02T03:04:05Z"));
      QCOMPARE(q(m.name), QString());  // new column, empty for old rows
      PlanRecord p = store.get_plan(1);
      QCOMPARE(q(p.yaml), QString("default: mamba2"));
      QVERIFY(p.created.empty());  // unknown for old rows
      RunRecord r = store.get_run(1);
      QVERIFY(r.state == RunState::Finished);
      QCOMPARE(r.exit_code.value(), std::int64_t(0));
      QCOMPARE(q(r.checkpoint_dir), QString("runs/1"));
      QCOMPARE(q(r.message), QString());
      auto metrics = store.metrics_since(1, 0);
      QCOMPARE(int(metrics.size()), 2);
      QCOMPARE(metrics[1].value, 2.75);
      QCOMPARE(metrics[1].tokens, std::int64_t(81920));
      QVERIFY(!store.get_eval(1).run_id);
      QCOMPARE(q(store.list_notes("run:1").at(0).text), QString("first try"));
      // The new tables work on the migrated file.
      store.add_run_stage({1, 0, "kd", 0});
      store.add_recipe({0, "r", "stages: []"});
      QCOMPARE(store.counts().recipes, std::int64_t(1));
    }
    // Same columns as a project created by this build.
    auto fresh = ProjectStore::open(root_ + "/fresh", true);
    auto migrated_cols = columns(old_db), fresh_cols = columns(fresh.db_file());
    QCOMPARE(migrated_cols.size(), fresh_cols.size());
    for (auto& [table, cols] : fresh_cols) QCOMPARE(migrated_cols[table], cols);
  }

  void newerSchemaRefused() {
    { ProjectStore::open(root_ + "/p", true); }
    raw_exec(root_ + "/p/project.db", "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    try {
      ProjectStore::open(root_ + "/p", false);
      QFAIL("opened a newer schema");
    } catch (const hylo::StoreError& e) {
      QCOMPARE(q(e.file()), q(root_ + "/p/project.db"));
      QCOMPARE(q(e.field()), QString("meta.schema_version"));
      QVERIFY(q(e.reason()).contains("newer"));
    }
  }

  void foreignDatabaseRefused() {
    const std::string file = root_ + "/other.db";
    raw_exec(file, "CREATE TABLE songs(title TEXT)");
    QVERIFY(open_error(file, false, file).contains("not a HyLo project"));
  }

  void randomBytesRefused() {
    const std::string file = root_ + "/junk/project.db";
    fs::create_directories(root_ + "/junk");
    QFile f(q(file));
    QVERIFY(f.open(QIODevice::WriteOnly));
    QRandomGenerator rng(17);
    QByteArray bytes(8192, 0);
    for (auto& b : bytes) b = char(rng.bounded(256));
    f.write(bytes);
    f.close();
    QString msg = open_error(root_ + "/junk", false, file);
    QVERIFY2(msg.contains("not a database"), qPrintable(msg));
  }

  void truncatedFileRefused() {
    const std::string file = root_ + "/cut/project.db";
    {
      auto store = ProjectStore::open(root_ + "/cut", true);
      std::int64_t run = store.add_run({});
      std::vector<MetricRow> rows;
      for (int i = 0; i < 20000; ++i) rows.push_back({i, i * 4096, i * 0.1, i % 2 ? "loss" : "lr", 1.0 / (i + 1)});
      store.append_metrics(run, rows);
    }  // the last connection checkpoints the WAL into the file
    QVERIFY(!fs::exists(file + "-wal"));
    auto size = fs::file_size(file);
    QVERIFY(size > 200000);
    fs::resize_file(file, size / 2);
    QString msg = open_error(root_ + "/cut", false, file);
    QVERIFY2(msg != "opened" && !msg.startsWith("wrong file"), qPrintable(msg));
    QVERIFY2(msg.contains("malformed") || msg.contains("damaged"), qPrintable(msg));
  }

  void unusableLocationsRefused() {
    const std::string missing = root_ + "/nowhere";
    QVERIFY(open_error(missing, false, missing).contains("no such project folder"));
    QVERIFY(!fs::exists(missing));  // opening without create makes nothing
    fs::create_directories(root_ + "/empty");
    QVERIFY(open_error(root_ + "/empty", false, root_ + "/empty/project.db").contains("not a project folder"));
    // A folder below a regular file cannot be made.
    QFile(q(root_ + "/plain.txt")).open(QIODevice::WriteOnly);
    QVERIFY(open_error(root_ + "/plain.txt/sub", true, root_ + "/plain.txt/sub").contains("cannot create"));
    // A text file named as the database.
    { QFile t(q(root_ + "/notes.db")); t.open(QIODevice::WriteOnly); t.write("hello, this is not SQLite at all, padded to a page\n"); }
    QVERIFY(open_error(root_ + "/notes.db", false, root_ + "/notes.db").contains("not a database"));
  }

  void readOnlyFolderRefused() {
    if (geteuid() == 0) QSKIP("root writes to read-only folders");
    const std::string ro = root_ + "/ro";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    QString msg = open_error(ro, true, ro + "/project.db");
    fs::permissions(ro, fs::perms::owner_all);
    QVERIFY2(msg != "opened" && !msg.startsWith("wrong file"), qPrintable(msg));
  }

  void diskFullIsStoreError() {
    auto store = ProjectStore::open(root_ + "/full", true);
    std::int64_t run = store.add_run({});
    store.limit_size(256 * 1024);
    std::vector<MetricRow> rows;
    for (int i = 0; i < 20000; ++i) rows.push_back({i, i, 0.0, "loss", double(i)});
    try {
      store.append_metrics(run, rows);
      QFAIL("a batch past the size limit was written");
    } catch (const hylo::StoreError& e) {
      QCOMPARE(q(e.file()), q(store.db_file()));
      QCOMPARE(q(e.field()), QString("metrics"));
      QVERIFY2(q(e.reason()).contains("full"), e.what());
    }
    QCOMPARE(store.counts().metrics, std::int64_t(0));  // the batch rolled back as a whole
    store.append_metrics(run, {{1, 1, 0.0, "loss", 1.0}});  // and the store is still usable
    QCOMPARE(store.counts().metrics, std::int64_t(1));
  }

 private:
  std::unique_ptr<QTemporaryDir> dir_;
  std::string root_;
};

QTEST_GUILESS_MAIN(TestSchema)
#include "test_schema.moc"
