#include "views/niah_figure.h"

#include <cmath>
#include <qcustomplot.h>

#include "core/spec/error.h"
#include "views/niah_plot.h"

namespace hylo::views {

QSize NiahFigure::default_size(std::size_t panels) { return QSize(int(360 * std::max<std::size_t>(panels, 1)) + 110, 400); }

QString NiahFigure::panel_title(std::size_t panel) const {
  const NiahPanel& p = panels_.at(panel);
  if (!p.kv_fraction) return p.label;
  return QObject::tr("%1\nKV cache %2 % of the teacher").arg(p.label).arg(*p.kv_fraction * 100, 0, 'f', 1);
}

namespace {

std::vector<std::vector<double>> needle_probability(const NiahPanel& p) {
  bool measured = false;  // `hylo eval niah --no-loglik` stores null (NaN) cells
  for (const auto& row : p.result.loglik)
    for (double v : row) measured = measured || std::isfinite(v);
  if (!measured)
    throw EvalError("evaluation " + std::to_string(p.eval_id) + " (" + p.label.toStdString() +
                        ") has no log-likelihoods (run without --no-loglik)", "", "loglik");
  auto cells = p.result.loglik;
  for (auto& row : cells)
    for (double& v : row) v = std::exp(v);  // NaN (not measured) stays NaN
  return cells;
}

}  // namespace

NiahFigure::NiahFigure(std::vector<NiahPanel> panels, const QStringList& labels, const QString& title, QSize size,
                       NiahMeasure measure)
    : panels_(std::move(panels)), plot_(std::make_unique<QCustomPlot>()), size_(size) {
  if (panels_.empty()) throw EvalError("no evaluation to draw", "", "--eval");
  for (int i = 0; i < labels.size() && std::size_t(i) < panels_.size(); ++i) panels_[std::size_t(i)].label = labels[i];
  QCustomPlot& plot = *plot_;
  plot.setBackground(Qt::white);
  plot.plotLayout()->clear();
  int row = 0;
  if (!title.isEmpty())
    plot.plotLayout()->addElement(row++, 0, new QCPTextElement(&plot, title, QFont("sans", 13, QFont::Bold)));
  auto* grid = new QCPLayoutGrid;
  plot.plotLayout()->addElement(row, 0, grid);
  auto* scale = new QCPColorScale(&plot);
  scale->setGradient(niah_score_gradient());
  scale->setDataRange(QCPRange(0, 1));
  scale->axis()->setLabel(measure == NiahMeasure::Score ? QObject::tr("mean score")
                                                        : QObject::tr("needle probability (per token)"));
  auto* margins = new QCPMarginGroup(&plot);
  const int n = int(panels_.size());
  for (int i = 0; i < n; ++i) {
    const NiahPanel& p = panels_[std::size_t(i)];
    grid->addElement(0, i, new QCPTextElement(&plot, panel_title(std::size_t(i)), QFont("sans", 11, QFont::Bold)));
    auto* rect = new QCPAxisRect(&plot);
    grid->addElement(1, i, rect);
    style_niah_axes(rect);
    if (i > 0) rect->axis(QCPAxis::atLeft)->setLabel(QString());  // the row shares one depth label
    rect->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    auto* map = new QCPColorMap(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    map->setColorScale(scale);
    fill_niah_map(map, rect, p.result, measure == NiahMeasure::Score ? p.result.score : needle_probability(p), false);
  }
  grid->addElement(1, n, scale);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  grid->setColumnStretchFactor(n, 0.01);
  grid->setRowStretchFactor(0, 0.01);
  // Lay out at the output size now, so cell_center() matches the saved pixels.
  plot.setViewport(QRect(QPoint(0, 0), size_));
  plot.replot(QCustomPlot::rpImmediateRefresh);
}

NiahFigure::~NiahFigure() = default;

QPoint NiahFigure::cell_center(std::size_t panel, int length_index, int depth_index) const {
  const QCPColorMap* map = nullptr;
  for (int i = 0, seen = 0; i < plot_->plottableCount(); ++i)
    if (auto* m = qobject_cast<QCPColorMap*>(plot_->plottable(i)); m && std::size_t(seen++) == panel) map = m;
  if (!map) throw EvalError("no such panel", "", "panel " + std::to_string(panel));
  return QPoint(int(std::lround(map->keyAxis()->coordToPixel(length_index))),
                int(std::lround(map->valueAxis()->coordToPixel(depth_index))));
}

void NiahFigure::save_png(const QString& file) const {
  if (!plot_->savePng(file, size_.width(), size_.height(), 1.0))
    throw IoError("cannot write the image", file.toStdString(), "-o");
}

}  // namespace hylo::views
