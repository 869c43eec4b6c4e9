// Depthwise causal convolution + SiLU over channels-last activations (the short conv of Mamba2 and
// Gated DeltaNet after their input projection), forward and backward, for training and prefill from
// an empty state. One thread per channel and tile of tokens, a sliding window of K inputs in
// registers: reads and writes are coalesced along the channels, and the (B, C, T) transposes and
// zero-padding copies of the LibTorch path disappear. The weight's and bias's gradients leave as
// per-tile partial sums (no atomics).
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

constexpr int kMaxKernel = 8;
constexpr int kThreads = 128;

__device__ __forceinline__ float sigmoid(float a) { return 1.0f / (1.0f + __expf(-a)); }

// K is a template parameter so that the windows stay in registers (a runtime bound would index
// them dynamically and put them in local memory).
template <typename T, typename TW, int K>
__global__ void conv_silu_forward_kernel(CausalConvArgs a) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.channels) return;
  const int64_t b = blockIdx.z, t0 = static_cast<int64_t>(blockIdx.y) * a.tile;
  const int64_t t1 = min(a.tokens, t0 + a.tile);
  const T* x = static_cast<const T*>(a.x) + b * a.x_batch_stride + c;
  const TW* w = static_cast<const TW*>(a.weight) + c * K;
  T* y = static_cast<T*>(a.y) + (b * a.tokens) * a.channels + c;
  float wk[K], win[K];
  for (int k = 0; k < K; ++k) wk[k] = to_float(w[k]);
  const float bias = a.bias ? to_float(static_cast<const TW*>(a.bias)[c]) : 0.0f;
  for (int k = 0; k < K - 1; ++k) {  // win[k] = x[t - K + 1 + k]
    const int64_t t = t0 - K + 1 + k;
    win[k] = t >= 0 ? to_float(x[t * a.x_token_stride]) : 0.0f;
  }
  for (int64_t t = t0; t < t1; ++t) {
    win[K - 1] = to_float(x[t * a.x_token_stride]);
    float acc = bias;
    for (int k = 0; k < K; ++k) acc += wk[k] * win[k];
    const float pre = round_to<T>(acc);  // the conv's output in the activations' dtype, then SiLU
    y[t * a.channels] = from_float<T>(pre * sigmoid(pre));
    for (int k = 0; k < K - 1; ++k) win[k] = win[k + 1];
  }
}

// g_pre[u] = gy[u] silu'(pre[u]);  gx[t] = sum_k w_k g_pre[t + K - 1 - k];
// gw[k] = sum_t g_pre[t] x[t - K + 1 + k];  gb = sum_t g_pre[t].
template <typename T, typename TW, int K>
__global__ void conv_silu_backward_kernel(CausalConvArgs a) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.channels) return;
  const int64_t b = blockIdx.z, t0 = static_cast<int64_t>(blockIdx.y) * a.tile;
  const int64_t t1 = min(a.tokens, t0 + a.tile);
  const T* x = static_cast<const T*>(a.x) + b * a.x_batch_stride + c;
  const T* gy = static_cast<const T*>(a.gy) + (b * a.tokens) * a.channels + c;
  T* gx = static_cast<T*>(a.gx) + (b * a.tokens) * a.channels + c;
  const TW* w = static_cast<const TW*>(a.weight) + c * K;
  float wk[K], xwin[K], gwin[K], gw[K];
  for (int k = 0; k < K; ++k) {
    wk[k] = to_float(w[k]);
    gw[k] = 0.0f;
    gwin[k] = 0.0f;
  }
  const float bias = a.bias ? to_float(static_cast<const TW*>(a.bias)[c]) : 0.0f;
  float gb = 0.0f;
  for (int k = 0; k < K - 1; ++k) {
    const int64_t t = t0 - K + 1 + k;
    xwin[k] = t >= 0 ? to_float(x[t * a.x_token_stride]) : 0.0f;
  }
  // u runs K - 1 tokens past the tile: gx[t] needs g_pre up to t + K - 1 (zero past the end).
  for (int64_t u = t0; u < t1 + K - 1; ++u) {
    float g_pre = 0.0f;
    const bool inside = u < a.tokens;
    xwin[K - 1] = inside ? to_float(x[u * a.x_token_stride]) : 0.0f;
    if (inside) {
      float acc = bias;
      for (int k = 0; k < K; ++k) acc += wk[k] * xwin[k];
      const float pre = round_to<T>(acc), s = sigmoid(pre);
      g_pre = to_float(gy[u * a.channels]) * s * (1.0f + pre * (1.0f - s));
      if (u < t1) {
        for (int k = 0; k < K; ++k) gw[k] += g_pre * xwin[k];
        gb += g_pre;
      }
    }
    for (int k = 0; k < K - 1; ++k) gwin[k] = gwin[k + 1];
    gwin[K - 1] = g_pre;  // gwin[j] = g_pre[u - K + 1 + j]
    const int64_t t = u - K + 1;
    if (t >= t0 && t < t1) {
      float g = 0.0f;
      for (int k = 0; k < K; ++k) g += wk[k] * gwin[K - 1 - k];
      gx[t * a.channels] = from_float<T>(g);
    }
    for (int k = 0; k < K - 1; ++k) xwin[k] = xwin[k + 1];
  }
  const int64_t part = b * gridDim.y + blockIdx.y;
  for (int k = 0; k < K; ++k) a.gw_partial[(part * a.channels + c) * K + k] = gw[k];
  a.gb_partial[part * a.channels + c] = gb;
}

