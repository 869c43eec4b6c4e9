// The demo's closing table: per model its layers, KV cache as a share of the teacher's, NIAH
// accuracy and needle probability per context length and the time each phase took; also as JSON
// (summary.json).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct DemoRow {
  std::string name, layers;
  double kv_percent = 0;                                // per-token cache vs the teacher's
  std::vector<int64_t> lengths;                         // NIAH lengths
  std::vector<double> niah;                             // mean score over depths per length, 0..1
  // Mean over depths of exp(mean log-likelihood per needle token), per length: graded where no
  // model answers exactly (small models).
  std::vector<double> needle_prob;
  std::vector<std::pair<double, double>> stage_loss;    // first and last loss per training stage
  double upcycle_s = 0, train_s = 0, eval_s = 0;
};

std::string format_scores(const std::vector<double>& scores);  // "1.00 0.50 0.00"
std::string render_table(const std::vector<DemoRow>& rows, double total_s);
nlohmann::json to_json(const std::vector<DemoRow>& rows, double total_s);
