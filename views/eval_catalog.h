// What hylo-figures reads from a project store: a one-line summary per evaluation, the newest NIAH
// evaluation of a model, and a NIAH evaluation ready to plot (label, grid, KV-cache share of the
// teacher). Every miss is a hylo::Error naming the project database and the id or name.
#pragma once
#include <QString>
#include <cstdint>
#include <optional>
#include <vector>

#include "views/niah_result.h"

namespace hylo::store {
class ProjectStore;
}

namespace hylo::views {

struct EvalSummary {
  std::int64_t id = 0;
  QString model;  // the model row's name
  QString kind;   // niah | ruler | ppl | probe
  std::vector<std::int64_t> lengths;
  std::optional<double> mean_score;  // mean of every number in result_json's "score", if any
  QString created;
};

std::vector<EvalSummary> eval_summaries(store::ProjectStore& store);  // oldest first

// The id of the newest NIAH evaluation of the model whose name (or folder name) is `model`.
std::int64_t newest_niah_eval(store::ProjectStore& store, const QString& model);

struct NiahPanel {
  std::int64_t eval_id = 0;
  QString label;                      // the model's name
  NiahResult result;
  std::optional<double> kv_fraction;  // per-token cache as a share of the teacher's, when known
};

// A NIAH evaluation with its model's name and KV share. The teacher is the one the student's
// config.json names by absolute path, else the project's first teacher model with a readable
// config; a teacher's own evaluation is 100 %.
NiahPanel niah_panel(store::ProjectStore& store, std::int64_t eval_id);

}  // namespace hylo::views
