#include "app/hylo/demo_report.h"

#include <algorithm>
#include <cstdio>

#include "app/hylo/progress_bar.h"

std::string format_scores(const std::vector<double>& scores) {
  std::string out;
  char buf[16];
  for (double s : scores) {
    std::snprintf(buf, sizeof buf, "%s%.2f", out.empty() ? "" : " ", s);
    out += buf;
  }
  return out;
}

namespace {

std::string length_label(int64_t n) {
  return n % 1024 == 0 ? std::to_string(n / 1024) + "K" : std::to_string(n);
}

}  // namespace

std::string render_table(const std::vector<DemoRow>& rows, double total_s) {
  std::string out;
  char buf[256];
  const std::vector<int64_t> lengths = rows.empty() ? std::vector<int64_t>{} : rows.front().lengths;
  std::snprintf(buf, sizeof buf, "%-12s %-10s %7s ", "model", "layers", "KV %");
  out += buf;
  for (int64_t L : lengths) {
    std::snprintf(buf, sizeof buf, " %7s", ("NIAH " + length_label(L)).c_str());
    out += buf;
  }
  const int prob_width = std::max<int>(9, static_cast<int>(lengths.size()) * 5 - 1);
  std::snprintf(buf, sizeof buf, "  %-*s  %9s %9s  %s\n", prob_width, "p(needle)", "distil", "NIAH",
                "loss by stage (first -> last)");
  out += buf;
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof buf, "%-12s %-10s %6.1f%% ", r.name.c_str(), r.layers.c_str(), r.kv_percent);
    out += buf;
    for (double s : r.niah) {
      std::snprintf(buf, sizeof buf, " %7.2f", s);
      out += buf;
    }
    const std::string distil = r.train_s > 0 ? hylo::cli::format_seconds(r.upcycle_s + r.train_s) : "-";
    const std::string prob = r.needle_prob.empty() ? "-" : format_scores(r.needle_prob);
    std::snprintf(buf, sizeof buf, "  %-*s  %9s %9s ", prob_width, prob.c_str(), distil.c_str(),
                  hylo::cli::format_seconds(r.eval_s).c_str());
    out += buf;
    for (const auto& [first, last] : r.stage_loss) {
      std::snprintf(buf, sizeof buf, " %.2f->%.2f", first, last);
      out += buf;
    }
    out += "\n";
  }
  out += "KV %: per-token cache (attention K/V, MLA latent + RoPE key) vs the teacher's; Mamba2/GDN states are\n"
         "constant in the context. NIAH: share of needles recalled, mean over depths. p(needle): the model's\n"
         "probability of the needle's answer (geometric mean per token), mean over depths, per length.\n";
  std::snprintf(buf, sizeof buf, "total %s\n", hylo::cli::format_seconds(total_s).c_str());
  out += buf;
  return out;
}

nlohmann::json to_json(const std::vector<DemoRow>& rows, double total_s) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json losses = nlohmann::json::array();
    for (const auto& [first, last] : r.stage_loss) losses.push_back({{"first", first}, {"last", last}});
    models.push_back({{"name", r.name},
                      {"layers", r.layers},
                      {"kv_percent", r.kv_percent},
                      {"lengths", r.lengths},
                      {"niah", r.niah},
                      {"needle_prob", r.needle_prob},
                      {"stage_loss", losses},
                      {"upcycle_s", r.upcycle_s},
                      {"train_s", r.train_s},
                      {"eval_s", r.eval_s}});
  }
  return {{"models", models}, {"total_s", total_s}};
}
