// The data behind one curve: a run's values of one metric, kept in step order as they arrive,
// with the x coordinate the user picks and TensorBoard-style smoothing that extends in O(new
// points) when rows are appended (a live run must not cost O(history) per poll).
#pragma once
#include <QString>
#include <cstdint>
#include <vector>

namespace hylo::views {

enum class CurveAxis { Step, Tokens, WallTime };
QString axis_label(CurveAxis a);

// Debiased exponential moving average, as TensorBoard smooths scalars:
//   m_i = w m_{i-1} + (1-w) y_i,  d_i = w d_{i-1} + (1-w),  s_i = m_i / d_i   (m_0 = d_0 = 0)
// so the first point is not pulled towards 0. Non-finite values are passed through and do not
// enter the average (a NaN loss must not poison the rest of the curve).
class EmaSmoother {
 public:
  explicit EmaSmoother(double weight = 0) : w_(weight) {}
  double weight() const { return w_; }
  double push(double y);

 private:
  double w_ = 0, m_ = 0, d_ = 0;
};

class CurveSeries {
 public:
  std::vector<double> step, tokens, wall, value;

  std::size_t size() const { return value.size(); }
  void append(double s, double t, double w, double v);
  const std::vector<double>& x(CurveAxis a) const;
  // Smoothed values of the whole series at `weight`.
  std::vector<double> smoothed(double weight) const;

  struct Stats {
    double min = 0, max = 0, last = 0;
    std::size_t count = 0;
  };
  const Stats& stats() const { return stats_; }  // over finite values, kept up to date on append
  // Index of the point whose x is nearest `x` (x is sorted for every axis); -1 when empty.
  long nearest(CurveAxis a, double x) const;

 private:
  Stats stats_;
};

}  // namespace hylo::views
