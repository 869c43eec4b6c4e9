// A NIAH evaluation as `hylo eval niah` stores it (evals.kind = "niah", result_json):
//   {"task":..., "lengths":[L...], "depths":[d%...], "score":[[per depth] per length],
//    "loglik":[[...]], "trials":n, "seed":s, "model":"<path>", "kv_bytes":{"<L>":bytes}, "time_s":t}
// Parsing checks every shape, so a view never indexes past a short row.
#pragma once
#include <QString>
#include <cstdint>
#include <map>
#include <vector>

namespace hylo::views {

struct NiahResult {
  QString task, model;
  std::vector<std::int64_t> lengths;
  std::vector<double> depths;              // percent, 0 = needle at the start
  std::vector<std::vector<double>> score;  // [length][depth], 0..1
  std::vector<std::vector<double>> loglik; // [length][depth]; empty when not stored, NaN cells when null
  std::map<std::int64_t, double> kv_bytes; // measured cache bytes by context length
  int trials = 0;
  double time_s = 0;

  // Throws hylo::EvalError naming `origin` and the field ("score[2]") when the JSON is malformed.
  static NiahResult from_json(const QByteArray& json, const QString& origin);
};

// a - b cell by cell; both must have the same lengths and depths (EvalError otherwise).
std::vector<std::vector<double>> niah_difference(const NiahResult& a, const NiahResult& b);

// "1K", "64K", "1M" for context lengths that are powers of two in K/M, else the number.
QString short_length(std::int64_t tokens);

}  // namespace hylo::views
