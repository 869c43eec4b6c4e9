// End to end under a real X server (ctest runs it through xvfb-run, QT_QPA_PLATFORM=xcb), all in
// the real `hylo-workbench` process, driven with real X input (xdotool) aimed through its
// --automation-dump snapshot (views/automation_dump.h):
// 1. A mouse drag of `MLA` from the palette onto layer 3: the plan file the process saves has MLA
//    at layer 3 and nothing else changed, and the KV estimate label (est_kv) shows the saved plan's
//    per-token cache over the teacher's, counted here by hand.
// 2. A click on the Runs tab's Start button runs the real `hylo train` on a tiny random Llama (CPU,
//    pretrain stage); the Curves tab's loss curve grows while it trains, the run ends finished in
//    the view and in the project store, and the stored loss falls.
// Screenshots of the window on every tab go to $HYLO_BINARY_DIR/screenshots/e2e_*.png (and the
// screen where a step fails to e2e_failure.png).
#include <QDir>
#include <QFile>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QtTest>

#include "core/spec/error.h"
#include "core/spec/plan.h"
#include "projects/store/project_store.h"
#include "tests/gui/tiny_training.h"
#include "tests/gui/workbench_driver.h"

using namespace hylo;
using testing::WorkbenchDriver;

static const char* kLlama1B = R"({"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
  "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
  "head_dim": 64, "max_position_embeddings": 131072, "rope_theta": 500000.0, "tie_word_embeddings": true})";
static constexpr int kSteps = 300;

// Per-token cache elements: attention keeps K and V (2 * Hkv * d), MLA its latent and RoPE key.
static double kv_per_token(const ModelConfig& c) {
  std::int64_t n = 0;
  for (const LayerSpec& l : c.layers) {
    if (l.kind == MixerKind::Attention) n += 2 * l.attention.num_kv_heads * l.attention.head_dim;
    if (l.kind == MixerKind::MLA) n += l.mla.kv_lora_rank + l.mla.qk_rope_head_dim;
  }
  return double(n);
}

