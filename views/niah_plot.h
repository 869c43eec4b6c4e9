// The NIAH heatmap style shared by NiahView and hylo-figures: one colour map per axis rect, cells
// at integer coordinates (one column per context length, so log-spaced lengths read as a log
// axis), needle depth 0 % at the top, red -> yellow -> green scores on a fixed 0..1 scale.
#pragma once
#include <QString>
#include <vector>

#include "views/niah_result.h"

class QCPAxisRect;
class QCPColorGradient;
class QCPColorMap;

namespace hylo::views {

QCPColorGradient niah_score_gradient();       // red (missed) -> yellow -> green (found)
QCPColorGradient niah_difference_gradient();  // A worse (red) -> equal (white) -> A better (green)

// Axis labels, reversed depth axis, no grid: call once per axis rect that shows a NIAH map.
void style_niah_axes(QCPAxisRect* rect);

// Fills `map` (drawn on `rect`) with `values` [length][depth] laid out as `r`'s lengths and depths,
// sets its gradient and data range (0..1, or -1..1 for a difference) and the tick labels.
// An empty layout draws an empty map.
void fill_niah_map(QCPColorMap* map, QCPAxisRect* rect, const NiahResult& r,
                   const std::vector<std::vector<double>>& values, bool difference);

}  // namespace hylo::views