template <typename T, typename TW, int K>
void launch_k(const CausalConvArgs& a, bool backward, dim3 grid, hyloStream_t stream) {
  if (backward)
    conv_silu_backward_kernel<T, TW, K><<<grid, kThreads, 0, stream>>>(a);
  else
    conv_silu_forward_kernel<T, TW, K><<<grid, kThreads, 0, stream>>>(a);
}

template <typename T, typename TW>
const char* launch(const CausalConvArgs& a, bool backward, hyloStream_t stream) {
  const dim3 grid(static_cast<unsigned>((a.channels + kThreads - 1) / kThreads),
                  static_cast<unsigned>(causal_conv_tiles(a.tokens, a.tile)), static_cast<unsigned>(a.batch));
  switch (a.kernel) {
    case 1: launch_k<T, TW, 1>(a, backward, grid, stream); break;
    case 2: launch_k<T, TW, 2>(a, backward, grid, stream); break;
    case 3: launch_k<T, TW, 3>(a, backward, grid, stream); break;
    case 4: launch_k<T, TW, 4>(a, backward, grid, stream); break;
    case 5: launch_k<T, TW, 5>(a, backward, grid, stream); break;
    case 6: launch_k<T, TW, 6>(a, backward, grid, stream); break;
    case 7: launch_k<T, TW, 7>(a, backward, grid, stream); break;
    case 8: launch_k<T, TW, 8>(a, backward, grid, stream); break;
    default: return "causal_conv_silu: unsupported kernel size";
  }
  return last_launch_error();
}

template <typename T>
const char* launch_weight(const CausalConvArgs& a, bool backward, hyloStream_t stream) {
  if (a.w_dtype == DType::F32) return launch<T, float>(a, backward, stream);
  if (a.w_dtype == a.dtype) return launch<T, T>(a, backward, stream);
  return "causal_conv_silu: the weight must be fp32 or of the activations' dtype";
}

const char* run(const CausalConvArgs& a, bool backward, void* stream) {
  if (!causal_conv_supports(a.kernel)) return "causal_conv_silu: unsupported kernel size";
  if (a.tile < 1) return "causal_conv_silu: tile must be positive";
  if (a.batch == 0 || a.tokens == 0 || a.channels == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  switch (a.dtype) {
    case DType::F32: return launch<float, float>(a, backward, s);
    case DType::F16: return launch_weight<__half>(a, backward, s);
    case DType::BF16: return launch_weight<bf16>(a, backward, s);
  }
  return "causal_conv_silu: unknown dtype";
}

}  // namespace

bool causal_conv_supports(int64_t kernel) { return kernel >= 1 && kernel <= kMaxKernel; }
int64_t causal_conv_tiles(int64_t tokens, int64_t tile) { return (tokens + tile - 1) / tile; }
const char* causal_conv_silu_forward(const CausalConvArgs& a, void* stream) { return run(a, false, stream); }
const char* causal_conv_silu_backward(const CausalConvArgs& a, void* stream) { return run(a, true, stream); }

}  // namespace hylo::kernels
