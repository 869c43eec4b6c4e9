#include "core/train/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/spec/error.h"

// 2.4 replaced the per-device functions (set_enabled, set_cpu_enabled, ...) by ones taking the
// device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define HYLO_AUTOCAST_BY_TYPE 1
#endif

namespace hylo {
namespace {

bool is_enabled(at::DeviceType t) {
#if defined(HYLO_AUTOCAST_BY_TYPE)
  return at::autocast::is_autocast_enabled(t);
#else
  return t == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void set_enabled(at::DeviceType t, bool on) {
#if defined(HYLO_AUTOCAST_BY_TYPE)
  at::autocast::set_autocast_enabled(t, on);
#else
  if (t == at::kCUDA)
    at::autocast::set_enabled(on);
  else
    at::autocast::set_cpu_enabled(on);
#endif
}

at::ScalarType get_dtype(at::DeviceType t) {
#if defined(HYLO_AUTOCAST_BY_TYPE)
  return at::autocast::get_autocast_dtype(t);
#else
  return t == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_dtype(at::DeviceType t, at::ScalarType d) {
#if defined(HYLO_AUTOCAST_BY_TYPE)
  at::autocast::set_autocast_dtype(t, d);
#else
  if (t == at::kCUDA)
    at::autocast::set_autocast_gpu_dtype(d);
  else
    at::autocast::set_autocast_cpu_dtype(d);
#endif
}

}  // namespace

AutocastScope::AutocastScope(at::Device device, bool enabled) : type_(device.type()) {
  if (!enabled) return;
  if (type_ != at::kCPU && type_ != at::kCUDA)
    throw TrainError("bf16 autocast needs a CPU or CUDA device, not " + device.str(), {}, "--precision");
  was_enabled_ = is_enabled(type_);
  was_dtype_ = get_dtype(type_);
  set_enabled(type_, true);
  set_dtype(type_, at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The cache holds bf16 copies of the weights for this scope only; they change at every step.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_enabled(type_, was_enabled_);
  set_dtype(type_, was_dtype_);
}

bool autocast_enabled(at::Device device) { return is_enabled(device.type()); }

}  // namespace hylo
