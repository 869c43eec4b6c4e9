// Fused RMSNorm: one block per row, the row's sum of squares in fp32, then the two roundings of the
// LibTorch layer (normalised value to the element type, then the product with the weight), so
// results match it bit for bit up to the order of the fp32 sum. One forward kernel serves inference
// and training (which also keeps 1/rms per row); the backward forms the input's gradient row by row
// and the weight's as per-block partial sums (each thread owns the same columns in every row: no
// atomics).
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

constexpr int64_t kMaxTrainDim = 8192;  // the backward's per-column sums live in shared memory

__device__ __forceinline__ float sigmoid(float a) { return 1.0f / (1.0f + __expf(-a)); }

// x of TX, w of TW (= TX, or fp32 master weights), y and its gradient of TY (TW, or the 16-bit type
// the next matmul casts to under autocast). Inference passes rstd = nullptr and one type for all.
// With a gate (Mamba2's gated norm, gate before the norm): h = x silu(gate) normalised, all in fp32
// with one rounding at the end, as the LibTorch GatedRMSNorm; without: x normalised, rounded to TX,
// then times the weight, as the LibTorch RMSNorm.
template <typename TX, typename TW, typename TY>
__global__ void rms_norm_train_forward_kernel(const TX* __restrict__ x, const TX* __restrict__ gate,
                                              const TW* __restrict__ w, TY* __restrict__ y, float* __restrict__ rstd,
                                              int64_t dim, float eps) {
  __shared__ float scratch[32];
  const TX* row = x + blockIdx.x * dim;
  const TX* grow = gate ? gate + blockIdx.x * dim : nullptr;
  TY* out = y + blockIdx.x * dim;
  auto h = [&](int64_t i) {
    const float v = to_float(row[i]);
    if (!grow) return v;
    const float g = to_float(grow[i]);
    return v * g * sigmoid(g);
  };
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = h(i);
    sum += v * v;
  }
  const float inv = rsqrtf(block_sum(sum, scratch) / static_cast<float>(dim) + eps);
  if (threadIdx.x == 0 && rstd) rstd[blockIdx.x] = inv;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float n = h(i) * inv, wi = to_float(w[i]);
    out[i] = grow ? from_float<TY>(wi * n) : from_float<TY>(round_to<TW>(wi * round_to<TX>(n)));
  }
}

// With h = x (or x silu(gate)), n = h / rms and gn = gy * w:  gh = (gn - n mean(gn n)) / rms,
// gw = sum over rows of gy n (n rounded to TX without a gate); gx = gh (or gh silu(gate)) and
// ggate = gh x silu'(gate).
template <typename TX, typename TW, typename TY>
__global__ void rms_norm_backward_kernel(const TY* __restrict__ gy, const TX* __restrict__ x,
                                         const TX* __restrict__ gate, const TW* __restrict__ w,
                                         const float* __restrict__ rstd, TX* __restrict__ gx, TX* __restrict__ ggate,
                                         float* __restrict__ gw_partial, int64_t rows, int64_t dim,
                                         int64_t rows_per_block) {
  __shared__ float scratch[32];
  extern __shared__ float gw_acc[];  // dim
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) gw_acc[i] = 0.0f;
  const int64_t first = blockIdx.x * rows_per_block, last = min(rows, first + rows_per_block);
  for (int64_t r = first; r < last; ++r) {  // blocks past the last row write zeros
    const TX* xr = x + r * dim;
    const TX* grow = gate ? gate + r * dim : nullptr;
    const TY* gr = gy + r * dim;
    const float inv = rstd[r];
    float dot = 0.0f;
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
      float v = to_float(xr[i]);
      if (grow) {
        const float g = to_float(grow[i]);
        v *= g * sigmoid(g);
      }
      dot += to_float(gr[i]) * to_float(w[i]) * v;
    }
    const float mean = block_sum(dot, scratch) * inv / static_cast<float>(dim);  // mean(gn n)
    TX* out = gx + r * dim;
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
      const float xv = to_float(xr[i]), g = to_float(gr[i]);
      if (grow) {
        const float gt = to_float(grow[i]), s = sigmoid(gt), silu = gt * s;
        const float n = xv * silu * inv;
        const float gh = inv * (g * to_float(w[i]) - n * mean);
        out[i] = from_float<TX>(gh * silu);
        ggate[r * dim + i] = from_float<TX>(gh * xv * s * (1.0f + gt * (1.0f - s)));
        gw_acc[i] += g * n;
      } else {
        const float n = xv * inv;
        out[i] = from_float<TX>(inv * (g * to_float(w[i]) - n * mean));
        gw_acc[i] += g * round_to<TX>(n);
      }
    }
  }
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) gw_partial[blockIdx.x * dim + i] = gw_acc[i];
}

int threads_for(int64_t dim) { return dim >= 1024 ? 256 : 128; }

