// Curves (issue 8): live training curves from the project store. Polls data_version() every
// 300 ms on its own connection and appends only the rows with id > the last seen, so a curve
// lags its trainer by well under a second whatever its length. Any metric against step, tokens
// or wall time; EMA smoothing with the raw curve faint behind it; log axes; stage boundaries;
// several runs overlaid; hover read-out; zoom/pan; PNG/SVG/PDF/CSV export; min/max/last per run.
#pragma once
#include <QColor>
#include <QSize>
#include <QWidget>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "projects/store/records.h"
#include "views/curve_series.h"

namespace hylo::store {
class ProjectStore;
}

class QCheckBox;
class QComboBox;
class QCPGraph;
class QCustomPlot;
class QLabel;
class QListWidget;
class QSlider;
class QTableWidget;
class QTimer;

namespace hylo::views {

class CurvesView : public QWidget {
  Q_OBJECT
 public:
  explicit CurvesView(QWidget* parent = nullptr);
  ~CurvesView() override;

  // Opens its own connection to the project (data_version() only moves for commits made by other
  // connections). False, with error_occurred emitted, when the project cannot be read.
  bool set_project(const QString& folder);
  void clear_project();

  // Reads what other connections committed since the last call; returns the rows appended.
  // The timer calls it; tests call it directly.
  std::size_t poll();

  void set_metric(const QString& name);
  void set_axis(CurveAxis axis);
  void set_smoothing(double weight);  // 0 (raw) .. 0.999
  void set_log_y(bool on);
  void set_log_x(bool on);

  // The current metric of the shown runs: run,metric,step,tokens,wall_s,value,smoothed.
  bool export_csv(const QString& file);
  // .png (twice the widget's size, or `size` pixels when given), or .svg / .pdf (vector).
  bool export_image(const QString& file, QSize size = {});
  // Shows only `runs` (every run when empty), renamed to `labels` in order where given.
  void show_runs(const std::vector<std::int64_t>& runs, const QStringList& labels = {});

  QString metric() const { return metric_; }
  double smoothing() const { return smoothing_; }
  const CurveSeries* series(std::int64_t run, const QString& metric) const;
  QCustomPlot* plot() const { return plot_; }
  QTableWidget* stats_table() const { return stats_; }
  QString hover_text() const;
  // The read-out at plot x coordinate `x` (what hovering there shows).
  void hover_at(double x);
  QStringList metric_names() const;

 signals:
  void error_occurred(const QString& title, const QString& message);
  void message(const QString& line);

 private:
  struct RunCurves {
    QString name;
    QColor color;
    bool shown = true;
    std::int64_t last_id = 0;
    std::map<QString, CurveSeries> metrics;
    std::vector<store::RunStage> stages;
    QCPGraph* raw = nullptr;
    QCPGraph* smooth = nullptr;
    EmaSmoother ema;  // state of `smooth` for the current metric, to extend it on append
  };

  void build_ui();
  void refresh_runs();
  void rebuild_graphs();
  void append_to_graphs(RunCurves& rc, std::size_t from);
  void draw_stage_lines();
  void update_stats();
  void update_metric_list();
  void replot(bool rescale);

  std::unique_ptr<store::ProjectStore> store_;
  std::int64_t version_ = 0;
  bool loaded_ = false;
  std::map<std::int64_t, RunCurves> runs_;
  QString metric_ = QString::fromLatin1(store::kLossMetric);
  CurveAxis axis_ = CurveAxis::Step;
  double smoothing_ = 0.6;
  bool user_zoomed_ = false;

  QCustomPlot* plot_;
  QComboBox* metric_box_;
  QComboBox* axis_box_;
  QSlider* smooth_slider_;
  QLabel* smooth_label_;
  QCheckBox* log_y_;
  QCheckBox* log_x_;
  QListWidget* run_list_;
  QTableWidget* stats_;
  QLabel* hover_;
  QTimer* timer_;
};

}  // namespace hylo::views
