// `hylo info <ckpt>`: what a checkpoint holds — architecture, per-layer mixers, parameters, stored
// dtypes, cache bytes per token and context length. Reads headers only, never the weights.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

#include "app/hylo/command.h"
#include "core/io/checkpoint.h"
#include "core/spec/model_config.h"

namespace {

std::string count(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.3f B", n / 1e9);
  else if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

int64_t dtype_bytes(const std::string& torch_dtype) {
  if (torch_dtype == "float32") return 4;
  if (torch_dtype == "float64") return 8;
  return 2;  // bfloat16, float16
}

// Cache bytes that grow with every token, per token over all layers: GQA K/V for attention,
// latent + decoupled RoPE key for MLA. Mamba2 / GDN layers keep a constant state instead.
int64_t cache_bytes_per_token(const hylo::ModelConfig& c, int64_t bytes) {
  int64_t total = c.kv_bytes_per_token(bytes);
  for (const auto& layer : c.layers)
    if (layer.kind == hylo::MixerKind::MLA) total += (layer.mla.kv_lora_rank + layer.mla.qk_rope_head_dim) * bytes;
  return total;
}

void run(const std::string& dir) {
  hylo::CheckpointReader reader(dir);
  const auto& c = reader.config();
  int64_t params = 0;
  std::map<std::string, int64_t> by_dtype;  // stored dtype -> parameters
  for (const auto& name : reader.tensor_names()) {
    const auto& e = reader.entry(name);
    params += e.numel();
    by_dtype[e.dtype] += e.numel();
  }
  std::vector<std::string> kinds;
  for (const auto& layer : c.layers) kinds.push_back(hylo::to_string(layer.kind));
  const int64_t bytes = dtype_bytes(c.torch_dtype);
  const int64_t per_token = cache_bytes_per_token(c, bytes);
  const int64_t constant_state_layers = c.count_layers(hylo::MixerKind::Mamba2) + c.count_layers(hylo::MixerKind::GDN);

  if (hylo::cli::global_options().json) {
    std::cout << nlohmann::json{{"path", dir},
                                {"model_type", c.model_type},
                                {"architecture", c.architecture},
                                {"layers", kinds},
                                {"parameters", params},
                                {"stored_dtypes", by_dtype},
                                {"torch_dtype", c.torch_dtype},
                                {"cache_bytes_per_token", per_token},
                                {"constant_state_layers", constant_state_layers},
                                {"max_position_embeddings", c.max_position_embeddings},
                                {"rope", {{"type", c.rope_scaling.type},
                                          {"theta", c.rope_theta},
                                          {"factor", c.rope_scaling.factor},
                                          {"original_max_position_embeddings",
                                           c.rope_scaling.original_max_position_embeddings}}},
                                {"tokenizer", reader.tokenizer_path()}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("%s\n  architecture   %s (%s)\n", dir.c_str(), c.architecture.c_str(), c.model_type.c_str());
  std::printf("  shape          hidden %lld, %lld layers, %lld heads / %lld KV heads of %lld, MLP %lld, vocab %lld%s\n",
              (long long)c.hidden_size, (long long)c.num_hidden_layers, (long long)c.num_attention_heads,
              (long long)c.num_key_value_heads, (long long)c.head_dim, (long long)c.intermediate_size,
              (long long)c.vocab_size, c.tie_word_embeddings ? ", tied embeddings" : "");
  std::printf("  layers        ");
  for (size_t i = 0; i < kinds.size(); ++i) std::printf(" %zu:%s", i, kinds[i].c_str());
  std::printf("\n  parameters     %s (", count(params).c_str());
  for (const auto& [dt, n] : by_dtype) std::printf(" %s %s", dt.c_str(), count(n).c_str());
  std::printf(" ), config dtype %s\n", c.torch_dtype.c_str());
  std::printf("  cache          %lld bytes/token in %s (%.1f KiB/token; %.2f GiB at 64K)", (long long)per_token,
              c.torch_dtype.c_str(), per_token / 1024.0, per_token * 65536.0 / 1073741824.0);
  if (constant_state_layers) std::printf(", + constant state in %lld layers", (long long)constant_state_layers);
  std::printf("\n  context        %lld positions, rope %s (theta %g", (long long)c.max_position_embeddings,
              c.rope_scaling.type.c_str(), c.rope_theta);
  if (c.rope_scaling.type != "default")
    std::printf(", factor %g, original %lld", c.rope_scaling.factor,
                (long long)c.rope_scaling.original_max_position_embeddings);
  std::printf(")\n  tokenizer      %s\n",
              reader.tokenizer_path().empty() ? "(none)" : reader.tokenizer_path().c_str());
}

void setup_info(CLI::App& root) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = root.add_subcommand("info", "Describe a checkpoint: layers, parameters, dtypes, KV bytes/token, context");
  cmd->add_option("checkpoint", *dir, "Checkpoint folder")->required();
  cmd->callback([dir] { run(*dir); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_info);
