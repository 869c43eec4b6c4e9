// Launch helpers shared by the kernels' host functions.
#pragma once

#include "kernels/compat.h"

namespace hylo::kernels {

// nullptr after a good launch, else the runtime's text for the error (static storage).
inline const char* last_launch_error() {
  const hyloError_t e = HYLO_GPU(GetLastError)();
  return e == HYLO_GPU(Success) ? nullptr : HYLO_GPU(GetErrorString)(e);
}

// Streaming multiprocessors (CUDA) / compute units (HIP) of `device`, read once per device.
inline int multiprocessors(int device) {
  static int cached[64] = {};
  if (device < 0 || device >= 64) return 1;
  if (cached[device] == 0) {
    int n = 0;
    const bool ok = HYLO_GPU(DeviceGetAttribute)(&n, HYLO_ATTR_MULTIPROCESSORS, device) == HYLO_GPU(Success);
    cached[device] = ok && n > 0 ? n : 1;
  }
  return cached[device];
}

}  // namespace hylo::kernels
