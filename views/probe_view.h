// Probe (issue 8): one needle question against a model, through a `hylo worker` child. Pick the
// model folder, paste or load a haystack (empty: the worker's Brown corpus), type the needle and
// question, choose depth and length, run. Shows the answer, the per-position loss with the
// needle's span shaded, memory and time; Cancel stops the request; a dead worker is restarted and
// the view says so.
#pragma once
#include <QJsonObject>
#include <QWidget>
#include <cstdint>

class QCustomPlot;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace hylo::views {

class WorkerClient;

class ProbeView : public QWidget {
  Q_OBJECT
 public:
  explicit ProbeView(QWidget* parent = nullptr);

  void set_model_dir(const QString& dir);
  QString model_dir() const;
  void set_inputs(const QString& haystack, const QString& needle, const QString& question,
                  const QString& answer, int depth, int length);
  bool run();  // false (and error_occurred) when inputs are missing or a probe is running
  void cancel();
  bool busy() const { return probe_id_ != 0; }
  WorkerClient* worker() const { return worker_; }
  QString answer_text() const;
  QString status_text() const;
  QCustomPlot* loss_plot() const { return plot_; }

 signals:
  void error_occurred(const QString& title, const QString& message);
  void message(const QString& line);

 private:
  void show_result(const QJsonObject& r);
  void set_busy(bool on);

  WorkerClient* worker_;
  QString loaded_model_;
  std::int64_t probe_id_ = 0;
  QLineEdit *model_, *needle_, *question_, *answer_;
  QPlainTextEdit* haystack_;
  QSpinBox *depth_, *length_;
  QPushButton *run_, *cancel_;
  QProgressBar* progress_;
  QLabel *answer_label_, *status_, *numbers_;
  QCustomPlot* plot_;
};

}  // namespace hylo::views
