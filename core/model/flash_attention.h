// Long-context softmax attention through LibTorch's fused flash kernel (LibTorch 2.x, CUDA, fp16 /
// bf16): never materialises the (Tq, Tk) scores, reads grouped K/V heads without repeating them, and
// aligns the causal mask bottom-right, so a prefill chunk after a cached prefix needs no mask tensor.
#pragma once
#include <ATen/ATen.h>

namespace hylo {

// True when flash_causal_attention can run these tensors: LibTorch >= 2, CUDA, fp16 or bf16,
// max(qk, v) head dim <= 256 and H divisible by H_kv. Always false with LibTorch 1.x.
bool flash_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

// q: (B, H, Tq, Dqk); k: (B, H_kv, Tk, Dqk); v: (B, H_kv, Tk, Dv) with Tk >= Tq; query i sits at key
// position Tk - Tq + i and sees keys up to it. Scores are scaled by `scale`. Different qk and v
// head dims are zero-padded to one (zeros change neither scores nor outputs). Returns (B, H, Tq, Dv).
at::Tensor flash_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale);

}  // namespace hylo
