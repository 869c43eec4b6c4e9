#include "views/screenshots.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QPixmap>
#include <QProcess>
#include <QRegularExpression>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QThreadPool>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "views/curves_view.h"
#include "views/main_window.h"
#include "views/model_info_view.h"
#include "views/niah_view.h"
#include "views/planner_view.h"

namespace hylo::views {

static constexpr int kIdleTimeoutMs = 20000;

// Runs the event loop until no child process or pool thread of the window is busy (the runs
// view asks `hylo devices`, plots replot on queued events), or the timeout passes.
static void wait_until_idle(QWidget& window) {
  QElapsedTimer clock;
  clock.start();
  while (clock.elapsed() < kIdleTimeoutMs) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    bool busy = QThreadPool::globalInstance()->activeThreadCount() > 0;
    for (QProcess* p : window.findChildren<QProcess*>()) busy = busy || p->state() != QProcess::NotRunning;
    if (!busy) break;
  }
  QCoreApplication::sendPostedEvents();
  QCoreApplication::processEvents();
}

QStringList save_screenshots(const QString& project, const QString& dir, QSize size, QStringList* notes) {
  // Read first with our own connection: a missing project is an error here, not a dialog.
  store::ProjectStore s = store::ProjectStore::open(project.toStdString(), false);
  if (!QDir().mkpath(dir)) throw IoError("cannot create the folder", dir.toStdString(), "-o");

  MainWindow w;
  w.setAttribute(Qt::WA_DontShowOnScreen);
  w.resize(size);
  w.show();
  if (w.size() != size)
    notes->append(QObject::tr("window: %1x%2 is below its minimum size; grabbed at %3x%4")
                      .arg(size.width()).arg(size.height()).arg(w.width()).arg(w.height()));
  if (!w.open_project(project, false)) throw StoreError("the workbench cannot open the project", s.db_file(), "");

  const bool have_teacher = w.model_view()->has_model();  // open_project opened the first teacher there is
  if (!have_teacher) notes->append(QObject::tr("model, planner, memory: no teacher checkpoint in the project"));

  QTemporaryDir tmp;
  const std::vector<store::PlanRecord> plans = s.list_plans();
  if (have_teacher && !plans.empty()) {
    // Named after the plan: the log line "Loaded plan <file>" shows in the screenshots.
    QString name = QString::fromStdString(plans.front().name).replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")), QStringLiteral("_"));
    const QString file = tmp.filePath((name.isEmpty() ? QStringLiteral("plan") : name) + QStringLiteral(".yaml"));
    QFile f(file);
    if (!f.open(QIODevice::WriteOnly) || f.write(QByteArray::fromStdString(plans.front().yaml)) < 0)
      throw IoError("cannot write the plan copy", file.toStdString(), "");
    f.close();
    w.planner()->load_plan(file, QObject::tr("Load plan \"%1\"").arg(QString::fromStdString(plans.front().name)));
  } else if (plans.empty()) {
    notes->append(QObject::tr("planner: the project has no plan"));
  }

  std::int64_t newest_run = 0;
  for (const store::RunRecord& r : s.list_runs())
    if (!s.metric_names(r.id).empty()) newest_run = std::max(newest_run, r.id);
  if (newest_run > 0) w.curves()->show_runs({newest_run});
  else notes->append(QObject::tr("curves: no run has metrics"));

  NiahView* niah = w.niah();
  if (niah->eval_count() >= 2) niah->show_evals(0, 1, NiahView::Mode::SideBySide);
  else if (niah->eval_count() == 0) notes->append(QObject::tr("niah: no NIAH evaluation"));

  QStringList files;
  QTabWidget* tabs = w.tabs();
  for (int i = 0; i < tabs->count(); ++i) {
    tabs->setCurrentIndex(i);
    wait_until_idle(w);
    const QString name = tabs->tabText(i).remove(QLatin1Char('&')).toLower().replace(QLatin1Char(' '), QLatin1Char('_'));
    const QString file = QDir(dir).filePath(name + QStringLiteral(".png"));
    if (!w.grab().save(file)) throw IoError("cannot write the screenshot", file.toStdString(), "-o");
    files << file;
  }
  return files;
}

}  // namespace hylo::views
