// The project's models (teachers, students, checkpoints) beside the Model tab: kind, name and
// folder, with "(missing)" where the folder is gone (deleted, or moved outside the project), so a
// stale entry is seen before it is opened. Double-click (or Open) asks to open one.
#pragma once
#include <QWidget>

namespace hylo::store {
class ProjectStore;
}

class QLabel;
class QPushButton;
class QTableWidget;

namespace hylo::views {

class ProjectModelsList : public QWidget {
  Q_OBJECT
 public:
  enum Column { Kind, Name, Folder, ColumnCount };

  explicit ProjectModelsList(QWidget* parent = nullptr);

  // Re-reads the models and checks each folder; throws the store's hylo::StoreError.
  void show_models(store::ProjectStore& project);
  QTableWidget* table() const { return table_; }
  int missing_count() const { return missing_; }

 signals:
  // An entry was picked: its absolute folder and its name.
  void open_requested(const QString& dir, const QString& name);

 private:
  void open_current();

  QLabel* summary_;
  QTableWidget* table_;
  QPushButton* open_;
  int missing_ = 0;
};

}  // namespace hylo::views
