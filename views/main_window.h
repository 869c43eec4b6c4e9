// The workbench's main window (issue 3): File menu (checkpoints, projects, recent list), a tab per
// view, a log dock and a status bar. Every hylo::Error from the core lands in a message box and
// in the log; nothing a user opens can crash the window.
#pragma once
#include <QMainWindow>
#include <QSet>
#include <memory>

namespace hylo::store {
class ProjectStore;
}

class QLabel;
class QMenu;
class QTabWidget;

namespace hylo::views {

class CurvesView;
class LogPanel;
class MemoryView;
class ModelInfoView;
class NiahView;
class PlannerView;
class ProbeView;
class ProjectModelsList;
class RunsView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // False (and the error shown) when the folder is not a readable checkpoint / project.
  bool open_checkpoint(const QString& dir);
  // With `open_teacher`, the project's first teacher whose folder exists is opened as the checkpoint,
  // so the planner, memory and probe tabs have a model.
  bool open_project(const QString& folder, bool create, bool open_teacher = true);
  // Loads `file` into the planner when it exists, and saves the plan there after every edit
  // (the log says so, with the plan's estimates). A file that exists but does not load (another
  // model's plan, a damaged file) is left alone: edits are not saved anywhere.
  void set_plan_file(const QString& file);

  LogPanel* log() const { return log_; }
  ModelInfoView* model_view() const { return model_view_; }
  ProjectModelsList* project_models() const { return models_; }
  PlannerView* planner() const { return planner_; }
  RunsView* runs() const { return runs_; }
  CurvesView* curves() const { return curves_; }
  MemoryView* memory() const { return memory_; }
  NiahView* niah() const { return niah_; }
  ProbeView* probe() const { return probe_; }
  QTabWidget* tabs() const { return tabs_; }
  store::ProjectStore* project() const { return project_.get(); }
  QStringList recent() const;  // "checkpoint:<dir>" / "project:<dir>", newest first

 public slots:
  // Non-blocking dialog (window-modal) plus a red log line.
  void show_error(const QString& title, const QString& message);

 private:
  void build_menus();
  void remember(const QString& entry);
  void rebuild_recent_menu();
  void update_status();
  void refresh_models();       // the project's models, with missing folders marked
  void open_project_teacher();
  void open_listed_model(const QString& dir, const QString& name);
  void update_memory();  // teacher, the plan being edited and the project's plans, measured points
  void plan_edited();

  QTabWidget* tabs_;
  LogPanel* log_;
  ModelInfoView* model_view_;
  ProjectModelsList* models_;
  PlannerView* planner_;
  RunsView* runs_;
  CurvesView* curves_;
  MemoryView* memory_;
  NiahView* niah_;
  ProbeView* probe_;
  QString plan_file_;
  QSet<QString> reported_plans_;  // "<teacher dir>|<plan id>" already logged as not applying
  QMenu* recent_menu_ = nullptr;
  QLabel* status_project_;
  QLabel* status_model_;
  std::unique_ptr<store::ProjectStore> project_;
};

}  // namespace hylo::views
