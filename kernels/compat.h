// The few spellings that differ between CUDA (nvcc) and HIP (hipcc): the kernels are written in the
// CUDA dialect and include only this header for runtime calls. A "warp" here is always 32 lanes
// (shuffles pass width 32), so the same code is correct on AMD's 64-lane wavefronts.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__HIP_PLATFORM_AMD__) || defined(__HIPCC__)
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>
#define HYLO_GPU(name) hip##name
using hyloStream_t = hipStream_t;
using hyloError_t = hipError_t;
#define HYLO_SHFL_XOR(v, offset) __shfl_xor((v), (offset), 32)
#define HYLO_ATTR_MULTIPROCESSORS hipDeviceAttributeMultiprocessorCount
#define HYLO_ATTR_SHARED_OPTIN hipDeviceAttributeSharedMemPerBlockOptin
#else
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#define HYLO_GPU(name) cuda##name
using hyloStream_t = cudaStream_t;
using hyloError_t = cudaError_t;
#define HYLO_SHFL_XOR(v, offset) __shfl_xor_sync(0xffffffffu, (v), (offset), 32)
#define HYLO_ATTR_MULTIPROCESSORS cudaDevAttrMultiProcessorCount
#define HYLO_ATTR_SHARED_OPTIN cudaDevAttrMaxSharedMemoryPerBlockOptin
#endif

namespace hylo::kernels {

// bf16 kept as its bits: the conversions below are exact (widening) and round-to-nearest-even
// (narrowing), the same on both vendors without their differing bf16 headers.
struct bf16 {
  uint16_t bits;
};

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(bf16 x) { return __uint_as_float(static_cast<uint32_t>(x.bits) << 16); }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <>
__device__ __forceinline__ bf16 from_float<bf16>(float x) {
  uint32_t u = __float_as_uint(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{static_cast<uint16_t>((u >> 16) | 0x40u)};  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{static_cast<uint16_t>(u >> 16)};
}

// Rounds through T and back: reproduces the rounding a LibTorch op in dtype T applies to its result.
template <typename T>
__device__ __forceinline__ float round_to(float x) {
  return to_float(from_float<T>(x));
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += HYLO_SHFL_XOR(v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, HYLO_SHFL_XOR(v, offset));
  return v;
}

template <typename T>
__device__ __forceinline__ float bits_to_float(uint16_t bits);
template <>
__device__ __forceinline__ float bits_to_float<bf16>(uint16_t bits) { return to_float(bf16{bits}); }
template <>
__device__ __forceinline__ float bits_to_float<__half>(uint16_t bits) { return __half2float(__ushort_as_half(bits)); }

// Four consecutive elements from an address aligned to four elements (one 8- or 16-byte load).
__device__ __forceinline__ void load4(const float* p, float out[4]) {
  const float4 v = *reinterpret_cast<const float4*>(p);
  out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
}
template <typename T>
__device__ __forceinline__ void load4(const T* p, float out[4]) {
  static_assert(sizeof(T) == 2, "16-bit element types");
  const uint2 v = *reinterpret_cast<const uint2*>(p);
  out[0] = bits_to_float<T>(static_cast<uint16_t>(v.x & 0xffffu));
  out[1] = bits_to_float<T>(static_cast<uint16_t>(v.x >> 16));
  out[2] = bits_to_float<T>(static_cast<uint16_t>(v.y & 0xffffu));
  out[3] = bits_to_float<T>(static_cast<uint16_t>(v.y >> 16));
}
// The same four elements copied without conversion.
template <typename T>
__device__ __forceinline__ void copy4(const T* from, T* to) {
  if constexpr (sizeof(T) == 4) {
    *reinterpret_cast<float4*>(to) = *reinterpret_cast<const float4*>(from);
  } else {
    *reinterpret_cast<uint2*>(to) = *reinterpret_cast<const uint2*>(from);
  }
}
// Four floats rounded to T and stored at an address aligned to four elements (one store).
__device__ __forceinline__ void store4(float* p, const float v[4]) {
  *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
}
template <typename T>
__device__ __forceinline__ uint16_t float_to_bits(float v);
template <>
__device__ __forceinline__ uint16_t float_to_bits<bf16>(float v) { return from_float<bf16>(v).bits; }
template <>
__device__ __forceinline__ uint16_t float_to_bits<__half>(float v) { return __half_as_ushort(__float2half_rn(v)); }
template <typename T>
__device__ __forceinline__ void store4(T* p, const float v[4]) {
  static_assert(sizeof(T) == 2, "16-bit element types");
  const uint32_t lo = float_to_bits<T>(v[0]) | (static_cast<uint32_t>(float_to_bits<T>(v[1])) << 16);
  const uint32_t hi = float_to_bits<T>(v[2]) | (static_cast<uint32_t>(float_to_bits<T>(v[3])) << 16);
  *reinterpret_cast<uint2*>(p) = make_uint2(lo, hi);
}
template <typename T>
__device__ __forceinline__ void zero4(T* to) {
  if constexpr (sizeof(T) == 4) {
    *reinterpret_cast<float4*>(to) = make_float4(0.f, 0.f, 0.f, 0.f);
  } else {
    *reinterpret_cast<uint2*>(to) = make_uint2(0u, 0u);
  }
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); `scratch` holds 32 floats. Every
// thread gets the total.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

}  // namespace hylo::kernels
