#include "core/train/op_trace.h"

#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/version.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/spec/error.h"

namespace hylo {

namespace prof = torch::profiler::impl;

OpTrace::OpTrace(bool cuda) {
  if (prof::profilerEnabled()) throw ModelError("a profiler is already recording");
  // Input shapes too: they tell which call of an operator (a copy, a cast) a kernel came from.
  const prof::ProfilerConfig config(prof::ProfilerState::KINETO, /*report_input_shapes=*/true);
  std::set<prof::ActivityType> activities{prof::ActivityType::CPU};
  if (cuda) activities.insert(prof::ActivityType::CUDA);
  torch::autograd::profiler::prepareProfiler(config, activities);
  torch::autograd::profiler::enableProfiler(config, activities);
  running_ = true;
}

OpTrace::~OpTrace() {
  if (running_) torch::autograd::profiler::disableProfiler();
}

void OpTrace::save(const std::string& path) {
  if (!running_) throw ModelError("the trace was already saved");
  running_ = false;
  auto result = torch::autograd::profiler::disableProfiler();
  try {
    result->save(path);
  } catch (const c10::Error&) {
#if TORCH_VERSION_MAJOR >= 2
    throw;
#else
    // A LibTorch built without Kineto (Debian's 1.13) cannot save; it still hands over the CPU
    // operators and scopes, written here in the same Chrome-trace form.
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : result->events()) {
      const bool scope = e.scope() == static_cast<uint8_t>(at::RecordScope::USER_SCOPE);
      events.push_back({{"ph", "X"},
                        {"cat", scope ? "user_annotation" : "cpu_op"},
                        {"name", e.name()},
                        {"pid", 0},
                        {"tid", e.startThreadId()},
                        {"ts", e.startUs()},
                        {"dur", e.durationUs()}});
    }
    std::ofstream(path) << nlohmann::json{{"traceEvents", events}}.dump();
#endif
  }
  if (!std::filesystem::exists(path)) throw IoError("could not write the trace", path);
}

}  // namespace hylo
