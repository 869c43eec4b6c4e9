// ProjectStore records: every table round-trips, paths are stored relative to the project,
// run states only move forward, and bad input is a StoreError naming project.db and the field.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/spec/error.h"
#include "projects/store/project_store.h"

using namespace hylo::store;
namespace fs = std::filesystem;

namespace {
QString q(const std::string& s) { return QString::fromStdString(s); }

// Runs `fn`, expects a StoreError naming `file` and `field`.
template <typename Fn>
void expect_store_error(Fn fn, const std::string& file, const std::string& field) {
  try {
    fn();
  } catch (const hylo::StoreError& e) {
    QCOMPARE(q(e.file()), q(file));
    QCOMPARE(q(e.field()), q(field));
    return;
  }
  QFAIL(qPrintable("no StoreError for field " + q(field)));
}
}  // namespace

class TestRecords : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    folder_ = dir_->path().toStdString() + "/proj";
  }

  void modelsRoundTrip() {
    auto store = ProjectStore::open(folder_, true);
    ModelRecord teacher{0, ModelKind::Teacher, "llama-1b", folder_ + "/models/llama", R"({"hidden_size": 2048})", ""};
    std::int64_t id = store.add_model(teacher);
    ModelRecord got = store.get_model(id);
    QCOMPARE(got.id, id);
    QVERIFY(got.kind == ModelKind::Teacher);
    QCOMPARE(q(got.name), QString("llama-1b"));
    QCOMPARE(q(got.path), QString("models/llama"));  // inside the project: stored relative
    QCOMPARE(q(got.config_json), q(teacher.config_json));
    QVERIFY(!got.created.empty());
    QCOMPARE(q(store.resolve_path(got.path)), q(folder_ + "/models/llama"));
    QVERIFY(!store.path_exists(got.path));  // a missing checkpoint is reported, not fatal
    fs::create_directories(folder_ + "/models/llama");
    QVERIFY(store.path_exists(got.path));

    std::string outside = dir_->path().toStdString() + "/elsewhere/ckpt";
    ModelRecord student{0, ModelKind::Student, "s", outside, "{}", ""};
    std::int64_t sid = store.add_model(student);
    QCOMPARE(q(store.get_model(sid).path), q(outside));  // outside: stays absolute

    got.kind = ModelKind::Checkpoint;
    got.name = "renamed";
    got.config_json = "{\"a\": 1}";
    store.update_model(got);  // the stored relative path goes back in unchanged
    ModelRecord again = store.get_model(id);
    QVERIFY(again.kind == ModelKind::Checkpoint);
    QCOMPARE(q(again.name), QString("renamed"));
    QCOMPARE(q(again.path), QString("models/llama"));
    QCOMPARE(q(again.created), q(got.created));

    auto all = store.list_models();
    QCOMPARE(int(all.size()), 2);
    QCOMPARE(all[0].id, id);
    QCOMPARE(all[1].id, sid);
  }

  void badInputNamesField() {
    auto store = ProjectStore::open(folder_, true);
    const std::string db = store.db_file();
    QCOMPARE(q(db), q(folder_ + "/project.db"));
    expect_store_error([&] { store.get_model(42); }, db, "models");
    expect_store_error([&] { store.add_model({0, ModelKind::Teacher, "t", "m", "{not json", ""}); }, db,
                       "models.config_json");
    std::int64_t m = store.add_model({0, ModelKind::Teacher, "t", "m", "{}", ""});
    expect_store_error([&] { store.add_eval({0, m, std::nullopt, EvalKind::Niah, "{}", "[1,", ""}); }, db,
                       "evals.result_json");
    expect_store_error([&] { store.add_plan({0, 999, "p", "layers: {}", "", ""}); }, db, "plans");  // no model 999
    expect_store_error([&] { store.update_recipe({7, "r", "x"}); }, db, "recipes");
    expect_store_error([&] { store.update_note(3, "x"); }, db, "notes");
    QCOMPARE(store.counts().plans, std::int64_t(0));
  }

  void plansAndRecipesRoundTrip() {
    auto store = ProjectStore::open(folder_, true);
    std::int64_t m = store.add_model({0, ModelKind::Teacher, "t", "models/t", "{}", ""});
    std::int64_t p = store.add_plan({0, m, "4mla", "default: mamba2\nlayers: {1: mla}\n", "", ""});
    std::int64_t loose = store.add_plan({0, std::nullopt, "draft", "default: gdn\n", "", ""});
    PlanRecord got = store.get_plan(p);
    QCOMPARE(got.model_id.value(), m);
    QCOMPARE(q(got.yaml), QString("default: mamba2\nlayers: {1: mla}\n"));
    QVERIFY(!got.created.empty() && !got.updated.empty());
    QVERIFY(!store.get_plan(loose).model_id);
    got.yaml = "default: gdn\n";
    got.model_id.reset();
    store.update_plan(got);
    PlanRecord again = store.get_plan(p);
    QCOMPARE(q(again.yaml), QString("default: gdn\n"));
    QVERIFY(!again.model_id);
    QVERIFY(again.updated >= again.created);
    QCOMPARE(int(store.list_plans().size()), 2);

    std::int64_t r = store.add_recipe({0, "kd-8k", "stages: []\n"});
    store.update_recipe({r, "kd-8k-v2", "stages: [{kind: kd}]\n"});
    RecipeRecord rec = store.get_recipe(r);
    QCOMPARE(q(rec.name), QString("kd-8k-v2"));
    QCOMPARE(q(rec.yaml), QString("stages: [{kind: kd}]\n"));
    QCOMPARE(int(store.list_recipes().size()), 1);
  }

  void runStatesMoveForward() {
    auto store = ProjectStore::open(folder_, true);
    const std::string db = store.db_file();
    RunRecord spec;
    spec.name = "kd";
    spec.recipe_yaml = "stages: []\n";
    spec.state = RunState::Finished;  // ignored: new runs are queued
    spec.checkpoint_dir = folder_ + "/runs/1";
    std::int64_t id = store.add_run(spec);
    RunRecord r = store.get_run(id);
    QVERIFY(r.state == RunState::Queued);
    QCOMPARE(q(r.checkpoint_dir), QString("runs/1"));
    QVERIFY(!r.pid && r.started.empty() && !r.exit_code);

    store.mark_run_started(id, 4242, "hylo train --recipe r.yaml");
    r = store.get_run(id);
    QVERIFY(r.state == RunState::Running);
    QCOMPARE(r.pid.value(), std::int64_t(4242));
    QCOMPARE(q(r.command), QString("hylo train --recipe r.yaml"));
    QVERIFY(!r.started.empty() && r.ended.empty());
    expect_store_error([&] { store.mark_run_started(id, 1, "again"); }, db, "runs.state");
    expect_store_error([&] { store.mark_run_ended(id, RunState::Running, 0, ""); }, db, "runs.state");

    store.set_run_checkpoint_dir(id, "runs/1/step-500");
    store.mark_run_ended(id, RunState::Failed, 3, "CUDA out of memory");
    r = store.get_run(id);
    QVERIFY(r.state == RunState::Failed);
    QCOMPARE(r.exit_code.value(), std::int64_t(3));
    QCOMPARE(q(r.message), QString("CUDA out of memory"));
    QCOMPARE(q(r.checkpoint_dir), QString("runs/1/step-500"));
    QVERIFY(!r.ended.empty());
    expect_store_error([&] { store.mark_run_ended(id, RunState::Stopped, std::nullopt, ""); }, db, "runs.state");

    std::int64_t cancelled = store.add_run({});
    store.mark_run_ended(cancelled, RunState::Stopped, std::nullopt, "cancelled before start");
    QVERIFY(store.get_run(cancelled).state == RunState::Stopped);
    QVERIFY(!store.get_run(cancelled).exit_code);
    expect_store_error([&] { store.mark_run_started(77, 1, ""); }, db, "runs");
    QCOMPARE(int(store.list_runs().size()), 2);
  }

  void stagesRoundTrip() {
    auto store = ProjectStore::open(folder_, true);
    std::int64_t run = store.add_run({});
    store.add_run_stage({run, 1, "kd", 1200});
    store.add_run_stage({run, 0, "ild", 0});
    auto stages = store.run_stages(run);
    QCOMPARE(int(stages.size()), 2);
    QCOMPARE(q(stages[0].kind), QString("ild"));
    QCOMPARE(stages[1].start_step, std::int64_t(1200));
    expect_store_error([&] { store.add_run_stage({run, 1, "long", 9}); }, store.db_file(), "run_stages");
    expect_store_error([&] { store.add_run_stage({run + 1, 0, "ild", 0}); }, store.db_file(), "runs");
  }

  void metricsRoundTrip() {
    auto store = ProjectStore::open(folder_, true);
    std::int64_t a = store.add_run({});
    std::int64_t b = store.add_run({});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<MetricRow> rows = {{1, 4096, 0.5, "loss", 11.25},
                                   {1, 4096, 0.5, "lr", 2e-4},
                                   {2, 8192, 1.0, "loss", nan},  // a diverged step is still data
                                   {3, 12288, 1.5, "grad_norm", inf},
                                   {3, 12288, 1.5, "loss", -0.125}};
    store.append_metrics(a, rows);
    store.append_metrics(b, {{7, 1, 0.1, "loss", 3.0}});
    auto got = store.metrics_since(a, 0);
    QCOMPARE(int(got.size()), int(rows.size()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QCOMPARE(got[i].run_id, a);
      QCOMPARE(got[i].step, rows[i].step);
      QCOMPARE(got[i].tokens, rows[i].tokens);
      QCOMPARE(got[i].wall_s, rows[i].wall_s);
      QCOMPARE(q(got[i].name), q(rows[i].name));
      if (std::isnan(rows[i].value))
        QVERIFY(std::isnan(got[i].value));
      else
        QCOMPARE(got[i].value, rows[i].value);
      if (i > 0) QVERIFY(got[i].id > got[i - 1].id);
    }
    QVERIFY(store.metrics_since(a, got.back().id).empty());
    auto tail = store.metrics_since(a, got[2].id);
    QCOMPARE(int(tail.size()), 2);
    QCOMPARE(tail[0].id, got[3].id);
    QCOMPARE(int(store.metrics_since(b, 0).size()), 1);

    auto names = store.metric_names(a);
    QCOMPARE(int(names.size()), 3);
    QCOMPARE(q(names[0]), QString("grad_norm"));
    QCOMPARE(q(names[1]), QString("loss"));
    QCOMPARE(q(names[2]), QString("lr"));

    auto summaries = store.run_summaries();
    QCOMPARE(int(summaries.size()), 2);
    QCOMPARE(summaries[0].last_step.value(), std::int64_t(3));
    QCOMPARE(summaries[0].last_loss.value(), -0.125);
    QCOMPARE(summaries[1].last_step.value(), std::int64_t(7));
    std::int64_t empty = store.add_run({});
    QVERIFY(!store.run_summaries()[2].last_step && !store.run_summaries()[2].last_loss);

    // A bad row rejects the whole batch.
    expect_store_error([&] { store.append_metrics(a, {{4, 1, 2.0, "loss", 1.0}, {4, 1, 2.0, "", 1.0}}); },
                       store.db_file(), "metrics.name");
    expect_store_error([&] { store.append_metrics(empty + 10, {{4, 1, 2.0, "loss", 1.0}}); }, store.db_file(),
                       "runs");
    QCOMPARE(store.counts().metrics, std::int64_t(rows.size() + 1));
  }

  void evalsAndNotesRoundTrip() {
    auto store = ProjectStore::open(folder_, true);
    std::int64_t m = store.add_model({0, ModelKind::Student, "s", "students/s", "{}", ""});
    std::int64_t run = store.add_run({});
    std::int64_t e1 = store.add_eval({0, m, run, EvalKind::Niah, R"({"lengths": [4096, 8192]})",
                                      R"({"cells": [[1.0, 0.5]]})", ""});
    std::int64_t e2 = store.add_eval({0, m, std::nullopt, EvalKind::Probe, "{}", "{}", ""});
    EvalRecord got = store.get_eval(e1);
    QCOMPARE(got.model_id, m);
    QCOMPARE(got.run_id.value(), run);
    QVERIFY(got.kind == EvalKind::Niah);
    QCOMPARE(q(got.params_json), QString(R"({"lengths": [4096, 8192]})"));
    QCOMPARE(q(got.result_json), QString(R"({"cells": [[1.0, 0.5]]})"));
    QVERIFY(!got.created.empty());
    QVERIFY(!store.get_eval(e2).run_id);
    QCOMPARE(int(store.list_evals().size()), 2);

    std::int64_t n1 = store.add_note("run:1", "loss spikes at step 300");
    store.add_note("model:1", "teacher");
    store.update_note(n1, "loss spikes at step 300: lr too high");
    auto notes = store.list_notes("run:1");
    QCOMPARE(int(notes.size()), 1);
    QCOMPARE(q(notes[0].text), QString("loss spikes at step 300: lr too high"));
    QVERIFY(!notes[0].created.empty());
    QCOMPARE(int(store.list_notes("").size()), 2);
  }

  void reopenKeepsEverything() {
    std::int64_t run;
    {
      auto store = ProjectStore::open(folder_, true);
      store.add_model({0, ModelKind::Teacher, "t", "models/t", "{}", ""});
      run = store.add_run({});
      store.append_metrics(run, {{1, 1, 0.1, "loss", 2.5}});
      store.add_note("run:1", "n");
    }
    auto store = ProjectStore::open(folder_ + "/project.db", false);  // the file works as well as the folder
    QCOMPARE(q(store.folder()), q(folder_));
    ProjectCounts c = store.counts();
    QCOMPARE(c.models, std::int64_t(1));
    QCOMPARE(c.runs, std::int64_t(1));
    QCOMPARE(c.metrics, std::int64_t(1));
    QCOMPARE(c.notes, std::int64_t(1));
    QCOMPARE(c.plans + c.recipes + c.evals, std::int64_t(0));
    QCOMPARE(store.metrics_since(run, 0).at(0).value, 2.5);
  }

 private:
  std::unique_ptr<QTemporaryDir> dir_;
  std::string folder_;
};

QTEST_GUILESS_MAIN(TestRecords)
#include "test_records.moc"
