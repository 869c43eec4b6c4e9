// `hylo init-random <shape|plan|config> -o <dir> [--tokenizer tokenizer.json]`: a checkpoint folder
// with random weights (HF's init: N(0, 0.02) matrices, unit norms) for a named shape
// (core/spec/model_shapes.h), a layer plan or a config.json — the start of a `pretrain` recipe, and
// models for benchmarks and GUI sessions without downloading one.
#include <iostream>

#include "app/hylo/command.h"
#include "core/infer/engine.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/spec/model_shapes.h"
#include "core/spec/plan.h"
#include "core/text/tokenizer.h"

namespace {

struct InitArgs {
  std::string model, out, dtype = "bf16", tokenizer;
  int64_t seed = 0;
};

void run_init(const InitArgs& a) {
  const auto dtype = hylo::parse_dtype(a.dtype, "--dtype");
  auto config = hylo::model_shape(a.model);
  config.torch_dtype = dtype == at::kFloat ? "float32" : dtype == at::kHalf ? "float16" : "bfloat16";
  std::string tokenizer_path;
  if (!a.tokenizer.empty()) {
    auto tok = hylo::Tokenizer::from_file(a.tokenizer);
    if (tok.vocab_size() > config.vocab_size)
      throw hylo::ConfigError("the tokenizer has " + std::to_string(tok.vocab_size()) + " ids, the model's vocabulary " +
                                  std::to_string(config.vocab_size),
                              a.model, "vocab_size");
    if (auto eos = tok.eos_id()) config.eos_token_ids = {*eos};
    tokenizer_path = tok.path();
  }
  at::manual_seed(a.seed);
  hylo::HybridModel model(config);
  model.to(dtype);
  hylo::save_model(a.out, model, config, tokenizer_path);
  std::cerr << "wrote " << a.out << ": " << hylo::compact_name(config) << ", " << hylo::weight_bytes(model)
            << " bytes of " << a.dtype << " weights, seed " << a.seed << "\n";
}

void setup_init_random(CLI::App& root) {
  auto a = std::make_shared<InitArgs>();
  auto* cmd = root.add_subcommand("init-random", "Write a checkpoint with random weights for a shape, plan or config");
  cmd->add_option("model", a->model,
                  "Shape (llama-1b, llama-3b, llama-1b-hylo[-gdn], llama-3b-hylo[-gdn], tiny...), plan.yaml or config.json")
      ->required();
  cmd->add_option("-o,--out", a->out, "Checkpoint folder to write")->required();
  cmd->add_option("--dtype", a->dtype, "bf16 | fp16 | fp32")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of the random weights")->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer, "A tokenizer.json to copy in (its vocabulary must fit the model's)");
  cmd->callback([a] { run_init(*a); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_init_random);
