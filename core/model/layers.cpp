#include "core/model/layers.h"

#include "core/model/fused_ops.h"

#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "core/model/flash_attention.h"
#include "core/spec/error.h"

namespace hylo {

torch::nn::Linear make_linear(int64_t in_features, int64_t out_features, bool bias) {
  torch::nn::Linear linear(torch::nn::LinearOptions(in_features, out_features).bias(bias));
  at::NoGradGuard no_grad;
  linear->weight.normal_(0.0, 0.02);
  if (bias) linear->bias.zero_();
  return linear;
}

// ---- RMSNorm ------------------------------------------------------------------------------------

RMSNorm::RMSNorm(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", at::ones({dim}));
}

at::Tensor RMSNorm::forward(const at::Tensor& x) { return rms_norm(x, weight, eps); }

// ---- SwiGLU -------------------------------------------------------------------------------------

SwiGLU::SwiGLU(int64_t hidden, int64_t intermediate) {
  gate_proj = register_module("gate_proj", make_linear(hidden, intermediate, false));
  up_proj = register_module("up_proj", make_linear(hidden, intermediate, false));
  down_proj = register_module("down_proj", make_linear(intermediate, hidden, false));
}

at::Tensor SwiGLU::forward(const at::Tensor& x) {
  return down_proj->forward(swiglu(gate_proj->forward(x), up_proj->forward(x)));
}

// ---- KV cache -----------------------------------------------------------------------------------

KVCache::KVCache(int64_t batch, at::ScalarType dtype, at::Device device)
    : batch_(batch), dtype_(dtype), device_(device) {}

std::pair<at::Tensor, at::Tensor> KVCache::append(const at::Tensor& k, const at::Tensor& v) {
  if (k.size(0) != batch_)
    throw ModelError("KV cache made for batch " + std::to_string(batch_) + " got batch " +
                     std::to_string(k.size(0)));
  const int64_t T = k.size(2);
  const int64_t needed = length_ + T;
  if (needed > capacity()) {
    // Geometric growth keeps token-by-token decoding at amortised O(1) copies per token.
    const int64_t cap = std::max<int64_t>({needed, reserved_, 2 * capacity(), 64});
    auto opts = at::TensorOptions().dtype(dtype_).device(device_);
    auto nk = at::empty({batch_, k.size(1), cap, k.size(3)}, opts);
    auto nv = at::empty({batch_, v.size(1), cap, v.size(3)}, opts);
    if (length_ > 0) {
      nk.narrow(2, 0, length_).copy_(k_.narrow(2, 0, length_));
      nv.narrow(2, 0, length_).copy_(v_.narrow(2, 0, length_));
    }
    k_ = nk;
    v_ = nv;
  }
  k_.narrow(2, length_, T).copy_(k);
  v_.narrow(2, length_, T).copy_(v);
  length_ = needed;
  return {k_.narrow(2, 0, length_), v_.narrow(2, 0, length_)};
}

int64_t KVCache::bytes() const {
  if (!k_.defined()) return 0;
  return 2 * batch_ * k_.size(1) * length_ * k_.size(3) * static_cast<int64_t>(k_.element_size());
}

// ---- attention ----------------------------------------------------------------------------------

namespace {

// (B, H_kv, T, D) -> (B, H_kv * n_rep, T, D); query head h reads KV head h / n_rep.
at::Tensor repeat_kv(const at::Tensor& x, int64_t n_rep) {
  if (n_rep == 1) return x;
  const auto B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3);
  return x.unsqueeze(2).expand({B, H, n_rep, T, D}).reshape({B, H * n_rep, T, D});
}

}  // namespace

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const int64_t Tq = q.size(2), Tk = k.size(2);
  // The flash kernel for queries after a cached prefix (its causal mask is bottom-right aligned,
  // GQA without copies); without a prefix LibTorch's SDPA picks its fastest backend (cuDNN on an
  // H100: the teacher's attention at 8K tokens in about half the flash kernel's time).
  if (Tq != Tk && flash_attention_applies(q, k, v))
    return flash_causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  const int64_t n_rep = q.size(1) / k.size(1);
  auto kr = repeat_kv(k, n_rep);
  auto vr = repeat_kv(v, n_rep);
