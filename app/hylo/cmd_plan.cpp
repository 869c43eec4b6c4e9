// `hylo plan show|estimate`: a layer plan resolved against its teacher, per layer, and its
// estimates (parameters, KV and state bytes, FLOPs per token) beside the teacher's.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "app/hylo/command.h"
#include "app/hylo/plan_suggest.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/plan.h"

namespace {

using hylo::ConfigError;
using nlohmann::json;

struct PlanArgs {
  std::string plan_path, teacher, contexts = "8k,64k,1M", dtype = "bf16", state_dtype;
};

// "8k" = 8192, "1M" = 1048576, plain numbers as they are.
std::vector<int64_t> parse_contexts(const std::string& list) {
  std::vector<int64_t> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    int64_t scale = 1;
    if (!item.empty() && (item.back() == 'k' || item.back() == 'K')) scale = 1024;
    if (!item.empty() && (item.back() == 'm' || item.back() == 'M')) scale = 1024 * 1024;
    const std::string digits = scale == 1 ? item : item.substr(0, item.size() - 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || std::stoll(digits) == 0)
      throw ConfigError("expected context lengths like 8k,64k,1M, got '" + item + "'", {}, "--context");
    out.push_back(std::stoll(digits) * scale);
  }
  if (out.empty()) throw ConfigError("no context length given", {}, "--context");
  return out;
}

std::string bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
  return buf;
}

std::string context_label(int64_t L) {
  if (L % (1024 * 1024) == 0) return std::to_string(L / (1024 * 1024)) + "M";
  if (L % 1024 == 0) return std::to_string(L / 1024) + "K";
  return std::to_string(L);
}

struct Resolved {
  hylo::LayerPlan plan;
  hylo::ModelConfig teacher, student;
};

Resolved resolve(const PlanArgs& a) {
  Resolved r;
  r.plan = hylo::LayerPlan::load(a.plan_path);
  const std::string teacher = a.teacher.empty() ? r.plan.teacher_path() : a.teacher;
  if (teacher.empty()) throw ConfigError("no teacher: set `teacher:` in the plan or pass --teacher", a.plan_path, "teacher");
  r.teacher = hylo::ModelConfig::load(teacher);
  r.student = r.plan.resolve(r.teacher);
  return r;
}

json estimate_json(const hylo::Estimate& e) {
  return {{"params", e.params},           {"weight_bytes", e.weight_bytes},
          {"kv_bytes", e.kv_bytes},       {"state_bytes", e.state_bytes},
          {"total_bytes", e.total_bytes}, {"prefill_flops_per_token", e.prefill_flops_per_token},
          {"decode_flops_per_token", e.decode_flops_per_token}};
}

