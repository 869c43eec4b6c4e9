// Pure sequence ops of the linear mixers: functions on tensors, differentiable through autograd.
// These are the LibTorch references; GPU kernels slot in behind the same signatures and are tested
// against them. Each recurrence has three forms that must agree: the chunked (parallel) form for
// training and prefill, a one-token recurrent step for decoding, and a naive token-by-token loop
// that is the literal definition.
//
// Dtypes: inputs may be bf16, fp32 or fp64; the maths runs in fp32 (fp64 when the inputs are fp64),
// outputs come back in the dtype of x / v, states are always kept in the compute dtype (fp32 for
// bf16 inputs) because a decayed sum of thousands of rank-1 updates drifts in bf16.
// An undefined initial_state means zeros.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace hylo::ops {

struct SeqResult {
  at::Tensor out;    // per-token outputs
  at::Tensor state;  // the recurrent state after the last token
};

// ---- Mamba2 SSD (state space duality, arXiv 2405.21060 §6-7) -----------------------------------
// Per head h, with group g = h / (H / G):
//   S_t = exp(dt_t * A_h) * S_{t-1} + dt_t * x_t B_t^T        S: (P, N)
//   y_t = S_t C_t + D_h x_t                                   (the skip when D is given)
// x: (B, T, H, P); dt: (B, T, H), already softplus'd (positive); A: (H), negative;
// Bm, Cm: (B, T, G, N); initial_state: (B, H, P, N); D: (H) or undefined (no skip).
// Returns out (B, T, H, P), state (B, H, P, N).

// Chunks of `chunk` tokens: the quadratic (attention-like) form inside each chunk, the state passed
// between chunks. T need not be a multiple of chunk. One autograd node with a hand-written backward
// (ssd_chunked.cpp); for bf16/fp16 inputs its (L, L) matmuls take bf16/fp16 operands (fp32
// accumulation), the state stays fp32.
SeqResult ssd_chunked(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                      const at::Tensor& Cm, int64_t chunk, const at::Tensor& initial_state = {},
                      const at::Tensor& D = {});
// One token: x (B, H, P), dt (B, H), Bm/Cm (B, G, N), state (B, H, P, N) -> out (B, H, P), new state.
SeqResult ssd_recurrent_step(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                             const at::Tensor& Cm, const at::Tensor& state, const at::Tensor& D = {});
// The recurrence token by token (ssd_recurrent_step in a loop).
SeqResult ssd_naive(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                    const at::Tensor& Cm, const at::Tensor& initial_state = {}, const at::Tensor& D = {});

// ---- Gated delta rule (Gated DeltaNet, arXiv 2412.06464 eq. 10) ---------------------------------
// Per head, state S: (K, V), alpha_t = exp(g_t):
//   S_t = alpha_t S_{t-1};  S_t += k_t (beta_t (v_t - S_t^T k_t))^T;  o_t = S_t^T q_t
// q, k: (B, T, H, K) (the mixer L2-normalises them and scales q); v: (B, T, H, V);
// g: (B, T, H) log decay (<= 0); beta: (B, T, H) in (0, 1); initial_state: (B, H, K, V).
// Returns out (B, T, H, V), state (B, H, K, V).

// Chunked WY/UT form: inside a chunk the updates u solve the unit lower-triangular system
// (I + M) u = beta (v - alpha k S_0) with M[t, j] = beta_t (alpha_t / alpha_j) k_t.k_j (j < t);
// across chunks the state is carried. T need not be a multiple of chunk.
SeqResult gdn_chunked(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& g,
                      const at::Tensor& beta, int64_t chunk, const at::Tensor& initial_state = {});
// One token: q, k (B, H, K), v (B, H, V), g, beta (B, H), state (B, H, K, V).
SeqResult gdn_recurrent_step(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& g,
                             const at::Tensor& beta, const at::Tensor& state);
// The gated delta rule token by token (gdn_recurrent_step in a loop).
SeqResult gdn_naive(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& g,
                    const at::Tensor& beta, const at::Tensor& initial_state = {});

// ---- Short causal convolution -------------------------------------------------------------------
// Depthwise causal conv over time, continuing from `state` (the last K-1 inputs seen; undefined =
// zeros, i.e. the sequence start). x: (B, C, T); weight: (C, 1, K); bias: (C) or undefined;
// state: (B, C, K-1). Returns out (B, C, T) (no activation) and the new state (B, C, K-1).
SeqResult causal_conv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                        const at::Tensor& state = {});

}  // namespace hylo::ops
