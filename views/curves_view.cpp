#include "views/curves_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTableWidget>
#include <QTextStream>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "views/plot_svg.h"

namespace hylo::views {

static constexpr int kPollMs = 300;
static constexpr int kSliderSteps = 1000;  // smoothing weight resolution 0.001, max 0.999

static QColor run_color(std::size_t i) {  // distinguishable, colour-blind friendly (Tableau 10)
  static const char* colors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return QColor(colors[i % (sizeof colors / sizeof *colors)]);
}

CurvesView::CurvesView(QWidget* parent) : QWidget(parent) {
  build_ui();
  timer_ = new QTimer(this);
  timer_->setInterval(kPollMs);
  connect(timer_, &QTimer::timeout, this, [this] { poll(); });
}

CurvesView::~CurvesView() = default;

void CurvesView::build_ui() {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 8);

  auto* bar = new QHBoxLayout;
  metric_box_ = new QComboBox;
  metric_box_->setObjectName(QStringLiteral("metric"));
  metric_box_->setMinimumContentsLength(16);
  axis_box_ = new QComboBox;
  for (CurveAxis a : {CurveAxis::Step, CurveAxis::Tokens, CurveAxis::WallTime})
    axis_box_->addItem(axis_label(a), int(a));
  smooth_slider_ = new QSlider(Qt::Horizontal);
  smooth_slider_->setRange(0, kSliderSteps - 1);
  smooth_slider_->setValue(int(std::lround(smoothing_ * kSliderSteps)));
  smooth_slider_->setMaximumWidth(180);
  smooth_label_ = new QLabel;
  smooth_label_->setMinimumWidth(40);
  log_y_ = new QCheckBox(tr("log y"));
  log_x_ = new QCheckBox(tr("log x"));
  bar->addWidget(new QLabel(tr("Metric")));
  bar->addWidget(metric_box_);
  bar->addWidget(new QLabel(tr("x")));
  bar->addWidget(axis_box_);
  bar->addSpacing(12);
  bar->addWidget(new QLabel(tr("Smoothing")));
  bar->addWidget(smooth_slider_);
  bar->addWidget(smooth_label_);
  bar->addWidget(log_y_);
  bar->addWidget(log_x_);
  bar->addStretch(1);
  auto* fit = new QPushButton(tr("Fit"));
  fit->setToolTip(tr("Show all points (or double-click the plot)"));
  auto* exp = new QPushButton(tr("Export..."));
  bar->addWidget(fit);
  bar->addWidget(exp);
  layout->addLayout(bar);

  plot_ = new QCustomPlot;
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->setNoAntialiasingOnDrag(true);
  plot_->legend->setVisible(true);
  plot_->legend->setBrush(QColor(255, 255, 255, 220));
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  plot_->xAxis->setLabel(axis_label(axis_));
  plot_->yAxis->setLabel(metric_);
  plot_->setMinimumHeight(260);

  run_list_ = new QListWidget;
  run_list_->setMaximumWidth(220);
  stats_ = new QTableWidget(0, 5);
  stats_->setHorizontalHeaderLabels({tr("Run"), tr("min"), tr("max"), tr("last"), tr("points")});
  stats_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  stats_->verticalHeader()->setVisible(false);
  stats_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  stats_->setMaximumHeight(130);
  hover_ = new QLabel(tr("Hover over the plot to read values."));
  hover_->setObjectName(QStringLiteral("hover"));
  hover_->setTextFormat(Qt::RichText);

  auto* split = new QSplitter;
  auto* left = new QWidget;
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addWidget(new QLabel(tr("Runs")));
  left_layout->addWidget(run_list_);
  split->addWidget(left);
  auto* right = new QWidget;
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  right_layout->addWidget(plot_, 1);
  right_layout->addWidget(hover_);
  right_layout->addWidget(stats_);
  split->addWidget(right);
  split->setStretchFactor(1, 1);
  layout->addWidget(split, 1);

