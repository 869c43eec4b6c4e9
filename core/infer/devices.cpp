#include "core/infer/devices.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#if defined(HYLO_TORCH_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace hylo {

static void read_meminfo(int64_t& total, int64_t& avail) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") total = kb * 1024;
    if (key == "MemAvailable:") avail = kb * 1024;
  }
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  DeviceInfo cpu;
  cpu.id = "cpu";
  cpu.name = "CPU (" + std::to_string(std::thread::hardware_concurrency()) + " cores)";
  cpu.threads = at::get_num_threads();
  read_meminfo(cpu.total_bytes, cpu.free_bytes);
  out.push_back(cpu);
  const int64_t n = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  for (int64_t i = 0; i < n; ++i) {
    DeviceInfo d;
    d.id = "cuda:" + std::to_string(i);
    d.name = "GPU " + std::to_string(i);
#if defined(HYLO_TORCH_CUDA)
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, static_cast<int>(i)) == cudaSuccess) d.name = prop.name;
    size_t free_b = 0, total_b = 0;
    int prev = 0;
    cudaGetDevice(&prev);
    if (cudaSetDevice(static_cast<int>(i)) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
      d.free_bytes = static_cast<int64_t>(free_b);
      d.total_bytes = static_cast<int64_t>(total_b);
    }
    cudaSetDevice(prev);
#endif
    out.push_back(d);
  }
  return out;
}

}  // namespace hylo
