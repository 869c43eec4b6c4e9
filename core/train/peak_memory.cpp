#include "core/train/peak_memory.h"

#include <sys/resource.h>

#if defined(HYLO_KERNELS_CUDA) || defined(HYLO_TORCH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace hylo {

int64_t peak_memory_bytes(at::Device device) {
#if defined(HYLO_KERNELS_CUDA) || defined(HYLO_TORCH_CUDA)
  if (device.is_cuda()) {
    // Index 0 is the aggregate pool in every LibTorch version (the enum moved namespaces in 2.x).
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    return stats.allocated_bytes[0].peak;
  }
#endif
  (void)device;
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}

void reset_peak_memory(at::Device device) {
#if defined(HYLO_KERNELS_CUDA) || defined(HYLO_TORCH_CUDA)
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
  (void)device;
}

}  // namespace hylo
