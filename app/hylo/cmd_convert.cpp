// `hylo convert <ckpt> --dtype bf16 -o <dir>`: the same checkpoint with its weights stored in
// another dtype (bf16 halves a shipped teacher); config.json's torch_dtype follows.
#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>

#include "app/hylo/command.h"
#include "core/infer/engine.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"

namespace {

struct Args {
  std::string in, out, dtype;
};

std::string dtype_name(at::ScalarType t) {
  return t == at::kBFloat16 ? "bfloat16" : t == at::kHalf ? "float16" : "float32";
}

void run(const Args& a) {
  const at::ScalarType dtype = hylo::parse_dtype(a.dtype, "--dtype");
  if (std::filesystem::weakly_canonical(a.in) == std::filesystem::weakly_canonical(a.out))
    throw hylo::IoError("write the converted checkpoint to another folder", a.out, "--out");
  auto model = hylo::load_model(a.in, dtype, at::kCPU);
  hylo::ModelConfig config = model->config();
  config.torch_dtype = dtype_name(dtype);
  const auto tokenizer = std::filesystem::path(a.in) / "tokenizer.json";
  hylo::save_model(a.out, *model, config, std::filesystem::is_regular_file(tokenizer) ? tokenizer.string() : "");
  std::printf("%s: weights in %s\n", a.out.c_str(), config.torch_dtype.c_str());
}

void setup_convert(CLI::App& root) {
  auto a = std::make_shared<Args>();
  auto* cmd = root.add_subcommand("convert", "Copy a checkpoint with its weights in another dtype");
  cmd->add_option("checkpoint", a->in, "Checkpoint folder")->required();
  cmd->add_option("--dtype", a->dtype, "fp32 | bf16 | fp16")->required();
  cmd->add_option("-o,--out", a->out, "Folder to write")->required();
  cmd->callback([a] { run(*a); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_convert);
