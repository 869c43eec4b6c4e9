#include "core/model/mla.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

#include "core/model/fused_ops.h"
#include "core/model/mixer_checks.h"

namespace hylo {
namespace {

void validate(const MlaSettings& s, int64_t hidden, int64_t layer) {
  auto check = [&](bool ok, const std::string& what, const std::string& field) {
    require_setting(ok, what, layer, "mla", field);
  };
  check(hidden > 0, "the model's hidden_size must be positive", "hidden_size");
  check(s.num_heads > 0, "must be positive", "num_heads");
  check(s.num_kv_heads > 0 && s.num_heads % s.num_kv_heads == 0, "must be positive and divide num_heads",
        "num_kv_heads");
  check(s.qk_rope_head_dim > 0 && s.qk_rope_head_dim % 2 == 0, "must be positive and even (RoPE pairs)",
        "qk_rope_head_dim");
  check(s.qk_nope_head_dim >= 0, "must not be negative", "qk_nope_head_dim");
  check(s.v_head_dim > 0, "must be positive", "v_head_dim");
  // A compression rank above the dims it sits between compresses nothing and only adds parameters.
  const int64_t q_limit = std::min(hidden, s.num_heads * s.qk_head_dim());
  check(s.q_lora_rank >= 0 && s.q_lora_rank <= q_limit,
        "must be 0 (no query compression) or at most min(hidden_size, num_heads * qk_head_dim) = " +
            std::to_string(q_limit),
        "q_lora_rank");
  const int64_t kv_limit = std::min(hidden, s.num_kv_heads * (s.qk_nope_head_dim + s.v_head_dim));
  check(s.kv_lora_rank > 0 && s.kv_lora_rank <= kv_limit,
        "must be positive and at most min(hidden_size, num_kv_heads * (qk_nope_head_dim + v_head_dim)) = " +
            std::to_string(kv_limit),
        "kv_lora_rank");
}

}  // namespace

// ---- cache --------------------------------------------------------------------------------------

MlaCache::MlaCache(int64_t batch, int64_t kv_lora_rank, int64_t rope_dim, at::ScalarType dtype, at::Device device)
    : batch_(batch), rank_(kv_lora_rank), rope_dim_(rope_dim), dtype_(dtype), device_(device) {}

std::pair<at::Tensor, at::Tensor> MlaCache::append(const at::Tensor& latent, const at::Tensor& k_rope) {
  if (latent.size(0) != batch_)
    throw ModelError("MLA cache made for batch " + std::to_string(batch_) + " got batch " +
                     std::to_string(latent.size(0)));
  const int64_t T = latent.size(1), needed = length_ + T;
  const int64_t capacity = buf_.defined() ? buf_.size(1) : 0;
  if (needed > capacity) {
    // Geometric growth: appending one token costs amortised O(1) copies.
    auto grown = at::empty({batch_, std::max<int64_t>({needed, reserved_, 2 * capacity, 64}), rank_ + rope_dim_},
                           at::TensorOptions().dtype(dtype_).device(device_));
    if (length_ > 0) grown.narrow(1, 0, length_).copy_(buf_.narrow(1, 0, length_));
    buf_ = grown;
  }
  auto slot = buf_.narrow(1, length_, T);
  slot.narrow(-1, 0, rank_).copy_(latent);
  slot.narrow(-1, rank_, rope_dim_).copy_(k_rope);
  length_ = needed;
  auto all = buf_.narrow(1, 0, length_);
  return {all.narrow(-1, 0, rank_), all.narrow(-1, rank_, rope_dim_)};
}

at::Tensor MlaCache::rows() const { return buf_.defined() ? buf_.narrow(1, 0, length_) : at::Tensor(); }

int64_t MlaCache::bytes() const {
  return batch_ * length_ * (rank_ + rope_dim_) * static_cast<int64_t>(c10::elementSize(dtype_));
}

// ---- mixer --------------------------------------------------------------------------------------

MlaMixer::MlaMixer(const MlaSettings& s, const ModelConfig& config, int64_t layer_index)
    : s_(s),
      rope_scaling_(config.rope_scaling),
      rope_theta_(config.rope_theta),
      max_position_embeddings_(config.max_position_embeddings) {
  validate(s, config.hidden_size, layer_index);
  const int64_t C = config.hidden_size, H = s.num_heads, dq = s.qk_head_dim();
  if (s.q_lora_rank == 0) {
    q_proj = register_module("q_proj", make_linear(C, H * dq, false));
  } else {
    q_a_proj = register_module("q_a_proj", make_linear(C, s.q_lora_rank, false));
    if (s.latent_norm)
      q_a_layernorm = register_module("q_a_layernorm", std::make_shared<RMSNorm>(s.q_lora_rank, config.rms_norm_eps));
    q_b_proj = register_module("q_b_proj", make_linear(s.q_lora_rank, H * dq, false));
  }
  kv_a_proj_with_mqa = register_module("kv_a_proj_with_mqa", make_linear(C, s.kv_lora_rank + s.qk_rope_head_dim, false));
  if (s.latent_norm)
    kv_a_layernorm = register_module("kv_a_layernorm", std::make_shared<RMSNorm>(s.kv_lora_rank, config.rms_norm_eps));
  kv_b_proj = register_module("kv_b_proj",
                              make_linear(s.kv_lora_rank, s.num_kv_heads * (s.qk_nope_head_dim + s.v_head_dim), false));
  o_proj = register_module("o_proj", make_linear(H * s.v_head_dim, C, false));

  rope_ = compute_rope(rope_scaling_, rope_theta_, s.qk_rope_head_dim, max_position_embeddings_);
  softmax_scale_ = 1.0 / std::sqrt(static_cast<double>(dq));
  const auto& r = rope_scaling_;
  if (r.type == "yarn" && r.mscale_all_dim.value_or(0) != 0) {
    const double m = yarn_get_mscale(r.factor, *r.mscale_all_dim);
    softmax_scale_ *= m * m;
  }
}

std::unique_ptr<LayerCache> MlaMixer::make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const {
  return std::make_unique<MlaCache>(batch, s_.kv_lora_rank, s_.qk_rope_head_dim, dtype, device);
}

at::Tensor MlaMixer::forward(const at::Tensor& x, int64_t pos, LayerCache* cache) {
  const int64_t B = x.size(0), T = x.size(1), H = s_.num_heads, r = s_.kv_lora_rank;
  const int64_t nope = s_.qk_nope_head_dim, dr = s_.qk_rope_head_dim;
  at::Tensor q;
  if (q_proj) {
    q = q_proj->forward(x);
  } else {
    auto q_latent = q_a_proj->forward(x);  // (B, T, q_lora_rank)
    if (q_a_layernorm) q_latent = q_a_layernorm->forward(q_latent);
    q = q_b_proj->forward(q_latent);
  }
  q = q.view({B, T, H, s_.qk_head_dim()}).transpose(1, 2);  // (B, H, T, dq)
  auto q_nope = q.narrow(-1, 0, nope);
  auto q_rope = q.narrow(-1, nope, dr);

  auto compressed = kv_a_proj_with_mqa->forward(x);  // (B, T, r + dr)
  auto latent = compressed.narrow(-1, 0, r);
  if (kv_a_layernorm) latent = kv_a_layernorm->forward(latent);
  auto k_rope = compressed.narrow(-1, r, dr).unsqueeze(1);  // (B, 1, T, dr): one head shared by all

  // Dynamic NTK grows the base with the length seen so far, as the teacher's attention does.
  const bool grow = rope_scaling_.type == "dynamic" && pos + T > max_position_embeddings_;
  const RopeTables& tables = grow ? compute_rope(rope_scaling_, rope_theta_, dr, max_position_embeddings_, pos + T)
                                  : rope_;
  auto [cos, sin] = rope_cos_sin(tables, pos, T, x.scalar_type(), x.device());
  q_rope = apply_rope(q_rope, cos, sin);
  k_rope = apply_rope(k_rope, cos, sin).squeeze(1);  // (B, T, dr)

  at::Tensor y;
  if (cache) {
    auto* mc = dynamic_cast<MlaCache*>(cache);
    if (!mc) throw ModelError("MLA layer got a '" + cache->kind() + "' cache");
    if (mc->length() != pos)
      throw ModelError("cache holds " + std::to_string(mc->length()) + " tokens but input starts at position " +
                       std::to_string(pos));
    std::tie(latent, k_rope) = mc->append(latent, k_rope);
    if (T == 1 && decode_path == MlaDecode::Absorbed) {
      y = attend_absorbed(q_nope, q_rope, mc->rows().to(x.scalar_type()));
    } else {
      y = attend_expanded(q_nope, q_rope, latent.to(x.scalar_type()), k_rope.to(x.scalar_type()));
    }
  } else {
    y = attend_expanded(q_nope, q_rope, latent, k_rope);  // (B, H, T, v)
  }
  return o_proj->forward(y.transpose(1, 2).reshape({B, T, H * s_.v_head_dim}));
}

at::Tensor MlaMixer::attend_expanded(const at::Tensor& q_nope, const at::Tensor& q_rope, const at::Tensor& latent,
                                     const at::Tensor& k_rope) {
  const int64_t B = latent.size(0), Tk = latent.size(1), Hkv = s_.num_kv_heads, rep = s_.num_heads / Hkv;
  const int64_t nope = s_.qk_nope_head_dim, dv = s_.v_head_dim, r = s_.kv_lora_rank;
  // causal_attention scales by qk_head_dim^-0.5; fold the YaRN factor into q.
  auto q = at::cat({q_nope, q_rope}, -1);
  const double extra = softmax_scale_ * std::sqrt(static_cast<double>(s_.qk_head_dim()));
  if (extra != 1.0) q = q * extra;
  // Heads are independent: expand the latent for a group of KV heads at a time, so a 2M-token
  // prefix never holds every head's keys and values at once (same maths, bounded memory).
  const int64_t head_bytes = B * Tk * (nope + dv) * latent.element_size();
  const int64_t group = std::clamp<int64_t>(max_expanded_bytes / std::max<int64_t>(head_bytes, 1), 1, Hkv);
  auto W = kv_b_proj->weight.view({Hkv, nope + dv, r});
  std::vector<at::Tensor> outs;
  for (int64_t h0 = 0; h0 < Hkv; h0 += group) {
    const int64_t g = std::min(group, Hkv - h0);
    auto kv = at::linear(latent, W.narrow(0, h0, g).reshape({g * (nope + dv), r}))
                  .view({B, Tk, g, nope + dv})
                  .transpose(1, 2);  // (B, g, Tk, .)
    auto k = at::cat({kv.narrow(-1, 0, nope), k_rope.unsqueeze(1).expand({B, g, Tk, s_.qk_rope_head_dim})}, -1);
    auto v = kv.narrow(-1, nope, dv).contiguous();
    outs.push_back(causal_attention(q.narrow(1, h0 * rep, g * rep), k, v));
  }
  return outs.size() == 1 ? outs[0] : at::cat(outs, 1);
}

at::Tensor MlaMixer::attend_absorbed(const at::Tensor& q_nope, const at::Tensor& q_rope, const at::Tensor& rows) {
  const int64_t B = q_nope.size(0), H = q_nope.size(1), Hkv = s_.num_kv_heads, rep = H / Hkv;
  const int64_t nope = s_.qk_nope_head_dim, r = s_.kv_lora_rank;
  auto W = kv_b_proj->weight.view({Hkv, nope + s_.v_head_dim, r});
  auto W_uk = W.narrow(1, 0, nope);              // (Hkv, nope, r)
  auto W_uv = W.narrow(1, nope, s_.v_head_dim);  // (Hkv, v, r)
  // Query head h belongs to KV head h / rep: group the heads to multiply by their KV head's block.
  auto q_latent = at::matmul(q_nope.reshape({B, Hkv, rep, nope}), W_uk).view({B, H, r});
  // Every head against the shared cache rows (latent, rope key): the latent is read once, never
  // expanded or copied per head.
  auto q = at::cat({q_latent, q_rope.reshape({B, H, s_.qk_rope_head_dim})}, -1);  // (B, H, r + dr)
  auto context = mla_decode_attention(q, rows, r, softmax_scale_);              // (B, H, r)
  return at::matmul(context.view({B, Hkv, rep, r}), W_uv.transpose(-1, -2)).view({B, H, 1, s_.v_head_dim});
}

}  // namespace hylo
