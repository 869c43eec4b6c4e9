// bench/long_context.sh --quick as the lead runs it on the GPU machine, here on tiny CPU models: it
// writes random-weight checkpoints (hylo init-random), benchmarks them from disk, and merges one
// JSON with the student/teacher ratios. Checked: every context ran, measured cache bytes equal
// hylo_spec's estimates, chunked prefill matched one-chunk prefill, ratios equal the spec's cache
// share, and bad invocations fail with a message.
#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "core/spec/estimates.h"
#include "core/spec/model_shapes.h"

namespace {

struct Run {
  int exit_code = -1;
  QString err;
};

Run run_script(const QStringList& args, const QString& build_dir) {
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("HYLO_BUILD_DIR", build_dir);
  env.insert("HYLO_COMMIT", "test-commit");
  p.setProcessEnvironment(env);
  p.start("bash", QStringList{QString::fromLocal8Bit(qgetenv("HYLO_SOURCE_DIR")) + "/bench/long_context.sh"} + args);
  if (!p.waitForFinished(180000)) p.kill();
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromLocal8Bit(p.readAllStandardError())};
}

}  // namespace

class TestLongContextBench : public QObject {
  Q_OBJECT
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() / "hylo_test_long_context_bench";
  QString build_dir_ = QString::fromLocal8Bit(qgetenv("HYLO_BINARY_DIR"));

 private Q_SLOTS:
  void initTestCase() { std::filesystem::create_directories(dir_); }
  void cleanupTestCase() { std::filesystem::remove_all(dir_); }

  void quick_sweep_writes_measured_figures_and_ratios() {
    const auto out = dir_ / "quick.json";
    auto r = run_script({"--quick", "--out", QString::fromStdString(out.string())}, build_dir_);
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    std::ifstream in(out);
    const auto doc = nlohmann::json::parse(in);
    QCOMPARE(doc["gpu"].get<std::string>(), std::string("cpu"));
    QCOMPARE(doc["commit"].get<std::string>(), std::string("test-commit"));
    QVERIFY(doc.contains("date") && doc.contains("command"));
    for (const char* name : {"tiny", "tiny-hylo", "tiny-hylo-gdn"}) {
      QVERIFY2(doc["runs"].contains(name), name);
      const auto& run = doc["runs"][name];
      QCOMPARE(run["longest_fit"].get<int64_t>(), int64_t(1024));
      QVERIFY(run["stopped"].is_null());
      const double diff = run["warmup"]["max_abs_diff"], logit = run["warmup"]["max_abs_logit"];
      QVERIFY2(diff <= 1e-4 * std::max(1.0, logit), name);
      QCOMPARE(run["results"].size(), size_t(3));
      for (const auto& x : run["results"]) {
        QVERIFY(x["ttft_s"].get<double>() > 0 && x["tpot_s"].get<double>() > 0);
        QCOMPARE(x["memory"]["kv"].get<int64_t>(), x["estimate"]["kv"].get<int64_t>());
        QCOMPARE(x["memory"]["state"].get<int64_t>(), x["estimate"]["state"].get<int64_t>());
        QCOMPARE(x["memory"]["weights"].get<int64_t>(), x["estimate"]["weights"].get<int64_t>());
      }
    }
    // The students' KV ratio at each context is the spec's per-token cache share.
    int ratios = 0;
    for (const auto& x : doc["results"]) {
      const std::string what = x["what"];
      if (what.find(" KV bytes at ") == std::string::npos) continue;
      const std::string student = what.substr(0, what.find(' '));
      const double share = hylo::kv_fraction(hylo::model_shape(student), hylo::model_shape("tiny"));
      QVERIFY2(std::abs(x["ratio"].get<double>() - share) < 1e-12, what.c_str());
      ++ratios;
    }
    QCOMPARE(ratios, 6);  // two students x three contexts
  }

  void bad_invocations_fail_with_a_message() {
    auto r = run_script({"--bogus"}, build_dir_);
    QCOMPARE(r.exit_code, 1);
    QVERIFY(r.err.contains("unknown option '--bogus'"));
    r = run_script({"--quick"}, QString::fromStdString((dir_ / "no-build").string()));
    QCOMPARE(r.exit_code, 1);
    QVERIFY(r.err.contains("is missing"));
  }
};

QTEST_GUILESS_MAIN(TestLongContextBench)
#include "test_long_context_bench.moc"
