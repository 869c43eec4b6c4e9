// The distillation loss over one row of logits per block: two reads of the row (the softmax
// statistics, then the gradient), fp32 maths, nothing of size vocab kept besides the gradient.
// The KL term uses sum_i p_i (zt_i - zs_i) / T - lse_t + lse_s, so no second pass is needed for it:
// the p-weighted sum is kept online, rescaled whenever the running maximum grows.
#include "kernels/compat.h"
#include "kernels/kernels.h"
#include "kernels/launch.h"

namespace hylo::kernels {
namespace {

constexpr int kThreads = 512;

// Online log-sum-exp: the running maximum m and sum l of exp(x - m).
struct Lse {
  float m = -INFINITY, l = 0.0f;
  __device__ void add(float x) {
    if (x > m) {
      l = l * __expf(m - x) + 1.0f;
      m = x;
    } else {
      l += __expf(x - m);
    }
  }
  // The block's total; every thread gets it. Log of the sum of exp.
  __device__ float reduce(float* scratch) const {
    const float top = block_max(m, scratch);
    return top + __logf(block_sum(l * __expf(m - top), scratch));
  }
};

// As Lse, plus the sum of exp(x - m) * d.
struct WeightedLse {
  float m = -INFINITY, l = 0.0f, w = 0.0f;
  __device__ void add(float x, float d) {
    if (x > m) {
      const float f = __expf(m - x);
      l = l * f + 1.0f;
      w = w * f + d;
      m = x;
    } else {
      const float e = __expf(x - m);
      l += e;
      w += e * d;
    }
  }
};

template <typename T>
__device__ __forceinline__ void load_at(const T* row, int64_t i, int vec, float out[4]) {
  if (vec == 4) {
    load4(row + i, out);
  } else {
    out[0] = to_float(row[i]);
  }
}

template <typename T>
__global__ void distill_rows_kernel(DistillRowsArgs a) {
  __shared__ float scratch[32];
  const int64_t V = a.vocab;
  const T* zs = static_cast<const T*>(a.student) + blockIdx.x * V;
  const T* zt = a.teacher ? static_cast<const T*>(a.teacher) + blockIdx.x * V : nullptr;
  T* grad = a.grad ? static_cast<T*>(a.grad) + blockIdx.x * V : nullptr;
  const bool kd = zt != nullptr, ce = a.targets != nullptr;
  const float inv_t = 1.0f / a.temperature;
  // Four logits per load where rows stay aligned (V a multiple of 4), else one.
  const int vec = V % 4 == 0 ? 4 : 1;

  Lse student_t, student_1;  // softmax(zs / T), softmax(zs)
  WeightedLse teacher;       // softmax(zt / T) and sum e^(zt/T - m) (zt - zs)
  for (int64_t i = static_cast<int64_t>(threadIdx.x) * vec; i < V; i += static_cast<int64_t>(blockDim.x) * vec) {
    float s[4], t[4] = {0, 0, 0, 0};
    load_at(zs, i, vec, s);
    if (kd) load_at(zt, i, vec, t);
    for (int k = 0; k < vec; ++k) {
      if (kd) {
        student_t.add(s[k] * inv_t);
        teacher.add(t[k] * inv_t, t[k] - s[k]);
      }
      if (ce) student_1.add(s[k]);
    }
  }
  float lse_s = 0.0f, lse_t = 0.0f, lse_1 = 0.0f;
  if (kd) {
    lse_s = student_t.reduce(scratch);
    const float top = block_max(teacher.m, scratch);
    const float scale = __expf(teacher.m - top);
    const float l = block_sum(teacher.l * scale, scratch);
    const float w = block_sum(teacher.w * scale, scratch);
    lse_t = top + __logf(l);
    if (threadIdx.x == 0) a.kd[blockIdx.x] = a.temperature * a.temperature * (inv_t * w / l - lse_t + lse_s);
  }
  int64_t target = -1;
  if (ce) {
    lse_1 = student_1.reduce(scratch);
    target = a.targets[blockIdx.x];
    if (threadIdx.x == 0)
      a.ce[blockIdx.x] = target >= 0 && target < V ? lse_1 - to_float(zs[target]) : NAN;
  }
  if (!grad) return;
  for (int64_t i = static_cast<int64_t>(threadIdx.x) * vec; i < V; i += static_cast<int64_t>(blockDim.x) * vec) {
    float s[4], t[4] = {0, 0, 0, 0}, g[4];
    load_at(zs, i, vec, s);
    if (kd) load_at(zt, i, vec, t);
    for (int k = 0; k < vec; ++k) {
      g[k] = 0.0f;
      if (kd) g[k] += a.kd_coef * (__expf(s[k] * inv_t - lse_s) - __expf(t[k] * inv_t - lse_t));
      if (ce) g[k] += a.ce_coef * (__expf(s[k] - lse_1) - (i + k == target ? 1.0f : 0.0f));
    }
    if (vec == 4) {
      store4(grad + i, g);
    } else {
      grad[i] = from_float<T>(g[0]);
    }
  }
}

template <typename T>
const char* launch(const DistillRowsArgs& a, hyloStream_t stream) {
  distill_rows_kernel<T><<<static_cast<unsigned>(a.rows), kThreads, 0, stream>>>(a);
  return last_launch_error();
}

}  // namespace

const char* distill_rows(const DistillRowsArgs& a, void* stream) {
  if (a.rows == 0) return nullptr;
  if (a.vocab <= 0) return "distill_rows: empty vocabulary";
  if ((a.teacher && !a.kd) || (a.targets && !a.ce)) return "distill_rows: missing per-row outputs";
  auto s = static_cast<hyloStream_t>(stream);
  switch (a.dtype) {
    case DType::F32: return launch<float>(a, s);
    case DType::F16: return launch<__half>(a, s);
    case DType::BF16: return launch<bf16>(a, s);
  }
  return "distill_rows: unknown dtype";
}

}  // namespace hylo::kernels
