// Runs (issue 8): the project's runs (state, steps, last loss, started, ETA, message), a recipe
// editor (a stages table in step with the recipe.yaml text, load/save), the devices
// `hylo devices --json` lists, and start / stop / resume of a `hylo train` child with its log. A
// trainer that dies is marked failed with its last error; the workbench carries on.
#pragma once
#include <QWidget>
#include <memory>

namespace hylo::store {
class ProjectStore;
}

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProcess;
class QPushButton;
class QTableWidget;
class QTimer;

namespace hylo::views {

class RecipeStagesTable;
class TrainProcess;

class RunsView : public QWidget {
  Q_OBJECT
 public:
  explicit RunsView(QWidget* parent = nullptr);
  ~RunsView() override;

  bool set_project(const QString& folder);
  void clear_project();
  void refresh();             // re-reads the runs table
  void refresh_devices();     // asynchronous: `hylo devices --json`

  void set_recipe_text(const QString& yaml);
  QString recipe_text() const;
  bool load_recipe(const QString& file);
  bool save_recipe(const QString& file);
  void set_student_dir(const QString& dir);
  void set_out_dir(const QString& dir);

  // Start (or resume into the same --out) a `hylo train` child with the recipe on screen.
  bool start(bool resume);
  void stop();
  TrainProcess* trainer() const { return trainer_; }
  QTableWidget* table() const { return table_; }
  RecipeStagesTable* stages() const { return stages_; }
  QComboBox* devices() const { return devices_; }
  QPushButton* start_button() const { return start_; }
  QString status_text() const;
  QPlainTextEdit* run_log() const { return log_; }

 signals:
  void error_occurred(const QString& title, const QString& message);
  void message(const QString& line);
  void runs_changed();

 private:
  void trainer_ended(bool ok, const QString& message, std::optional<std::int64_t> exit_code);
  void append_log(const QString& line, bool is_error);
  void update_buttons();

  std::unique_ptr<store::ProjectStore> store_;
  std::int64_t version_ = -1;
  TrainProcess* trainer_;
  QProcess* devices_proc_;
  QTimer* timer_;
  QTableWidget* table_;
  QPlainTextEdit* recipe_;
  RecipeStagesTable* stages_;
  QLineEdit *student_, *out_;
  QComboBox* devices_;
  QPushButton *start_, *stop_, *resume_;
  QLabel* status_;
  QPlainTextEdit* log_;
};

}  // namespace hylo::views
