// Fused operations without autograd of their own (inference, and hand-written backward passes such
// as core/model/ssd_chunked.cpp's), each with two paths behind one call: the LibTorch reference (the
// CPU, builds without the GPU kernels, and tests) and the kernel of kernels/ for GPU tensors it
// supports. Callers use OpPath::Auto; tests and `hylo bench kernels` force one path to compare them.
// This header: the inference ops; ssd_pieces.h and core/train/losses.h hold the training ones.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace hylo {

enum class OpPath {
  Auto,       // the kernel when it applies (built, GPU tensors, supported sizes/dtypes, no grad), else the reference
  Reference,  // always the LibTorch ops
  Kernel,     // the kernel, or a ModelError saying why it cannot run these tensors
};

// What OpPath::Auto means in this process: the kernels where they apply (the default), or the
// LibTorch references everywhere (`hylo bench train --ops reference`: the same step without any
// of our kernels, for A/B runs of speed and loss).
void set_reference_ops_only(bool on);
bool reference_ops_only();

// Whether this build has the GPU kernels (CMake -DHYLO_CUDA=ON).
bool gpu_kernels_built();

// RMSNorm over the last dim: weight * (x * rsqrt(mean(x^2) + eps)).to(x's dtype), sums in fp32
// (fp64 for fp64 inputs). Differentiable: when x or weight needs gradients on a GPU, a kernel pair
// (forward keeping 1/rms, backward) behind one autograd node; the weight may be fp32 for any x.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps, OpPath path = OpPath::Auto);

// RMSNorm with a SiLU gate over groups of group_size channels (GatedRMSNorm): gate before the norm
// (Mamba2) h = x silu(gate), else after (Gated DeltaNet); y = weight * h / rms(h) per group, in fp32
// (fp64 for fp64 inputs), returned in x's dtype. Differentiable; on GPUs the RMSNorm kernel pair
// with its gate when it gates before one norm over the whole last dim.
at::Tensor gated_rms_norm(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& weight, double eps,
                          int64_t group_size, bool gate_before_norm, OpPath path = OpPath::Auto);

// SwiGLU's gate silu(g) * u (silu rounded to the element type first). Differentiable; on GPUs one
// kernel each way (kernels/swiglu.cu).
at::Tensor swiglu(const at::Tensor& g, const at::Tensor& u, OpPath path = OpPath::Auto);

// Depthwise causal convolution over time + SiLU from an empty state (training, prefill without a
// cache), channels last: x (B, T, C) with unit channel stride (a view into a projection is fine),
// weight (C, 1, K), bias (C) or undefined -> silu(conv) (B, T, C) in x's dtype. Differentiable; on
// GPUs one kernel each way (kernels/causal_conv.cu), else ops::causal_conv1d + silu.
at::Tensor causal_conv1d_silu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                              OpPath path = OpPath::Auto);

// Absorbed MLA decode attention of one token per row: q (B, H, D) against the cache rows (B, L, D),
// whose first `rank` values are the latent and the rest the RoPE key:
//   softmax(scale * q rows^T) rows[..., :rank]  ->  (B, H, rank) in q's dtype (softmax in fp32).
// Auto runs the kernel where it can, at every cache length (fused_ops.cpp says why).
at::Tensor mla_decode_attention(const at::Tensor& q, const at::Tensor& rows, int64_t rank, double scale,
                                OpPath path = OpPath::Auto);

// One decoding step of a Gated DeltaNet layer after its projections (the maths: kernels/kernels.h).
struct GdnStepInputs {
  at::Tensor qkv;          // (B, 2 Hk Dk + H Dv): the q, k, v projections of the new token
  at::Tensor conv_weight;  // (C, 1, K)
  at::Tensor a, b;         // (B, H): a_proj and b_proj of the new token (before softplus / sigmoid)
  at::Tensor A_log, dt_bias;  // (H)
  int64_t k_heads = 0, head_k_dim = 0, head_v_dim = 0;
};
// Advances conv_state (B, C, K-1) and state (B, H, Dk, Dv), fp32, in place (made contiguous first
// if they are not) and returns the output o (B, H, Dv) in qkv's dtype.
at::Tensor gdn_decode_step(const GdnStepInputs& in, at::Tensor& conv_state, at::Tensor& state,
                           OpPath path = OpPath::Auto);

}  // namespace hylo
