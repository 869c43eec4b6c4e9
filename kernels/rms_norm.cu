// Fused RMSNorm for inference: one block per row, the row's sum of squares in fp32, then the two
// roundings of the LibTorch layer (normalised value to the element type, then the product with the
// weight), so results match it bit for bit up to the order of the fp32 sum.
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

template <typename T>
__global__ void rms_norm_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, int64_t dim,
                                float eps) {
  __shared__ float scratch[32];
  const T* row = x + blockIdx.x * dim;
  T* out = y + blockIdx.x * dim;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = to_float(row[i]);
    sum += v * v;
  }
  const float inv = rsqrtf(block_sum(sum, scratch) / static_cast<float>(dim) + eps);
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x)
    out[i] = from_float<T>(to_float(w[i]) * round_to<T>(to_float(row[i]) * inv));
}

template <typename T>
void launch(const void* x, const void* w, void* y, int64_t rows, int64_t dim, float eps, hyloStream_t stream) {
  const int threads = dim >= 1024 ? 256 : 128;
  rms_norm_kernel<T><<<static_cast<unsigned>(rows), threads, 0, stream>>>(
      static_cast<const T*>(x), static_cast<const T*>(w), static_cast<T*>(y), dim, eps);
}

}  // namespace

const char* rms_norm(const void* x, const void* w, void* y, int64_t rows, int64_t dim, float eps, DType dtype,
                     void* stream) {
  if (rows == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  switch (dtype) {
    case DType::F32: launch<float>(x, w, y, rows, dim, eps, s); break;
    case DType::F16: launch<__half>(x, w, y, rows, dim, eps, s); break;
    case DType::BF16: launch<bf16>(x, w, y, rows, dim, eps, s); break;
  }
  return last_launch_error();
}

}  // namespace hylo::kernels
