#include "views/memory_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "core/spec/estimates.h"
#include "views/format.h"
#include "views/mixer_style.h"
#include "views/niah_result.h"
#include "views/plan_numbers.h"

namespace hylo::views {

double cache_bytes_of_kind(const ModelConfig& config, MixerKind kind, std::int64_t tokens) {
  double elements = 0;
  for (const LayerSpec& spec : config.layers) {
    if (spec.kind != kind) continue;
    const LayerCacheSize c = layer_cache_size(spec);
    elements += double(c.per_token) * double(tokens) + double(c.conv_state) + double(c.recurrent_state);
  }
  return elements * double(kDtypeBytes);
}

std::vector<std::int64_t> MemoryView::contexts() {
  std::vector<std::int64_t> out;
  for (std::int64_t l = 1024; l <= (std::int64_t(1) << 21); l *= 2) out.push_back(l);
  return out;
}

MemoryView::MemoryView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 8);
  plot_ = new QCustomPlot;
  plot_->setMinimumHeight(320);
  for (QCPAxis* ax : {plot_->xAxis, plot_->yAxis}) {
    ax->setScaleType(QCPAxis::stLogarithmic);
    ax->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  }
  auto xt = QSharedPointer<QCPAxisTickerText>::create();
  for (std::int64_t l : contexts()) xt->addTick(double(l), short_length(l));
  plot_->xAxis->setTicker(xt);
  plot_->xAxis->setLabel(tr("context length (tokens)"));
  plot_->yAxis->setLabel(tr("cache + state bytes (bf16, one sequence)"));
  plot_->yAxis->setNumberFormat(QStringLiteral("eb"));
  plot_->yAxis->setNumberPrecision(0);
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  layout->addWidget(plot_, 1);

  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Breakdown at")));
  at_ = new QComboBox;
  for (std::int64_t l : contexts()) at_->addItem(short_length(l), qlonglong(l));
  at_->setCurrentText(QStringLiteral("64K"));
  row->addWidget(at_);
  row->addStretch(1);
  layout->addLayout(row);
  table_ = new QTableWidget(0, 6);
  table_->setHorizontalHeaderLabels({tr("Model"), tr("Attention KV"), tr("MLA latent"), tr("Mamba2 state"),
                                     tr("GDN state"), tr("Total")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setMaximumHeight(150);
  layout->addWidget(table_);
  connect(at_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, &MemoryView::redraw);
  redraw();
}

void MemoryView::set_teacher(const ModelConfig& teacher, const QString& name) {
  teacher_ = teacher;
  teacher_name_ = name;
  has_teacher_ = true;
  redraw();
}

void MemoryView::set_students(const std::vector<std::pair<QString, ModelConfig>>& students) {
  students_ = students;
  redraw();
}

void MemoryView::set_measured(const std::map<QString, std::map<std::int64_t, double>>& measured) {
  measured_ = measured;
  redraw();
}

static QCPGraph* curve(QCustomPlot* plot, const QString& name, const QPen& pen,
                       const std::function<double(std::int64_t)>& bytes) {
  QCPGraph* g = plot->addGraph();
  g->setName(name);
  g->setPen(pen);
  for (std::int64_t l : MemoryView::contexts()) {
    const double b = bytes(l);
    if (b > 0) g->addData(double(l), b);
  }
  return g;
}

void MemoryView::redraw() {
  plot_->clearGraphs();
  table_->setRowCount(0);
  if (!has_teacher_) {
    plot_->replot();
    return;
  }
  std::vector<std::pair<QString, const ModelConfig*>> rows = {{teacher_name_, &teacher_}};
  curve(plot_, tr("%1 (teacher)").arg(teacher_name_), QPen(QColor("#555555"), 2.5),
        [this](std::int64_t l) { return cache_bytes_at(teacher_, l); });
  static const char* colors[] = {"#4e79a7", "#e15759", "#59a14f", "#b07aa1", "#f28e2b"};
  for (std::size_t i = 0; i < students_.size(); ++i) {
    const auto& [name, config] = students_[i];
    rows.emplace_back(name, &config);
    curve(plot_, name, QPen(QColor(colors[i % 5]), 2.5), [&config = config](std::int64_t l) { return cache_bytes_at(config, l); });
  }
  if (!students_.empty()) {  // the first student by layer type, thin and dashed in the planner's colours
    const auto& [name, config] = students_.front();
    for (MixerKind k : {MixerKind::Attention, MixerKind::MLA, MixerKind::Mamba2, MixerKind::GDN}) {
      if (config.count_layers(k) == 0) continue;
      curve(plot_, tr("  %1: %2 layers").arg(name, mixer_name(k)), QPen(mixer_color(k), 1.5, Qt::DashLine),
            [&config = config, k](std::int64_t l) { return cache_bytes_of_kind(config, k, l); });
    }
  }
  for (const auto& [label, points] : measured_) {
    QCPGraph* g = plot_->addGraph();
    g->setName(tr("%1 (measured)").arg(label));
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QColor("#000000"), QColor("#f28e2b"), 9));
    for (const auto& [l, b] : points) g->addData(double(l), b);
  }
  plot_->rescaleAxes();
  plot_->yAxis->setRange(plot_->yAxis->range().lower / 2, plot_->yAxis->range().upper * 2);
  plot_->replot(QCustomPlot::rpQueuedReplot);

  const std::int64_t at = at_->currentData().toLongLong();
  for (const auto& [name, config] : rows) {
    const int r = table_->rowCount();
    table_->insertRow(r);
    table_->setItem(r, 0, new QTableWidgetItem(name));
    int c = 1;
    for (MixerKind k : {MixerKind::Attention, MixerKind::MLA, MixerKind::Mamba2, MixerKind::GDN}) {
      // A teacher's config.json lists no layers: all of its layers are attention.
      const double b = config->layers.empty() ? (k == MixerKind::Attention ? cache_bytes_at(*config, at) : 0)
                                              : cache_bytes_of_kind(*config, k, at);
      table_->setItem(r, c++, new QTableWidgetItem(b > 0 ? human_bytes(b) : QStringLiteral("-")));
    }
    table_->setItem(r, c, new QTableWidgetItem(human_bytes(cache_bytes_at(*config, at))));
  }
}

}  // namespace hylo::views
