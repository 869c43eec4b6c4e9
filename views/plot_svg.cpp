#include "views/plot_svg.h"

#include <QSvgGenerator>
#include <qcustomplot.h>

namespace hylo::views {

bool save_plot_svg(QCustomPlot* plot, const QString& file, int width, int height, const QString& title) {
  QSvgGenerator svg;
  svg.setFileName(file);
  svg.setSize(QSize(width, height));
  svg.setViewBox(QRect(0, 0, width, height));
  svg.setTitle(title);
  svg.setDescription(QStringLiteral("HyLo Workbench"));
  QCPPainter painter;
  if (!painter.begin(&svg)) return false;  // the generator could not open the file
  // Vector output: no pixmap caching, so every graph is written as its own path.
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  plot->toPainter(&painter, width, height);
  return painter.end();
}

}  // namespace hylo::views
