#include "views/curve_series.h"

#include <QObject>
#include <algorithm>
#include <cmath>

namespace hylo::views {

QString axis_label(CurveAxis a) {
  switch (a) {
    case CurveAxis::Step: return QObject::tr("step");
    case CurveAxis::Tokens: return QObject::tr("tokens");
    case CurveAxis::WallTime: return QObject::tr("wall time (s)");
  }
  return {};
}

double EmaSmoother::push(double y) {
  if (!std::isfinite(y)) return y;
  m_ = w_ * m_ + (1 - w_) * y;
  d_ = w_ * d_ + (1 - w_);
  return m_ / d_;
}

void CurveSeries::append(double s, double t, double w, double v) {
  step.push_back(s);
  tokens.push_back(t);
  wall.push_back(w);
  value.push_back(v);
  if (!std::isfinite(v)) return;
  if (stats_.count == 0) stats_.min = stats_.max = v;
  stats_.min = std::min(stats_.min, v);
  stats_.max = std::max(stats_.max, v);
  stats_.last = v;
  ++stats_.count;
}

const std::vector<double>& CurveSeries::x(CurveAxis a) const {
  switch (a) {
    case CurveAxis::Tokens: return tokens;
    case CurveAxis::WallTime: return wall;
    case CurveAxis::Step: break;
  }
  return step;
}

std::vector<double> CurveSeries::smoothed(double weight) const {
  EmaSmoother ema(weight);
  std::vector<double> out;
  out.reserve(value.size());
  for (double v : value) out.push_back(ema.push(v));
  return out;
}

long CurveSeries::nearest(CurveAxis a, double x_at) const {
  const std::vector<double>& xs = x(a);
  if (xs.empty()) return -1;
  auto it = std::lower_bound(xs.begin(), xs.end(), x_at);
  if (it == xs.end()) return long(xs.size()) - 1;
  if (it != xs.begin() && x_at - *(it - 1) < *it - x_at) --it;
  return long(it - xs.begin());
}

}  // namespace hylo::views