template <typename TX, typename TW, typename TY>
struct Forward {
  void operator()(const void* x, const void* gate, const void* w, void* y, float* rstd, int64_t rows, int64_t dim,
                  float eps, hyloStream_t stream) const {
    rms_norm_train_forward_kernel<TX, TW, TY><<<static_cast<unsigned>(rows), threads_for(dim), 0, stream>>>(
        static_cast<const TX*>(x), static_cast<const TX*>(gate), static_cast<const TW*>(w), static_cast<TY*>(y), rstd,
        dim, eps);
  }
};
template <typename TX, typename TW, typename TY>
struct Backward {
  void operator()(const void* gy, const void* x, const void* gate, const void* w, const float* rstd, void* gx,
                  void* ggate, float* gw_partial, int64_t rows, int64_t dim, int64_t blocks,
                  hyloStream_t stream) const {
    const int64_t rows_per_block = (rows + blocks - 1) / blocks;
    rms_norm_backward_kernel<TX, TW, TY>
        <<<static_cast<unsigned>(blocks), threads_for(dim), dim * sizeof(float), stream>>>(
            static_cast<const TY*>(gy), static_cast<const TX*>(x), static_cast<const TX*>(gate),
            static_cast<const TW*>(w), rstd, static_cast<TX*>(gx), static_cast<TX*>(ggate), gw_partial, rows, dim,
            rows_per_block);
  }
};

template <template <typename, typename, typename> class F, typename TX, typename TW, typename... Args>
const char* dispatch_y(DType y_dtype, Args... args) {
  if (y_dtype == DType::F32 && sizeof(TW) == 4) F<TX, TW, float>{}(args...);
  else if (y_dtype == DType::BF16) F<TX, TW, bf16>{}(args...);
  else if (y_dtype == DType::F16) F<TX, TW, __half>{}(args...);
  else return "rms_norm: the output must be of the weight's dtype or 16-bit";
  return last_launch_error();
}

// Calls F<TX, TW, TY> for the supported types: TW = TX or fp32; TY = TW or 16-bit.
template <template <typename, typename, typename> class F, typename... Args>
const char* dispatch(DType x_dtype, DType w_dtype, DType y_dtype, Args... args) {
  if (w_dtype == DType::F32) {
    switch (x_dtype) {
      case DType::F32: return dispatch_y<F, float, float>(y_dtype, args...);
      case DType::F16: return dispatch_y<F, __half, float>(y_dtype, args...);
      case DType::BF16: return dispatch_y<F, bf16, float>(y_dtype, args...);
    }
  } else if (w_dtype == x_dtype && y_dtype == x_dtype) {
    if (x_dtype == DType::F16) F<__half, __half, __half>{}(args...);
    else F<bf16, bf16, bf16>{}(args...);
    return last_launch_error();
  }
  return "rms_norm: the weight must be fp32 or of the input's dtype";
}

}  // namespace

bool rms_norm_train_supports(int64_t dim) { return dim >= 1 && dim <= kMaxTrainDim; }

const char* rms_norm_train_forward(const void* x, const void* gate, const void* w, void* y, float* rstd,
                                   int64_t rows, int64_t dim, float eps, DType x_dtype, DType w_dtype, DType y_dtype,
                                   void* stream) {
  if (!rms_norm_train_supports(dim)) return "rms_norm_train_forward: unsupported dim";
  if (rows == 0) return nullptr;
  return dispatch<Forward>(x_dtype, w_dtype, y_dtype, x, gate, w, y, rstd, rows, dim, eps,
                           static_cast<hyloStream_t>(stream));
}

int64_t rms_norm_backward_blocks(int64_t rows, int device) {
  const int64_t target = 4 * static_cast<int64_t>(multiprocessors(device));
  return rows < target ? rows : target;
}

const char* rms_norm_backward(const void* gy, const void* x, const void* gate, const void* w, const float* rstd,
                              void* gx, void* ggate, float* gw_partial, int64_t rows, int64_t dim, int64_t blocks,
                              DType x_dtype, DType w_dtype, DType y_dtype, void* stream) {
  if (!rms_norm_train_supports(dim)) return "rms_norm_backward: unsupported dim";
  if (rows == 0) return nullptr;
  if (blocks < 1) return "rms_norm_backward: no blocks";
  if ((gate == nullptr) != (ggate == nullptr)) return "rms_norm_backward: a gate needs its gradient";
  return dispatch<Backward>(x_dtype, w_dtype, y_dtype, gy, x, gate, w, rstd, gx, ggate, gw_partial, rows, dim, blocks,
                            static_cast<hyloStream_t>(stream));
}

const char* rms_norm(const void* x, const void* w, void* y, int64_t rows, int64_t dim, float eps, DType dtype,
                     void* stream) {
  if (rows == 0) return nullptr;
  return dispatch<Forward>(dtype, dtype, dtype, x, static_cast<const void*>(nullptr), w, y,
                           static_cast<float*>(nullptr), rows, dim, eps, static_cast<hyloStream_t>(stream));
}

}  // namespace hylo::kernels
