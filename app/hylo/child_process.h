// Runs this `hylo` binary as a child process (the demo pipeline drives `hylo upcycle`, `train` and
// `eval` exactly as a user or the GUI would, so every run lands in the project store the same
// way). Output arrives line by line; stderr lines also split at '\r' (progress counters).
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace hylo::cli {

struct ChildOutput {
  std::function<void(const std::string&)> on_stdout;  // each stdout line, without the newline
  std::function<void(const std::string&)> on_stderr;  // each stderr line or '\r'-separated piece
};

// Starts /proc/self/exe with `args`, feeds its output to `out` until it exits, and returns the exit
// code (128 + signal when killed). The last ~40 stderr lines are kept in `stderr_tail`.
int run_self(const std::vector<std::string>& args, const ChildOutput& out, std::string* stderr_tail = nullptr);

}  // namespace hylo::cli
