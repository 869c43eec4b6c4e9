// The auto-planner: a short calibration pass of the teacher scores every attention layer, and the
// layers that most need exact long-range recall become MLA within a KV budget; the rest linear.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "core/model/hybrid_model.h"
#include "core/spec/plan.h"

namespace hylo {

struct LayerScore {
  int64_t layer = 0;
  double entropy = 0;          // mean attention entropy over heads and queries / ln(keys seen): 1 = uniform
  double long_range_mass = 0;  // mean share of attention on keys more than `long_range` tokens back
  double svd_error = 0;        // relative Frobenius error of the joint KV SVD at the plan's kv_lora_rank
  double score = 0;            // long_range_mass + svd_error_weight * svd_error; higher = MLA first
};

struct PlannerOptions {
  double kv_budget = 0.05;     // the student's per-token KV as a share of the teacher's
  MixerKind linear = MixerKind::Mamba2;  // the kind of every layer that is not MLA
  int64_t long_range = 512;    // tokens back beyond which attention counts as long-range
  // Long-range mass decides (linear layers cannot retrieve far back; MLA can); the SVD error only
  // breaks near-ties towards layers the latent would distort most.
  double svd_error_weight = 0.25;
  LayerPlan base;              // sizes (mla, mamba2, gdn) and teacher path the suggestion keeps
};

struct PlanSuggestion {
  LayerPlan plan;
  std::vector<LayerScore> scores;  // per layer, in layer order
  std::vector<int64_t> ranking;    // layers by score, best first
  int64_t mla_layers = 0;
  double kv_fraction = 0;          // the plan's per-token KV / the teacher's
};

// ids: (1, T) calibration tokens with T > long_range. Each layer's attention is recomputed from
// the input that layer sees in the teacher's own forward pass.
std::vector<LayerScore> score_layers(HybridModel& teacher, const at::Tensor& ids, const PlannerOptions& options);

// score_layers, then as many MLA layers as the budget allows (at least one: a budget below one
// MLA layer is a ConfigError naming "kv_budget"), best scores first.
PlanSuggestion suggest_plan(HybridModel& teacher, const at::Tensor& ids, const PlannerOptions& options);

}  // namespace hylo
