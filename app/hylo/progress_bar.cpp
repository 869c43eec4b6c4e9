#include "app/hylo/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace hylo::cli {

std::string format_seconds(double s) {
  char buf[32];
  const long total = static_cast<long>(s + 0.5);
  if (total < 60) std::snprintf(buf, sizeof buf, "%lds", total);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  return buf;
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

double ProgressBar::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(int64_t done, int64_t total, const std::string& note) {
  done_ = done;
  total_ = total;
  note_ = note;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    // At most ~10 redraws a second: children can report thousands of steps.
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total) return;
    last_draw_ = now;
    draw(false);
    return;
  }
  const int decile = total > 0 ? static_cast<int>(10 * done / total) : 0;
  if (decile != last_decile_) {
    last_decile_ = decile;
    draw(false);
  }
}

void ProgressBar::finish(const std::string& note) {
  if (total_ == 0) done_ = total_ = 1;
  done_ = total_;
  note_ = note;
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  constexpr int kWidth = 24;
  const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 0.0;
  std::string bar(kWidth, '-');
  for (int i = 0; i < static_cast<int>(frac * kWidth + 1e-9) && i < kWidth; ++i) bar[i] = '#';
  std::fprintf(stderr, "%s  %-26s [%s] %3d%%  %-34s %7s%s", tty_ ? "\r" : "", label_.c_str(), bar.c_str(),
               static_cast<int>(100 * frac + 1e-9), note_.c_str(), format_seconds(elapsed_s()).c_str(),
               final_line || !tty_ ? "\n" : "\033[K");
  std::fflush(stderr);
}

}  // namespace hylo::cli
