// Opening a project opens its teacher (the first registered teacher whose folder is there), so the
// planner, memory and probe tabs have a model; the Model tab lists the project's models with
// "(missing)" on folders that are gone, and opening one of those is a message, not a crash. The
// teacher's config.json is demo/configs/teacher.json; its layer count is read here independently.
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListView>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "projects/store/project_store.h"
#include "tests/gui/screenshot.h"
#include "views/log_panel.h"
#include "views/main_window.h"
#include "views/memory_view.h"
#include "views/model_info_view.h"
#include "views/planner_view.h"
#include "views/probe_view.h"
#include "views/project_models_list.h"

using namespace hylo;
using namespace hylo::views;

static QString demo_config() { return qEnvironmentVariable("HYLO_SOURCE_DIR") + "/demo/configs/teacher.json"; }

static bool make_checkpoint(const QString& dir) {
  return QDir().mkpath(dir) && QFile::copy(demo_config(), dir + "/config.json");
}

static void close_dialogs(QWidget& w) {
  for (QMessageBox* b : w.findChildren<QMessageBox*>()) b->close();
}

static QStringList folder_column(const ProjectModelsList* list) {
  QStringList out;
  for (int r = 0; r < list->table()->rowCount(); ++r) out << list->table()->item(r, ProjectModelsList::Folder)->text();
  return out;
}

class TestProjectModels : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  // A project with a teacher registered at a folder that never existed, then the real teacher
  // (inside the project, so stored relative) and a student.
  QString make_project(const QString& name) {
    const QString project = dir_.filePath(name);
    auto s = store::ProjectStore::open(project.toStdString(), true);
    store::ModelRecord gone{0, store::ModelKind::Teacher, "old teacher", dir_.filePath("nowhere/teacher").toStdString()};
    s.add_model(gone);
    if (!make_checkpoint(project + "/teacher") || !make_checkpoint(project + "/students/2MLA6M2")) return {};
    s.add_model({0, store::ModelKind::Teacher, "demo teacher", (project + "/teacher").toStdString()});
    s.add_model({0, store::ModelKind::Student, "2MLA6M2", (project + "/students/2MLA6M2").toStdString()});
    return project;
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("HyLoTest");
    QCoreApplication::setApplicationName("test_project_models");
    qputenv("HYLO_BIN", qgetenv("HYLO_SOURCE_DIR") + "/tests/gui/fake/fake_hylo.sh");
  }

  void a_project_opens_its_teacher() {
    const QString project = make_project("p1");
    QVERIFY(!project.isEmpty());
    QFile cfg(demo_config());
    QVERIFY(cfg.open(QIODevice::ReadOnly));
    const int layers = QJsonDocument::fromJson(cfg.readAll()).object().value("num_hidden_layers").toInt();
    QVERIFY(layers > 0);

    MainWindow w;
    QVERIFY(w.open_project(project, false));
    QVERIFY(w.model_view()->has_model());
    const QString teacher = QDir(project + "/teacher").absolutePath();
    QCOMPARE(w.model_view()->checkpoint_dir(), teacher);
    QCOMPARE(w.model_view()->fact("layers"), QString::number(layers));
    QVERIFY(w.planner()->has_teacher());
    QCOMPARE(w.planner()->layer_list()->model()->rowCount(), layers);
    QVERIFY(w.memory()->table()->rowCount() >= 1);
    QCOMPARE(w.probe()->model_dir(), teacher);
    // The missing teacher registered first was passed over, and said so nowhere as an error.
    QCOMPARE(w.log()->error_count(), 0);

    // Asked not to (a --checkpoint follows), the project leaves the model alone.
    MainWindow bare;
    QVERIFY(bare.open_project(project, false, false));
    QVERIFY(!bare.model_view()->has_model());
    QVERIFY(!bare.planner()->has_teacher());
  }

  void a_project_whose_teacher_is_gone_says_so() {
    const QString project = make_project("p2");
    QVERIFY(QDir(project + "/teacher").removeRecursively());
    MainWindow w;
    QVERIFY(w.open_project(project, false));
    QVERIFY(!w.model_view()->has_model());
    QCOMPARE(w.log()->error_count(), 1);
    QVERIFY2(w.log()->toPlainText().contains("teacher folder is missing"), qPrintable(w.log()->toPlainText()));
    QCOMPARE(w.findChildren<QMessageBox*>().size(), 0);  // opening a project is not an error
  }

  void missing_models_are_marked_and_open_safely() {
    const QString project = make_project("p3");
    {
      MainWindow w;
      QVERIFY(w.open_project(project, false));
      QCOMPARE(w.project_models()->table()->rowCount(), 3);
      QCOMPARE(w.project_models()->missing_count(), 1);  // the teacher that never existed
      const QStringList folders = folder_column(w.project_models());
      QVERIFY2(folders[0].endsWith("(missing)") && !folders[1].contains("missing") && !folders[2].contains("missing"),
               qPrintable(folders.join("; ")));
      QCOMPARE(folders[1], QString("teacher"));  // stored relative to the project
    }
    // The student is deleted: reopened, the project marks it; opening it is a dialog, not a crash.
    QVERIFY(QDir(project + "/students/2MLA6M2").removeRecursively());
    MainWindow w;
    w.resize(1300, 800);
    QVERIFY(w.open_project(project, false));
    QVERIFY(w.log()->toPlainText().contains("3 models (2 missing)"));
    const ProjectModelsList* list = w.project_models();
    QCOMPARE(list->missing_count(), 2);
    QCOMPARE(folder_column(list)[2], QString("students/2MLA6M2 (missing)"));
    QCOMPARE(list->table()->item(2, ProjectModelsList::Name)->foreground().color(), QColor("#b3261e"));
    list->table()->selectRow(2);
    list->findChild<QPushButton*>()->click();
    QCOMPARE(w.findChildren<QMessageBox*>().size(), 1);
    QVERIFY2(w.findChildren<QMessageBox*>().first()->text().contains("2MLA6M2"),
             qPrintable(w.findChildren<QMessageBox*>().first()->text()));
    close_dialogs(w);
    QCOMPARE(w.model_view()->checkpoint_dir(), QDir(project + "/teacher").absolutePath());
    // A folder that comes back is listed as there again, and opens.
    QVERIFY(make_checkpoint(project + "/students/2MLA6M2"));
    w.open_project(project, false);
    QCOMPARE(w.project_models()->missing_count(), 1);
    list->table()->selectRow(2);
    list->findChild<QPushButton*>()->click();
    QCOMPARE(w.model_view()->checkpoint_dir(), QDir(project + "/students/2MLA6M2").absolutePath());
    QVERIFY(QDir(project + "/students/2MLA6M2").removeRecursively());
    w.open_project(project, false);
    list->table()->clearSelection();
    w.tabs()->setCurrentIndex(0);
    save_screenshot(&w, "model_tab_missing_models");
  }

  void a_moved_project_still_finds_what_it_holds() {
    const QString project = make_project("p4");
    const QString moved = dir_.filePath("p4-moved");
    QVERIFY(QDir().rename(project, moved));
    MainWindow w;
    QVERIFY(w.open_project(moved, false));
    QCOMPARE(w.project_models()->missing_count(), 1);  // only the teacher that never existed
    QCOMPARE(w.model_view()->checkpoint_dir(), QDir(moved + "/teacher").absolutePath());
  }
};

QTEST_MAIN(TestProjectModels)
#include "test_project_models.moc"
