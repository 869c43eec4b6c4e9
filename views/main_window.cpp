#include "views/main_window.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QDockWidget>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "core/spec/plan.h"
#include "views/curves_view.h"
#include "views/layer_plan_model.h"
#include "views/log_panel.h"
#include "views/memory_view.h"
#include "views/model_info_view.h"
#include "views/niah_result.h"
#include "views/niah_view.h"
#include "views/plan_estimates_panel.h"
#include "views/plan_state.h"
#include "views/planner_view.h"
#include "views/probe_view.h"
#include "views/project_models_list.h"
#include "views/runs_view.h"

namespace hylo::views {

static constexpr int kMaxRecent = 10;
static const char* kRecentKey = "recent";

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("HyLo Workbench"));
  resize(1280, 820);

  tabs_ = new QTabWidget;
  tabs_->setDocumentMode(true);
  model_view_ = new ModelInfoView;
  models_ = new ProjectModelsList;
  planner_ = new PlannerView;
  runs_ = new RunsView;
  curves_ = new CurvesView;
  memory_ = new MemoryView;
  niah_ = new NiahView;
  probe_ = new ProbeView;
  auto* model_page = new QSplitter;
  model_page->addWidget(models_);
  model_page->addWidget(model_view_);
  model_page->setStretchFactor(1, 1);
  model_page->setSizes({470, 810});
  tabs_->addTab(model_page, tr("Model"));
  tabs_->addTab(planner_, tr("Planner"));
  tabs_->addTab(runs_, tr("Runs"));
  tabs_->addTab(curves_, tr("Curves"));
  tabs_->addTab(memory_, tr("Memory"));
  tabs_->addTab(niah_, tr("NIAH"));
  tabs_->addTab(probe_, tr("Probe"));
  setCentralWidget(tabs_);

  log_ = new LogPanel;
  auto* dock = new QDockWidget(tr("Log"), this);
  dock->setObjectName(QStringLiteral("log_dock"));
  dock->setWidget(log_);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
  addDockWidget(Qt::BottomDockWidgetArea, dock);
  resizeDocks({dock}, {140}, Qt::Vertical);

  status_project_ = new QLabel;
  status_model_ = new QLabel;
  statusBar()->addWidget(status_project_);
  statusBar()->addWidget(status_model_, 1);

  connect(model_view_, &ModelInfoView::error_occurred, this, &MainWindow::show_error);
  connect(model_view_, &ModelInfoView::message, log_, &LogPanel::info);
  connect(planner_, &PlannerView::error_occurred, this, &MainWindow::show_error);
  connect(planner_, &PlannerView::message, log_, &LogPanel::info);
  connect(runs_, &RunsView::error_occurred, this, &MainWindow::show_error);
  connect(runs_, &RunsView::message, log_, &LogPanel::info);
  connect(runs_, &RunsView::runs_changed, this, &MainWindow::refresh_models);  // runs register checkpoints
  connect(models_, &ProjectModelsList::open_requested, this, &MainWindow::open_listed_model);
  connect(curves_, &CurvesView::error_occurred, this, &MainWindow::show_error);
  connect(curves_, &CurvesView::message, log_, &LogPanel::info);
  connect(niah_, &NiahView::error_occurred, this, &MainWindow::show_error);
  connect(niah_, &NiahView::message, log_, &LogPanel::info);
  connect(probe_, &ProbeView::error_occurred, this, &MainWindow::show_error);
  connect(probe_, &ProbeView::message, log_, &LogPanel::info);
  connect(planner_->model(), &LayerPlanModel::plan_changed, this, &MainWindow::plan_edited);
  build_menus();
  update_status();
  log_->info(tr("HyLo Workbench ready. Open a checkpoint (Ctrl+O) to inspect and plan it."));
}

MainWindow::~MainWindow() = default;

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open_ckpt = file->addAction(tr("Open &checkpoint..."), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open checkpoint folder"));
    if (!dir.isEmpty()) open_checkpoint(dir);
  });
  open_ckpt->setShortcut(QKeySequence::Open);
  file->addAction(tr("Open &project..."), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open project folder"));
    if (!dir.isEmpty()) open_project(dir, false);
  });
  file->addAction(tr("&New project..."), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for the new project"));
    if (!dir.isEmpty()) open_project(dir, true);
  });
  recent_menu_ = file->addMenu(tr("Open &recent"));
  rebuild_recent_menu();
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  edit->addAction(planner_->undo_action());
  edit->addAction(planner_->redo_action());

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(findChild<QDockWidget*>(QStringLiteral("log_dock"))->toggleViewAction());
}

