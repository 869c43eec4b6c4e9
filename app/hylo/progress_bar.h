// A one-line terminal progress bar on stderr: "  label  [#####-----]  42%  note  1m02s".
// On a terminal it redraws in place; elsewhere (logs, CI) it prints a line per 10% step.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace hylo::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  void update(int64_t done, int64_t total, const std::string& note = {});
  // Ends the line with the elapsed time and a final note.
  void finish(const std::string& note = {});
  double elapsed_s() const;

 private:
  void draw(bool final_line);
  std::string label_, note_;
  int64_t done_ = 0, total_ = 0;
  int last_decile_ = -1;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_seconds(double s);  // "42s", "3m05s"

}  // namespace hylo::cli
