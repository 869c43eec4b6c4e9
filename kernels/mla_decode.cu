// Absorbed MLA decode attention (flash-decoding). The latent cache is shared by all heads, so a
// block stages a tile of 32 cache rows in shared memory once and serves 8 heads from it:
//   scores: warp w = head, lane = token (4 elements per shared load, q broadcast);
//   context: each thread owns rank columns tid, tid + 256 of all 8 heads (registers).
// A running max and sum per head rescale the context as tiles pass (online softmax). The cache is
// cut into splits along t so that any length fills the GPU; a second kernel merges the splits'
// (max, sum, context) triples.
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kHeads = kThreads / 32;  // heads per block: one per warp
constexpr int kTile = 32;              // cache rows per stage: one per lane
constexpr int kMaxRank = 512;
constexpr int kColumns = kMaxRank / kThreads;  // rank columns per thread
constexpr int kMaxSplits = 1024;

// Row stride of the staged tile in elements: a multiple of 4 whose number of 4-element groups is
// odd, so that 32 lanes loading 4 elements from 32 different rows hit distinct banks.
__host__ __device__ inline int64_t tile_stride(int64_t dim) { return 4 * ((dim / 4) | 1); }

template <typename T>
size_t shared_bytes(int64_t dim) {
  return sizeof(float) * static_cast<size_t>(kHeads * dim + kTile * kHeads + kHeads) +
         sizeof(T) * static_cast<size_t>(kTile * tile_stride(dim));
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    mla_decode_partial(const T* __restrict__ q, const T* __restrict__ cache, float* __restrict__ ws, int64_t heads,
                       int64_t dim, int64_t rank, int64_t length, int64_t batch_stride, int64_t tiles_per_split,
                       float scale) {
  extern __shared__ float smem[];
  float* q_s = smem;                                   // [kHeads][dim], scaled
  float* p_s = q_s + kHeads * dim;                     // [kTile][kHeads]
  float* alpha_s = p_s + kTile * kHeads;               // [kHeads]
  T* k_s = reinterpret_cast<T*>(alpha_s + kHeads);     // [kTile][stride]: 32-byte aligned (dim % 4 == 0)
  const int64_t split = blockIdx.x, splits = gridDim.x, h0 = blockIdx.y * kHeads, b = blockIdx.z;
  const int64_t stride = tile_stride(dim), groups = dim / 4;
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;

  for (int64_t i = tid; i < kHeads * dim; i += kThreads) {
    const int64_t h = h0 + i / dim;
    q_s[i] = h < heads ? scale * to_float(q[(b * heads + h) * dim + i % dim]) : 0.0f;
  }
  const int64_t t_begin = split * tiles_per_split * kTile;
  const int64_t t_end = t_begin + tiles_per_split * kTile < length ? t_begin + tiles_per_split * kTile : length;
  const T* rows = cache + b * batch_stride;
  float m_run = -INFINITY, l_run = 0.0f;  // of head h0 + warp, the same in every lane
  float acc[kHeads][kColumns] = {};

  for (int64_t t0 = t_begin; t0 < t_end; t0 += kTile) {
    const int n = static_cast<int>(t_end - t0 < kTile ? t_end - t0 : kTile);
    __syncthreads();  // the previous tile is consumed (and q_s is written before the first)
    for (int64_t i = tid; i < kTile * groups; i += kThreads) {
      const int64_t t = i / groups, c = (i % groups) * 4;
      if (t < n)
        copy4(rows + (t0 + t) * dim + c, k_s + t * stride + c);
      else
        zero4(k_s + t * stride + c);
    }
    __syncthreads();

    const float* qh = q_s + warp * dim;
    const T* kt = k_s + lane * stride;
    float s = 0.0f;
    for (int64_t c = 0; c < dim; c += 4) {
      float kv[4], qv[4];
      load4(kt + c, kv);
      load4(qh + c, qv);
      s += qv[0] * kv[0] + qv[1] * kv[1] + qv[2] * kv[2] + qv[3] * kv[3];
    }
    const bool valid = lane < n;
    s = valid ? s : -INFINITY;
    const float m_new = fmaxf(m_run, warp_max(s));  // finite: lane 0 is always valid
    const float p = valid ? __expf(s - m_new) : 0.0f;
    const float alpha = __expf(m_run - m_new);      // 0 on the first tile
    l_run = l_run * alpha + warp_sum(p);
    m_run = m_new;
    p_s[lane * kHeads + warp] = p;
    if (lane == 0) alpha_s[warp] = alpha;
    __syncthreads();

#pragma unroll
    for (int h = 0; h < kHeads; ++h)
#pragma unroll
      for (int c = 0; c < kColumns; ++c) acc[h][c] *= alpha_s[h];
    for (int t = 0; t < n; ++t) {
      float pt[kHeads];
      load4(p_s + t * kHeads, pt);
      load4(p_s + t * kHeads + 4, pt + 4);
#pragma unroll
      for (int c = 0; c < kColumns; ++c) {
        const int64_t j = tid + c * kThreads;
        if (j < rank) {
          const float kv = to_float(k_s[t * stride + j]);
#pragma unroll
          for (int h = 0; h < kHeads; ++h) acc[h][c] += pt[h] * kv;
        }
      }
    }
  }

  const int64_t batch = gridDim.z;
#pragma unroll
  for (int h = 0; h < kHeads; ++h) {
    float* out = ws + ((b * heads + h0 + h) * splits + split) * rank;
#pragma unroll
    for (int c = 0; c < kColumns; ++c) {
      const int64_t j = tid + c * kThreads;
      if (h0 + h < heads && j < rank) out[j] = acc[h][c];
    }
  }
  if (lane == 0 && h0 + warp < heads) {
    float* ml = ws + batch * heads * splits * rank + ((b * heads + h0 + warp) * splits + split) * 2;
    ml[0] = m_run;
    ml[1] = l_run;
  }
}

// One block per (row, head): weights exp(m_s - M) of the splits, then the merged context.
template <typename T>
__global__ void mla_decode_combine(const float* __restrict__ ws, T* __restrict__ out, int64_t rank,
                                   int64_t splits) {
  __shared__ float weights[kMaxSplits];
  __shared__ float scratch[32];
  const int64_t bh = blockIdx.x, rows = gridDim.x;
  const float* ml = ws + rows * splits * rank + bh * splits * 2;
  float m = -INFINITY;
  for (int64_t s = threadIdx.x; s < splits; s += blockDim.x) m = fmaxf(m, ml[2 * s]);
  m = block_max(m, scratch);
  float l = 0.0f;
  for (int64_t s = threadIdx.x; s < splits; s += blockDim.x) {
    const float w = __expf(ml[2 * s] - m);  // 0 for an empty split (m_s = -inf)
    weights[s] = w;
    l += w * ml[2 * s + 1];
  }
  const float inv = 1.0f / block_sum(l, scratch);  // block_sum's barrier also publishes `weights`
  const float* part = ws + bh * splits * rank;
  for (int64_t j = threadIdx.x; j < rank; j += blockDim.x) {
    float sum = 0.0f;
    for (int64_t s = 0; s < splits; ++s) sum += weights[s] * part[s * rank + j];
    out[bh * rank + j] = from_float<T>(sum * inv);
  }
}

template <typename T>
const char* launch(const MlaDecodeArgs& a, int64_t splits, hyloStream_t stream) {
  const size_t bytes = shared_bytes<T>(a.dim);
  if (bytes > 48 * 1024) {
    const hyloError_t e = HYLO_GPU(FuncSetAttribute)(reinterpret_cast<const void*>(&mla_decode_partial<T>),
                                                     HYLO_GPU(FuncAttributeMaxDynamicSharedMemorySize),
                                                     static_cast<int>(bytes));
    if (e != HYLO_GPU(Success)) return HYLO_GPU(GetErrorString)(e);
  }
  const int64_t tiles = (a.length + kTile - 1) / kTile;
  const int64_t tiles_per_split = (tiles + splits - 1) / splits;
  const dim3 grid(static_cast<unsigned>(splits), static_cast<unsigned>((a.heads + kHeads - 1) / kHeads),
                  static_cast<unsigned>(a.batch));
  mla_decode_partial<T><<<grid, kThreads, bytes, stream>>>(static_cast<const T*>(a.q), static_cast<const T*>(a.cache),
                                                           a.workspace, a.heads, a.dim, a.rank, a.length,
                                                           a.batch_stride, tiles_per_split, a.scale);
  if (const char* e = last_launch_error()) return e;
  mla_decode_combine<T><<<static_cast<unsigned>(a.batch * a.heads), 128, 0, stream>>>(
      a.workspace, static_cast<T*>(a.out), a.rank, splits);
  return last_launch_error();
}

}  // namespace

