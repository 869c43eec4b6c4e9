// Compute devices this process can use: the CPU always, CUDA/ROCm GPUs when LibTorch has them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hylo {

struct DeviceInfo {
  std::string id;            // "cpu", "cuda:0", ...
  std::string name;          // human-readable
  int64_t total_bytes = 0;   // device memory (system RAM for the CPU); 0 when unknown
  int64_t free_bytes = 0;    // 0 when unknown
  int threads = 0;           // CPU: intra-op threads LibTorch uses
};

std::vector<DeviceInfo> list_devices();

}  // namespace hylo
