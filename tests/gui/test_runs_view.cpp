// RunsView with a fake `hylo` (tests/gui/fake/fake_hylo.sh): the device list comes from
// `hylo devices --json`; a trainer that dies is shown failed with its error and recorded so in the
// store; one killed by a signal (no exit code, no error event) is shown crashed and recorded failed
// with its last stderr line; Stop sends SIGTERM, the trainer checkpoints and the run is recorded stopped; a damaged
// project is reported.
#include <QComboBox>
#include <QFile>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "projects/store/project_store.h"
#include "tests/gui/screenshot.h"
#include "views/runs_view.h"
#include "views/train_process.h"

using namespace hylo;
using namespace hylo::views;

static std::int64_t running_run(store::ProjectStore& s) {
  store::RunRecord r;
  r.name = "4MLA12M2-kd";
  const std::int64_t id = s.add_run(r);
  s.mark_run_started(id, 4242, "hylo train");
  return id;
}

// A new project holding one running run, with the fake trainer told to act as `mode`
// (tests/gui/fake/fake_hylo.sh: die, crash, slow).
struct FakeRunProject {
  QTemporaryDir dir;
  store::ProjectStore store = store::ProjectStore::open(dir.path().toStdString(), true);
  std::int64_t run = running_run(store);

  explicit FakeRunProject(const char* mode) {
    qputenv("FAKE_RUN", QByteArray::number(qlonglong(run)));
    qputenv("FAKE_TRAIN", mode);
  }
  // Opens the project in `view` with a student folder inside it.
  bool open_in(RunsView& view) {
    if (!view.set_project(dir.path())) return false;
    view.set_student_dir(dir.filePath("student"));
    return true;
  }
};

class TestRunsView : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    qputenv("HYLO_BIN", qgetenv("HYLO_SOURCE_DIR") + "/tests/gui/fake/fake_hylo.sh");
  }

  void devices_come_from_hylo_devices() {
    RunsView view;
    view.refresh_devices();
    QTRY_COMPARE(view.devices()->count(), 2);
    QCOMPARE(view.devices()->itemData(1).toString(), QString("cuda:0"));
    QVERIFY(view.devices()->itemText(1).contains("Fake H100"));
    QVERIFY(view.devices()->itemText(0).contains("8.00 GiB"));
  }

  void a_dying_trainer_shows_failed_with_its_message() {
    FakeRunProject p("die");
    RunsView view;
    view.resize(1200, 700);
    QSignalSpy errors(&view, &RunsView::error_occurred);
    QVERIFY(p.open_in(view));
    QVERIFY(view.start(false));
    QTRY_COMPARE(errors.size(), 1);
    QVERIFY(errors[0][1].toString().contains("shard 3 is truncated"));
    QVERIFY(errors[0][1].toString().contains("exited with 3"));
    // Recorded in the store and shown in the table.
    const store::RunRecord r = p.store.get_run(p.run);
    QCOMPARE(r.state, store::RunState::Failed);
    QCOMPARE(r.exit_code.value_or(-1), 3);
    QVERIFY(QString::fromStdString(r.message).contains("shard 3 is truncated"));
    QCOMPARE(view.table()->rowCount(), 1);
    QCOMPARE(view.table()->item(0, 2)->text(), QString("failed"));
    QVERIFY(view.table()->item(0, 7)->text().contains("shard 3 is truncated"));
    QVERIFY(view.status_text().contains("shard 3 is truncated"));
    QVERIFY(view.run_log()->toPlainText().contains("stage 0 (kd)"));
    // The recipe the run was started with lies beside its checkpoints.
    QVERIFY(QFile::exists(p.dir.filePath("runs/run-1/recipe.yaml")));
    save_screenshot(&view, "runs_failed");
  }

  void a_killed_trainer_shows_crashed_and_is_recorded_failed() {
    FakeRunProject p("crash");
    RunsView view;
    QSignalSpy errors(&view, &RunsView::error_occurred);
    QVERIFY(p.open_in(view));
    QVERIFY(view.start(false));
    QTRY_COMPARE(errors.size(), 1);
    qunsetenv("FAKE_TRAIN");
    const QString why = errors[0][1].toString();
    QVERIFY2(why.contains("crashed") && why.contains("allocating the step's activations"), qPrintable(why));
    QCOMPARE(view.trainer()->step(), std::int64_t(2));
    const store::RunRecord r = p.store.get_run(p.run);
    QCOMPARE(r.state, store::RunState::Failed);
    QVERIFY(!r.exit_code.has_value());  // killed: there is no exit code to record
    QVERIFY2(QString::fromStdString(r.message) == why, r.message.c_str());
    QCOMPARE(view.table()->item(0, 2)->text(), QString("failed"));
    QVERIFY(view.status_text().contains("crashed"));
    QVERIFY(view.start_button()->isEnabled());  // a new run can start
  }

  void stop_sends_sigterm_and_records_stopped() {
    FakeRunProject p("slow");
    RunsView view;
    QSignalSpy errors(&view, &RunsView::error_occurred);
    QVERIFY(p.open_in(view));
    QVERIFY(view.start(false));
    QTRY_VERIFY(view.trainer()->step() >= 2);
    QVERIFY(view.trainer()->eta_s().has_value());
    view.stop();
    QTRY_VERIFY(!view.trainer()->running());
    QVERIFY(view.run_log()->toPlainText().contains("checkpoint at step 2"));
    QCOMPARE(p.store.get_run(p.run).state, store::RunState::Stopped);
    QCOMPARE(errors.size(), 0);
  }

  // Resume starts the trainer again on the same output folder with --resume (the trainer then
  // continues from its newest checkpoint there; tests/core/test_train.cpp checks that part).
  void resume_restarts_on_the_same_folder() {
    FakeRunProject p("slow");
    RunsView view;
    QVERIFY(p.open_in(view));
    QVERIFY(view.start(false));
    QTRY_VERIFY(view.trainer()->step() >= 2);
    const QString first = view.run_log()->toPlainText().section('\n', 0, 0);
    QVERIFY(!first.contains("--resume"));
    view.stop();
    QTRY_VERIFY(!view.trainer()->running());
    QVERIFY(view.start(true));
    QVERIFY(!view.start(true));  // one trainer at a time
    const QString again = view.run_log()->toPlainText().section('\n', 0, 0);
    QVERIFY2(again.endsWith("--resume"), qPrintable(again));
    QCOMPARE(again.chopped(QStringLiteral(" --resume").size()), first);  // same recipe, student, folder
    QVERIFY(view.status_text().contains("Resuming"));
    QTRY_VERIFY(view.trainer()->step() >= 2);
    view.stop();
    QTRY_VERIFY(!view.trainer()->running());
  }

  void damaged_project_is_reported() {
    QTemporaryDir dir;
    QFile f(dir.filePath("project.db"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, '\x7f'));
    f.close();
    RunsView view;
    QSignalSpy errors(&view, &RunsView::error_occurred);
    QVERIFY(!view.set_project(dir.path()));
    QCOMPARE(errors.size(), 1);
    QVERIFY(!view.start(false));
  }
};

QTEST_MAIN(TestRunsView)
#include "test_runs_view.moc"