bool mla_decode_supports(int64_t dim, int64_t rank, int64_t length) {
  return dim > 0 && dim % 4 == 0 && dim <= 2048 && rank > 0 && rank <= kMaxRank && rank <= dim && length >= 1;
}

int64_t mla_decode_splits(int64_t batch, int64_t heads, int64_t length, int device) {
  const int64_t blocks = batch * ((heads + kHeads - 1) / kHeads);
  const int64_t tiles = (length + kTile - 1) / kTile;
  // About six blocks per SM (the most that stay resident at 256 threads and ~48 registers): each
  // block waits on its tile loads, so the SM needs several to hide that latency.
  int64_t splits = (6 * multiprocessors(device) + blocks - 1) / blocks;
  if (splits > tiles) splits = tiles;
  if (splits > kMaxSplits) splits = kMaxSplits;
  return splits < 1 ? 1 : splits;
}

int64_t mla_decode_workspace_floats(int64_t batch, int64_t heads, int64_t rank, int64_t splits) {
  return batch * heads * splits * (rank + 2);
}

const char* mla_decode(const MlaDecodeArgs& a, int64_t splits, void* stream) {
  if (!mla_decode_supports(a.dim, a.rank, a.length)) return "mla_decode: unsupported sizes";
  if (splits < 1 || splits > kMaxSplits) return "mla_decode: splits out of range";
  auto s = static_cast<hyloStream_t>(stream);
  switch (a.dtype) {
    case DType::F32: return launch<float>(a, splits, s);
    case DType::F16: return launch<__half>(a, splits, s);
    case DType::BF16: return launch<bf16>(a, splits, s);
  }
  return "mla_decode: unknown dtype";
}

}  // namespace hylo::kernels
