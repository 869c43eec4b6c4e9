#include "core/model/flash_attention.h"

#include <torch/version.h>

#include <algorithm>
#include <tuple>

#include "core/spec/error.h"

namespace hylo {

namespace {

constexpr int64_t kMaxHeadDim = 256;  // the flash kernel's limit

// Head dim the kernel runs at: the larger of qk and v, rounded up to a multiple of 8.
int64_t padded_head_dim(const at::Tensor& q, const at::Tensor& v) {
  const int64_t d = std::max(q.size(-1), v.size(-1));
  return (d + 7) / 8 * 8;
}

}  // namespace

bool flash_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
  const auto dtype = q.scalar_type();
  return q.is_cuda() && (dtype == at::kHalf || dtype == at::kBFloat16) && k.scalar_type() == dtype &&
         v.scalar_type() == dtype && padded_head_dim(q, v) <= kMaxHeadDim && q.size(1) % k.size(1) == 0;
#else
  (void)q;
  (void)k;
  (void)v;
  return false;
#endif
}

at::Tensor flash_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  if (!flash_attention_applies(q, k, v))
    throw ModelError("flash attention cannot run these tensors (needs LibTorch 2, CUDA, fp16/bf16, head dim <= 256)");
#if TORCH_VERSION_MAJOR >= 2
  const int64_t D = padded_head_dim(q, v), Dv = v.size(-1);
  auto pad = [D](const at::Tensor& x) {
    return x.size(-1) == D ? x.contiguous() : at::constant_pad_nd(x, {0, D - x.size(-1)});
  };
  // The fused kernel's causal mask is bottom-right aligned (flash-attention >= 2.1), unlike the
  // top-left `is_causal` of at::scaled_dot_product_attention when Tq != Tk.
  auto out = std::get<0>(at::_scaled_dot_product_flash_attention(pad(q), pad(k), pad(v), /*dropout_p=*/0.0,
                                                                  /*is_causal=*/q.size(2) > 1,
                                                                  /*return_debug_mask=*/false, scale));
  return Dv == D ? out : out.narrow(-1, 0, Dv);  // (B, H, Tq, Dv)
#else
  (void)scale;
  return {};
#endif
}

}  // namespace hylo
