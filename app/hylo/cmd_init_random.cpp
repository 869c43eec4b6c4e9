// `hylo init-random <config.json> --tokenizer <tokenizer.json> -o <dir> [--seed N]`: a checkpoint
// folder with random weights (HF init: N(0, 0.02) matrices, unit norms) for a config, the start of
// a `pretrain` recipe. The tokenizer must fit the config's vocabulary.
#include <ATen/ATen.h>

#include <cstdio>

#include "app/hylo/command.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/text/tokenizer.h"

namespace {

struct Args {
  std::string config, tokenizer, out;
  int64_t seed = 0;
};

void run(const Args& a) {
  hylo::ModelConfig config = hylo::ModelConfig::load(a.config);
  auto tok = hylo::Tokenizer::from_file(a.tokenizer);
  if (tok.vocab_size() > config.vocab_size)
    throw hylo::ConfigError("tokenizer has " + std::to_string(tok.vocab_size()) + " ids, the config's vocabulary " +
                                std::to_string(config.vocab_size), a.config, "vocab_size");
  if (auto eos = tok.eos_id()) config.eos_token_ids = {*eos};
  config.torch_dtype = "float32";
  at::manual_seed(a.seed);
  hylo::HybridModel model(config);
  hylo::save_model(a.out, model, config, tok.path());
  int64_t params = 0;
  for (const auto& p : model.parameters()) params += p.numel();
  std::printf("%s: %lld parameters (fp32), seed %lld\n", a.out.c_str(), static_cast<long long>(params),
              static_cast<long long>(a.seed));
}

void setup_init_random(CLI::App& root) {
  auto a = std::make_shared<Args>();
  auto* cmd = root.add_subcommand("init-random", "Checkpoint with random weights for a config.json (pretraining start)");
  cmd->add_option("config", a->config, "config.json or a folder holding one")->required();
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json (or its folder) copied into the checkpoint")->required();
  cmd->add_option("-o,--out", a->out, "Checkpoint folder to write")->required();
  cmd->add_option("--seed", a->seed, "Seed of the random weights")->capture_default_str();
  cmd->callback([a] { run(*a); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_init_random);
