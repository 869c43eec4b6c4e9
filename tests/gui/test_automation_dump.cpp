// hylo-workbench --automation-dump (views/automation_dump.h): the rects it writes lead back to the
// widgets and items they name (through Qt's hit tests: itemAt, indexAt, tabAt), hidden widgets
// have none, the labels and kinds follow edits, the file is rewritten only when something
// changed, and a file it cannot write is a warning that leaves the window alone.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListView>
#include <QTabBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "views/automation_dump.h"
#include "views/layer_plan_model.h"
#include "views/main_window.h"
#include "views/mixer_palette.h"
#include "views/planner_view.h"
#include "views/runs_view.h"

using namespace hylo;
using namespace hylo::views;

static const char* kLlama1B = R"({"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
  "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
  "head_dim": 64, "max_position_embeddings": 131072, "rope_theta": 500000.0, "tie_word_embeddings": true})";

static QJsonObject read_json(const QString& file) {
  QFile f(file);
  return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
}

static QPoint center(const QJsonValue& rect) {
  const QJsonArray r = rect.toArray();
  return {r[0].toInt() + r[2].toInt() / 2, r[1].toInt() + r[3].toInt() / 2};
}

class TestAutomationDump : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("HyLoTest");
    QCoreApplication::setApplicationName("test_automation_dump");
    QVERIFY(QDir().mkpath(dir_.filePath("teacher")));
    QFile cfg(dir_.filePath("teacher/config.json"));
    QVERIFY(cfg.open(QIODevice::WriteOnly));
    cfg.write(kLlama1B);
  }

  void rects_lead_back_to_their_widgets() {
    MainWindow w;
    show_teacher_planner(w);
    if (QTest::currentTestFailed()) return;
    const QString file = dir_.filePath("dump.json");
    auto* dump = new AutomationDump(&w, file);
    dump->write_if_changed();
    const QJsonObject d = read_json(file);
    QCOMPARE(d["seq"].toInt(), 1);
    QCOMPARE(d["tab"].toString(), QString("Planner"));
    QCOMPARE(d["window"].toInteger(), qint64(w.winId()));

    const QTabBar* bar = w.tabs()->tabBar();
    const QJsonObject tabs = d["tabs"].toObject();
    QCOMPARE(tabs.size(), w.tabs()->count());
    for (int i = 0; i < w.tabs()->count(); ++i)
      QCOMPARE(bar->tabAt(bar->mapFromGlobal(center(tabs[w.tabs()->tabText(i)]))), i);

    auto* palette = w.planner()->findChild<MixerPalette*>();
    const QJsonObject kinds = d["palette"].toObject();
    QCOMPARE(kinds.keys(), QStringList({"Attention", "GDN", "MLA", "Mamba2"}));
    const QListWidgetItem* under = palette->itemAt(palette->viewport()->mapFromGlobal(center(kinds["MLA"])));
    QVERIFY(under && MixerPalette::kind_of(under) == MixerKind::MLA);

    const QJsonArray layers = d["layers"].toArray();
    QCOMPARE(layers.size(), 16);
    QListView* list = w.planner()->layer_list();
    for (int row : {0, 3, 7})
      QCOMPARE(list->indexAt(list->viewport()->mapFromGlobal(center(layers[row]["rect"]))).row(), row);
    for (const QJsonValue& l : layers) QCOMPARE(l["kind"].toString(), QString("attention"));

    const auto* est_kv = w.planner()->findChild<QLabel*>("est_kv");
    QCOMPARE(d["labels"]["est_kv"].toString(), est_kv->text());
    // The Runs tab is hidden: its Start button has no place on screen.
    QVERIFY(d["start"]["rect"].isNull());
    QVERIFY(d["trainer"]["run"].isNull());
    QCOMPARE(d["curve"]["points"].toInt(), 0);
    QVERIFY(d["runs"].toArray().isEmpty());
  }

  void rewritten_only_when_something_changed() {
    MainWindow w;
    show_teacher_planner(w);
    if (QTest::currentTestFailed()) return;
    const QString file = dir_.filePath("dump2.json");
    auto* dump = new AutomationDump(&w, file);
    dump->write_if_changed();
    dump->write_if_changed();
    const QJsonObject first = read_json(file);
    QCOMPARE(first["seq"].toInt(), 1);
    w.planner()->model()->assign({3}, MixerKind::MLA);
    dump->write_if_changed();
    const QJsonObject after = read_json(file);
    QCOMPARE(after["seq"].toInt(), 2);
    QCOMPARE(after["layers"][3]["kind"].toString(), QString("mla"));
    QCOMPARE(after["layers"][2]["kind"].toString(), QString("attention"));
    const QString est_kv = w.planner()->findChild<QLabel*>("est_kv")->text();
    QVERIFY(first["labels"]["est_kv"].toString() != est_kv);
    QCOMPARE(after["labels"]["est_kv"].toString(), est_kv);
    // The timer writes too: a tab change shows up without a call.
    w.tabs()->setCurrentWidget(w.runs());
    QTRY_COMPARE(read_json(file)["tab"].toString(), QString("Runs"));
    const QJsonObject runs_tab = read_json(file);
    QVERIFY(runs_tab["seq"].toInt() >= 3);
    QVERIFY(runs_tab["palette"]["MLA"].isNull());
    QVERIFY(runs_tab["start"]["rect"].isArray());
  }

  void unwritable_file_is_a_warning() {
    MainWindow w;
    const QString file = dir_.filePath("no-such-folder/dump.json");
    auto* dump = new AutomationDump(&w, file);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("--automation-dump .*no-such-folder/dump.json"));
    dump->write_if_changed();
    QVERIFY(!QFile::exists(file));
    QVERIFY(w.open_checkpoint(dir_.filePath("teacher")));  // the window carries on
  }

 private:
  // The window shown and exposed, the test teacher open, the Planner tab current.
  void show_teacher_planner(MainWindow& w) {
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.open_checkpoint(dir_.filePath("teacher")));
    w.tabs()->setCurrentWidget(w.planner());
  }
};

QTEST_MAIN(TestAutomationDump)
#include "test_automation_dump.moc"
