#include "views/plan_state.h"

#include <map>
#include <tuple>

namespace hylo::views {

static auto fields(const MlaSettings& s) {
  return std::tie(s.num_heads, s.num_kv_heads, s.q_lora_rank, s.kv_lora_rank, s.qk_rope_head_dim,
                  s.qk_nope_head_dim, s.v_head_dim, s.latent_norm);
}
static auto fields(const Mamba2Settings& s) {
  return std::tie(s.num_heads, s.head_dim, s.d_inner, s.d_xb, s.d_state, s.n_groups,
                  s.conv_kernel, s.chunk_size, s.dt_min, s.dt_max, s.dt_init_floor, s.gated_norm);
}
static auto fields(const GdnSettings& s) {
  return std::tie(s.num_heads, s.num_k_heads, s.head_k_dim, s.head_v_dim, s.conv_kernel,
                  s.chunk_size, s.output_gate);
}

bool operator==(const PlanState& a, const PlanState& b) {
  return a.kinds == b.kinds && fields(a.mla) == fields(b.mla) &&
         fields(a.mamba2) == fields(b.mamba2) && fields(a.gdn) == fields(b.gdn);
}

PlanState plan_state_from(const LayerPlan& plan, int64_t num_layers) {
  PlanState s;
  for (int64_t i = 0; i < num_layers; ++i) s.kinds.push_back(plan.kind_of(i));
  s.mla = plan.mla;
  s.mamba2 = plan.mamba2;
  s.gdn = plan.gdn;
  return s;
}

LayerPlan layer_plan_from(const PlanState& state, const std::string& teacher_path) {
  LayerPlan plan;
  plan.teacher = teacher_path;
  plan.num_layers = static_cast<int64_t>(state.kinds.size());
  std::map<MixerKind, int> counts;
  for (MixerKind k : state.kinds) ++counts[k];
  int best = -1;
  for (const auto& [kind, n] : counts)
    if (n > best) {
      best = n;
      plan.default_kind = kind;
    }
  for (size_t i = 0; i < state.kinds.size(); ++i)
    if (state.kinds[i] != plan.default_kind) plan.layers[static_cast<int64_t>(i)] = state.kinds[i];
  plan.mla = state.mla;
  plan.mamba2 = state.mamba2;
  plan.gdn = state.gdn;
  return plan;
}

}  // namespace hylo::views