  connect(metric_box_, &QComboBox::textActivated, this, &CurvesView::set_metric);
  connect(axis_box_, QOverload<int>::of(&QComboBox::activated), this,
          [this](int i) { set_axis(CurveAxis(axis_box_->itemData(i).toInt())); });
  connect(smooth_slider_, &QSlider::valueChanged, this,
          [this](int v) { set_smoothing(double(v) / kSliderSteps); });
  connect(log_y_, &QCheckBox::toggled, this, &CurvesView::set_log_y);
  connect(log_x_, &QCheckBox::toggled, this, &CurvesView::set_log_x);
  connect(fit, &QPushButton::clicked, this, [this] { user_zoomed_ = false; replot(true); });
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this] { user_zoomed_ = false; replot(true); });
  connect(plot_, &QCustomPlot::mouseWheel, this, [this] { user_zoomed_ = true; });
  connect(plot_, &QCustomPlot::mousePress, this, [this] { user_zoomed_ = true; });
  connect(plot_, &QCustomPlot::mouseMove, this,
          [this](QMouseEvent* e) { hover_at(plot_->xAxis->pixelToCoord(e->pos().x())); });
  connect(run_list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
    auto it = runs_.find(item->data(Qt::UserRole).toLongLong());
    if (it == runs_.end()) return;
    it->second.shown = item->checkState() == Qt::Checked;
    rebuild_graphs();
  });
  connect(exp, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getSaveFileName(this, tr("Export curves"), metric_ + ".png",
                                                   tr("PNG (*.png);;SVG (*.svg);;PDF (*.pdf);;CSV (*.csv)"));
    if (f.isEmpty()) return;
    const bool ok = f.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive) ? export_csv(f) : export_image(f);
    if (ok) emit message(tr("Exported %1").arg(f));
  });
  smooth_label_->setText(QString::number(smoothing_, 'f', 3));
}

bool CurvesView::set_project(const QString& folder) {
  clear_project();
  try {
    store_ = std::make_unique<store::ProjectStore>(store::ProjectStore::open(folder.toStdString(), false));
  } catch (const std::exception& e) {
    emit error_occurred(tr("Curves: cannot read project"), QString::fromStdString(e.what()));
    return false;
  }
  poll();
  timer_->start();
  return true;
}

void CurvesView::clear_project() {
  timer_->stop();
  store_.reset();
  runs_.clear();
  loaded_ = false;
  plot_->clearGraphs();
  plot_->clearItems();
  run_list_->clear();
  stats_->setRowCount(0);
  metric_box_->clear();
  plot_->replot();
}

std::size_t CurvesView::poll() {
  if (!store_) return 0;
  std::size_t appended = 0;
  try {
    const std::int64_t v = store_->data_version();
    if (loaded_ && v == version_) return 0;
    version_ = v;
    loaded_ = true;
    refresh_runs();
    for (auto& [id, rc] : runs_) {
      const std::vector<store::Metric> rows = store_->metrics_since(id, rc.last_id);
      if (rows.empty()) continue;
      const std::size_t before = rc.metrics[metric_].size();
      for (const store::Metric& m : rows)
        rc.metrics[QString::fromStdString(m.name)].append(double(m.step), double(m.tokens), m.wall_s, m.value);
      rc.last_id = rows.back().id;
      rc.stages = store_->run_stages(id);
      appended += rows.size();
      if (rc.raw) append_to_graphs(rc, before);
    }
  } catch (const std::exception& e) {
    timer_->stop();  // a damaged database would otherwise raise the same error every 300 ms
    emit error_occurred(tr("Curves: cannot read metrics"), QString::fromStdString(e.what()));
    return appended;
  }
  if (appended == 0) return 0;
  update_metric_list();
  draw_stage_lines();
  update_stats();
  replot(!user_zoomed_);
  return appended;
}

void CurvesView::refresh_runs() {
  bool added = false;
  for (const store::RunRecord& r : store_->list_runs()) {
    if (runs_.count(r.id)) continue;
    RunCurves& rc = runs_[r.id];
    rc.name = QStringLiteral("#%1 %2").arg(r.id).arg(QString::fromStdString(r.name));
    rc.color = run_color(runs_.size() - 1);
    auto* item = new QListWidgetItem(rc.name, run_list_);
    item->setData(Qt::UserRole, qlonglong(r.id));
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Checked);
    QPixmap swatch(12, 12);
    swatch.fill(rc.color);
    item->setIcon(QIcon(swatch));
    added = true;
  }
  if (added) rebuild_graphs();
}

void CurvesView::append_to_graphs(RunCurves& rc, std::size_t from) {
  auto it = rc.metrics.find(metric_);
  if (it == rc.metrics.end() || from >= it->second.size()) return;
  const CurveSeries& s = it->second;
  const std::vector<double>& xs = s.x(axis_);
  QVector<double> x(xs.begin() + long(from), xs.end()), y(s.value.begin() + long(from), s.value.end());
  QVector<double> ys(y.size());
  for (int i = 0; i < y.size(); ++i) ys[i] = rc.ema.push(y[i]);
  rc.raw->addData(x, y, true);
  rc.smooth->addData(x, ys, true);
}

