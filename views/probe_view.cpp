#include "views/probe_view.h"

#include <algorithm>

#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "views/format.h"
#include "views/worker_client.h"

namespace hylo::views {

ProbeView::ProbeView(QWidget* parent) : QWidget(parent), worker_(new WorkerClient(this)) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 8);
  auto* split = new QSplitter;
  layout->addWidget(split);

  auto* inputs = new QWidget;
  auto* form = new QFormLayout(inputs);
  model_ = new QLineEdit;
  auto* browse = new QPushButton(tr("..."));
  auto* model_row = new QHBoxLayout;
  model_row->addWidget(model_);
  model_row->addWidget(browse);
  form->addRow(tr("Model"), model_row);
  haystack_ = new QPlainTextEdit;
  haystack_->setPlaceholderText(tr("Paste a haystack, or leave empty for the Brown corpus."));
  auto* load = new QPushButton(tr("Load text..."));
  form->addRow(tr("Haystack"), haystack_);
  form->addRow(QString(), load);
  needle_ = new QLineEdit(tr("The special magic number for Lisbon is: 7291843."));
  question_ = new QLineEdit(tr("What is the special magic number for Lisbon?"));
  answer_ = new QLineEdit(QStringLiteral("7291843"));
  form->addRow(tr("Needle"), needle_);
  form->addRow(tr("Question"), question_);
  form->addRow(tr("Expected"), answer_);
  depth_ = new QSpinBox;
  depth_->setRange(0, 100);
  depth_->setSuffix(QStringLiteral(" %"));
  depth_->setValue(50);
  length_ = new QSpinBox;
  length_->setRange(64, 1 << 21);
  length_->setValue(4096);
  length_->setSuffix(tr(" tokens"));
  form->addRow(tr("Depth"), depth_);
  form->addRow(tr("Length"), length_);
  run_ = new QPushButton(tr("Run probe"));
  cancel_ = new QPushButton(tr("Cancel"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(run_);
  buttons->addWidget(cancel_);
  form->addRow(buttons);
  progress_ = new QProgressBar;
  form->addRow(progress_);
  split->addWidget(inputs);

  auto* results = new QWidget;
  auto* rl = new QVBoxLayout(results);
  answer_label_ = new QLabel(tr("No probe run yet."));
  answer_label_->setObjectName(QStringLiteral("probe_answer"));
  answer_label_->setWordWrap(true);
  QFont big = answer_label_->font();
  big.setPointSizeF(big.pointSizeF() * 1.3);
  answer_label_->setFont(big);
  numbers_ = new QLabel;
  numbers_->setWordWrap(true);
  status_ = new QLabel;
  status_->setObjectName(QStringLiteral("probe_status"));
  status_->setWordWrap(true);
  plot_ = new QCustomPlot;
  plot_->setMinimumHeight(260);
  plot_->xAxis->setLabel(tr("position (tokens)"));
  plot_->yAxis->setLabel(tr("next-token loss (nats)"));
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  rl->addWidget(answer_label_);
  rl->addWidget(plot_, 1);
  rl->addWidget(numbers_);
  rl->addWidget(status_);
  split->addWidget(results);
  split->setStretchFactor(1, 2);

  connect(browse, &QPushButton::clicked, this, [this] {
    const QString d = QFileDialog::getExistingDirectory(this, tr("Model folder"));
    if (!d.isEmpty()) model_->setText(d);
  });
  connect(load, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Haystack text"));
    if (f.isEmpty()) return;
    QFile file(f);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
      emit error_occurred(tr("Cannot load haystack"), tr("%1: %2").arg(f, file.errorString()));
      return;
    }
    haystack_->setPlainText(QString::fromUtf8(file.readAll()));
  });
  connect(run_, &QPushButton::clicked, this, &ProbeView::run);
  connect(cancel_, &QPushButton::clicked, this, &ProbeView::cancel);
  connect(worker_, &WorkerClient::progress, this, [this](std::int64_t id, std::int64_t done, std::int64_t total, const QString& what) {
    if (id != probe_id_) return;
    progress_->setRange(0, int(std::max<std::int64_t>(total, 1)));
    progress_->setValue(int(done));
    progress_->setFormat(what + QStringLiteral(" %p%"));
  });
  connect(worker_, &WorkerClient::result, this, [this](std::int64_t id, const QJsonObject& r) {
    if (id == probe_id_) show_result(r);
  });
  connect(worker_, &WorkerClient::failed, this, [this](std::int64_t id, const QString& why) {
    if (id == probe_id_) {
      set_busy(false);
      status_->setText(why == QLatin1String("cancelled") ? tr("Cancelled.") : tr("Probe failed: %1").arg(why));
      if (why != QLatin1String("cancelled")) emit error_occurred(tr("Probe failed"), why);
    } else {  // a failed load: the model is not loaded
      loaded_model_.clear();
      status_->setText(tr("Worker: %1").arg(why));
    }
  });
  connect(worker_, &WorkerClient::restarted, this, [this](const QString& why) {
    status_->setText(tr("The worker stopped (%1) and was restarted.").arg(why));
    emit message(tr("Probe worker restarted: %1").arg(why));
  });
  connect(worker_, &WorkerClient::log_line, this, &ProbeView::message);
  set_busy(false);
}