#if TORCH_VERSION_MAJOR >= 2
  if (Tq == Tk) return at::scaled_dot_product_attention(q, kr, vr, {}, 0.0, /*is_causal=*/true);
  if (Tq == 1) return at::scaled_dot_product_attention(q, kr, vr);
  // Chunk after a cached prefix: is_causal is top-left aligned, so give the mask (true = attend).
  auto allowed = at::ones({Tq, Tk}, q.options().dtype(at::kBool)).tril(Tk - Tq);
  return at::scaled_dot_product_attention(q, kr, vr, allowed);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = at::matmul(q, kr.transpose(-2, -1)) * scale;  // (B, H, Tq, Tk)
  if (Tq > 1) {
    auto future = at::ones({Tq, Tk}, q.options().dtype(at::kBool)).triu(Tk - Tq + 1);
    scores = scores.masked_fill(future, -std::numeric_limits<double>::infinity());
  }
  // Softmax in fp32 for 16-bit inputs, in fp64 for fp64 ones (finite-difference gradient checks).
  auto probs = at::softmax(scores, -1, q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat).to(q.scalar_type());
  return at::matmul(probs, vr);
#endif
}

AttentionMixer::AttentionMixer(const AttentionSettings& s, const ModelConfig& config)
    : s_(s),
      rope_scaling_(config.rope_scaling),
      rope_theta_(config.rope_theta),
      max_position_embeddings_(config.max_position_embeddings) {
  if (s.num_heads <= 0 || s.num_kv_heads <= 0 || s.head_dim <= 0 || s.num_heads % s.num_kv_heads != 0)
    throw ModelError("attention needs positive heads with num_attention_heads divisible by num_key_value_heads",
                     {}, "num_key_value_heads");
  const int64_t C = config.hidden_size;
  q_proj = register_module("q_proj", make_linear(C, s.num_heads * s.head_dim, s.bias));
  k_proj = register_module("k_proj", make_linear(C, s.num_kv_heads * s.head_dim, s.bias));
  v_proj = register_module("v_proj", make_linear(C, s.num_kv_heads * s.head_dim, s.bias));
  o_proj = register_module("o_proj", make_linear(s.num_heads * s.head_dim, C, false));
  if (s.qk_norm) {
    q_norm = register_module("q_norm", std::make_shared<RMSNorm>(s.head_dim, config.rms_norm_eps));
    k_norm = register_module("k_norm", std::make_shared<RMSNorm>(s.head_dim, config.rms_norm_eps));
  }
  rope_ = compute_rope(rope_scaling_, rope_theta_, s.head_dim, max_position_embeddings_);
}

std::unique_ptr<LayerCache> AttentionMixer::make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const {
  return std::make_unique<KVCache>(batch, dtype, device);
}

at::Tensor AttentionMixer::forward(const at::Tensor& x, int64_t pos, LayerCache* cache) {
  const int64_t B = x.size(0), T = x.size(1), D = s_.head_dim;
  auto q = q_proj->forward(x).view({B, T, s_.num_heads, D});
  auto k = k_proj->forward(x).view({B, T, s_.num_kv_heads, D});
  auto v = v_proj->forward(x).view({B, T, s_.num_kv_heads, D}).transpose(1, 2);  // (B, H_kv, T, D)
  if (q_norm) {
    q = q_norm->forward(q);
    k = k_norm->forward(k);
  }
  q = q.transpose(1, 2);  // (B, H, T, D)
  k = k.transpose(1, 2);  // (B, H_kv, T, D)

  // Dynamic NTK grows the base with the length seen so far, as transformers does at run time.
  const bool grow = rope_scaling_.type == "dynamic" && pos + T > max_position_embeddings_;
  const RopeTables& tables =
      grow ? compute_rope(rope_scaling_, rope_theta_, D, max_position_embeddings_, pos + T) : rope_;
  auto [cos, sin] = rope_cos_sin(tables, pos, T, x.scalar_type(), x.device());
  q = apply_rope(q, cos, sin);
  k = apply_rope(k, cos, sin);

  if (cache) {
    auto* kv = dynamic_cast<KVCache*>(cache);
    if (!kv) throw ModelError("attention layer got a '" + cache->kind() + "' cache");
    if (kv->length() != pos)
      throw ModelError("cache holds " + std::to_string(kv->length()) + " tokens but input starts at position " +
                       std::to_string(pos));
    std::tie(k, v) = kv->append(k, v);  // the cache may hold another dtype: cast back below
  }
  auto y = causal_attention(q, k.to(q.scalar_type()), v.to(q.scalar_type()));  // (B, H, T, D)
  return o_proj->forward(y.transpose(1, 2).reshape({B, T, s_.num_heads * D}));
}

}  // namespace hylo
