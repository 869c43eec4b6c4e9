// `hylo init-random <shape|plan|config> --out <dir>`: a checkpoint folder with random weights (HF's
// init: N(0, 0.02) matrices, unit norms) for a named shape (core/spec/model_shapes.h), a layer plan
// or a config.json, so benchmarks and GUI sessions can start without downloading a model.
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/hylo/command.h"
#include "core/infer/engine.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/spec/model_shapes.h"
#include "core/spec/plan.h"

namespace {

struct InitArgs {
  std::string model, out, dtype = "bf16", tokenizer;
  int64_t seed = 0;
};

void run_init(const InitArgs& a) {
  const auto dtype = hylo::parse_dtype(a.dtype, "--dtype");
  auto config = hylo::model_shape(a.model);
  config.torch_dtype = dtype == at::kFloat ? "float32" : dtype == at::kHalf ? "float16" : "bfloat16";
  std::string tokenizer_json;
  if (!a.tokenizer.empty()) {
    std::ifstream in(a.tokenizer, std::ios::binary);
    if (!in) throw hylo::IoError("cannot read the tokenizer", a.tokenizer, "--tokenizer");
    std::ostringstream ss;
    ss << in.rdbuf();
    tokenizer_json = ss.str();
  }
  at::manual_seed(a.seed);
  hylo::HybridModel model(config);
  model.to(dtype);
  hylo::save_model(a.out, model, config, tokenizer_json);
  std::cerr << "wrote " << a.out << ": " << hylo::compact_name(config) << ", "
            << hylo::weight_bytes(model) << " bytes of " << a.dtype << " weights\n";
}

void setup_init_random(CLI::App& root) {
  auto a = std::make_shared<InitArgs>();
  auto* cmd = root.add_subcommand("init-random", "Write a checkpoint with random weights for a shape, plan or config");
  cmd->add_option("model", a->model, "Shape (llama-1b, llama-3b, llama-1b-hylo[-gdn], llama-3b-hylo[-gdn], tiny...), plan.yaml or config.json")
      ->required();
  cmd->add_option("--out", a->out, "Checkpoint folder to write")->required();
  cmd->add_option("--dtype", a->dtype, "bf16 | fp16 | fp32");
  cmd->add_option("--seed", a->seed, "Seed of the random weights");
  cmd->add_option("--tokenizer", a->tokenizer, "A tokenizer.json to copy in (its vocab must fit the shape's)");
  cmd->callback([a] { run_init(*a); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_init_random);
