// `hylo project init|show` and `hylo runs` against a project filled through ProjectStore: the
// JSON output reports what the store holds, and a bad folder exits 1 naming the file.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "projects/store/project_store.h"

using namespace hylo::store;

namespace {
struct Result {
  int code = -1;
  QByteArray out, err;
};
}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private:
  QString hylo_;

  Result run(const QStringList& args) {
    QProcess p;
    p.start(hylo_, args);
    p.waitForFinished(60000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
  }

 private Q_SLOTS:
  void initTestCase() {
    hylo_ = qEnvironmentVariable("HYLO_BINARY_DIR") + "/app/hylo";
    if (!QFile::exists(hylo_)) QSKIP("the hylo CLI is not built (cmake --build build --target hylo)");
  }

  void initShowRuns() {
    QTemporaryDir dir;
    const QString folder = dir.path() + "/proj";
    Result r = run({"project", "init", folder, "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    QJsonObject init = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(init["created"].toBool(), true);
    QCOMPARE(init["schema_version"].toInt(), ProjectStore::open(folder.toStdString(), false).schema_version());
    QCOMPARE(QJsonDocument::fromJson(run({"project", "init", folder, "--json"}).out).object()["created"].toBool(),
             false);

    {
      auto store = ProjectStore::open(folder.toStdString(), false);
      store.add_model({0, ModelKind::Teacher, "llama", "models/llama", "{}", ""});
      store.add_plan({0, 1, "4mla", "default: mamba2\n", "", ""});
      std::int64_t done = store.add_run({});
      store.mark_run_started(done, 11, "hylo train");
      store.append_metrics(done, {{10, 1, 1.0, "loss", 2.5}, {20, 2, 2.0, "loss", 1.25}, {20, 2, 2.0, "lr", 1e-4}});
      store.mark_run_ended(done, RunState::Finished, 0, "");
      store.add_run({});
    }

    r = run({"project", "show", folder, "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    QJsonObject show = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(show["counts"].toObject()["metrics"].toInt(), 3);
    QCOMPARE(show["counts"].toObject()["runs"].toInt(), 2);
    QCOMPARE(show["models"].toArray()[0].toObject()["path"].toString(), QString("models/llama"));
    QCOMPARE(show["models"].toArray()[0].toObject()["exists"].toBool(), false);
    QCOMPARE(show["plans"].toArray()[0].toObject()["name"].toString(), QString("4mla"));

    r = run({"runs", "--project", folder, "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    QJsonArray runs = QJsonDocument::fromJson(r.out).array();
    QCOMPARE(runs.size(), 2);
    QCOMPARE(runs[0].toObject()["state"].toString(), QString("finished"));
    QCOMPARE(runs[0].toObject()["last_step"].toInt(), 20);
    QCOMPARE(runs[0].toObject()["last_loss"].toDouble(), 1.25);
    QCOMPARE(runs[0].toObject()["exit_code"].toInt(), 0);
    QCOMPARE(runs[1].toObject()["state"].toString(), QString("queued"));
    QVERIFY(runs[1].toObject()["last_step"].isNull());

    r = run({"runs", "--project", folder});  // the table names the run states
    QVERIFY(r.code == 0 && r.out.contains("finished") && r.out.contains("queued"));
  }

  void badFolderExitsOne() {
    QTemporaryDir dir;
    Result r = run({"runs", "--project", dir.path()});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains((dir.path() + "/project.db").toUtf8()), r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
