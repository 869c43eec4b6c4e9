// The real `hylo-workbench` executable (offscreen) given bad input on its command line: a corrupt
// project.db and a plan written for another model beside a good teacher, or a checkpoint folder
// that is not there. Each is said in its log, the process stays up with its window and what did
// load, and the plan file is left as it was.
#include <QDir>
#include <QFile>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/gui/tiny_training.h"
#include "tests/gui/workbench_driver.h"

using hylo::testing::WorkbenchDriver;

static const char* kLlama1B = R"({"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
  "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
  "head_dim": 64, "max_position_embeddings": 131072, "rope_theta": 500000.0, "tie_word_embeddings": true})";

// Starts the workbench with `args` and waits until its window is up with `layers` planner rows and
// has stayed up a moment longer (a crash after start-up would show by then).
static bool start_and_settle(WorkbenchDriver& wb, const QTemporaryDir& dir, const QStringList& args, int layers) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("HYLO_BIN", qEnvironmentVariable("HYLO_SOURCE_DIR") + "/tests/gui/fake/fake_hylo.sh");
  env.insert("XDG_CONFIG_HOME", dir.filePath("config"));
  if (!wb.start(qEnvironmentVariable("HYLO_BINARY_DIR") + "/app/hylo-workbench", args, env)) return false;
  if (!wb.wait_for(QString("the window is up with %1 layers in the planner").arg(layers), 30000,
                   [&](const QJsonObject& d) {
                     return WorkbenchDriver::has_rect(d["tabs"]["Model"]) && d["layers"].toArray().size() == layers;
                   }))
    return false;
  QTest::qWait(500);
  return wb.wait_for("the window is still up", 1000, [](const QJsonObject&) { return true; });
}

class TestWorkbenchProcess : public QObject {
  Q_OBJECT
 private slots:
  void corrupt_project_and_another_models_plan() {
    QTemporaryDir dir;
    const QString project = dir.filePath("corrupt"), plan = dir.filePath("qwen-plan.yaml"),
                  teacher = dir.filePath("Llama-3.2-1B");
    QVERIFY(QDir().mkpath(project) && QDir().mkpath(teacher));
    QVERIFY(hylo::testing::write_bytes(project + "/project.db", QByteArray(8192, '\x5a')));
    QVERIFY(hylo::testing::write_bytes(teacher + "/config.json", kLlama1B));
    const QByteArray plan_text = "num_layers: 28\ndefault: mamba2\nlayers: {3: mla}\n";
    QVERIFY(hylo::testing::write_bytes(plan, plan_text));
    WorkbenchDriver wb(dir.path(), dir.filePath("artefacts"), "bad_input_");
    QVERIFY2(start_and_settle(wb, dir, {"--project", project, "--checkpoint", teacher, "--plan", plan}, 16),
             qPrintable(wb.failure()));
    const QString log = wb.log();
    QVERIFY2(log.contains("Cannot open project") && log.contains(project + "/project.db"), qPrintable(log));
    QVERIFY2(log.contains("Cannot load plan") && log.contains("num_layers") &&
                 log.contains("Edits will not be saved to " + plan),
             qPrintable(log));
    QCOMPARE(wb.dump()["labels"]["est_name"].toString(), QString("16A"));  // the teacher's own plan stays
    QFile f(plan);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), plan_text);
  }

  void missing_checkpoint_folder() {
    QTemporaryDir dir;
    const QString missing = dir.filePath("no-such-checkpoint");
    WorkbenchDriver wb(dir.path(), dir.filePath("artefacts"), "bad_input_");
    QVERIFY2(start_and_settle(wb, dir, {"--checkpoint", missing}, 0), qPrintable(wb.failure()));
    QVERIFY2(wb.log().contains(missing), qPrintable(wb.log()));
  }
};

QTEST_MAIN(TestWorkbenchProcess)
#include "test_workbench_process.moc"
