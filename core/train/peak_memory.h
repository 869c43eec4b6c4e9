// Peak memory of this process on a device: the CUDA caching allocator's peak of allocated bytes
// (LibTorch built with CUDA), else the peak resident set size of the process.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace hylo {

int64_t peak_memory_bytes(at::Device device);
// Starts a new peak on a CUDA device (the resident-set peak of the CPU cannot be reset).
void reset_peak_memory(at::Device device);

}  // namespace hylo