class TestE2E : public QObject {
  Q_OBJECT
 private slots:
  void drag_mla_and_train_in_the_workbench_process() {
    if (QGuiApplication::platformName() != QLatin1String("xcb"))
      QSKIP("needs a real X server: ctest runs this through xvfb-run with QT_QPA_PLATFORM=xcb");
    QTemporaryDir dir;
    const QString teacher = dir.filePath("Llama-3.2-1B"), project = dir.filePath("project"),
                  plan_file = dir.filePath("plan.yaml"), tiny = dir.filePath("tiny-llama"),
                  data = dir.filePath("tiny-data"), recipe = dir.filePath("recipe.yaml");
    QVERIFY(QDir().mkpath(teacher));
    QVERIFY(testing::write_bytes(teacher + "/config.json", kLlama1B));
    QVERIFY(testing::write_tiny_llama(tiny, 3));
    QVERIFY(testing::write_tiny_data(data, 200, 4));
    QVERIFY(testing::write_bytes(recipe, QStringLiteral(
        "teacher: %1\ndata: {train: %2, seed: 5}\ncheckpoint: {every: 100, keep: 1}\n"
        "stages:\n  - {kind: pretrain, seq_len: 16, steps: %3, lr: 1e-2, train: all, warmup: 0}\n")
        .arg(tiny, data).arg(kSteps).toUtf8()));
    // An earlier run that died: the Runs table lists it beside the new one.
    {
      auto store = store::ProjectStore::open(project.toStdString(), true);
      store::RunRecord rec;
      rec.name = "died-early";
      const std::int64_t run = store.add_run(rec);
      store.mark_run_started(run, 1, "hylo train");
      store.mark_run_ended(run, store::RunState::Failed, 1, "stages[0].data: shard 3 is truncated");
    }

    const QString bin = qEnvironmentVariable("HYLO_BINARY_DIR") + "/app";
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HYLO_BIN", bin + "/hylo");
    env.insert("XDG_CONFIG_HOME", dir.filePath("config"));  // its recent-files list stays in the test folder
    WorkbenchDriver wb(dir.path(), qEnvironmentVariable("HYLO_BINARY_DIR", QDir::tempPath()) + "/screenshots", "e2e_");
    QVERIFY2(wb.start(bin + "/hylo-workbench",
                      {"--project", project, "--checkpoint", teacher, "--plan", plan_file, "--recipe", recipe,
                       "--student", tiny, "--run-dir", dir.filePath("runs/tiny")},
                      env),
             qPrintable(wb.failure()));
    QVERIFY2(wb.wait_for("the window shows its Planner tab button", 30000,
                         [](const QJsonObject& d) { return WorkbenchDriver::has_rect(d["tabs"]["Planner"]); }),
             qPrintable(wb.failure()));
    QVERIFY2(wb.screenshot("start"), qPrintable(wb.failure()));

    // 1. Drag MLA onto layer 3.
    QVERIFY2(wb.open_tab("Planner"), qPrintable(wb.failure()));
    QVERIFY2(wb.wait_for("the palette's MLA item and layer 3 are on screen, the teacher's 16 layers loaded", 10000,
                         [](const QJsonObject& d) {
                           const QJsonArray layers = d["layers"].toArray();
                           return WorkbenchDriver::has_rect(d["palette"]["MLA"]) && layers.size() == 16 &&
                                  WorkbenchDriver::has_rect(layers[3]["rect"]);
                         }),
             qPrintable(wb.failure()));
    const QJsonObject before = wb.dump();
    const QString est_kv_before = before["labels"]["est_kv"].toString();
    QVERIFY2(est_kv_before.contains("100.0%"), qPrintable(est_kv_before));  // the teacher's own plan
    QVERIFY2(!QFile::exists(plan_file), "the plan is saved after an edit, not before");
    QVERIFY2(wb.drag(WorkbenchDriver::center(before["palette"]["MLA"]),
                     WorkbenchDriver::center(before["layers"][3]["rect"])),
             qPrintable(wb.failure()));

    const ModelConfig teacher_config = ModelConfig::load(teacher.toStdString());
    LayerPlan saved;
    QVERIFY2(wb.wait_for("the process saves the plan with MLA at layer 3", 10000,
                         [&](const QJsonObject&) {
                           try {
                             saved = LayerPlan::load(plan_file.toStdString());
                           } catch (const hylo::Error&) {
                             return false;  // not there yet, or half-written
                           }
                           return saved.kind_of(3) == MixerKind::MLA;
                         }),
             qPrintable(wb.failure()));
    const ModelConfig student = saved.resolve(teacher_config);
    for (int layer = 0; layer < 16; ++layer)
      QCOMPARE(student.layers[std::size_t(layer)].kind, layer == 3 ? MixerKind::MLA : MixerKind::Attention);
    const QString want = QString::number(100.0 * kv_per_token(student) / kv_per_token(teacher_config), 'f', 1) + "%";
    QVERIFY2(wb.wait_for("est_kv shows the saved plan's KV share " + want + " and the stack MLA at layer 3", 10000,
                         [&](const QJsonObject& d) {
                           return d["labels"]["est_kv"].toString().contains(want) &&
                                  d["labels"]["est_name"].toString().contains("1MLA") &&
                                  d["layers"][3]["kind"] == "mla" && d["layers"][2]["kind"] == "attention";
                         }),
             qPrintable(wb.failure()));
    QVERIFY2(wb.screenshot("planner_after_drag"), qPrintable(wb.failure()));

    // 2. Start a tiny CPU run with the Start button; follow its curve.
    QVERIFY2(wb.open_tab("Runs"), qPrintable(wb.failure()));
    QVERIFY2(wb.wait_for("the Start button is on screen and enabled", 10000,
                         [](const QJsonObject& d) {
                           return WorkbenchDriver::has_rect(d["start"]["rect"]) && d["start"]["enabled"].toBool();
                         }),
             qPrintable(wb.failure()));
    const QJsonObject runs_tab = wb.dump();
    QVERIFY2(wb.click(WorkbenchDriver::center(runs_tab["start"]["rect"])), qPrintable(wb.failure()));
    QVERIFY2(wb.wait_for("the trainer reports its run id", 60000,
                         [](const QJsonObject& d) { return d["trainer"]["run"].isDouble(); }),
             qPrintable(wb.failure()));
    const QJsonObject started = wb.dump();
    const qint64 run = started["trainer"]["run"].toInteger();
    QVERIFY2(wb.open_tab("Curves"), qPrintable(wb.failure()));
    QList<qint64> lengths;  // the curve's length at each look while the trainer runs
    QVERIFY2(wb.wait_for("the trainer ends", 120000,
                         [&](const QJsonObject& d) {
                           const qint64 n = d["curve"]["points"].toInteger();
                           if (d["trainer"]["running"].toBool() && (lengths.isEmpty() || lengths.back() != n))
                             lengths << n;
                           return !d["trainer"]["running"].toBool();
                         }),
             qPrintable(wb.failure()));
    QVERIFY2(wb.wait_for(QString("the run finished and the curve has all %1 steps").arg(kSteps), 10000,
                         [&](const QJsonObject& d) {
                           return d["labels"]["run_status"].toString().startsWith("Finished") &&
                                  d["curve"]["points"].toInteger() == kSteps;
                         }),
             qPrintable(wb.failure()));
    qInfo("loss curve lengths seen while training: %s", qPrintable([&] {
            QStringList l;
            for (qint64 n : lengths) l << QString::number(n);
            return l.join(' ');
          }()));
    QVERIFY2(lengths.size() >= 2 && lengths.front() < kSteps, "the curve must be seen part-way and growing");
    QVERIFY2(wb.wait_for("the Runs table lists the new run finished beside the failed one", 10000,
                         [&](const QJsonObject& d) {
                           const QJsonArray rows = d["runs"].toArray();
                           bool ours = false, failed = false;
                           for (const QJsonValue& r : rows) {
                             ours = ours || (r[0] == QString::number(run) && r[2] == "finished");
                             failed = failed || (r[1] == "died-early" && r[2] == "failed");
                           }
                           return rows.size() == 2 && ours && failed;
                         }),
             qPrintable(wb.failure()));
    {
      auto store = store::ProjectStore::open(project.toStdString(), false);
      QCOMPARE(store.get_run(run).state, store::RunState::Finished);
      std::vector<double> loss;
      for (const store::Metric& m : store.metrics_since(run, 0))
        if (m.name == store::kLossMetric) loss.push_back(m.value);
      QCOMPARE(loss.size(), std::size_t(kSteps));
      QVERIFY2(loss.back() < loss.front(), "a learnable pattern: the loss falls");
    }

    // Every tab, as the process draws it.
    for (const QString& tab : {"Model", "Planner", "Runs", "Curves", "Memory", "NIAH", "Probe"}) {
      QVERIFY2(wb.open_tab(tab), qPrintable(wb.failure()));
      QTest::qWait(300);  // the tab's first paint
      QVERIFY2(wb.screenshot("tab_" + tab.toLower()), qPrintable(wb.failure()));
    }
    const QString log = wb.log();
    QVERIFY2(log.contains("Opened " + teacher) && log.contains("Plan saved to " + plan_file) &&
                 log.contains("Training finished"),
             qPrintable(log));
  }
};

QTEST_MAIN(TestE2E)
#include "test_e2e_slow.moc"
