#include "views/format.h"

#include <cmath>

namespace hylo::views {

// Three significant digits: enough to compare plans, short enough for a label.
static QString three_digits(double v) {
  const int decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return QString::number(v, 'f', decimals);
}

QString human_bytes(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  if (u == 0) return QStringLiteral("%1 B").arg(static_cast<qint64>(bytes));
  return three_digits(bytes) + QLatin1Char(' ') + QLatin1String(units[u]);
}

QString human_count(double n) {
  static const struct { double scale; const char* suffix; } steps[] = {
      {1e15, "P"}, {1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& s : steps)
    if (std::fabs(n) >= s.scale) return three_digits(n / s.scale) + QLatin1Char(' ') + QLatin1String(s.suffix);
  return QString::number(static_cast<qint64>(std::llround(n)));
}

}  // namespace hylo::views
