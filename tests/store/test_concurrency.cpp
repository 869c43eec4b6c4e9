// Two writer processes append 100,000 metrics each in batches while this process polls
// data_version() + metrics_since() every few milliseconds (as the GUI does) and writes notes of
// its own: every row arrives exactly once, in order, with increasing ids, and nobody sees
// "database is locked". Prints the reader's lag behind the writers.
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "projects/store/project_store.h"

using namespace hylo::store;

namespace {
double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1)))];
}
}  // namespace

class TestConcurrency : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void writersAndLiveReader() {
    constexpr int kWriters = 2;
    constexpr std::int64_t kRows = 100000, kBatch = 500;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString folder = dir.path() + "/proj";
    auto store = ProjectStore::open(folder.toStdString(), true);

    struct Writer {
      std::int64_t run = 0;
      std::unique_ptr<QProcess> proc = std::make_unique<QProcess>();
      std::int64_t last_id = 0;
      std::int64_t next_value = 0;  // the writer's row i carries value i
    };
    std::vector<Writer> writers(kWriters);
    for (auto& w : writers) {
      w.run = store.add_run({});
      w.proc->start(HYLO_STORE_WRITER, {folder, QString::number(w.run), QString::number(kRows),
                                        QString::number(kBatch)});
      QVERIFY2(w.proc->waitForStarted(), HYLO_STORE_WRITER);
    }

    std::vector<double> lags;
    lags.reserve(kWriters * kRows);
    std::int64_t version = -1, polls = 0, reads = 0, notes = 0;
    QElapsedTimer clock;
    clock.start();
    auto all_seen = [&] {
      return std::all_of(writers.begin(), writers.end(), [](const Writer& w) { return w.next_value == kRows; });
    };
    while (!all_seen()) {
      QVERIFY2(clock.elapsed() < 120000, "rows still missing after 120 s");
      ++polls;
      std::int64_t v = store.data_version();
      if (v != version) {
        version = v;
        ++reads;
        for (auto& w : writers) {
          auto rows = store.metrics_since(w.run, w.last_id);
          double now = unix_seconds();
          for (const Metric& m : rows) {
            QVERIFY(m.id > w.last_id);  // ids increase, nothing twice
            QCOMPARE(m.run_id, w.run);
            QCOMPARE(m.value, double(w.next_value));  // nothing lost, nothing out of order
            QCOMPARE(m.step, w.next_value / 2);
            ++w.next_value;
            w.last_id = m.id;
            lags.push_back(now - m.wall_s);
          }
        }
      }
      if (polls % 10 == 0) {
        store.add_note("run:" + std::to_string(writers[0].run), "poll " + std::to_string(polls));  // a GUI edit
        ++notes;
        for (auto& w : writers) {
          w.proc->waitForFinished(0);
          QVERIFY2(w.proc->state() != QProcess::NotRunning || w.proc->exitCode() == 0,
                   w.proc->readAllStandardError().constData());
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    double read_s = clock.elapsed() / 1000.0;
    for (auto& w : writers) {
      // waitForFinished() is false for a process already reaped by an earlier poll.
      QVERIFY(w.proc->state() == QProcess::NotRunning || w.proc->waitForFinished(30000));
      QByteArray err = w.proc->readAllStandardError();
      QVERIFY2(w.proc->exitStatus() == QProcess::NormalExit && w.proc->exitCode() == 0, err.constData());
      QVERIFY2(err.isEmpty(), err.constData());
      qInfo("writer run %lld: %s", static_cast<long long>(w.run), w.proc->readAllStandardOutput().trimmed().constData());
      QVERIFY(store.metrics_since(w.run, w.last_id).empty());
    }
    ProjectCounts c = store.counts();
    QCOMPARE(c.metrics, kWriters * kRows);
    QCOMPARE(c.notes, notes);

    qInfo("reader: %lld rows in %.2f s, %lld polls, %lld reads after data_version changed, %lld notes written",
          static_cast<long long>(lags.size()), read_s, static_cast<long long>(polls), static_cast<long long>(reads),
          static_cast<long long>(notes));
    qInfo("reader lag behind writer: median %.1f ms, p99 %.1f ms, max %.1f ms", 1e3 * percentile(lags, 0.5),
          1e3 * percentile(lags, 0.99), 1e3 * percentile(lags, 1.0));

    QElapsedTimer open_clock;
    open_clock.start();
    auto reopened = ProjectStore::open(folder.toStdString(), false);  // includes PRAGMA quick_check
    qInfo("open with %lld metrics (quick_check included): %.1f ms", static_cast<long long>(c.metrics),
          open_clock.nsecsElapsed() / 1e6);
    QCOMPARE(reopened.counts().metrics, kWriters * kRows);
  }
};

QTEST_GUILESS_MAIN(TestConcurrency)
#include "test_concurrency.moc"
