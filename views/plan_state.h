// PlanState: what the planner edits, one mixer kind per layer plus the per-kind settings, and
// its conversion to and from a LayerPlan (plan.yaml). Compared whole by undo tests and
// snapshotted by undo commands (a few hundred bytes even for deep models, so snapshots beat
// hand-written inverse operations).
#pragma once
#include <string>
#include <vector>

#include "core/spec/plan.h"

namespace hylo::views {

struct PlanState {
  std::vector<MixerKind> kinds;  // one per layer
  MlaSettings mla = LayerPlan::default_mla();
  Mamba2Settings mamba2 = LayerPlan::default_mamba2();
  GdnSettings gdn = LayerPlan::default_gdn();
};
bool operator==(const PlanState& a, const PlanState& b);
inline bool operator!=(const PlanState& a, const PlanState& b) { return !(a == b); }

// The plan's kinds for `num_layers` layers (the teacher's count) and its settings.
PlanState plan_state_from(const LayerPlan& plan, int64_t num_layers);
// A LayerPlan that reads well as YAML: the most common kind is the default, the others listed.
LayerPlan layer_plan_from(const PlanState& state, const std::string& teacher_path);

}  // namespace hylo::views
