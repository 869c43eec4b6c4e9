// SwiGLU's gate, silu(g) * u, forward and backward in one pass each over the (tokens, intermediate)
// activations (the LibTorch path runs silu, mul, and in the backward two muls and silu_backward).
// Roundings as the LibTorch ops: silu(g) to the element type, then the product.
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

#include <initializer_list>

namespace hylo::kernels {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float sigmoid(float a) { return 1.0f / (1.0f + __expf(-a)); }

// Four elements per thread and step (n a multiple of 4, aligned tensors: one 8- or 16-byte access
// per operand), else one.
template <typename T, int V>
__global__ void swiglu_forward_kernel(const T* __restrict__ g, const T* __restrict__ u, T* __restrict__ y, int64_t n) {
  for (int64_t i = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * V; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x * V) {
    float gv[4], uv[4], out[4];
    if constexpr (V == 4) {
      load4(g + i, gv);
      load4(u + i, uv);
    } else {
      gv[0] = to_float(g[i]), uv[0] = to_float(u[i]);
    }
    for (int k = 0; k < V; ++k) out[k] = round_to<T>(gv[k] * sigmoid(gv[k])) * uv[k];
    if constexpr (V == 4) {
      store4(y + i, out);
    } else {
      y[i] = from_float<T>(out[0]);
    }
  }
}

// dg = dy u silu'(g),  du = dy silu(g)  (silu'(g) = s (1 + g (1 - s)), s = sigmoid(g)).
template <typename T, int V>
__global__ void swiglu_backward_kernel(const T* __restrict__ dy, const T* __restrict__ g, const T* __restrict__ u,
                                       T* __restrict__ dg, T* __restrict__ du, int64_t n) {
  for (int64_t i = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * V; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x * V) {
    float dv[4], gv[4], uv[4], dgv[4], duv[4];
    if constexpr (V == 4) {
      load4(dy + i, dv);
      load4(g + i, gv);
      load4(u + i, uv);
    } else {
      dv[0] = to_float(dy[i]), gv[0] = to_float(g[i]), uv[0] = to_float(u[i]);
    }
    for (int k = 0; k < V; ++k) {
      const float s = sigmoid(gv[k]);
      duv[k] = dv[k] * round_to<T>(gv[k] * s);
      dgv[k] = round_to<T>(dv[k] * uv[k]) * s * (1.0f + gv[k] * (1.0f - s));
    }
    if constexpr (V == 4) {
      store4(dg + i, dgv);
      store4(du + i, duv);
    } else {
      dg[i] = from_float<T>(dgv[0]);
      du[i] = from_float<T>(duv[0]);
    }
  }
}

unsigned blocks_for(int64_t n, int v) {
  const int64_t b = (n / v + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 8 ? b : 65535 * 8);
}

bool aligned(std::initializer_list<const void*> pointers) {
  for (const void* p : pointers)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

template <typename T>
void forward(const void* g, const void* u, void* y, int64_t n, hyloStream_t s) {
  auto gp = static_cast<const T*>(g), up = static_cast<const T*>(u);
  auto yp = static_cast<T*>(y);
  if (n % 4 == 0 && aligned({g, u, y}))
    swiglu_forward_kernel<T, 4><<<blocks_for(n, 4), kThreads, 0, s>>>(gp, up, yp, n);
  else
    swiglu_forward_kernel<T, 1><<<blocks_for(n, 1), kThreads, 0, s>>>(gp, up, yp, n);
}

template <typename T>
void backward(const void* dy, const void* g, const void* u, void* dg, void* du, int64_t n, hyloStream_t s) {
  auto dyp = static_cast<const T*>(dy), gp = static_cast<const T*>(g), up = static_cast<const T*>(u);
  auto dgp = static_cast<T*>(dg), dup = static_cast<T*>(du);
  if (n % 4 == 0 && aligned({dy, g, u, dg, du}))
    swiglu_backward_kernel<T, 4><<<blocks_for(n, 4), kThreads, 0, s>>>(dyp, gp, up, dgp, dup, n);
  else
    swiglu_backward_kernel<T, 1><<<blocks_for(n, 1), kThreads, 0, s>>>(dyp, gp, up, dgp, dup, n);
}

}  // namespace

const char* swiglu_forward(const void* g, const void* u, void* y, int64_t n, DType dtype, void* stream) {
  if (n == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  switch (dtype) {
    case DType::F32: forward<float>(g, u, y, n, s); break;
    case DType::F16: forward<__half>(g, u, y, n, s); break;
    case DType::BF16: forward<bf16>(g, u, y, n, s); break;
  }
  return last_launch_error();
}

const char* swiglu_backward(const void* dy, const void* g, const void* u, void* dg, void* du, int64_t n, DType dtype,
                            void* stream) {
  if (n == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  switch (dtype) {
    case DType::F32: backward<float>(dy, g, u, dg, du, n, s); break;
    case DType::F16: backward<__half>(dy, g, u, dg, du, n, s); break;
    case DType::BF16: backward<bf16>(dy, g, u, dg, du, n, s); break;
  }
  return last_launch_error();
}

}  // namespace hylo::kernels