void CurvesView::rebuild_graphs() {
  plot_->clearGraphs();
  for (auto& [id, rc] : runs_) {
    rc.raw = rc.smooth = nullptr;
    if (!rc.shown) continue;
    rc.raw = plot_->addGraph();
    QColor faint = rc.color;
    faint.setAlpha(smoothing_ > 0 ? 90 : 255);
    rc.raw->setPen(QPen(faint, 1));
    rc.raw->removeFromLegend();
    rc.raw->setAdaptiveSampling(true);
    rc.smooth = plot_->addGraph();
    rc.smooth->setPen(QPen(rc.color, 2));
    rc.smooth->setName(rc.name);
    rc.smooth->setAdaptiveSampling(true);
    rc.smooth->setVisible(smoothing_ > 0);
    if (smoothing_ == 0) {
      rc.smooth->removeFromLegend();
      rc.raw->addToLegend();
      rc.raw->setName(rc.name);
    }
    rc.ema = EmaSmoother(smoothing_);
    append_to_graphs(rc, 0);
  }
  plot_->yAxis->setLabel(metric_);
  plot_->xAxis->setLabel(axis_label(axis_));
  draw_stage_lines();
  update_stats();
  replot(!user_zoomed_);
}

void CurvesView::draw_stage_lines() {
  plot_->clearItems();
  for (const auto& [id, rc] : runs_) {
    auto it = rc.metrics.find(metric_);
    if (!rc.shown || it == rc.metrics.end() || it->second.size() == 0) continue;
    const CurveSeries& s = it->second;
    for (const store::RunStage& st : rc.stages) {
      if (st.idx == 0 && st.start_step == 0) continue;  // the first stage starts where the plot does
      // Stages start at a step; on the tokens / time axes the line sits at that step's point.
      const long i = s.nearest(CurveAxis::Step, double(st.start_step));
      const double x = axis_ == CurveAxis::Step ? double(st.start_step) : s.x(axis_)[std::size_t(i)];
      auto* line = new QCPItemStraightLine(plot_);
      line->point1->setCoords(x, 0);
      line->point2->setCoords(x, 1);
      QColor c = rc.color;
      c.setAlpha(160);
      line->setPen(QPen(c, 1, Qt::DashLine));
      auto* label = new QCPItemText(plot_);
      label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
      label->position->setCoords(x, 0.02);
      label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
      label->setText(QStringLiteral(" %1").arg(QString::fromStdString(st.kind)));
      label->setColor(c.darker(130));
    }
  }
}

void CurvesView::update_stats() {
  stats_->setRowCount(0);
  for (const auto& [id, rc] : runs_) {
    auto it = rc.metrics.find(metric_);
    if (it == rc.metrics.end()) continue;
    const CurveSeries::Stats st = it->second.stats();
    const int row = stats_->rowCount();
    stats_->insertRow(row);
    auto* name = new QTableWidgetItem(rc.name);
    name->setForeground(rc.color);
    stats_->setItem(row, 0, name);
    const bool any = st.count > 0;
    stats_->setItem(row, 1, new QTableWidgetItem(any ? QString::number(st.min, 'g', 6) : "-"));
    stats_->setItem(row, 2, new QTableWidgetItem(any ? QString::number(st.max, 'g', 6) : "-"));
    stats_->setItem(row, 3, new QTableWidgetItem(any ? QString::number(st.last, 'g', 6) : "-"));
    stats_->setItem(row, 4, new QTableWidgetItem(QString::number(it->second.size())));
  }
}

void CurvesView::update_metric_list() {
  const QStringList names = metric_names();
  if (names.size() == metric_box_->count()) return;
  metric_box_->blockSignals(true);
  metric_box_->clear();
  metric_box_->addItems(names);
  metric_box_->setCurrentText(metric_);
  metric_box_->blockSignals(false);
}

QStringList CurvesView::metric_names() const {
  QStringList names;
  for (const auto& [id, rc] : runs_)
    for (const auto& [name, s] : rc.metrics)
      if (!names.contains(name)) names << name;
  names.sort();
  return names;
}

