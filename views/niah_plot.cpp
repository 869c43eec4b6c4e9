#include "views/niah_plot.h"

#include <QObject>
#include <cmath>
#include <qcustomplot.h>

namespace hylo::views {

QCPColorGradient niah_score_gradient() {
  QCPColorGradient g;
  g.setColorStopAt(0.0, QColor("#c62828"));
  g.setColorStopAt(0.5, QColor("#fdd835"));
  g.setColorStopAt(1.0, QColor("#2e7d32"));
  g.setNanHandling(QCPColorGradient::nhTransparent);
  return g;
}

QCPColorGradient niah_difference_gradient() {
  QCPColorGradient g;
  g.setColorStopAt(0.0, QColor("#c62828"));
  g.setColorStopAt(0.5, QColor("#ffffff"));
  g.setColorStopAt(1.0, QColor("#2e7d32"));
  return g;
}

void style_niah_axes(QCPAxisRect* rect) {
  QCPAxis* x = rect->axis(QCPAxis::atBottom);
  QCPAxis* y = rect->axis(QCPAxis::atLeft);
  x->setLabel(QObject::tr("context length (tokens)"));
  y->setLabel(QObject::tr("needle depth (%)"));
  y->setRangeReversed(true);  // 0 % (start of the context) at the top
  for (QCPAxis* ax : {x, y}) ax->grid()->setVisible(false);
}

void fill_niah_map(QCPColorMap* map, QCPAxisRect* rect, const NiahResult& r,
                   const std::vector<std::vector<double>>& values, bool difference) {
  const int nx = int(r.lengths.size()), ny = int(r.depths.size());
  map->data()->setSize(std::max(nx, 1), std::max(ny, 1));
  map->data()->setRange(QCPRange(0, std::max(nx - 1, 1)), QCPRange(0, std::max(ny - 1, 1)));
  map->data()->fill(std::nan(""));
  for (int i = 0; i < nx; ++i)
    for (int j = 0; j < ny; ++j) map->data()->setCell(i, j, values[std::size_t(i)][std::size_t(j)]);
  map->setInterpolate(false);
  map->setGradient(difference ? niah_difference_gradient() : niah_score_gradient());
  map->setDataRange(difference ? QCPRange(-1, 1) : QCPRange(0, 1));
  auto xt = QSharedPointer<QCPAxisTickerText>::create();
  for (int i = 0; i < nx; ++i) xt->addTick(i, short_length(r.lengths[std::size_t(i)]));
  auto yt = QSharedPointer<QCPAxisTickerText>::create();
  for (int j = 0; j < ny; ++j) yt->addTick(j, QString::number(r.depths[std::size_t(j)], 'g', 4));
  QCPAxis* x = rect->axis(QCPAxis::atBottom);
  QCPAxis* y = rect->axis(QCPAxis::atLeft);
  x->setTicker(xt);
  y->setTicker(yt);
  x->setRange(-0.5, std::max(nx, 1) - 0.5);
  y->setRange(-0.5, std::max(ny, 1) - 0.5);
}

}  // namespace hylo::views
