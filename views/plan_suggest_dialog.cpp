#include "views/plan_suggest_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "views/hylo_binary.h"
#include "views/mixer_style.h"

namespace hylo::views {

PlanSuggestDialog::PlanSuggestDialog(const QString& teacher_dir, QWidget* parent)
    : QDialog(parent), teacher_(teacher_dir) {
  setWindowTitle(tr("Suggest a plan"));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(tr("The auto-planner scores every layer of the teacher on calibration text "
                              "(attention entropy, long-range mass, low-rank error), keeps the best as MLA "
                              "within the KV budget and makes the others linear mixers."));
  intro->setWordWrap(true);
  layout->addWidget(intro);

  auto* form = new QFormLayout;
  budget_ = new QDoubleSpinBox;
  budget_->setRange(0.1, 100.0);
  budget_->setDecimals(1);
  budget_->setSingleStep(0.5);
  budget_->setSuffix(tr(" % of the teacher's KV"));
  budget_->setValue(5.0);
  linear_ = new QComboBox;
  for (MixerKind k : {MixerKind::Mamba2, MixerKind::GDN})
    linear_->addItem(mixer_name(k), QString::fromStdString(to_string(k)));
  form->addRow(tr("KV budget"), budget_);
  form->addRow(tr("Other layers"), linear_);
  layout->addLayout(form);

  status_ = new QLabel(tr("Teacher: %1").arg(QDir::toNativeSeparators(teacher_)));
  status_->setObjectName(QStringLiteral("suggest_status"));
  status_->setWordWrap(true);
  layout->addWidget(status_);
  output_ = new QPlainTextEdit;
  output_->setReadOnly(true);
  output_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  output_->setPlaceholderText(tr("The planner's layer scores appear here."));
  output_->setMinimumSize(560, 220);
  layout->addWidget(output_, 1);

  buttons_ = new QDialogButtonBox(QDialogButtonBox::Cancel);
  QPushButton* suggest = buttons_->addButton(tr("Suggest"), QDialogButtonBox::ActionRole);
  suggest->setDefault(true);
  layout->addWidget(buttons_);
  connect(suggest, &QPushButton::clicked, this, &PlanSuggestDialog::run);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);

  connect(&proc_, &QProcess::readyReadStandardOutput, this, [this] { append(proc_.readAllStandardOutput(), false); });
  connect(&proc_, &QProcess::readyReadStandardError, this, [this] { append(proc_.readAllStandardError(), true); });
  connect(&proc_, &QProcess::finished, this, &PlanSuggestDialog::finished);
  connect(&proc_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e != QProcess::FailedToStart) return;
    const QString why = tr("cannot start %1: %2").arg(proc_.program(), proc_.errorString());
    status_->setText(why);
    budget_->setEnabled(true);
    linear_->setEnabled(true);
    emit failed(why);
  });
  // Closing the dialog (Cancel, Escape) while the planner runs ends the child with it.
  connect(this, &QDialog::rejected, this, [this] {
    if (!running()) return;
    cancelled_ = true;
    proc_.kill();
  });
}

PlanSuggestDialog::~PlanSuggestDialog() {
  if (running()) {
    proc_.kill();
    proc_.waitForFinished(2000);
  }
}

void PlanSuggestDialog::set_budget_percent(double percent) { budget_->setValue(percent); }

void PlanSuggestDialog::set_linear(MixerKind kind) {
  const int i = linear_->findData(QString::fromStdString(to_string(kind)));
  if (i >= 0) linear_->setCurrentIndex(i);
}

QStringList PlanSuggestDialog::arguments() const {
  return {QStringLiteral("plan"), QStringLiteral("suggest"), teacher_, QStringLiteral("--kv-budget"),
          QString::number(budget_->value(), 'g', 4) + QLatin1Char('%'), QStringLiteral("--linear"),
          linear_->currentData().toString(), QStringLiteral("-o"), tmp_.filePath(QStringLiteral("suggested.yaml"))};
}

void PlanSuggestDialog::run() {
  if (running()) return;
  QFile::remove(tmp_.filePath(QStringLiteral("suggested.yaml")));  // a stale file must not pass for a result
  last_error_.clear();
  cancelled_ = false;
  const QStringList args = arguments();
  output_->setPlainText(QStringLiteral("$ hylo ") + args.join(QLatin1Char(' ')) + QLatin1Char('\n'));
  status_->setText(tr("Scoring the teacher's layers..."));
  budget_->setEnabled(false);
  linear_->setEnabled(false);
  proc_.start(hylo_binary(), args);
}

QString PlanSuggestDialog::output() const { return output_->toPlainText(); }

void PlanSuggestDialog::append(const QByteArray& bytes, bool is_error) {
  const QString text = QString::fromUtf8(bytes);
  output_->moveCursor(QTextCursor::End);
  output_->insertPlainText(text);
  output_->moveCursor(QTextCursor::End);
  if (!is_error) return;
  for (const QString& line : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) last_error_ = line.trimmed();
}

void PlanSuggestDialog::finished(int code, QProcess::ExitStatus status) {
  budget_->setEnabled(true);
  linear_->setEnabled(true);
  if (cancelled_) return;
  const QString file = tmp_.filePath(QStringLiteral("suggested.yaml"));
  if (status == QProcess::NormalExit && code == 0 && QFile::exists(file)) {
    status_->setText(tr("Plan suggested."));
    emit plan_ready(file);
    accept();
    return;
  }
  QString why = status == QProcess::CrashExit ? tr("the planner crashed")
                : code == 0                    ? tr("the planner wrote no plan")
                                               : tr("the planner exited with %1").arg(code);
  if (!last_error_.isEmpty()) why += QStringLiteral(": ") + last_error_;
  status_->setText(QStringLiteral("<span style='color:#b3261e'>%1</span>").arg(why.toHtmlEscaped()));
  emit failed(why);
}

}  // namespace hylo::views
