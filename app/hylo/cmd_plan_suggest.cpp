// `hylo plan suggest <teacher> --kv-budget 5%`: the auto-planner (core/upcycle/planner.h) on a short
// calibration text; prints the per-layer scores and the proposed plan (YAML, or saved with -o).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/hylo/command.h"
#include "app/hylo/plan_suggest.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/upcycle/calibration.h"
#include "core/upcycle/planner.h"

namespace hylo::cli {
namespace {

struct Options {
  std::string teacher, budget = "5%", linear = "mamba2", out, text, brown = default_brown_dir(), base_plan;
  int64_t tokens = 2048, long_range = 512;
};

// "5%" or "0.05".
double parse_budget(const std::string& s) {
  try {
    size_t used = 0;
    const bool percent = !s.empty() && s.back() == '%';
    const double v = std::stod(percent ? s.substr(0, s.size() - 1) : s, &used);
    const double share = percent ? v / 100 : v;
    if (used == s.size() - (percent ? 1 : 0) && share > 0 && share <= 1) return share;
  } catch (const std::exception&) {
  }
  throw ConfigError("expected a share like 5% or 0.05, got '" + s + "'", {}, "--kv-budget");
}

void run(const Options& o) {
  PlannerOptions options;
  if (!o.base_plan.empty()) options.base = LayerPlan::load(o.base_plan);
  options.base.teacher = std::filesystem::absolute(o.teacher).string();
  options.base.source.clear();
  options.kv_budget = parse_budget(o.budget);
  options.linear = mixer_kind_from_string(o.linear, {}, "--linear");
  options.long_range = o.long_range;
  auto teacher = load_model(o.teacher, at::kFloat, at::kCPU);
  const auto ids = calibration_ids((std::filesystem::path(o.teacher) / "tokenizer.json").string(), o.tokens, o.text,
                                   o.brown);
  const auto s = suggest_plan(*teacher, ids, options);
  if (global_options().json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : s.scores)
      rows.push_back({{"layer", r.layer}, {"entropy", r.entropy}, {"long_range_mass", r.long_range_mass},
                      {"svd_error", r.svd_error}, {"score", r.score}});
    std::cout << nlohmann::json{{"plan", s.plan.to_yaml()}, {"name", s.plan.name}, {"kv_fraction", s.kv_fraction},
                                {"ranking", s.ranking}, {"layers", rows}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("calibration: %lld tokens; long-range = more than %lld tokens back (key 0, the sink, left out)\n",
                (long long)o.tokens, (long long)o.long_range);
    std::printf("layer  entropy  long-range  svd-error   score  rank\n");
    for (const auto& r : s.scores) {
      const auto rank = std::find(s.ranking.begin(), s.ranking.end(), r.layer) - s.ranking.begin();
      std::printf("%5lld  %7.3f  %10.4f  %9.4f  %6.4f  %4lld%s\n", (long long)r.layer, r.entropy, r.long_range_mass,
                  r.svd_error, r.score, (long long)rank + 1, rank < s.mla_layers ? "  mla" : "");
    }
    std::printf("%s: %lld MLA layers, KV %.2f%% of the teacher's (budget %.2f%%)\n", s.plan.name.c_str(),
                (long long)s.mla_layers, 100 * s.kv_fraction, 100 * options.kv_budget);
  }
  if (!o.out.empty()) {
    s.plan.save(o.out);
    std::fprintf(stderr, "plan written to %s\n", o.out.c_str());
  } else if (!global_options().json) {
    std::cout << s.plan.to_yaml();
  }
}

}  // namespace

void add_plan_suggest(CLI::App* plan) {
  auto o = std::make_shared<Options>();
  auto* cmd = plan->add_subcommand("suggest", "Score the teacher's layers on calibration text; propose a plan");
  cmd->add_option("teacher", o->teacher, "Teacher checkpoint folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--kv-budget", o->budget, "Per-token KV as a share of the teacher's: 5% or 0.05")->capture_default_str();
  cmd->add_option("--linear", o->linear, "Mixer of the other layers: mamba2 or gdn")->capture_default_str();
  cmd->add_option("--calibration-tokens", o->tokens, "Calibration length in tokens")->capture_default_str();
  cmd->add_option("--long-range", o->long_range, "Distance beyond which attention counts as long-range")
      ->capture_default_str();
  cmd->add_option("--base-plan", o->base_plan, "plan.yaml whose mla/mamba2/gdn sizes the suggestion keeps");
  cmd->add_option("--text", o->text, "Calibration text file (default: Brown prose)");
  cmd->add_option("--brown", o->brown, "Brown corpus folder")->capture_default_str();
  cmd->add_option("-o,--output", o->out, "Write the plan here instead of printing it");
  cmd->callback([o] { run(*o); });
}

}  // namespace hylo::cli