bool MainWindow::open_checkpoint(const QString& dir) {
  if (!model_view_->open(dir)) return false;  // the view has reported why
  planner_->set_teacher(model_view_->config(), dir);
  niah_->set_model_dir(dir);
  probe_->set_model_dir(dir);
  update_memory();
  remember(QStringLiteral("checkpoint:") + QDir(dir).absolutePath());
  update_status();
  return true;
}

bool MainWindow::open_project(const QString& folder, bool create, bool open_teacher) {
  try {
    auto store = std::make_unique<store::ProjectStore>(
        store::ProjectStore::open(folder.toStdString(), create));
    const store::ProjectCounts c = store->counts();
    project_ = std::move(store);
    // Each view reads through its own connection, so it sees the others' commits.
    const QString dir = QString::fromStdString(project_->folder());
    runs_->set_project(dir);
    curves_->set_project(dir);
    niah_->set_project(dir);
    runs_->refresh_devices();
    refresh_models();
    log_->info(tr("Project %1: %2 models%3, %4 plans, %5 runs, %6 evaluations")
                   .arg(QString::fromStdString(project_->folder()))
                   .arg(c.models)
                   .arg(models_->missing_count() ? tr(" (%1 missing)").arg(models_->missing_count()) : QString())
                   .arg(c.plans)
                   .arg(c.runs)
                   .arg(c.evals));
    if (open_teacher) open_project_teacher();
    update_memory();
    remember(QStringLiteral("project:") + QString::fromStdString(project_->folder()));
    update_status();
    return true;
  } catch (const hylo::Error& e) {
    show_error(create ? tr("Cannot create project") : tr("Cannot open project"),
               QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    show_error(tr("Internal error"), QString::fromStdString(e.what()));
  }
  return false;
}

void MainWindow::refresh_models() {
  if (!project_) return;
  try {
    models_->show_models(*project_);
  } catch (const hylo::Error& e) {
    log_->error(tr("Cannot list the project's models: %1").arg(QString::fromStdString(e.what())));
  }
}

void MainWindow::open_project_teacher() {
  std::vector<store::ModelRecord> models;
  try {
    models = project_->list_models();
  } catch (const hylo::Error& e) {
    log_->error(tr("Cannot list the project's models: %1").arg(QString::fromStdString(e.what())));
    return;
  }
  QStringList missing;
  for (const store::ModelRecord& m : models) {
    if (m.kind != store::ModelKind::Teacher) continue;
    if (project_->path_exists(m.path)) {
      open_checkpoint(QString::fromStdString(project_->resolve_path(m.path)));
      return;
    }
    missing << tr("%1 (%2)").arg(QString::fromStdString(m.name), QString::fromStdString(project_->resolve_path(m.path)));
  }
  if (!missing.isEmpty())
    log_->error(tr("The project's teacher folder is missing: %1. Open a checkpoint with File > Open checkpoint.")
                    .arg(missing.join(QStringLiteral(", "))));
}

void MainWindow::open_listed_model(const QString& dir, const QString& name) {
  // The folder may have gone since the list was drawn: say so, and redraw the marks.
  if (!QFileInfo(dir).isDir()) {
    show_error(tr("Model folder missing"),
               tr("%1: %2 is not there (deleted, or moved outside the project).").arg(name, dir));
    refresh_models();
    return;
  }
  open_checkpoint(dir);
}

void MainWindow::set_plan_file(const QString& file) {
  plan_file_.clear();
  if (QFileInfo::exists(file) && !planner_->load_plan(file)) {
    // Another model's plan, or a damaged file: an edit must not overwrite what the user has there.
    log_->error(tr("Edits will not be saved to %1: its plan could not be loaded.").arg(file));
    return;
  }
  plan_file_ = file;
}

void MainWindow::plan_edited() {
  update_memory();
  if (plan_file_.isEmpty() || !planner_->has_teacher()) return;
  if (planner_->save_plan(plan_file_))
    log_->info(tr("Plan saved to %1: %2").arg(plan_file_, planner_->estimates()->summary_text().replace('\n', QStringLiteral(" | "))));
}

void MainWindow::update_memory() {
  if (!model_view_->has_model()) return;
  const ModelConfig& teacher = model_view_->config();
  memory_->set_teacher(teacher, QFileInfo(model_view_->checkpoint_dir()).fileName());
  std::vector<std::pair<QString, ModelConfig>> students;
  try {
    const ModelConfig edited = layer_plan_from(planner_->model()->state(), {}).resolve(teacher);
    students.emplace_back(tr("%1 (planner)").arg(QString::fromStdString(compact_name(edited))), edited);
  } catch (const hylo::Error&) {
    // The planner shows why its plan is invalid; the chart keeps the others.
  }
  std::map<QString, std::map<std::int64_t, double>> measured;
  if (project_) {
    try {
      for (const store::PlanRecord& p : project_->list_plans()) {
        const QString origin = tr("%1: plans[%2]").arg(QString::fromStdString(project_->db_file())).arg(p.id);
        try {
          const ModelConfig student = LayerPlan::from_yaml(p.yaml, origin.toStdString()).resolve(teacher);
          students.emplace_back(QString::fromStdString(p.name.empty() ? compact_name(student) : p.name), student);
        } catch (const hylo::Error& e) {  // e.g. a plan written for another model; said once per teacher
          const QString key = model_view_->checkpoint_dir() + QLatin1Char('|') + QString::number(p.id);
          if (!reported_plans_.contains(key)) {
            reported_plans_.insert(key);
            log_->error(tr("Plan \"%1\" does not apply to this model: %2")
                            .arg(QString::fromStdString(p.name), QString::fromStdString(e.what())));
          }
        }
      }
      for (const store::EvalRecord& e : project_->list_evals()) {
        if (e.kind != store::EvalKind::Niah) continue;
        try {
          const NiahResult r = NiahResult::from_json(QByteArray::fromStdString(e.result_json), tr("evals[%1]").arg(e.id));
          if (!r.kv_bytes.empty())
            measured[tr("#%1 %2").arg(e.id).arg(QFileInfo(r.model).fileName())] = r.kv_bytes;
        } catch (const hylo::Error&) {
          // NiahView reports unreadable results.
        }
      }
    } catch (const hylo::Error& e) {
      log_->error(QString::fromStdString(e.what()));
    }
  }
  memory_->set_students(students);
  memory_->set_measured(measured);
}

void MainWindow::show_error(const QString& title, const QString& message) {
  log_->error(title + QStringLiteral(": ") + message);
  auto* box = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // window-modal without a nested event loop: callers and tests keep running
}

QStringList MainWindow::recent() const {
  return QSettings().value(kRecentKey).toStringList();
}

void MainWindow::remember(const QString& entry) {
  QStringList list = recent();
  list.removeAll(entry);
  list.prepend(entry);
  while (list.size() > kMaxRecent) list.removeLast();
  QSettings().setValue(kRecentKey, list);
  rebuild_recent_menu();
}

void MainWindow::rebuild_recent_menu() {
  recent_menu_->clear();
  const QStringList list = recent();
  for (const QString& entry : list) {
    const qsizetype colon = entry.indexOf(':');
    const QString kind = entry.left(colon), path = entry.mid(colon + 1);
    recent_menu_->addAction(tr("%1  (%2)").arg(path, kind), this, [this, kind, path] {
      if (kind == QLatin1String("project")) open_project(path, false);
      else open_checkpoint(path);
    });
  }
  recent_menu_->setEnabled(!list.isEmpty());
}

void MainWindow::update_status() {
  status_project_->setText(project_ ? tr("Project: %1").arg(QString::fromStdString(project_->folder()))
                                    : tr("No project"));
  status_model_->setText(model_view_->has_model()
                             ? tr("Model: %1").arg(model_view_->checkpoint_dir())
                             : tr("No model"));
}

}  // namespace hylo::views
