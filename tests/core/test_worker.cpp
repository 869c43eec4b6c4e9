// `hylo worker` as the workbench drives it: the real binary in a QProcess, a tiny checkpoint with
// the Llama-3 tokenizer, a session of load + probe + cancel + probe + shutdown, and bad requests
// answered with errors (never a crash). stdout must hold protocol lines only.
#include <QtTest>

#include <QProcess>

#include "tests/core/tiny_checkpoint.h"

namespace {

using nlohmann::json;

class WorkerSession {
 public:
  WorkerSession() {
    const QString binary = QString::fromLocal8Bit(qgetenv("HYLO_BINARY_DIR")) + "/app/hylo";
    proc_.setProgram(binary);
    proc_.setArguments({"worker"});
    proc_.setProcessChannelMode(QProcess::SeparateChannels);
    proc_.start();
  }
  bool started() { return proc_.waitForStarted(10000); }
  void send(const json& j) { send_raw(j.dump()); }
  void send_raw(const std::string& line) {
    proc_.write(QByteArray::fromStdString(line + "\n"));
    proc_.waitForBytesWritten(5000);
  }
  // The next stdout line as JSON; every stdout line must parse (nothing else may go there).
  json next(int timeout_ms = 60000) {
    QElapsedTimer t;
    t.start();
    while (!proc_.canReadLine()) {
      if (t.elapsed() > timeout_ms || !proc_.waitForReadyRead(timeout_ms - static_cast<int>(t.elapsed())))
        throw std::runtime_error("worker answered nothing; stderr: " + proc_.readAllStandardError().toStdString());
    }
    const auto line = proc_.readLine().trimmed().toStdString();
    return json::parse(line);  // throws on a non-protocol line
  }
  // Lines until an event other than progress for `id`; progress lines counted.
  json until_final(const json& id, int64_t* progress = nullptr) {
    while (true) {
      auto j = next();
      if (j["id"] == id && j["event"] == "progress") {
        if (progress) ++*progress;
        continue;
      }
      return j;
    }
  }
  QProcess& process() { return proc_; }

 private:
  QProcess proc_;
};

}  // namespace

class TestWorker : public QObject {
  Q_OBJECT
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() / "hylo_test_worker_ckpt";

 private Q_SLOTS:
  void initTestCase() {
    if (!std::filesystem::exists(hylo::testing::llama3_tokenizer_path()))
      QSKIP("no Llama-3 tokenizer: run scripts/fetch_test_data.sh");
    hylo::testing::write_tiny_checkpoint(dir_, /*with_tokenizer=*/true);
  }
  void cleanupTestCase() { std::filesystem::remove_all(dir_); }

  void load_probe_cancel_session() {
    WorkerSession w;
    QVERIFY(w.started());

    // Probe before load, an unknown op, and a line that is not JSON: errors, the worker lives on.
    w.send({{"id", 1}, {"op", "probe"}, {"needle", "x"}, {"question", "y"}, {"length", 100}});
    auto e = w.next();
    QCOMPARE(e["id"], json(1));
    QCOMPARE(e["event"], json("error"));
    QVERIFY(e["message"].get<std::string>().find("load") != std::string::npos);
    w.send({{"id", 2}, {"op", "fly"}});
    QCOMPARE(w.next()["event"], json("error"));
    w.send_raw("{not json");
    e = w.next();
    QVERIFY(e["id"].is_null());
    QCOMPARE(e["event"], json("error"));

    w.send({{"id", 3}, {"op", "load"}, {"model", dir_.string()}, {"dtype", "fp32"}, {"device", "cpu"}});
    auto loaded = w.next();
    QCOMPARE(loaded["id"], json(3));
    QCOMPARE(loaded["event"], json("result"));
    QCOMPARE(loaded["tokenizer"], json(true));

    // A long probe in small chunks, cancelled at its first progress line.
    const json probe = {{"op", "probe"}, {"haystack", ""}, {"needle", "The magic number is 4821."},
                        {"question", "What is the magic number?"}, {"answer", "4821"}, {"depth", 30},
                        {"length", 4000}, {"max_new_tokens", 4}, {"chunk", 8}};
    auto p4 = probe;
    p4["id"] = 4;
    w.send(p4);
    auto first = w.next();
    QCOMPARE(first["id"], json(4));
    QCOMPARE(first["event"], json("progress"));
    QCOMPARE(first["what"], json("prefill"));
    QCOMPARE(first["total"], json(4000));
    w.send({{"id", 5}, {"op", "cancel"}, {"target", 4}});
    bool cancelled = false, acknowledged = false;
    while (!cancelled || !acknowledged) {
      auto j = w.next();
      if (j["id"] == json(4) && j["event"] == "progress") continue;
      if (j["id"] == json(4)) {
        QCOMPARE(j["event"], json("error"));
        QCOMPARE(j["message"], json("cancelled"));
        cancelled = true;
      } else {
        QCOMPARE(j["id"], json(5));
        QCOMPARE(j["cancelled"], json(true));
        acknowledged = true;
      }
    }

    // The same probe, shorter, runs to its result with the contract's fields.
    auto p6 = probe;
    p6["id"] = 6;
    p6["length"] = 600;
    p6["chunk"] = 128;
    w.send(p6);
    int64_t progress = 0;
    auto r = w.until_final(6, &progress);
    QCOMPARE(r["event"], json("result"));
    QCOMPARE(progress, int64_t(5));  // ceil(600 / 128)
    QCOMPARE(r["tokens"], json(600));
    QVERIFY(r["answer"].is_string());
    QVERIFY(r["found"].is_boolean());
    QCOMPARE(r["loss_by_position"].size(), size_t(300));  // 599 positions, buckets of 2
    QCOMPARE(r["needle_span"].size(), size_t(2));
    for (const char* key : {"weights", "kv", "state", "activations"}) QVERIFY2(r["memory"].contains(key), key);

    // Bad probe fields are errors naming the field.
    auto bad = probe;
    bad["id"] = 7;
    bad["depth"] = 150;
    w.send(bad);
    e = w.until_final(7);
    QCOMPARE(e["event"], json("error"));
    QVERIFY(e["message"].get<std::string>().find("depth") != std::string::npos);

    w.send({{"id", 8}, {"op", "shutdown"}});
    QCOMPARE(w.next()["id"], json(8));
    QVERIFY(w.process().waitForFinished(20000));
    QCOMPARE(w.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(w.process().exitCode(), 0);
  }
};

QTEST_GUILESS_MAIN(TestWorker)
#include "test_worker.moc"
