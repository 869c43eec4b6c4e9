// The numbers the planner shows for a student config against its teacher, computed by
// hylo_spec's estimates so the GUI and `hylo plan estimate` always agree.
#pragma once
#include <QString>
#include <cstdint>
#include <vector>

#include "core/spec/model_config.h"

namespace hylo::views {

struct PlanNumbers {
  QString compact_name;         // "4MLA12M2"
  double kv_fraction = 0;       // per-token cache elements over the teacher's (HyLo's "3.9% KV")
  double params = 0, teacher_params = 0;
  double flops_per_token = 0, teacher_flops_per_token = 0;  // decoding at position kFlopsContext
};

constexpr int64_t kFlopsContext = 8192;  // the HyLo paper's stage-2 training length
constexpr int64_t kDtypeBytes = 2;       // bf16 caches and states

PlanNumbers plan_numbers(const ModelConfig& student, const ModelConfig& teacher);
// KV cache plus recurrent state of one sequence at context `tokens` (bf16), all layers.
double cache_bytes_at(const ModelConfig& config, int64_t tokens);

}  // namespace hylo::views
