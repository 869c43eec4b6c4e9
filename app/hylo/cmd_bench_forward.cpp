// `hylo bench forward`: prefill throughput of a random-weight model (Llama-3.2-1B shape by default,
// or any shape of core/spec/model_shapes.h), per dtype, beside a square matmul's FLOP rate measured
// in the same run.
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/hylo/command.h"
#include "core/infer/engine.h"
#include "core/model/hybrid_model.h"
#include "core/spec/error.h"
#include "core/spec/model_shapes.h"

namespace {

using clock_type = std::chrono::steady_clock;

// The BLAS library this process really loaded (Debian picks it through alternatives at run time).
std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.rfind('/');
    if (slash == std::string::npos) continue;
    const std::string lib = line.substr(slash + 1);
    if (lib.find("blas") != std::string::npos || lib.find("mkl_core") != std::string::npos) return lib;
  }
  return "unknown";
}

// Forces queued device work to finish before the clock is read.
void sync(const at::Tensor& t) { t.reshape({-1})[0].item<double>(); }

double matmul_gflops(at::ScalarType dtype, at::Device device) {
  const int64_t n = 2048;
  auto opts = at::TensorOptions().dtype(dtype).device(device);
  auto a = at::randn({n, n}, opts), b = at::randn({n, n}, opts);
  sync(at::matmul(a, b));
  const int reps = 3;
  auto t0 = clock_type::now();
  at::Tensor c;
  for (int i = 0; i < reps; ++i) c = at::matmul(a, b);
  sync(c);
  const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  return reps * 2.0 * n * n * n / s / 1e9;
}

// Useful FLOPs of one causal prefill: 2 per weight per token in every matmul (lm_head included),
// plus QK^T and PV over the causal half of the scores in the attention layers.
double prefill_flops(hylo::HybridModel& m, int64_t batch, int64_t tokens) {
  double matmul_params = 0;
  for (auto& p : m.named_parameters())
    if (p.value().dim() == 2 && p.key() != "model.embed_tokens.weight") matmul_params += p.value().numel();
  if (m.config().tie_word_embeddings) matmul_params += m.output_weight().numel();
  const auto& c = m.config();
  double attention_layers = 0;
  for (auto& spec : hylo::layer_specs(c)) attention_layers += spec.kind == hylo::MixerKind::Attention;
  const double attn = attention_layers * 4.0 * c.num_attention_heads * c.head_dim * tokens * (tokens + 1) / 2.0;
  return batch * (2.0 * matmul_params * tokens + attn);
}

struct Options {
  std::string config = "llama-1b";
  int64_t tokens = 512, batch = 1, repeats = 2;
  std::string dtypes = "fp32,bf16";
  std::string device = "cpu";
  std::string out;
};

void run(const Options& o) {
  const auto config = hylo::model_shape(o.config, "--config");
  const at::Device device = hylo::parse_device(o.device, "--device");
  at::NoGradGuard no_grad;
  at::manual_seed(0);
  auto model = std::make_shared<hylo::HybridModel>(config);
  model->to(device);
  auto ids = at::randint(config.vocab_size, {o.batch, o.tokens}, at::TensorOptions().dtype(at::kLong).device(device));
  const double flops = prefill_flops(*model, o.batch, o.tokens);
  const std::string blas = loaded_blas();
  const int threads = at::get_num_threads();

  nlohmann::json results = nlohmann::json::array();
  std::istringstream list(o.dtypes);
  std::string name;
  if (!hylo::cli::global_options().json)
    std::printf("%-6s %10s %12s %10s %14s %7s   (%s, batch %lld x %lld tokens, %d threads, BLAS %s)\n", "dtype",
                "seconds", "tokens/s", "GFLOP/s", "matmul GFLOP/s", "ratio", o.config.c_str(),
                static_cast<long long>(o.batch), static_cast<long long>(o.tokens), threads, blas.c_str());
  while (std::getline(list, name, ',')) {
    const auto dtype = hylo::parse_dtype(name, "--dtype");
    model->to(dtype);
    sync(model->forward(ids));  // warm-up: allocator, oneDNN/cuBLAS plans
    double best = 1e30;
    for (int64_t r = 0; r < o.repeats; ++r) {
      auto t0 = clock_type::now();
      sync(model->forward(ids));
      best = std::min(best, std::chrono::duration<double>(clock_type::now() - t0).count());
    }
    const double gflops = flops / best / 1e9;
    const double peak = matmul_gflops(dtype, device);
    const double tps = o.batch * o.tokens / best;
    results.push_back({{"what", "prefill " + name}, {"value", tps}, {"unit", "tokens/s"}, {"seconds", best},
                       {"gflops", gflops}, {"baseline_what", "2048^3 matmul " + name}, {"baseline_value", peak},
                       {"baseline_unit", "GFLOP/s"}, {"ratio", gflops / peak}});
    if (!hylo::cli::global_options().json)
      std::printf("%-6s %10.3f %12.1f %10.1f %14.1f %7.2f\n", name.c_str(), best, tps, gflops, peak, gflops / peak);
  }
  nlohmann::json report = {{"name", "bench forward"},
                           {"config", o.config},
                           {"batch", o.batch},
                           {"tokens", o.tokens},
                           {"device", o.device},
                           {"threads", threads},
                           {"blas", blas},
                           {"flops_per_forward", flops},
                           {"results", results}};
  if (hylo::cli::global_options().json) std::cout << report.dump() << "\n";
  if (!o.out.empty()) {
    std::ofstream f(o.out);
    if (!f) throw hylo::IoError("cannot write", o.out);
    f << report.dump(1) << "\n";
  }
}

void setup_bench_forward(CLI::App& root) {
  auto opts = std::make_shared<Options>();
  auto* cmd = hylo::cli::bench_group(root)->add_subcommand("forward", "Prefill tokens/s of a random-weight model per dtype");
  cmd->add_option("--config", opts->config, "A model shape (llama-1b, llama-1b-hylo, ...), a plan, a checkpoint folder or a config.json");
  cmd->add_option("--tokens", opts->tokens, "Tokens per sequence")->check(CLI::PositiveNumber);
  cmd->add_option("--batch", opts->batch, "Sequences per forward")->check(CLI::PositiveNumber);
  cmd->add_option("--repeats", opts->repeats, "Timed forwards per dtype (best is reported)")->check(CLI::PositiveNumber);
  cmd->add_option("--dtype", opts->dtypes, "Comma-separated: fp32,bf16,fp16");
  cmd->add_option("--device", opts->device, "cpu, cuda, cuda:1, ...");
  cmd->add_option("--out", opts->out, "Also write the JSON report to this file");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_bench_forward);
