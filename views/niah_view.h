// NIAH heatmaps (issue 8): context length (x, log-spaced, so one column per length) by needle
// depth (y, 0 % at the top), cell = mean score on a red -> yellow -> green scale with a labelled
// colour bar and the cell value under the mouse. One evaluation, two side by side, or their
// difference; "Run NIAH" starts `hylo eval niah` for the current model as a child process.
#pragma once
#include <QWidget>
#include <memory>
#include <vector>

#include "views/niah_result.h"

namespace hylo::store {
class ProjectStore;
}

class QComboBox;
class QCPColorMap;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QProcess;
class QPushButton;

namespace hylo::views {

class NiahView : public QWidget {
  Q_OBJECT
 public:
  enum class Mode { Single, SideBySide, Difference };

  explicit NiahView(QWidget* parent = nullptr);
  ~NiahView() override;

  bool set_project(const QString& folder);  // false + error_occurred when unreadable
  void clear_project();
  void refresh();                           // re-reads the evaluations
  void set_model_dir(const QString& dir);   // the model "Run NIAH" evaluates

  int eval_count() const { return int(evals_.size()); }
  void show_evals(int a, int b, Mode mode);  // indices into the list, newest first
  // The value drawn at (length index, depth index) of the left (0) or right (1) map.
  double cell(int map, int length_index, int depth_index) const;
  QString hover_text() const;
  void hover_at(int map, double x, double y);
  QProcess* eval_process() const { return proc_; }
  bool start_eval();

 signals:
  void error_occurred(const QString& title, const QString& message);
  void message(const QString& line);

 private:
  struct Panel {
    QCustomPlot* plot = nullptr;
    QCPColorMap* map = nullptr;
    std::vector<std::vector<double>> values;  // [length][depth]
  };
  void draw(Panel& p, const NiahResult& layout, std::vector<std::vector<double>> values,
            const QString& title, bool difference);
  void redraw();

  std::unique_ptr<store::ProjectStore> store_;
  std::vector<std::pair<QString, NiahResult>> evals_;  // label, result
  Panel panels_[2];
  QComboBox *a_box_, *b_box_, *mode_box_;
  QLabel* hover_;
  QLineEdit* model_dir_;
  QPushButton* run_;
  QProcess* proc_;
};

}  // namespace hylo::views
