#include "core/upcycle/linear_init.h"

#include <algorithm>

#include "core/spec/error.h"

namespace hylo {
namespace {

// (H_kv * D, C) -> (H * D, C): query head h reads KV head h / (H / H_kv), as attention does.
at::Tensor repeat_kv_rows(const at::Tensor& w, const AttentionSettings& a) {
  const int64_t rep = a.num_heads / a.num_kv_heads, C = w.size(1);
  return w.view({a.num_kv_heads, 1, a.head_dim, C}).expand({a.num_kv_heads, rep, a.head_dim, C}).reshape({-1, C});
}

void copy_rows(at::Tensor& dst, int64_t offset, const at::Tensor& src, const char* name) {
  if (offset + src.size(0) > dst.size(0) || src.size(1) != dst.size(1))
    throw ModelError(std::string("attention rows do not fit ") + name, {}, name);
  dst.narrow(0, offset, src.size(0)).copy_(src.to(dst.scalar_type()));
}

// The leading min(rows) block of src into dst.
void copy_overlap_rows(at::Tensor& dst, const at::Tensor& src, const char* name) {
  const int64_t n = std::min(dst.size(0), src.size(0));
  copy_rows(dst, 0, src.narrow(0, 0, n), name);
}

}  // namespace

void init_mamba2(Mamba2Mixer& mamba, const AttentionWeights& w, bool identity_conv) {
  const auto& s = mamba.settings();
  const auto& a = w.settings;
  if (mamba.x_channels() != w.v.size(0) || mamba.b_channels() != w.k.size(0) ||
      s.n_groups * s.d_state != w.q.size(0) || s.d_inner != w.o.size(1))
    throw ModelError("Mamba2 sizes do not match the teacher's attention (d_xb = H_kv * head_dim = " +
                     std::to_string(a.num_kv_heads * a.head_dim) + ", d_state = head_dim = " +
                     std::to_string(a.head_dim) + ")", {}, "mamba2");
  at::NoGradGuard no_grad;
  auto& in = mamba.in_proj->weight;  // rows [z | x | B | C | dt]
  copy_rows(in, s.d_inner, w.v, "mamba.in_proj (x)");
  copy_rows(in, s.d_inner + mamba.x_channels(), w.k, "mamba.in_proj (B)");
  copy_rows(in, s.d_inner + mamba.x_channels() + mamba.b_channels(), w.q, "mamba.in_proj (C)");
  mamba.out_proj->weight.copy_(w.o.to(mamba.out_proj->weight.scalar_type()));
  if (identity_conv) {
    auto& conv = mamba.conv1d->weight;  // (conv_dim, 1, K): tap K-1 multiplies the current token
    conv.zero_();
    conv.select(2, conv.size(2) - 1).fill_(1.0);
    if (mamba.conv1d->bias.defined()) mamba.conv1d->bias.zero_();
  }
}

void init_gdn(GatedDeltaNetMixer& gdn, const AttentionWeights& w) {
  at::NoGradGuard no_grad;
  const auto& a = w.settings;
  copy_overlap_rows(gdn.q_proj->weight, w.q, "linear_attn.q_proj");
  copy_overlap_rows(gdn.k_proj->weight, repeat_kv_rows(w.k, a), "linear_attn.k_proj");
  copy_overlap_rows(gdn.v_proj->weight, repeat_kv_rows(w.v, a), "linear_attn.v_proj");
  // out_proj's input columns pair with v_proj's rows: the same leading block.
  auto out_t = gdn.out_proj->weight.t();  // (value_dim, C) view
  copy_overlap_rows(out_t, w.o.t(), "linear_attn.out_proj");
}

}  // namespace hylo
