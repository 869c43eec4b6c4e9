#include "views/niah_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "views/hylo_binary.h"
#include "views/niah_plot.h"

namespace hylo::views {

NiahView::NiahView(QWidget* parent) : QWidget(parent), proc_(new QProcess(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 8);
  auto* bar = new QHBoxLayout;
  a_box_ = new QComboBox;
  b_box_ = new QComboBox;
  for (QComboBox* b : {a_box_, b_box_}) b->setMinimumContentsLength(28);
  mode_box_ = new QComboBox;
  mode_box_->addItems({tr("A"), tr("A | B side by side"), tr("A - B difference")});
  bar->addWidget(new QLabel(tr("A")));
  bar->addWidget(a_box_);
  bar->addWidget(new QLabel(tr("B")));
  bar->addWidget(b_box_);
  bar->addWidget(mode_box_);
  bar->addStretch(1);
  model_dir_ = new QLineEdit;
  model_dir_->setPlaceholderText(tr("model folder to evaluate"));
  model_dir_->setMinimumWidth(220);
  run_ = new QPushButton(tr("Run NIAH"));
  bar->addWidget(model_dir_);
  bar->addWidget(run_);
  layout->addLayout(bar);

  auto* maps = new QHBoxLayout;
  for (Panel& p : panels_) {
    p.plot = new QCustomPlot;
    p.plot->setMinimumSize(380, 300);
    p.plot->plotLayout()->insertRow(0);
    p.plot->plotLayout()->addElement(0, 0, new QCPTextElement(p.plot, QString(), QFont("sans", 11, QFont::Bold)));
    p.map = new QCPColorMap(p.plot->xAxis, p.plot->yAxis);
    auto* scale = new QCPColorScale(p.plot);
    p.plot->plotLayout()->addElement(1, 1, scale);
    p.map->setColorScale(scale);
    auto* margins = new QCPMarginGroup(p.plot);
    p.plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    style_niah_axes(p.plot->axisRect());
    maps->addWidget(p.plot, 1);
    const int index = int(&p - panels_);
    connect(p.plot, &QCustomPlot::mouseMove, this, [this, index](QMouseEvent* e) {
      const Panel& q = panels_[index];
      hover_at(index, q.plot->xAxis->pixelToCoord(e->pos().x()), q.plot->yAxis->pixelToCoord(e->pos().y()));
    });
  }
  layout->addLayout(maps, 1);
  hover_ = new QLabel(tr("Hover over a cell to read its score."));
  hover_->setObjectName(QStringLiteral("niah_hover"));
  layout->addWidget(hover_);

  auto redraw_now = [this] { redraw(); };
  connect(a_box_, QOverload<int>::of(&QComboBox::activated), this, redraw_now);
  connect(b_box_, QOverload<int>::of(&QComboBox::activated), this, redraw_now);
  connect(mode_box_, QOverload<int>::of(&QComboBox::activated), this, redraw_now);
  connect(run_, &QPushButton::clicked, this, &NiahView::start_eval);
  connect(proc_, &QProcess::readyReadStandardError, this, [this] {
    for (const QByteArray& line : proc_->readAllStandardError().split('\n'))
      if (!line.trimmed().isEmpty()) emit message(QStringLiteral("niah: ") + QString::fromUtf8(line));
  });
  connect(proc_, &QProcess::readyReadStandardOutput, this, [this] {
    for (const QByteArray& line : proc_->readAllStandardOutput().split('\n'))
      if (!line.trimmed().isEmpty()) emit message(QStringLiteral("niah: ") + QString::fromUtf8(line));
  });
  connect(proc_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
    run_->setEnabled(true);
    if (status == QProcess::NormalExit && code == 0) {
      emit message(tr("NIAH evaluation finished"));
      refresh();
    } else {
      emit error_occurred(tr("NIAH evaluation failed"),
                          tr("hylo eval niah exited with %1").arg(status == QProcess::CrashExit ? tr("a crash") : QString::number(code)));
    }
  });
  connect(proc_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e != QProcess::FailedToStart) return;
    run_->setEnabled(true);
    emit error_occurred(tr("Cannot start NIAH evaluation"), proc_->program() + ": " + proc_->errorString());
  });
  redraw();
}

NiahView::~NiahView() {
  if (proc_->state() != QProcess::NotRunning) {
    proc_->kill();
    proc_->waitForFinished(2000);
  }
}

bool NiahView::set_project(const QString& folder) {
  clear_project();
  try {
    store_ = std::make_unique<store::ProjectStore>(store::ProjectStore::open(folder.toStdString(), false));
  } catch (const std::exception& e) {
    emit error_occurred(tr("NIAH: cannot read project"), QString::fromStdString(e.what()));
    return false;
  }
  refresh();
  return true;
}

void NiahView::clear_project() {
  store_.reset();
  evals_.clear();
  a_box_->clear();
  b_box_->clear();
  redraw();
}

void NiahView::set_model_dir(const QString& dir) { model_dir_->setText(dir); }

