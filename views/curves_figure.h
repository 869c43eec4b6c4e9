// Training curves for documents (hylo-figures curves): the chosen runs' metric against step,
// overlaid and drawn by CurvesView (EMA-smoothed with the raw curve faint behind it).
#pragma once
#include <QSize>
#include <QStringList>
#include <cstdint>
#include <vector>

namespace hylo::views {

struct CurvesFigure {
  QString project;
  std::vector<std::int64_t> runs;  // at least one
  QString metric = QStringLiteral("loss");
  QStringList labels;              // legend names in run order; missing ones stay "#id name"
  double smoothing = 0.6;          // 0 draws the raw curves only
  QSize size{900, 540};
};

// Writes `file` (.png, .svg or .pdf). A hylo::Error names the project, the run id or the metric when
// the project cannot be read, a run is unknown, or a run never logged the metric.
void save_curves_figure(const CurvesFigure& figure, const QString& file);

}  // namespace hylo::views
