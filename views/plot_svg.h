// SVG export of a QCustomPlot (curves, figures): vector output that drawing programs and web
// pages take as is, through Qt Svg's paint device.
#pragma once
#include <QString>

class QCustomPlot;

namespace hylo::views {

// Draws `plot` at width x height into `file`; false when the file cannot be written.
bool save_plot_svg(QCustomPlot* plot, const QString& file, int width, int height, const QString& title);

}  // namespace hylo::views
