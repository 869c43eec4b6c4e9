#include "core/upcycle/planner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/model/rope.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/upcycle/attention_weights.h"
#include "core/upcycle/mla_init.h"
#include "core/upcycle/upcycle.h"

namespace hylo {
namespace {

// The MLA settings the base plan gives every MLA layer of this teacher.
MlaSettings resolved_mla(const LayerPlan& base, const ModelConfig& teacher) {
  LayerPlan all_mla = base;
  all_mla.default_kind = MixerKind::MLA;
  all_mla.layers.clear();
  return upcycle_config(all_mla, teacher).layers.front().mla;
}

struct AttentionStats {
  double entropy = 0, long_range_mass = 0;
};

// x: (1, T, C) the layer's input after input_layernorm. Probabilities head by head: (T, T) each.
AttentionStats attention_stats(AttentionMixer& attn, const at::Tensor& x, const ModelConfig& config,
                               int64_t long_range) {
  const auto& a = attn.settings();
  const int64_t T = x.size(1), D = a.head_dim, rep = a.num_heads / a.num_kv_heads;
  auto q = attn.q_proj->forward(x).view({1, T, a.num_heads, D});
  auto k = attn.k_proj->forward(x).view({1, T, a.num_kv_heads, D});
  if (attn.q_norm) {
    q = attn.q_norm->forward(q);
    k = attn.k_norm->forward(k);
  }
  const auto tables = compute_rope(config.rope_scaling, config.rope_theta, D, config.max_position_embeddings, T);
  auto [cos, sin] = rope_cos_sin(tables, 0, T, at::kFloat, x.device());
  q = apply_rope(q.transpose(1, 2).to(at::kFloat), cos, sin)[0];  // (H, T, D)
  k = apply_rope(k.transpose(1, 2).to(at::kFloat), cos, sin)[0];  // (H_kv, T, D)

  auto pos = at::arange(T, at::kLong);
  auto distance = pos.view({T, 1}) - pos.view({1, T});  // query - key
  auto future = distance < 0;
  // Far keys, leaving out key 0: the attention sink (StreamingLLM, arXiv 2309.17453) soaks up
  // mass in every layer without being recall.
  auto far = (distance > long_range).logical_and(pos.view({1, T}) > 0).to(at::kFloat);
  auto seen = (pos + 1).to(at::kDouble).log().clamp_min(1e-12);  // ln(keys each query sees)
  const int64_t far_queries = T - long_range - 1;                 // queries with at least one far key
  double entropy = 0, mass = 0;
  for (int64_t h = 0; h < a.num_heads; ++h) {
    auto scores = at::matmul(q[h], k[h / rep].t()) / std::sqrt(static_cast<double>(D));  // (T, T)
    auto p = at::softmax(scores.masked_fill(future, -std::numeric_limits<float>::infinity()), -1);
    auto row_entropy = -(p * at::log(p.clamp_min(1e-30))).sum(-1).to(at::kDouble);  // (T)
    entropy += (row_entropy.narrow(0, 1, T - 1) / seen.narrow(0, 1, T - 1)).mean().item<double>();
    mass += (p * far).sum(-1).narrow(0, T - far_queries, far_queries).mean().item<double>();
  }
  return {entropy / a.num_heads, mass / a.num_heads};
}

}  // namespace

std::vector<LayerScore> score_layers(HybridModel& teacher, const at::Tensor& ids, const PlannerOptions& options) {
  const auto& config = teacher.config();
  if (ids.dim() != 2 || ids.size(0) != 1 || ids.size(1) <= options.long_range + 1)
    throw ConfigError("calibration needs one sequence longer than the long-range distance " +
                          std::to_string(options.long_range) + " + 1 tokens",
                      {}, "calibration_tokens");
  const MlaSettings mla = resolved_mla(options.base, config);
  at::NoGradGuard no_grad;
  const auto hidden = teacher.hidden_states(ids, 0, nullptr, /*collect_layers=*/true);
  std::vector<LayerScore> scores;
  for (int64_t i = 0; i < teacher.num_layers(); ++i) {
    auto& layer = teacher.layer(i);
    auto* attn = dynamic_cast<AttentionMixer*>(layer.mixer.get());
    if (!attn) throw ConfigError("the planner needs a Transformer teacher; layer " + std::to_string(i) + " is not attention",
                                 {}, "layers[" + std::to_string(i) + "]");
    const auto stats = attention_stats(*attn, layer.input_layernorm->forward(hidden.layer_inputs[i]), config,
                                       options.long_range);
    LayerScore s;
    s.layer = i;
    s.entropy = stats.entropy;
    s.long_range_mass = stats.long_range_mass;
    s.svd_error = truncation_error(mla_spectra(attention_weights(*attn), mla).kv, mla.kv_lora_rank);
    s.score = s.long_range_mass + options.svd_error_weight * s.svd_error;
    scores.push_back(s);
  }
  return scores;
}

PlanSuggestion suggest_plan(HybridModel& teacher, const at::Tensor& ids, const PlannerOptions& options) {
  const auto& config = teacher.config();
  if (options.linear != MixerKind::Mamba2 && options.linear != MixerKind::GDN)
    throw ConfigError("the linear mixer must be mamba2 or gdn", {}, "linear");
  const MlaSettings mla = resolved_mla(options.base, config);
  const int64_t per_mla = mla.kv_lora_rank + mla.qk_rope_head_dim;
  const int64_t fit = static_cast<int64_t>(std::floor(options.kv_budget * kv_elements_per_token(config) / per_mla + 1e-9));
  if (fit < 1)
    throw ConfigError("a budget of " + std::to_string(options.kv_budget * 100) +
                          "% of the teacher's KV is less than one MLA layer (" + std::to_string(per_mla) +
                          " elements per token)",
                      {}, "kv_budget");
  PlanSuggestion out;
  out.scores = score_layers(teacher, ids, options);
  out.ranking.resize(out.scores.size());
  std::iota(out.ranking.begin(), out.ranking.end(), 0);
  std::stable_sort(out.ranking.begin(), out.ranking.end(),
                   [&](int64_t a, int64_t b) { return out.scores[a].score > out.scores[b].score; });
  out.mla_layers = std::min<int64_t>(fit, teacher.num_layers());
  out.plan = options.base;
  out.plan.default_kind = options.linear;
  out.plan.num_layers = teacher.num_layers();
  out.plan.layers.clear();
  for (int64_t r = 0; r < out.mla_layers; ++r) out.plan.layers[out.ranking[r]] = MixerKind::MLA;
  const auto student = upcycle_config(out.plan, config);
  out.plan.name = compact_name(student);
  out.kv_fraction = kv_fraction(student, config);
  return out;
}

}  // namespace hylo
