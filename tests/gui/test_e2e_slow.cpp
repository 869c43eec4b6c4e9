// End to end under a real X server (ctest runs it through xvfb-run, QT_QPA_PLATFORM=xcb): the
// workbench's main window on a test project and teacher, a REAL mouse drag with xdotool of `MLA`
// from the palette onto layer 3 (X events through Qt's xcb plugin, QDrag's own loop included),
// then: the plan file saved by the window changed, the KV estimate label changed, and a run's
// curve grows while another process writes its metrics. Screenshots of every tab (QWidget::grab)
// and of the whole screen (ImageMagick `import -window root`) go to $HYLO_BINARY_DIR/screenshots/.
#include <QDir>
#include <QFile>
#include <QListView>
#include <QListWidget>
#include <QProcess>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/spec/plan.h"
#include "projects/store/project_store.h"
#include "tests/gui/screenshot.h"
#include "views/curves_view.h"
#include "views/main_window.h"
#include "views/mixer_palette.h"
#include "views/plan_estimates_panel.h"
#include "views/planner_view.h"

using namespace hylo;
using namespace hylo::views;

static const char* kLlama1B = R"({"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
  "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
  "head_dim": 64, "max_position_embeddings": 131072, "rope_theta": 500000.0, "tie_word_embeddings": true})";

static QString screenshot_dir() {
  return qEnvironmentVariable("HYLO_BINARY_DIR", QDir::tempPath()) + "/screenshots";
}

class TestE2E : public QObject {
  Q_OBJECT
 private slots:
  void drag_mla_and_watch_a_curve() {
    if (QGuiApplication::platformName() != QLatin1String("xcb"))
      QSKIP("needs a real X server: ctest runs this through xvfb-run with QT_QPA_PLATFORM=xcb");
    QTemporaryDir dir;
    const QString teacher = dir.filePath("Llama-3.2-1B"), project = dir.filePath("project"),
                  plan_file = dir.filePath("plan.yaml");
    QVERIFY(QDir().mkpath(teacher));
    QFile cfg(teacher + "/config.json");
    QVERIFY(cfg.open(QIODevice::WriteOnly));
    cfg.write(kLlama1B);
    cfg.close();
    auto store = store::ProjectStore::open(project.toStdString(), true);
    store::RunRecord rec;
    rec.name = "tiny-kd";
    const std::int64_t run = store.add_run(rec);
    store.mark_run_started(run, 1, "hylo train");
    store.add_run_stage({run, 0, "kd", 0});

    MainWindow w;
    w.resize(1400, 900);
    w.move(0, 0);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.open_project(project, false));
    QVERIFY(w.open_checkpoint(teacher));
    w.set_plan_file(plan_file);
    w.tabs()->setCurrentWidget(w.planner());
    QTest::qWait(300);

    // Where MLA sits in the palette and where layer 3 sits in the stack, in screen coordinates.
    auto* palette = w.planner()->findChild<MixerPalette*>();
    QVERIFY(palette);
    QListWidgetItem* mla = nullptr;
    for (int i = 0; i < palette->count(); ++i)
      if (MixerPalette::kind_of(palette->item(i)) == MixerKind::MLA) mla = palette->item(i);
    QVERIFY(mla);
    const QPoint from = palette->viewport()->mapToGlobal(palette->visualItemRect(mla).center());
    QListView* layers = w.planner()->layer_list();
    const QPoint to = layers->viewport()->mapToGlobal(layers->visualRect(layers->model()->index(3, 0)).center());
    const QString kv_before = w.planner()->estimates()->summary_text();

    QProcess xdotool;
    // Small steps so Qt sees a press, a move past the drag distance, moves over the target, a release.
    QStringList args = {"mousemove", "--sync", QString::number(from.x()), QString::number(from.y()),
                        "mousedown", "1", "sleep", "0.3"};
    for (int i = 1; i <= 10; ++i) {
      const QPoint p = from + (to - from) * i / 10;
      args << "mousemove" << QString::number(p.x()) << QString::number(p.y()) << "sleep" << "0.1";
    }
    args << "sleep" << "0.3" << "mouseup" << "1";
    xdotool.start("xdotool", args);
    QVERIFY2(xdotool.waitForStarted(), "xdotool is needed (apt-get install xdotool)");
    QTRY_VERIFY_WITH_TIMEOUT(xdotool.state() == QProcess::NotRunning, 20000);  // the event loop runs meanwhile
    QCOMPARE(xdotool.exitCode(), 0);

    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(plan_file), 5000);
    const LayerPlan saved = LayerPlan::load(plan_file.toStdString());
    QCOMPARE(saved.kind_of(3), MixerKind::MLA);
    QCOMPARE(saved.kind_of(2), MixerKind::Attention);
    const QString kv_after = w.planner()->estimates()->summary_text();
    QVERIFY2(kv_after != kv_before && kv_after.contains("1MLA"), qPrintable(kv_before + " -> " + kv_after));
    save_screenshot(&w, "e2e_planner_after_drag");
    QDir().mkpath(screenshot_dir());
    QProcess::execute("import", {"-window", "root", screenshot_dir() + "/e2e_screen.png"});

    // A writer process appends metrics; the Curves tab grows while it runs.
    w.tabs()->setCurrentWidget(w.curves());
    QProcess writer;
    writer.start(HYLO_STORE_WRITER, {project, QString::number(run), "3000", "50"});
    QVERIFY(writer.waitForStarted());
    std::size_t seen_first = 0;
    QTRY_VERIFY_WITH_TIMEOUT((w.curves()->series(run, "loss") && (seen_first = w.curves()->series(run, "loss")->size()) > 0), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(writer.state() == QProcess::NotRunning, 60000);
    QTRY_COMPARE_WITH_TIMEOUT(w.curves()->series(run, "loss")->size(), std::size_t(1500), 5000);
    QVERIFY(seen_first < 1500);  // seen part-way: the curve grew live
    for (int i = 0; i < w.tabs()->count(); ++i) {
      QWidget* tab = w.tabs()->widget(i);
      w.tabs()->setCurrentWidget(tab);
      QTest::qWait(150);
      save_screenshot(&w, "e2e_tab_" + w.tabs()->tabText(w.tabs()->indexOf(tab)).toLower());
    }
  }
};

QTEST_MAIN(TestE2E)
#include "test_e2e_slow.moc"
