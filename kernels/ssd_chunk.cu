// The elementwise pieces of Mamba2's chunked SSD that sit between its batched matmuls (which stay
// with cuBLAS / hipBLAS): the decay mask applied to C.B^T, its backward with the row and column sums
// the cumulative decays need, and the state carried from chunk to chunk. One block per chunk of L
// tokens, one thread per column s, rows t in a loop: reads and writes are coalesced along s.
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

constexpr int kMaxChunk = 1024;

int threads_for(int64_t chunk) { return static_cast<int>((chunk + 31) / 32 * 32); }

template <typename T>
__global__ void decay_mask_kernel(const T* __restrict__ cb, const float* __restrict__ cs, const float* __restrict__ dt,
                                  T* __restrict__ w, int L) {
  extern __shared__ float cs_row[];  // L
  const int64_t z = blockIdx.x;
  const int s = threadIdx.x;
  for (int i = threadIdx.x; i < L; i += blockDim.x) cs_row[i] = cs[z * L + i];
  __syncthreads();
  if (s >= L) return;
  const float cs_s = cs_row[s], dt_s = dt[z * L + s];
  const T* in = cb + z * L * L;
  T* out = w + z * L * L;
  for (int t = 0; t < L; ++t) {
    const float v = s <= t ? to_float(in[t * L + s]) * __expf(cs_row[t] - cs_s) * dt_s : 0.0f;
    out[t * L + s] = from_float<T>(v);
  }
}

template <typename T>
__global__ void decay_mask_backward_kernel(const T* __restrict__ gw, const T* __restrict__ cb,
                                           const float* __restrict__ cs, const float* __restrict__ dt,
                                           T* __restrict__ gcb, float* __restrict__ row, float* __restrict__ col,
                                           int L) {
  extern __shared__ float shared[];  // cs_row[L], row_sum[L]
  float* cs_row = shared;
  float* row_sum = shared + L;
  const int64_t z = blockIdx.x;
  const int s = threadIdx.x, lane = threadIdx.x % 32, first_column = threadIdx.x - lane;
  for (int i = threadIdx.x; i < L; i += blockDim.x) {
    cs_row[i] = cs[z * L + i];
    row_sum[i] = 0.0f;
  }
  __syncthreads();
  const bool active = s < L;
  const float cs_s = active ? cs_row[s] : 0.0f, dt_s = active ? dt[z * L + s] : 0.0f;
  const int64_t base = z * L * L;
  float col_sum = 0.0f;
  for (int t = first_column; t < L; ++t) {  // rows above the warp's first column are all masked
    float r = 0.0f;
    if (active) {
      float g = 0.0f;
      if (s <= t) {
        const float e = __expf(cs_row[t] - cs_s);
        const float ge = to_float(gw[base + t * L + s]) * e;
        g = ge * dt_s;
        r = ge * to_float(cb[base + t * L + s]);
      }
      gcb[base + t * L + s] = from_float<T>(g);
    }
    col_sum += r;
    const float partial = warp_sum(r * dt_s);
    if (lane == 0) atomicAdd(&row_sum[t], partial);
  }
  if (active) {
    // Rows above the warp's first column: the gradient there is zero.
    for (int t = 0; t < first_column; ++t) gcb[base + t * L + s] = from_float<T>(0.0f);
    col[z * L + s] = col_sum;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < L; i += blockDim.x) row[z * L + i] = row_sum[i];
}

__global__ void state_pass_kernel(const float* __restrict__ add, const float* __restrict__ decay,
                                  const float* __restrict__ init, float* __restrict__ entering,
                                  float* __restrict__ final_state, int64_t chunks, int64_t width, bool reverse) {
  const int64_t r = blockIdx.x;
  const int64_t j = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (j >= width) return;
  float S = init ? init[r * width + j] : 0.0f;
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t c = reverse ? chunks - 1 - k : k;
    const int64_t at = (r * chunks + c) * width + j;
    entering[at] = S;
    S = decay[r * chunks + c] * S + add[at];
  }
  final_state[r * width + j] = S;
}

template <typename T>
const char* launch_mask(const void* cb, const float* cs, const float* dt, void* w, int64_t chunks, int L,
                        hyloStream_t stream) {
  decay_mask_kernel<T><<<static_cast<unsigned>(chunks), threads_for(L), L * sizeof(float), stream>>>(
      static_cast<const T*>(cb), cs, dt, static_cast<T*>(w), L);
  return last_launch_error();
}

template <typename T>
const char* launch_mask_backward(const void* gw, const void* cb, const float* cs, const float* dt, void* gcb,
                                 float* row, float* col, int64_t chunks, int L, hyloStream_t stream) {
  decay_mask_backward_kernel<T><<<static_cast<unsigned>(chunks), threads_for(L), 2 * L * sizeof(float), stream>>>(
      static_cast<const T*>(gw), static_cast<const T*>(cb), cs, dt, static_cast<T*>(gcb), row, col, L);
  return last_launch_error();
}

}  // namespace

bool ssd_mask_supports(int64_t chunk) { return chunk >= 1 && chunk <= kMaxChunk; }

const char* ssd_decay_mask(const void* cb, const float* cs, const float* dt, void* w, int64_t chunks, int64_t chunk,
                           DType dtype, void* stream) {
  if (!ssd_mask_supports(chunk)) return "ssd_decay_mask: unsupported chunk size";
  if (chunks == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  const int L = static_cast<int>(chunk);
  switch (dtype) {
    case DType::F32: return launch_mask<float>(cb, cs, dt, w, chunks, L, s);
    case DType::F16: return launch_mask<__half>(cb, cs, dt, w, chunks, L, s);
    case DType::BF16: return launch_mask<bf16>(cb, cs, dt, w, chunks, L, s);
  }
  return "ssd_decay_mask: unknown dtype";
}

const char* ssd_decay_mask_backward(const void* gw, const void* cb, const float* cs, const float* dt, void* gcb,
                                    float* row, float* col, int64_t chunks, int64_t chunk, DType dtype, void* stream) {
  if (!ssd_mask_supports(chunk)) return "ssd_decay_mask_backward: unsupported chunk size";
  if (chunks == 0) return nullptr;
  auto s = static_cast<hyloStream_t>(stream);
  const int L = static_cast<int>(chunk);
  switch (dtype) {
    case DType::F32: return launch_mask_backward<float>(gw, cb, cs, dt, gcb, row, col, chunks, L, s);
    case DType::F16: return launch_mask_backward<__half>(gw, cb, cs, dt, gcb, row, col, chunks, L, s);
    case DType::BF16: return launch_mask_backward<bf16>(gw, cb, cs, dt, gcb, row, col, chunks, L, s);
  }
  return "ssd_decay_mask_backward: unknown dtype";
}

const char* ssd_state_pass(const float* add, const float* decay, const float* init, float* entering, float* final_state,
                           int64_t sequences, int64_t chunks, int64_t width, bool reverse, void* stream) {
  if (sequences == 0 || width == 0) return nullptr;
  constexpr int threads = 256;
  const dim3 grid(static_cast<unsigned>(sequences), static_cast<unsigned>((width + threads - 1) / threads));
  state_pass_kernel<<<grid, threads, 0, static_cast<hyloStream_t>(stream)>>>(add, decay, init, entering, final_state,
                                                                              chunks, width, reverse);
  return last_launch_error();
}

}  // namespace hylo::kernels
