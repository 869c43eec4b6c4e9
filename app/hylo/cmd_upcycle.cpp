// `hylo upcycle <teacher> <plan.yaml> -o <student>`: a hybrid student initialised from its teacher
// (core/upcycle), saved as an HF-style checkpoint, with both perplexities on a short Brown text.
#include <cstdio>
#include <filesystem>

#include "app/hylo/command.h"
#include "core/spec/error.h"
#include "core/upcycle/calibration.h"
#include "core/upcycle/upcycle.h"

namespace {

struct Options {
  std::string teacher, plan, out, dtype = "fp32", text, brown = hylo::default_brown_dir();
  int64_t ppl_tokens = 512;
  hylo::UpcycleOptions upcycle;
};

at::ScalarType parse_dtype(const std::string& s) {
  if (s == "fp32") return at::kFloat;
  if (s == "bf16") return at::kBFloat16;
  throw hylo::ConfigError("unknown dtype '" + s + "' (expected fp32 or bf16)", {}, "--dtype");
}

void run(const Options& o) {
  const auto plan = hylo::LayerPlan::load(o.plan);
  const auto result = hylo::upcycle_checkpoint(o.teacher, plan, o.out, parse_dtype(o.dtype), o.upcycle);
  const auto& config = result.student.config;
  std::printf("upcycled %s -> %s (%s) in %s, seed %llu\n", o.teacher.c_str(), o.out.c_str(),
              hylo::compact_name(config).c_str(), o.dtype.c_str(), (unsigned long long)o.upcycle.seed);
  for (size_t i = 0; i < config.layers.size(); ++i) {
    const auto& l = config.layers[i];
    if (l.kind == hylo::MixerKind::MLA)
      std::printf("  layer %2zu  mla  q_lora_rank %lld  kv_lora_rank %lld  rope %lld\n", i, (long long)l.mla.q_lora_rank,
                  (long long)l.mla.kv_lora_rank, (long long)l.mla.qk_rope_head_dim);
  }
  const std::string tokenizer = (std::filesystem::path(o.teacher) / "tokenizer.json").string();
  if (o.ppl_tokens == 0) return;
  if (!std::filesystem::exists(tokenizer) || (o.text.empty() && !std::filesystem::exists(o.brown))) {
    std::printf("perplexity skipped: no tokenizer.json in the teacher or no calibration text\n");
    return;
  }
  const auto ids = hylo::calibration_ids(tokenizer, o.ppl_tokens, o.text, o.brown);
  result.student.model->to(at::kFloat);
  std::printf("perplexity on %lld tokens of %s: teacher %.3f  student %.3f (right after upcycling, untrained)\n",
              (long long)o.ppl_tokens, o.text.empty() ? "Brown prose" : o.text.c_str(),
              hylo::perplexity(*result.teacher, ids), hylo::perplexity(*result.student.model, ids));
}

void setup(CLI::App& root) {
  auto o = std::make_shared<Options>();
  auto* cmd = root.add_subcommand("upcycle", "Initialise a hybrid student from its teacher as a layer plan asks");
  cmd->add_option("teacher", o->teacher, "Teacher checkpoint folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("plan", o->plan, "plan.yaml")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->out, "Student checkpoint folder (must not exist or be empty)")->required();
  cmd->add_option("--dtype", o->dtype, "Stored weights: fp32 or bf16")->capture_default_str();
  cmd->add_option("--rank-energy", o->upcycle.rank_energy,
                  "Per-layer MLA ranks keeping this share of SVD energy, e.g. 0.99 (default: the plan's ranks)");
  cmd->add_flag("--identity-conv", o->upcycle.identity_conv, "Mamba2 conv1d starts as a pass-through");
  cmd->add_flag("--random-mla", o->upcycle.random_mla,
                "MLA layers keep their random init instead of the SVD of the teacher's attention (ablation)");
  cmd->add_option("--seed", o->upcycle.seed, "Seed of the weights the teacher does not determine (new mixers, random MLA)")
      ->capture_default_str();
  cmd->add_option("--ppl-tokens", o->ppl_tokens, "Tokens for the perplexity check (0: skip)")->capture_default_str();
  cmd->add_option("--text", o->text, "Text file for the perplexity check (default: Brown prose)");
  cmd->add_option("--brown", o->brown, "Brown corpus folder")->capture_default_str();
  cmd->callback([o] { run(*o); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup);
