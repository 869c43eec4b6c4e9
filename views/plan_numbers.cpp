#include "views/plan_numbers.h"

#include "core/spec/estimates.h"
#include "core/spec/plan.h"

namespace hylo::views {

static Precision bf16() { return Precision{2, kDtypeBytes, kDtypeBytes}; }

PlanNumbers plan_numbers(const ModelConfig& student, const ModelConfig& teacher) {
  PlanNumbers n;
  n.compact_name = QString::fromStdString(compact_name(student));
  n.kv_fraction = kv_fraction(student, teacher);
  const Estimate s = estimate(student, kFlopsContext, bf16());
  const Estimate t = estimate(teacher, kFlopsContext, bf16());
  n.params = static_cast<double>(s.params);
  n.teacher_params = static_cast<double>(t.params);
  n.flops_per_token = s.decode_flops_per_token;
  n.teacher_flops_per_token = t.decode_flops_per_token;
  return n;
}

double cache_bytes_at(const ModelConfig& config, int64_t tokens) {
  const Estimate e = estimate(config, tokens, bf16());
  return static_cast<double>(e.kv_bytes + e.state_bytes);
}

}  // namespace hylo::views