void CurvesView::replot(bool rescale) {
  if (rescale) {
    plot_->rescaleAxes();
    // Keep a flat curve visible and off the frame.
    QCPRange y = plot_->yAxis->range();
    if (plot_->yAxis->scaleType() == QCPAxis::stLinear) {
      const double pad = y.size() > 0 ? y.size() * 0.05 : std::max(1e-3, std::abs(y.lower) * 0.05);
      plot_->yAxis->setRange(y.lower - pad, y.upper + pad);
    }
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void CurvesView::set_metric(const QString& name) {
  if (name.isEmpty() || name == metric_) return;
  metric_ = name;
  metric_box_->setCurrentText(name);
  user_zoomed_ = false;
  rebuild_graphs();
}

void CurvesView::set_axis(CurveAxis axis) {
  axis_ = axis;
  axis_box_->setCurrentIndex(axis_box_->findData(int(axis)));
  user_zoomed_ = false;
  rebuild_graphs();
}

void CurvesView::set_smoothing(double weight) {
  smoothing_ = std::clamp(weight, 0.0, double(kSliderSteps - 1) / kSliderSteps);
  smooth_label_->setText(QString::number(smoothing_, 'f', 3));
  const int pos = int(std::lround(smoothing_ * kSliderSteps));
  if (smooth_slider_->value() != pos) {
    smooth_slider_->blockSignals(true);
    smooth_slider_->setValue(pos);
    smooth_slider_->blockSignals(false);
  }
  rebuild_graphs();
}

static void set_log(QCPAxis* axis, bool on) {
  axis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (on) axis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  else axis->setTicker(QSharedPointer<QCPAxisTicker>::create());
}

void CurvesView::set_log_y(bool on) {
  log_y_->setChecked(on);
  set_log(plot_->yAxis, on);
  replot(!user_zoomed_);
}

void CurvesView::set_log_x(bool on) {
  log_x_->setChecked(on);
  set_log(plot_->xAxis, on);
  replot(!user_zoomed_);
}

void CurvesView::show_runs(const std::vector<std::int64_t>& runs, const QStringList& labels) {
  run_list_->blockSignals(true);
  for (int i = 0; i < run_list_->count(); ++i) {
    QListWidgetItem* item = run_list_->item(i);
    const std::int64_t id = item->data(Qt::UserRole).toLongLong();
    const auto pos = std::find(runs.begin(), runs.end(), id);
    RunCurves& rc = runs_.at(id);
    rc.shown = runs.empty() || pos != runs.end();
    item->setCheckState(rc.shown ? Qt::Checked : Qt::Unchecked);
    const long k = pos - runs.begin();
    if (pos != runs.end() && k < labels.size()) {
      rc.name = labels[int(k)];
      item->setText(rc.name);
    }
  }
  run_list_->blockSignals(false);
  user_zoomed_ = false;
  rebuild_graphs();
}

void CurvesView::hover_at(double x) {
  QStringList parts;
  for (const auto& [id, rc] : runs_) {
    auto it = rc.metrics.find(metric_);
    if (!rc.shown || it == rc.metrics.end()) continue;
    const CurveSeries& s = it->second;
    const long i = s.nearest(axis_, x);
    if (i < 0) continue;
    const std::size_t k = std::size_t(i);
    QString text = QStringLiteral("<span style='color:%1'>&#9632;</span> %2: <b>%3</b>")
                       .arg(rc.color.name(), rc.name.toHtmlEscaped(), QString::number(s.value[k], 'g', 6));
    if (smoothing_ > 0) text += tr(" (smoothed %1)").arg(s.smoothed(smoothing_)[k], 0, 'g', 6);
    parts << text + tr(" at step %1").arg(qlonglong(s.step[k]));
  }
  hover_->setText(parts.isEmpty() ? tr("No data under the cursor.") : parts.join(QStringLiteral("&nbsp;&nbsp;&nbsp;")));
}

QString CurvesView::hover_text() const { return hover_->text(); }

const CurveSeries* CurvesView::series(std::int64_t run, const QString& metric) const {
  auto r = runs_.find(run);
  if (r == runs_.end()) return nullptr;
  auto m = r->second.metrics.find(metric);
  return m == r->second.metrics.end() ? nullptr : &m->second;
}

bool CurvesView::export_csv(const QString& file) {
  QFile f(file);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
    emit error_occurred(tr("Cannot export"), tr("%1: %2").arg(file, f.errorString()));
    return false;
  }
  QTextStream out(&f);
  out << "run,metric,step,tokens,wall_s,value,smoothed\n";
  for (const auto& [id, rc] : runs_) {
    auto it = rc.metrics.find(metric_);
    if (!rc.shown || it == rc.metrics.end()) continue;
    const CurveSeries& s = it->second;
    const std::vector<double> sm = s.smoothed(smoothing_);
    for (std::size_t i = 0; i < s.size(); ++i)
      out << id << ',' << metric_ << ',' << qlonglong(s.step[i]) << ',' << qlonglong(s.tokens[i]) << ','
          << QString::number(s.wall[i], 'g', 10) << ',' << QString::number(s.value[i], 'g', 17) << ','
          << QString::number(sm[i], 'g', 17) << '\n';
  }
  return out.status() == QTextStream::Ok;
}

bool CurvesView::export_image(const QString& file, QSize size) {
  const bool given = !size.isEmpty();  // 0 x 0 asks QCustomPlot for the widget's size
  const int w = given ? size.width() : 0, h = given ? size.height() : 0;
  const auto is = [&](const char* ext) { return file.endsWith(QLatin1String(ext), Qt::CaseInsensitive); };
  const bool ok = is(".svg")   ? save_plot_svg(plot_, file, given ? w : plot_->width(), given ? h : plot_->height(), metric_)
                  : is(".pdf") ? plot_->savePdf(file, w, h)
                               : plot_->savePng(file, w, h, given ? 1.0 : 2.0);
  if (!ok) emit error_occurred(tr("Cannot export"), tr("%1: could not write the image").arg(file));
  return ok;
}

}  // namespace hylo::views
