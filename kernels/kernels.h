// Host entry points of the GPU kernels: plain pointers and sizes, no ATen and no vendor headers, so
// core/ can call them from ordinary C++ (core/model/fused_ops.cpp wraps them for tensors and holds
// the LibTorch reference of each). Every function launches on `stream` (a cudaStream_t /
// hipStream_t) and returns nullptr, or the runtime's error text when the launch failed.
// Tensors are contiguous unless a stride is passed.
#pragma once

#include <cstdint>

namespace hylo::kernels {

enum class DType : int { F32 = 0, F16 = 1, BF16 = 2 };

// y = w * round(x * rsqrt(mean(x^2) + eps)) per row, in fp32 with the same two roundings to the
// element type as the LibTorch RMSNorm. x, y: (rows, dim); w: (dim); all of `dtype`.
const char* rms_norm(const void* x, const void* w, void* y, int64_t rows, int64_t dim, float eps, DType dtype,
                     void* stream);
// Training RMSNorm: x (rows, dim) of x_dtype, w (dim) of w_dtype (= x_dtype, or fp32), y of y_dtype
// (= w_dtype, or 16-bit: the product rounded to w_dtype, then to y_dtype), rstd (rows) = 1/rms per
// row. With a gate (rows, dim) of x_dtype (nullptr: none), Mamba2's gated norm:
// y = w * rmsnorm(x silu(gate)) in fp32, rounded once to y_dtype. The backward: gy of y_dtype, gx
// (and ggate with a gate) of x_dtype, and the weight's gradient as `blocks` partial sums gw_partial
// (blocks, dim) fp32 whose sum over blocks is d loss / d w (every block writes its row).
bool rms_norm_train_supports(int64_t dim);  // dim <= 8192
const char* rms_norm_train_forward(const void* x, const void* gate, const void* w, void* y, float* rstd,
                                   int64_t rows, int64_t dim, float eps, DType x_dtype, DType w_dtype, DType y_dtype,
                                   void* stream);
int64_t rms_norm_backward_blocks(int64_t rows, int device);
const char* rms_norm_backward(const void* gy, const void* x, const void* gate, const void* w, const float* rstd,
                              void* gx, void* ggate, float* gw_partial, int64_t rows, int64_t dim, int64_t blocks,
                              DType x_dtype, DType w_dtype, DType y_dtype, void* stream);

// Absorbed MLA decode attention of one new token per row over a latent cache:
//   s_t = scale * q_h . c_t  (t < length),   out_h = sum_t softmax(s)_t c_t[0:rank]
// q: (B, H, D); cache rows c_t of D = rank + rope values at cache + b * batch_stride + t * D;
// out: (B, H, rank). q, cache and out are of `dtype`; softmax and sums in fp32. The cache is read
// in splits over t (flash-decoding): `workspace` holds mla_decode_workspace_floats(...) floats.
struct MlaDecodeArgs {
  const void* q = nullptr;
  const void* cache = nullptr;
  void* out = nullptr;
  float* workspace = nullptr;
  int64_t batch = 0, heads = 0, dim = 0, rank = 0, length = 0, batch_stride = 0;
  float scale = 1.0f;
  DType dtype = DType::BF16;
};
// Whether the kernel handles these sizes (dim a multiple of 4, rank <= 512, length >= 1).
bool mla_decode_supports(int64_t dim, int64_t rank, int64_t length);
int64_t mla_decode_splits(int64_t batch, int64_t heads, int64_t length, int device);
int64_t mla_decode_workspace_floats(int64_t batch, int64_t heads, int64_t rank, int64_t splits);
const char* mla_decode(const MlaDecodeArgs& args, int64_t splits, void* stream);

// One decoding step of a Gated DeltaNet layer after its projections, in place on its caches:
//   causal conv: full = [conv_state, qkv]; y = silu(sum_k w_k full_k); conv_state = full[1:]
//   q, k = l2norm(y_q), l2norm(y_k) per key head (q also / sqrt(Dk)); v = y_v per value head
//   g = -exp(A_log) softplus(a + dt_bias); beta = sigmoid(b); S = exp(g) S
//   S += k (beta (v - S^T k))^T;  o = S^T q      (value head h reads key head h / (H / Hk))
// qkv: (B, C) with C = 2 Hk Dk + H Dv, conv_weight: (C, K), both of `dtype`; conv_state: (B, C, K-1)
// of `dtype`; a, b: (B, H) of `dtype`; A_log, dt_bias: (H) fp32; state: (B, H, Dk, Dv) fp32;
// out: (B, H, Dv) of `dtype`. The conv output is rounded to `dtype` before and after the silu, as the
// LibTorch layer does. `scratch` holds B * C floats.
struct GdnDecodeArgs {
  const void* qkv = nullptr;
  const void* conv_weight = nullptr;
  void* conv_state = nullptr;
  const void* a = nullptr;
  const void* b = nullptr;
  const float* A_log = nullptr;
  const float* dt_bias = nullptr;
  float* state = nullptr;
  void* out = nullptr;
  float* scratch = nullptr;
  int64_t batch = 0, heads = 0, k_heads = 0, head_k_dim = 0, head_v_dim = 0, conv_kernel = 0;
  DType dtype = DType::BF16;
};
bool gdn_decode_supports(int64_t head_k_dim, int64_t conv_kernel);
const char* gdn_decode(const GdnDecodeArgs& args, void* stream);

// The distillation loss of one row of logits per block (vocabulary V), in fp32:
//   kd[r]   = T^2 KL(softmax(zt/T) || softmax(zs/T))               (when `teacher` is set)
//   ce[r]   = logsumexp(zs) - zs[target]  (NaN for a target outside [0, V))  (when `targets` is set)
//   grad[r] = kd_coef (softmax(zs/T) - softmax(zt/T)) + ce_coef (softmax(zs) - onehot(target))
// student, teacher, grad: (rows, V) of `dtype`; grad may be nullptr (no gradient wanted).
struct DistillRowsArgs {
  const void* student = nullptr;
  const void* teacher = nullptr;
  const int64_t* targets = nullptr;
  void* grad = nullptr;
  float* kd = nullptr;
  float* ce = nullptr;
  int64_t rows = 0, vocab = 0;
  float temperature = 1.0f, kd_coef = 0.0f, ce_coef = 0.0f;
  DType dtype = DType::BF16;
};
const char* distill_rows(const DistillRowsArgs& args, void* stream);

// Pieces of Mamba2's chunked SSD (core/model/ssd_chunked.cpp has the whole and its backward), per
// chunk z of L tokens, with cs the in-chunk cumulative log decay and dt the step sizes (fp32):
// ssd_decay_mask: w[z, t, s] = cb[z, t, s] exp(cs[z, t] - cs[z, s]) dt[z, s] for s <= t, else 0.
// ssd_decay_mask_backward, from gw = d loss / d w:
//   gcb[z, t, s] = gw exp(cs_t - cs_s) dt_s (s <= t);  with r[t, s] = gw cb exp(cs_t - cs_s) (s <= t):
//   row[z, t] = sum_s r[t, s] dt_s,  col[z, s] = sum_t r[t, s]      (row, col fp32)
// cb, w, gw, gcb: (Z, L, L) of `dtype`; cs, dt: (Z, L). L <= 1024.
bool ssd_mask_supports(int64_t chunk);
const char* ssd_decay_mask(const void* cb, const float* cs, const float* dt, void* w, int64_t chunks, int64_t chunk,
                           DType dtype, void* stream);
const char* ssd_decay_mask_backward(const void* gw, const void* cb, const float* cs, const float* dt, void* gcb,
                                    float* row, float* col, int64_t chunks, int64_t chunk, DType dtype, void* stream);
// The state carried across chunks, per sequence r (fp32, `width` values per state):
//   entering[r, c] = S;  S = decay[r, c] S + add[r, c]   for c = 0 .. n-1 (n-1 .. 0 when `reverse`),
// S starting at init[r] (zeros when nullptr); final[r] = S at the end.
const char* ssd_state_pass(const float* add, const float* decay, const float* init, float* entering, float* final_state,
                           int64_t sequences, int64_t chunks, int64_t width, bool reverse, void* stream);

// Depthwise causal convolution + SiLU from an empty state, channels-last:
//   pre[b, t, c] = bias[c] + sum_k w[c, k] x[b, t - K + 1 + k, c]  (x = 0 before t = 0), rounded to
//   the activations' dtype;  y = silu(pre).
// x: element (b, t, c) at b * x_batch_stride + t * x_token_stride + c (a view into the projection's
// output); y, gy, gx: (B, T, C) contiguous, all of `dtype`; weight (C, K) and bias (C, or nullptr)
// of w_dtype (fp32 or `dtype`). The backward recomputes pre, writes gx and, per tile of `tile`
// tokens, the partial sums gw_partial (B * tiles, C, K) and gb_partial (B * tiles, C), fp32.
struct CausalConvArgs {
  const void* x = nullptr;
  int64_t x_batch_stride = 0, x_token_stride = 0;
  const void* weight = nullptr;
  const void* bias = nullptr;
  void* y = nullptr;
  const void* gy = nullptr;
  void* gx = nullptr;
  float* gw_partial = nullptr;
  float* gb_partial = nullptr;
  int64_t batch = 0, tokens = 0, channels = 0, kernel = 0, tile = 64;
  DType dtype = DType::BF16, w_dtype = DType::F32;
};
bool causal_conv_supports(int64_t kernel);  // K <= 8
int64_t causal_conv_tiles(int64_t tokens, int64_t tile);
const char* causal_conv_silu_forward(const CausalConvArgs& args, void* stream);
const char* causal_conv_silu_backward(const CausalConvArgs& args, void* stream);

// SwiGLU's gate: y = silu(g) * u elementwise over n contiguous elements of `dtype` (silu rounded to
// the element type first, as the LibTorch ops), and its backward from dy: dg, du.
const char* swiglu_forward(const void* g, const void* u, void* y, int64_t n, DType dtype, void* stream);
const char* swiglu_backward(const void* dy, const void* g, const void* u, void* dg, void* du, int64_t n, DType dtype,
                            void* stream);

}  // namespace hylo::kernels
