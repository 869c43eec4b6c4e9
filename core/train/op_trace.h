// Records the operators run between construction and save() (and, on a GPU, their kernels) with
// LibTorch's profiler, and writes them as a Chrome trace (chrome://tracing, Perfetto;
// bench/trace_summary.py totals the GPU time by kernel, operator and layer scope).
#pragma once
#include <string>

namespace hylo {

class OpTrace {
 public:
  explicit OpTrace(bool cuda);  // starts recording; a ModelError when a profiler already runs
  ~OpTrace();                   // stops recording if save() was not called
  OpTrace(const OpTrace&) = delete;
  OpTrace& operator=(const OpTrace&) = delete;

  // Stops recording and writes the trace to `path` (an IoError naming it when that fails).
  void save(const std::string& path);

 private:
  bool running_ = false;
};

}  // namespace hylo
