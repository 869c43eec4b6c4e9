// MainWindow with every view: bad input is reported and loses nothing else. A corrupt project.db
// leaves the open project, its curves and runs in place; a plan for another model (as a file, or
// stored in the project) is refused while the plan being edited stays, and a plan file that does
// not load is never overwritten by the autosave; a trainer that dies is
// shown failed in Runs while the planner, the curves and the project keep working.
#include <QFile>
#include <QMessageBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/spec/plan.h"
#include "projects/store/project_store.h"
#include "tests/gui/screenshot.h"
#include "views/curves_view.h"
#include "views/layer_plan_model.h"
#include "views/log_panel.h"
#include "views/main_window.h"
#include "views/memory_view.h"
#include "views/planner_view.h"
#include "views/runs_view.h"
#include "views/train_process.h"

using namespace hylo;
using namespace hylo::views;

static const char* kLlama1B = R"({"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
  "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
  "head_dim": 64, "max_position_embeddings": 131072, "rope_theta": 500000.0, "tie_word_embeddings": true})";

static bool write_file(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

static void close_dialogs(QWidget& w) {
  for (QMessageBox* b : w.findChildren<QMessageBox*>()) b->close();
}

class TestMainWindow : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::int64_t run_ = 0;

  QString teacher() const { return dir_.filePath("Llama-3.2-1B"); }
  QString project() const { return dir_.filePath("project"); }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("HyLoTest");
    QCoreApplication::setApplicationName("test_main_window");
    qputenv("HYLO_BIN", qgetenv("HYLO_SOURCE_DIR") + "/tests/gui/fake/fake_hylo.sh");
    QVERIFY(QDir().mkpath(teacher()));
    QVERIFY(write_file(teacher() + "/config.json", kLlama1B));
    auto s = store::ProjectStore::open(project().toStdString(), true);
    store::RunRecord r;
    r.name = "4MLA12M2-kd";
    run_ = s.add_run(r);
    s.mark_run_started(run_, 1, "hylo train");
    std::vector<store::MetricRow> rows;
    for (int i = 1; i <= 50; ++i) rows.push_back({i, i * 2048, 0.5 * i, "loss", 4.0 / i});
    s.append_metrics(run_, rows);
    s.mark_run_ended(run_, store::RunState::Finished, 0, "");
    store::PlanRecord other;
    other.name = "qwen3-plan";
    other.yaml = "num_layers: 28\ndefault: mamba2\nlayers: {3: mla}\n";  // written for a 28-layer model
    s.add_plan(other);
    store::PlanRecord fits;
    fits.name = "quarter-mla";
    fits.yaml = "default: mamba2\nlayers: {0: mla, 5: mla, 10: mla, 15: mla}\n";
    s.add_plan(fits);
  }

  void corrupt_project_keeps_the_open_one() {
    MainWindow w;
    QVERIFY(w.open_project(project(), false));
    QVERIFY(w.open_checkpoint(teacher()));
    QTRY_VERIFY(w.curves()->series(run_, "loss") && w.curves()->series(run_, "loss")->size() == 50);
    QCOMPARE(w.runs()->table()->rowCount(), 1);
    const QString bad = dir_.filePath("corrupt");
    QVERIFY(QDir().mkpath(bad));
    QVERIFY(write_file(bad + "/project.db", QByteArray(8192, '\x5a')));
    const int errors = w.log()->error_count();
    QVERIFY(!w.open_project(bad, false));
    QCOMPARE(w.log()->error_count(), errors + 1);
    const auto boxes = w.findChildren<QMessageBox*>();
    QCOMPARE(boxes.size(), 1);
    QVERIFY2(boxes.first()->text().contains("project.db"), qPrintable(boxes.first()->text()));
    close_dialogs(w);
    QCOMPARE(QString::fromStdString(w.project()->folder()), QDir(project()).absolutePath());
    QCOMPARE(w.curves()->series(run_, "loss")->size(), std::size_t(50));
    QCOMPARE(w.runs()->table()->rowCount(), 1);
  }

  void plan_for_another_model_is_refused_and_the_edit_kept() {
    MainWindow w;
    QVERIFY(w.open_checkpoint(teacher()));
    QVERIFY(w.open_project(project(), false));
    // The project's plan for a 28-layer model is named in the log; the one that fits is charted.
    QVERIFY(w.log()->toPlainText().contains("qwen3-plan"));
    QVERIFY(w.log()->toPlainText().contains("num_layers"));
    w.planner()->model()->assign({2}, MixerKind::MLA);
    const PlanState edited = w.planner()->model()->state();
    QCOMPARE(w.log()->toPlainText().count("does not apply"), 1);  // said once, not on every edit
    QStringList names;
    for (int r = 0; r < w.memory()->table()->rowCount(); ++r) names << w.memory()->table()->item(r, 0)->text();
    QVERIFY2(names.size() == 3 && names.contains("quarter-mla") && names[1].contains("1MLA"), qPrintable(names.join("; ")));

    const QString other = dir_.filePath("qwen-plan.yaml");
    QVERIFY(write_file(other, "num_layers: 28\ndefault: mamba2\nlayers: {3: mla}\n"));
    const int errors = w.log()->error_count();
    w.planner()->load_plan(other);
    QCOMPARE(w.log()->error_count(), errors + 1);
    QCOMPARE(w.findChildren<QMessageBox*>().size(), 1);
    close_dialogs(w);
    QVERIFY(w.planner()->model()->state() == edited);
    QCOMPARE(w.memory()->table()->rowCount(), 3);
  }

  void plan_file_for_another_model_is_not_overwritten() {
    MainWindow w;
    QVERIFY(w.open_checkpoint(teacher()));
    const QString other = dir_.filePath("qwen-autosave.yaml");
    const QByteArray text = "num_layers: 28\ndefault: mamba2\nlayers: {3: mla}\n";
    QVERIFY(write_file(other, text));
    const int errors = w.log()->error_count();
    w.set_plan_file(other);
    close_dialogs(w);
    QCOMPARE(w.log()->error_count(), errors + 2);  // why it did not load, and that edits stay unsaved
    QVERIFY(w.log()->toPlainText().contains("Edits will not be saved to " + other));
    w.planner()->model()->assign({5}, MixerKind::GDN);
    QFile f(other);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), text);
    // A plan file that loads is saved after each edit.
    const QString fits = dir_.filePath("autosave.yaml");
    QVERIFY(write_file(fits, "default: attention\nlayers: {0: mla}\n"));
    w.set_plan_file(fits);
    QCOMPARE(w.planner()->model()->kind(0), MixerKind::MLA);
    w.planner()->model()->assign({5}, MixerKind::GDN);
    const LayerPlan saved = LayerPlan::load(fits.toStdString());
    QVERIFY(saved.kind_of(0) == MixerKind::MLA && saved.kind_of(5) == MixerKind::GDN &&
            saved.kind_of(1) == MixerKind::Attention);
  }

  void dying_trainer_is_shown_and_the_rest_keeps_working() {
    qputenv("FAKE_TRAIN", "die");
    MainWindow w;
    w.resize(1400, 900);
    QVERIFY(w.open_checkpoint(teacher()));
    QVERIFY(w.open_project(project(), false));
    w.planner()->model()->assign({4}, MixerKind::GDN);
    const PlanState edited = w.planner()->model()->state();
    auto s = store::ProjectStore::open(project().toStdString(), false);
    store::RunRecord r;
    r.name = "dies";
    const std::int64_t run = s.add_run(r);
    s.mark_run_started(run, 2, "hylo train");
    qputenv("FAKE_RUN", QByteArray::number(qlonglong(run)));
    w.runs()->set_student_dir(dir_.filePath("student"));
    w.runs()->set_out_dir(dir_.filePath("runs/dies"));
    QVERIFY(w.runs()->start(false));
    QTRY_VERIFY(!w.runs()->trainer()->running());
    QTRY_COMPARE(w.findChildren<QMessageBox*>().size(), 1);
    QVERIFY(w.findChildren<QMessageBox*>().first()->text().contains("shard 3 is truncated"));
    w.tabs()->setCurrentWidget(w.runs());
    save_screenshot(&w, "main_window_trainer_died");
    close_dialogs(w);
    QCOMPARE(s.get_run(run).state, store::RunState::Failed);
    QTRY_COMPARE(w.runs()->table()->rowCount(), 2);
    QVERIFY(w.planner()->model()->state() == edited);
    QCOMPARE(w.curves()->series(run_, "loss")->size(), std::size_t(50));
    // The project still takes new rows, and the curves still show them.
    s.append_metrics(run, {{4, 8192, 4.0, "loss", 2.5}});
    QTRY_VERIFY(w.curves()->series(run, "loss") && w.curves()->series(run, "loss")->size() == 1);
    qunsetenv("FAKE_TRAIN");
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