void run_estimate(const PlanArgs& a) {
  const auto r = resolve(a);
  const auto contexts = parse_contexts(a.contexts);
  hylo::Precision p;
  p.weight_bytes = p.cache_bytes = hylo::dtype_bytes(a.dtype, "--dtype");
  p.state_bytes = a.state_dtype.empty() ? p.cache_bytes : hylo::dtype_bytes(a.state_dtype, "--state-dtype");
  const double fraction = hylo::kv_fraction(r.student, r.teacher);
  const auto tp = hylo::count_parameters(r.teacher).total(), sp = hylo::count_parameters(r.student).total();
  if (hylo::cli::global_options().json) {
    json rows = json::array();
    for (int64_t L : contexts)
      rows.push_back({{"context", L},
                      {"teacher", estimate_json(hylo::estimate(r.teacher, L, p))},
                      {"student", estimate_json(hylo::estimate(r.student, L, p))}});
    std::cout << json{{"plan", a.plan_path},
                      {"student", hylo::compact_name(r.student)},
                      {"teacher", hylo::compact_name(r.teacher)},
                      {"kv_fraction", fraction},
                      {"kv_elements_per_token", {{"teacher", hylo::kv_elements_per_token(r.teacher)},
                                                 {"student", hylo::kv_elements_per_token(r.student)}}},
                      {"precision", {{"weight_bytes", p.weight_bytes}, {"cache_bytes", p.cache_bytes},
                                     {"state_bytes", p.state_bytes}}},
                      {"contexts", rows}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("plan %s: %s from %s (%s)\n", a.plan_path.c_str(), hylo::compact_name(r.student).c_str(),
              hylo::compact_name(r.teacher).c_str(), r.student.teacher.c_str());
  std::printf("params      teacher %15lld   student %15lld  (%+.1f%%)\n", static_cast<long long>(tp),
              static_cast<long long>(sp), 100.0 * (sp - tp) / tp);
  std::printf("cache/token teacher %15s   student %15s  (%.2f%% of the teacher's)\n",
              bytes(hylo::kv_elements_per_token(r.teacher) * p.cache_bytes).c_str(),
              bytes(hylo::kv_elements_per_token(r.student) * p.cache_bytes).c_str(), 100 * fraction);
  std::printf("\n%-8s %12s %12s %12s %12s %12s %21s %21s\n", "context", "KV teacher", "KV student", "state stud.",
              "mem teacher", "mem student", "prefill GFLOP/tok T|S", "decode GFLOP/tok T|S");
  for (int64_t L : contexts) {
    const auto t = hylo::estimate(r.teacher, L, p), s = hylo::estimate(r.student, L, p);
    std::printf("%-8s %12s %12s %12s %12s %12s %10.2f|%10.2f %10.2f|%10.2f\n", context_label(L).c_str(),
                bytes(t.kv_bytes).c_str(), bytes(s.kv_bytes).c_str(), bytes(s.state_bytes).c_str(),
                bytes(t.total_bytes).c_str(), bytes(s.total_bytes).c_str(), t.prefill_flops_per_token / 1e9,
                s.prefill_flops_per_token / 1e9, t.decode_flops_per_token / 1e9, s.decode_flops_per_token / 1e9);
  }
  std::printf("(mem = weights + KV + state, batch 1; weights and caches %s, recurrent states %s)\n", a.dtype.c_str(),
              a.state_dtype.empty() ? a.dtype.c_str() : a.state_dtype.c_str());
}

std::string sizes(const hylo::LayerSpec& s) {
  char buf[160];
  switch (s.kind) {
    case hylo::MixerKind::Attention:
      std::snprintf(buf, sizeof buf, "heads %lld, kv %lld, head_dim %lld", (long long)s.attention.num_heads,
                    (long long)s.attention.num_kv_heads, (long long)s.attention.head_dim);
      break;
    case hylo::MixerKind::MLA:
      std::snprintf(buf, sizeof buf, "q_lora %lld, kv_lora %lld, rope %lld, nope %lld, v %lld",
                    (long long)s.mla.q_lora_rank, (long long)s.mla.kv_lora_rank, (long long)s.mla.qk_rope_head_dim,
                    (long long)s.mla.qk_nope_head_dim, (long long)s.mla.v_head_dim);
      break;
    case hylo::MixerKind::Mamba2:
      std::snprintf(buf, sizeof buf, "heads %lld x %lld, d_xb %lld, d_state %lld", (long long)s.mamba2.num_heads,
                    (long long)s.mamba2.head_dim, (long long)s.mamba2.d_xb, (long long)s.mamba2.d_state);
      break;
    case hylo::MixerKind::GDN:
      std::snprintf(buf, sizeof buf, "heads %lld (k %lld) x k %lld, v %lld", (long long)s.gdn.num_heads,
                    (long long)s.gdn.num_k_heads, (long long)s.gdn.head_k_dim, (long long)s.gdn.head_v_dim);
      break;
  }
  return buf;
}

void run_show(const PlanArgs& a) {
  const auto r = resolve(a);
  const auto params = hylo::count_parameters(r.student);
  json layers = json::array();
  if (!hylo::cli::global_options().json)
    std::printf("%-5s %-9s %-48s %12s %10s %10s\n", "layer", "mixer", "sizes", "params", "cache/tok", "state");
  for (size_t i = 0; i < r.student.layers.size(); ++i) {
    const auto& spec = r.student.layers[i];
    const auto cache = hylo::layer_cache_size(spec);
    const int64_t state = cache.conv_state + cache.recurrent_state;
    layers.push_back({{"layer", i}, {"mixer", hylo::to_string(spec.kind)}, {"params", params.layers[i].total()},
                      {"cache_elements_per_token", cache.per_token}, {"state_elements", state}});
    if (!hylo::cli::global_options().json)
      std::printf("%-5zu %-9s %-48s %12lld %10lld %10lld\n", i, hylo::to_string(spec.kind).c_str(), sizes(spec).c_str(),
                  (long long)params.layers[i].total(), (long long)cache.per_token, (long long)state);
  }
  const std::string name = hylo::compact_name(r.student);
  if (hylo::cli::global_options().json) {
    std::cout << json{{"plan", a.plan_path}, {"name", name}, {"params", params.total()}, {"layers", layers}}.dump() << "\n";
    return;
  }
  std::printf("%s: %lld parameters (cache and state in elements per layer)\n", name.c_str(), (long long)params.total());
}

void setup_plan(CLI::App& root) {
  auto* plan = root.add_subcommand("plan", "Layer plans: show one, estimate its cost beside the teacher's");
  plan->require_subcommand(1);
  auto args = std::make_shared<PlanArgs>();
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("plan", args->plan_path, "plan.yaml")->required()->check(CLI::ExistingFile);
    cmd->add_option("--teacher", args->teacher, "Teacher checkpoint folder or config.json (default: the plan's)");
  };
  auto* show = plan->add_subcommand("show", "Per-layer mixers and sizes of a plan, and its compact name");
  add_common(show);
  show->callback([args] { run_show(*args); });
  auto* est = plan->add_subcommand("estimate", "Parameters, KV/state bytes and FLOPs per token vs the teacher");
  add_common(est);
  est->add_option("--context", args->contexts, "Context lengths, e.g. 8k,64k,1M")->capture_default_str();
  est->add_option("--dtype", args->dtype, "Weights and caches: bf16, fp16, fp32, fp8")->capture_default_str();
  est->add_option("--state-dtype", args->state_dtype, "Recurrent states (default: --dtype)");
  est->callback([args] { run_estimate(*args); });
  hylo::cli::add_plan_suggest(plan);
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_plan);
