// bf16 autocast for the student's forward: matmuls run in bf16 while the parameters (the master
// weights AdamW updates) stay fp32. A scope object, so the backward's recomputation (activation
// checkpointing) can re-enter the same state on another thread.
#pragma once
#include <ATen/ATen.h>

namespace hylo {

class AutocastScope {
 public:
  // Enables bf16 autocast for `device`'s type when `enabled`; restores the previous state on exit.
  AutocastScope(at::Device device, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  at::DeviceType type_;
  bool active_ = false, was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

// Whether autocast is on for `device`'s type in this thread.
bool autocast_enabled(at::Device device);

}  // namespace hylo
