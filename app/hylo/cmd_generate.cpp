// `hylo generate <ckpt> --prompt ...`: streams a continuation (greedy or sampled) through the
// layer caches; timings go to stderr so stdout holds only the text.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "app/hylo/command.h"
#include "core/infer/engine.h"
#include "core/infer/generate.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/text/tokenizer.h"

namespace {

struct Options {
  std::string checkpoint, prompt, dtype = "fp32", device = "cpu";
  hylo::GenerationOptions gen;
  bool raw = false;  // no BOS / template tokens around the prompt
};

// Printable text of the tokens so far; a token that ends inside a UTF-8 character waits for the next.
std::string decodable(const hylo::Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::string text = tok.decode(ids);
  static const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
  while (text.size() >= 3 && text.compare(text.size() - 3, 3, replacement) == 0) text.resize(text.size() - 3);
  return text;
}

void run(Options o) {
  const auto dtype = hylo::parse_dtype(o.dtype, "--dtype");
  const at::Device device = hylo::parse_device(o.device, "--device");
  auto model = hylo::load_model(o.checkpoint, dtype, device);
  auto tokenizer = hylo::Tokenizer::from_file(o.checkpoint);
  auto prompt32 = tokenizer.encode(o.prompt, !o.raw);
  if (prompt32.empty()) throw hylo::ConfigError("the prompt encodes to no tokens", {}, "--prompt");
  std::vector<int64_t> prompt(prompt32.begin(), prompt32.end());

  o.gen.eos_token_ids = model->config().eos_token_ids;
  if (auto eos = tokenizer.eos_id()) o.gen.eos_token_ids.push_back(*eos);
  o.gen.cache_dtype = dtype;

  const bool json = hylo::cli::global_options().json;
  std::vector<int32_t> generated;
  size_t printed = 0;
  auto result = hylo::generate(*model, prompt, o.gen, [&](int64_t token) {
    generated.push_back(static_cast<int32_t>(token));
    if (json) return;
    const std::string text = decodable(tokenizer, generated);
    if (text.size() > printed) {
      std::fwrite(text.data() + printed, 1, text.size() - printed, stdout);
      std::fflush(stdout);
      printed = text.size();
    }
  });
  const std::string text = tokenizer.decode(generated);
  const double decode_tps = result.tokens.size() > 1 ? (result.tokens.size() - 1) / result.decode_seconds : 0.0;
  if (json) {
    std::cout << nlohmann::json{{"prompt_tokens", prompt.size()}, {"tokens", result.tokens}, {"text", text},
                                {"stopped_on_eos", result.stopped_on_eos}, {"prefill_seconds", result.prefill_seconds},
                                {"decode_seconds", result.decode_seconds}, {"decode_tokens_per_s", decode_tps}}
                     .dump()
              << "\n";
    return;
  }
  if (text.size() > printed) std::fwrite(text.data() + printed, 1, text.size() - printed, stdout);
  std::printf("\n");
  std::fprintf(stderr, "[%zu prompt tokens: prefill %.3f s (%.1f tokens/s); %zu new tokens: %.1f tokens/s%s]\n",
               prompt.size(), result.prefill_seconds, prompt.size() / result.prefill_seconds, result.tokens.size(),
               decode_tps, result.stopped_on_eos ? ", stopped at eos" : "");
}

void setup_generate(CLI::App& root) {
  auto o = std::make_shared<Options>();
  auto* cmd = root.add_subcommand("generate", "Continue a prompt with a checkpoint (streams the text)");
  cmd->add_option("checkpoint", o->checkpoint, "Checkpoint folder (config.json, safetensors, tokenizer.json)")
      ->required();
  cmd->add_option("--prompt", o->prompt, "Text to continue")->required();
  cmd->add_option("--max-new-tokens", o->gen.max_new_tokens, "Tokens to generate at most")->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature", o->gen.temperature, "0: greedy")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->gen.top_p, "Nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top-k", o->gen.top_k, "Sample among the k most likely tokens (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->gen.seed, "Sampling seed");
  cmd->add_option("--dtype", o->dtype, "fp32, bf16 or fp16");
  cmd->add_option("--device", o->device, "cpu, cuda, cuda:1, ...");
  cmd->add_flag("--raw", o->raw, "Do not add BOS / template tokens to the prompt");
  cmd->callback([o] { run(*o); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_generate);
