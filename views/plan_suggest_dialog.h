// "Suggest plan..." (issue 8): asks for a KV budget (per-token KV as a % of the teacher's) and the
// mixer of the other layers, then runs `hylo plan suggest <teacher> --kv-budget X% --linear K
// -o <tmp.yaml>` as a child: the auto-planner scores layers with the teacher's weights, tensor work
// the GUI process never does. Its output shows in the dialog; Cancel kills it. When the child
// succeeds the dialog emits the plan file (valid while the dialog lives) and closes.
#pragma once
#include <QDialog>
#include <QProcess>
#include <QTemporaryDir>

#include "core/spec/mixers.h"

class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;

namespace hylo::views {

class PlanSuggestDialog : public QDialog {
  Q_OBJECT
 public:
  explicit PlanSuggestDialog(const QString& teacher_dir, QWidget* parent = nullptr);
  ~PlanSuggestDialog() override;

  void set_budget_percent(double percent);
  void set_linear(MixerKind kind);  // Mamba2 or GDN
  QStringList arguments() const;    // the child's arguments for the current settings
  void run();                       // starts the child (the dialog's Suggest button)
  bool running() const { return proc_.state() != QProcess::NotRunning; }
  QString output() const;           // what the child printed

 signals:
  void plan_ready(const QString& plan_file);
  void failed(const QString& message);

 private:
  void finished(int code, QProcess::ExitStatus status);
  void append(const QByteArray& bytes, bool is_error);

  QString teacher_;
  QTemporaryDir tmp_;
  QProcess proc_;
  QDoubleSpinBox* budget_;
  QComboBox* linear_;
  QLabel* status_;
  QPlainTextEdit* output_;
  QDialogButtonBox* buttons_;
  QString last_error_;
  bool cancelled_ = false;
};

}  // namespace hylo::views