void NiahView::refresh() {
  if (!store_) return;
  evals_.clear();
  try {
    std::vector<store::EvalRecord> all = store_->list_evals();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (it->kind != store::EvalKind::Niah) continue;
      const QString origin = QStringLiteral("%1: evals[%2].result_json").arg(QString::fromStdString(store_->db_file())).arg(it->id);
      try {
        NiahResult r = NiahResult::from_json(QByteArray::fromStdString(it->result_json), origin);
        const QString model = r.model.isEmpty() ? tr("model %1").arg(it->model_id) : QFileInfo(r.model).fileName();
        evals_.emplace_back(tr("#%1 %2  %3").arg(it->id).arg(model, QString::fromStdString(it->created)), std::move(r));
      } catch (const hylo::Error& e) {  // one bad row must not hide the others
        emit error_occurred(tr("Unreadable NIAH result"), QString::fromStdString(e.what()));
      }
    }
  } catch (const std::exception& e) {
    emit error_occurred(tr("NIAH: cannot read evaluations"), QString::fromStdString(e.what()));
  }
  for (QComboBox* b : {a_box_, b_box_}) {
    b->clear();
    for (const auto& [label, r] : evals_) b->addItem(label);
  }
  if (evals_.size() > 1) b_box_->setCurrentIndex(1);
  redraw();
}

void NiahView::show_evals(int a, int b, Mode mode) {
  a_box_->setCurrentIndex(a);
  b_box_->setCurrentIndex(b);
  mode_box_->setCurrentIndex(int(mode));
  redraw();
}

void NiahView::redraw() {
  const int a = a_box_->currentIndex(), b = b_box_->currentIndex();
  const Mode mode = Mode(mode_box_->currentIndex());
  panels_[1].plot->setVisible(mode == Mode::SideBySide);
  b_box_->setEnabled(mode != Mode::Single);
  if (a < 0 || a >= int(evals_.size())) {
    for (Panel& p : panels_) draw(p, NiahResult{}, {}, tr("No NIAH evaluation in this project yet"), false);
    return;
  }
  const auto& [la, ra] = evals_[std::size_t(a)];
  const bool have_b = b >= 0 && b < int(evals_.size());
  if (mode == Mode::Difference && have_b) {
    try {
      draw(panels_[0], ra, niah_difference(ra, evals_[std::size_t(b)].second), tr("A - B   (green: A finds more)"), true);
    } catch (const hylo::Error& e) {
      draw(panels_[0], NiahResult{}, {}, tr("Cannot compare: %1").arg(QString::fromStdString(e.reason())), false);
    }
    return;
  }
  draw(panels_[0], ra, ra.score, la, false);
  if (mode == Mode::SideBySide && have_b) draw(panels_[1], evals_[std::size_t(b)].second, evals_[std::size_t(b)].second.score, evals_[std::size_t(b)].first, false);
}

void NiahView::draw(Panel& p, const NiahResult& r, std::vector<std::vector<double>> values, const QString& title,
                    bool difference) {
  static_cast<QCPTextElement*>(p.plot->plotLayout()->element(0, 0))->setText(title);
  p.values = std::move(values);
  fill_niah_map(p.map, p.plot->axisRect(), r, p.values, difference);
  p.map->colorScale()->axis()->setLabel(difference ? tr("score difference") : tr("mean score"));
  p.plot->replot(QCustomPlot::rpQueuedReplot);
}

double NiahView::cell(int map, int length_index, int depth_index) const {
  return panels_[map].map->data()->cell(length_index, depth_index);
}

void NiahView::hover_at(int map, double x, double y) {
  const Panel& p = panels_[map];
  const int i = int(std::lround(x)), j = int(std::lround(y));
  const int a = map == 0 ? a_box_->currentIndex() : b_box_->currentIndex();
  if (a < 0 || a >= int(evals_.size()) || i < 0 || j < 0 || std::size_t(i) >= p.values.size() ||
      std::size_t(j) >= p.values[std::size_t(i)].size()) {
    hover_->setText(tr("Hover over a cell to read its score."));
    return;
  }
  const NiahResult& r = evals_[std::size_t(a)].second;
  QString text = tr("length %1, depth %2 %: %3 %4")
                     .arg(r.lengths[std::size_t(i)])
                     .arg(r.depths[std::size_t(j)])
                     .arg(mode_box_->currentIndex() == int(Mode::Difference) ? tr("difference") : tr("score"))
                     .arg(p.values[std::size_t(i)][std::size_t(j)], 0, 'f', 3);
  if (!r.loglik.empty() && std::isfinite(r.loglik[std::size_t(i)][std::size_t(j)]) &&
      mode_box_->currentIndex() != int(Mode::Difference))
    text += tr(", log-likelihood per needle token %1").arg(r.loglik[std::size_t(i)][std::size_t(j)], 0, 'f', 3);
  hover_->setText(text);
}

QString NiahView::hover_text() const { return hover_->text(); }

bool NiahView::start_eval() {
  const QString model = model_dir_->text().trimmed();
  if (!store_ || model.isEmpty()) {
    emit error_occurred(tr("Cannot run NIAH"), tr("Open a project and choose the model folder first."));
    return false;
  }
  if (proc_->state() != QProcess::NotRunning) return false;
  const QStringList args = {QStringLiteral("eval"), QStringLiteral("niah"), model, QStringLiteral("--project"),
                            QString::fromStdString(store_->folder())};
  emit message(tr("Starting %1 %2").arg(hylo_binary(), args.join(' ')));
  run_->setEnabled(false);
  proc_->start(hylo_binary(), args);
  return true;
}

}  // namespace hylo::views
