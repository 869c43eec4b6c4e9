// One decoding step of a Gated DeltaNet layer, two kernels instead of the ~35 LibTorch ops of the
// reference step:
//   gdn_conv_step: one thread per (row, channel): the short causal conv over [state, x], silu,
//     rounded to the element type as the reference's ops round; shifts the conv state in place.
//   gdn_state_step: one block per (row, value head, 128 value columns): l2-normalised q, k of its key
//     head in shared memory; each thread owns one column j of the (Dk, Dv) fp32 state and makes two
//     coalesced passes down it: k.S_j, then S_j = alpha S_j + k u_j written back and o_j = q.S_j.
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

constexpr int kMaxConvKernel = 8;
constexpr int kColumnsPerBlock = 128;
constexpr int64_t kMaxHeadKDim = 2048;

template <typename T>
__global__ void gdn_conv_step(const T* __restrict__ x, const T* __restrict__ weight, T* __restrict__ state,
                              float* __restrict__ y, int64_t total, int64_t channels, int kernel) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const T* w = weight + (idx % channels) * kernel;
  T* st = state + idx * (kernel - 1);
  const T xi = x[idx];
  float acc = 0.0f;
  for (int i = 0; i + 1 < kernel; ++i) acc += to_float(w[i]) * to_float(st[i]);
  acc += to_float(w[kernel - 1]) * to_float(xi);
  for (int i = 0; i + 2 < kernel; ++i) st[i] = st[i + 1];
  if (kernel > 1) st[kernel - 2] = xi;
  const float conv = round_to<T>(acc);
  y[idx] = round_to<T>(conv / (1.0f + __expf(-conv)));
}

template <typename T>
__global__ void gdn_state_step(const float* __restrict__ y, const T* __restrict__ a, const T* __restrict__ b,
                               const float* __restrict__ A_log, const float* __restrict__ dt_bias,
                               float* __restrict__ state, T* __restrict__ out, int64_t heads, int64_t k_heads,
                               int64_t dk, int64_t dv) {
  extern __shared__ float qk[];  // [2][dk]: normalised q (scaled) and k
  __shared__ float scratch[32];
  const int64_t bh = blockIdx.x, row = bh / heads, h = bh % heads, kh = h / (heads / k_heads);
  const int64_t channels = 2 * k_heads * dk + heads * dv;
  const float* yq = y + row * channels + kh * dk;
  const float* yk = yq + k_heads * dk;
  float sq = 0.0f, sk = 0.0f;
  for (int64_t i = threadIdx.x; i < dk; i += blockDim.x) {
    sq += yq[i] * yq[i];
    sk += yk[i] * yk[i];
  }
  const float nq = rsqrtf(block_sum(sq, scratch) + 1e-6f), nk = rsqrtf(block_sum(sk, scratch) + 1e-6f);
  const float q_scale = rsqrtf(static_cast<float>(dk));
  for (int64_t i = threadIdx.x; i < dk; i += blockDim.x) {
    qk[i] = (yq[i] * nq) * q_scale;
    qk[dk + i] = yk[i] * nk;
  }
  __syncthreads();

  const float a_in = to_float(a[bh]) + dt_bias[h];
  const float softplus = a_in > 20.0f ? a_in : log1pf(__expf(a_in));
  const float alpha = __expf(-__expf(A_log[h]) * softplus);
  const float beta = 1.0f / (1.0f + __expf(-to_float(b[bh])));

  const int64_t j = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (j >= dv) return;
  float* S = state + bh * dk * dv + j;  // column j: S[i * dv]
  float ks = 0.0f;
  for (int64_t i = 0; i < dk; ++i) ks += qk[dk + i] * S[i * dv];
  const float v = y[row * channels + 2 * k_heads * dk + h * dv + j];
  const float u = beta * (v - alpha * ks);
  float o = 0.0f;
  for (int64_t i = 0; i < dk; ++i) {
    const float s = alpha * S[i * dv] + qk[dk + i] * u;
    S[i * dv] = s;
    o += qk[i] * s;
  }
  out[bh * dv + j] = from_float<T>(o);
}

template <typename T>
const char* launch(const GdnDecodeArgs& g, hyloStream_t stream) {
  const int64_t channels = 2 * g.k_heads * g.head_k_dim + g.heads * g.head_v_dim;
  const int64_t total = g.batch * channels;
  gdn_conv_step<T><<<static_cast<unsigned>((total + 255) / 256), 256, 0, stream>>>(
      static_cast<const T*>(g.qkv), static_cast<const T*>(g.conv_weight), static_cast<T*>(g.conv_state), g.scratch,
      total, channels, static_cast<int>(g.conv_kernel));
  if (const char* e = last_launch_error()) return e;
  const dim3 grid(static_cast<unsigned>(g.batch * g.heads),
                  static_cast<unsigned>((g.head_v_dim + kColumnsPerBlock - 1) / kColumnsPerBlock));
  gdn_state_step<T><<<grid, kColumnsPerBlock, 2 * g.head_k_dim * sizeof(float), stream>>>(
      g.scratch, static_cast<const T*>(g.a), static_cast<const T*>(g.b), g.A_log, g.dt_bias, g.state,
      static_cast<T*>(g.out), g.heads, g.k_heads, g.head_k_dim, g.head_v_dim);
  return last_launch_error();
}

}  // namespace

bool gdn_decode_supports(int64_t head_k_dim, int64_t conv_kernel) {
  return head_k_dim > 0 && head_k_dim <= kMaxHeadKDim && conv_kernel >= 1 && conv_kernel <= kMaxConvKernel;
}

const char* gdn_decode(const GdnDecodeArgs& g, void* stream) {
  if (!gdn_decode_supports(g.head_k_dim, g.conv_kernel)) return "gdn_decode: unsupported sizes";
  if (g.k_heads <= 0 || g.heads % g.k_heads != 0) return "gdn_decode: key heads must divide the value heads";
  auto s = static_cast<hyloStream_t>(stream);
  switch (g.dtype) {
    case DType::F32: return launch<float>(g, s);
    case DType::F16: return launch<__half>(g, s);
    case DType::BF16: return launch<bf16>(g, s);
  }
  return "gdn_decode: unknown dtype";
}

}  // namespace hylo::kernels
