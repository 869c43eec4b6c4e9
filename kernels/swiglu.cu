// SwiGLU's gate, silu(g) * u, forward and backward in one pass each over the (tokens, intermediate)
// activations (the LibTorch path runs silu, mul, and in the backward two muls and silu_backward).
// Roundings as the LibTorch ops: silu(g) to the element type, then the product.
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float sigmoid(float a) { return 1.0f / (1.0f + __expf(-a)); }

template <typename T>
__global__ void swiglu_forward_kernel(const T* __restrict__ g, const T* __restrict__ u, T* __restrict__ y, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float gv = to_float(g[i]);
    y[i] = from_float<T>(round_to<T>(gv * sigmoid(gv)) * to_float(u[i]));
  }
}

// dg = dy u silu'(g),  du = dy silu(g)  (silu'(g) = s (1 + g (1 - s)), s = sigmoid(g)).
template <typename T>
__global__ void swiglu_backward_kernel(const T* __restrict__ dy, const T* __restrict__ g, const T* __restrict__ u,
                                       T* __restrict__ dg, T* __restrict__ du, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float gv = to_float(g[i]), d = to_float(dy[i]), s = sigmoid(gv);
    du[i] = from_float<T>(d * round_to<T>(gv * s));
    dg[i] = from_float<T>(round_to<T>(d * to_float(u[i])) * s * (1.0f + gv * (1.0f - s)));
  }
}

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 8 ? b : 65535 * 8);
}

}  // namespace

const char* swiglu_forward(const void* g, const void* u, void* y, int64_t n, DType dtype, void* stream) {
  if (n == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  switch (dtype) {
    case DType::F32:
      swiglu_forward_kernel<float><<<blocks_for(n), kThreads, 0, s>>>(static_cast<const float*>(g),
                                                                        static_cast<const float*>(u),
                                                                        static_cast<float*>(y), n);
      break;
    case DType::F16:
      swiglu_forward_kernel<__half><<<blocks_for(n), kThreads, 0, s>>>(static_cast<const __half*>(g),
                                                                         static_cast<const __half*>(u),
                                                                         static_cast<__half*>(y), n);
      break;
    case DType::BF16:
      swiglu_forward_kernel<bf16><<<blocks_for(n), kThreads, 0, s>>>(static_cast<const bf16*>(g),
                                                                       static_cast<const bf16*>(u),
                                                                       static_cast<bf16*>(y), n);
      break;
  }
  return last_launch_error();
}

const char* swiglu_backward(const void* dy, const void* g, const void* u, void* dg, void* du, int64_t n, DType dtype,
                            void* stream) {
  if (n == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  switch (dtype) {
    case DType::F32:
      swiglu_backward_kernel<float><<<blocks_for(n), kThreads, 0, s>>>(
          static_cast<const float*>(dy), static_cast<const float*>(g), static_cast<const float*>(u),
          static_cast<float*>(dg), static_cast<float*>(du), n);
      break;
    case DType::F16:
      swiglu_backward_kernel<__half><<<blocks_for(n), kThreads, 0, s>>>(
          static_cast<const __half*>(dy), static_cast<const __half*>(g), static_cast<const __half*>(u),
          static_cast<__half*>(dg), static_cast<__half*>(du), n);
      break;
    case DType::BF16:
      swiglu_backward_kernel<bf16><<<blocks_for(n), kThreads, 0, s>>>(
          static_cast<const bf16*>(dy), static_cast<const bf16*>(g), static_cast<const bf16*>(u),
          static_cast<bf16*>(dg), static_cast<bf16*>(du), n);
      break;
  }
  return last_launch_error();
}

}  // namespace hylo::kernels