void ProbeView::set_model_dir(const QString& dir) { model_->setText(dir); }
QString ProbeView::model_dir() const { return model_->text(); }

void ProbeView::set_inputs(const QString& haystack, const QString& needle, const QString& question,
                           const QString& answer, int depth, int length) {
  haystack_->setPlainText(haystack);
  needle_->setText(needle);
  question_->setText(question);
  answer_->setText(answer);
  depth_->setValue(depth);
  length_->setValue(length);
}

bool ProbeView::run() {
  const QString model = model_->text().trimmed();
  if (busy()) return false;
  if (model.isEmpty() || needle_->text().trimmed().isEmpty() || question_->text().trimmed().isEmpty()) {
    emit error_occurred(tr("Cannot run probe"), tr("Choose a model folder and type a needle and a question."));
    return false;
  }
  if (model != loaded_model_) {
    worker_->send(QJsonObject{{"op", "load"}, {"model", model}, {"dtype", "fp32"}, {"device", "cpu"}});
    loaded_model_ = model;
  }
  probe_id_ = worker_->send(QJsonObject{{"op", "probe"},
                                        {"haystack", haystack_->toPlainText()},
                                        {"needle", needle_->text()},
                                        {"question", question_->text()},
                                        {"answer", answer_->text()},
                                        {"depth", depth_->value()},
                                        {"length", length_->value()},
                                        {"max_new_tokens", 32}});
  status_->setText(tr("Running..."));
  set_busy(true);
  return true;
}

void ProbeView::cancel() {
  if (busy()) worker_->cancel(probe_id_);
}

void ProbeView::show_result(const QJsonObject& r) {
  set_busy(false);
  const bool found = r.value("found").toBool();
  answer_label_->setText(tr("<b>Answer:</b> %1 &nbsp; <span style='color:%2'>%3</span>")
                             .arg(r.value("answer").toString().toHtmlEscaped(), found ? "#2e7d32" : "#c62828",
                                  found ? tr("found") : tr("not found")));
  plot_->clearGraphs();
  plot_->clearItems();
  QVector<double> x, y;
  for (const QJsonValue& p : r.value("loss_by_position").toArray()) {
    x << p.toArray().at(0).toDouble();
    y << p.toArray().at(1).toDouble();
  }
  QCPGraph* g = plot_->addGraph();
  g->setData(x, y, true);
  g->setPen(QPen(QColor("#4e79a7"), 1.5));
  const QJsonArray span = r.value("needle_span").toArray();
  if (span.size() == 2) {
    auto* rect = new QCPItemRect(plot_);
    rect->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
    rect->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    rect->topLeft->setCoords(span[0].toDouble(), 0);
    rect->bottomRight->setCoords(span[1].toDouble(), 1);
    rect->setPen(Qt::NoPen);
    rect->setBrush(QColor(242, 142, 43, 70));
    auto* label = new QCPItemText(plot_);
    label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(span[0].toDouble(), 0.03);
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    label->setText(tr(" needle"));
    label->setColor(QColor("#b05a00"));
  }
  plot_->rescaleAxes();
  // Losses are >= 0: from 0 up with headroom, so a flat stretch never hides on the frame.
  plot_->yAxis->setRange(0, std::max(1e-3, plot_->yAxis->range().upper * 1.1));
  plot_->replot();
  const QJsonObject mem = r.value("memory").toObject();
  numbers_->setText(tr("%1 tokens · prefill %2 s · decode %3 s · weights %4 · KV %5 · state %6 · activations %7")
                        .arg(r.value("tokens").toInteger())
                        .arg(r.value("prefill_s").toDouble(), 0, 'f', 2)
                        .arg(r.value("decode_s").toDouble(), 0, 'f', 2)
                        .arg(human_bytes(mem.value("weights").toDouble()), human_bytes(mem.value("kv").toDouble()),
                             human_bytes(mem.value("state").toDouble()), human_bytes(mem.value("activations").toDouble())));
  status_->setText(tr("Done."));
}

void ProbeView::set_busy(bool on) {
  run_->setEnabled(!on);
  cancel_->setEnabled(on);
  if (on) return;
  probe_id_ = 0;
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setFormat(QString());
}

QString ProbeView::answer_text() const { return answer_label_->text(); }
QString ProbeView::status_text() const { return status_->text(); }

}  // namespace hylo::views
