// `hylo bench mixers`: CPU tokens/s of each hybrid mixer at Llama-3.2-1B HyLo sizes, its parallel
// form beside its sequential one on the same input, with their ratio:
//   mla, mamba2, gdn   the whole mixer: one forward over the sequence (expanded attention / chunked
//                      SSD / chunked delta rule) vs token by token through its cache (absorbed
//                      decode / recurrent steps), projections included. The sequential form times
//                      the last --decode-steps tokens after an untimed prefill of the rest through
//                      the cache: decode speed at that context (0: every token, from an empty cache)
//   ssd, delta         the bare sequence op: ops::ssd_chunked vs ops::ssd_naive, ops::gdn_chunked
//                      vs ops::gdn_naive (the token-by-token definition)
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/hylo/command.h"
#include "core/model/gated_deltanet.h"
#include "core/model/mamba2.h"
#include "core/model/mla.h"
#include "core/model/ops.h"
#include "core/spec/error.h"

namespace {

using clock_type = std::chrono::steady_clock;

struct Options {
  std::string tokens = "2048,8192";
  std::string mixers = "mla,mamba2,gdn,ssd,delta";
  std::string dtype = "fp32";
  int64_t batch = 1;
  int64_t decode_steps = 256;
  std::string out;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) parts.push_back(item);
  return parts;
}

// The HyLo student sizes for Llama-3.2-1B (GUIDE.md §4b).
hylo::ModelConfig llama_1b_layer() {
  hylo::ModelConfig c;
  c.hidden_size = 2048;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 500000.0;
  c.max_position_embeddings = 131072;
  return c;
}

hylo::MlaSettings mla_settings() {
  hylo::MlaSettings s;
  s.num_heads = 32;
  s.num_kv_heads = 8;
  s.q_lora_rank = 1344;
  s.kv_lora_rank = 128;
  s.qk_rope_head_dim = 32;
  s.qk_nope_head_dim = 32;
  s.v_head_dim = 64;
  return s;
}

hylo::Mamba2Settings mamba2_settings() {
  hylo::Mamba2Settings s;
  s.num_heads = 32;
  s.head_dim = 64;
  s.d_inner = 2048;
  s.d_xb = 512;
  s.d_state = 64;
  s.n_groups = 32;
  s.chunk_size = 256;
  return s;
}

hylo::GdnSettings gdn_settings() {
  hylo::GdnSettings s;
  s.num_heads = 6;
  s.num_k_heads = 6;
  s.head_k_dim = 256;
  s.head_v_dim = 512;
  s.chunk_size = 64;
  return s;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// One row of the table: inputs for T tokens (made outside the timing), a parallel way to process
// them, and a sequential one that returns its own tokens/s and how many tokens it timed.
using Inputs = std::vector<at::Tensor>;
struct Timed {
  double tokens_per_s = 0;
  int64_t tokens = 0;
};
struct Case {
  std::string parallel_form, sequential_form;
  std::function<Inputs(int64_t T)> inputs;
  std::function<void(const Inputs&)> parallel;
  std::function<Timed(const Inputs&)> sequential;
};

// Times `fn` over all `tokens` (batch rows each).
Timed timed_whole(const std::function<void()>& fn, int64_t tokens) {
  const auto t0 = clock_type::now();
  fn();
  return {static_cast<double>(tokens) / seconds_since(t0), tokens};
}

Case mixer_case(std::shared_ptr<hylo::Mixer> mixer, bool attention, int64_t batch, int64_t hidden,
                at::ScalarType dtype, int64_t decode_steps) {
  mixer->to(dtype);
  Case c{attention ? "expanded attention" : "chunked", attention ? "absorbed decode" : "recurrent step"};
  c.inputs = [=](int64_t T) { return Inputs{at::randn({batch, T, hidden}).to(dtype)}; };
  c.parallel = [=](const Inputs& in) { mixer->forward(in[0], 0, nullptr); };
  c.sequential = [=](const Inputs& in) {
    const int64_t T = in[0].size(1);
    const int64_t start = decode_steps > 0 ? std::max<int64_t>(T - decode_steps, 0) : 0;
    auto cache = mixer->make_cache(batch, dtype, at::kCPU);
    if (start > 0) mixer->forward(in[0].narrow(1, 0, start), 0, cache.get());  // untimed prefill
    const auto t0 = clock_type::now();
    for (int64_t t = start; t < T; ++t) mixer->forward(in[0].narrow(1, t, 1), t, cache.get());
    return Timed{static_cast<double>(batch * (T - start)) / seconds_since(t0), T - start};
  };
  return c;
}

Case make_case(const std::string& kind, const hylo::ModelConfig& config, int64_t batch, at::ScalarType dtype,
               int64_t decode_steps) {
  const int64_t B = batch, C = config.hidden_size;
  if (kind == "mla")
    return mixer_case(std::make_shared<hylo::MlaMixer>(mla_settings(), config), true, B, C, dtype, decode_steps);
  if (kind == "mamba2")
    return mixer_case(std::make_shared<hylo::Mamba2Mixer>(mamba2_settings(), config), false, B, C, dtype, decode_steps);
  if (kind == "gdn")
    return mixer_case(std::make_shared<hylo::GatedDeltaNetMixer>(gdn_settings(), config), false, B, C, dtype, decode_steps);
  if (kind == "ssd") {
    const auto s = mamba2_settings();
    const int64_t H = s.num_heads, P = s.head_dim, N = s.d_state, G = s.n_groups;
    auto A = -at::rand({H}).add(0.5);
    return {"ssd_chunked", "ssd_naive",
            [=](int64_t T) {
              return Inputs{at::randn({B, T, H, P}).to(dtype), at::softplus(at::randn({B, T, H})).to(dtype),
                            at::randn({B, T, G, N}).to(dtype), at::randn({B, T, G, N}).to(dtype)};
            },
            [=](const Inputs& in) { hylo::ops::ssd_chunked(in[0], in[1], A, in[2], in[3], s.chunk_size); },
            [=](const Inputs& in) {
              return timed_whole([&] { hylo::ops::ssd_naive(in[0], in[1], A, in[2], in[3]); }, B * in[0].size(1));
            }};
  }
  if (kind == "delta") {
    const auto s = gdn_settings();
    const int64_t H = s.num_heads, K = s.head_k_dim, V = s.head_v_dim;
    return {"gdn_chunked", "gdn_naive",
            [=](int64_t T) {
              auto unit = [&](const at::Tensor& t) { return (t / t.norm(2, -1, true)).to(dtype); };
              return Inputs{unit(at::randn({B, T, H, K})), unit(at::randn({B, T, H, K})),
                            at::randn({B, T, H, V}).to(dtype), (-at::rand({B, T, H}) * 0.1).to(dtype),
                            at::sigmoid(at::randn({B, T, H})).to(dtype)};
            },
            [=](const Inputs& in) { hylo::ops::gdn_chunked(in[0], in[1], in[2], in[3], in[4], s.chunk_size); },
            [=](const Inputs& in) {
              return timed_whole([&] { hylo::ops::gdn_naive(in[0], in[1], in[2], in[3], in[4]); }, B * in[0].size(1));
            }};
  }
  throw hylo::ConfigError("unknown mixer '" + kind + "' (expected mla, mamba2, gdn, ssd or delta)", {}, "--mixers");
}

void run(const Options& o) {
  at::ScalarType dtype;
  if (o.dtype == "fp32") dtype = at::kFloat;
  else if (o.dtype == "bf16") dtype = at::kBFloat16;
  else throw hylo::ConfigError("unknown dtype '" + o.dtype + "' (expected fp32 or bf16)", {}, "--dtype");
  std::vector<int64_t> lengths;
  for (auto& t : split_list(o.tokens)) {
    size_t used = 0;
    int64_t n = 0;
    try {
      n = std::stoll(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size() || n <= 0) throw hylo::ConfigError("not a positive token count: '" + t + "'", {}, "--tokens");
    lengths.push_back(n);
  }
  if (lengths.empty()) throw hylo::ConfigError("give at least one token count", {}, "--tokens");
  if (o.decode_steps < 0) throw hylo::ConfigError("must be >= 0", {}, "--decode-steps");
  at::NoGradGuard no_grad;
  const auto config = llama_1b_layer();
  const bool table = !hylo::cli::global_options().json;
  if (table) {
    std::printf("CPU, %d threads, %s, batch %lld (Llama-3.2-1B layer sizes)\n", at::get_num_threads(),
                o.dtype.c_str(), static_cast<long long>(o.batch));
    std::printf("%-7s %7s  %-18s %12s  %-18s %12s %7s  %8s\n", "mixer", "tokens", "parallel form", "tokens/s",
                "sequential form", "tokens/s", "(timed)", "ratio");
  }
  nlohmann::json results = nlohmann::json::array();
  for (auto& kind : split_list(o.mixers)) {
    auto c = make_case(kind, config, o.batch, dtype, o.decode_steps);
    c.parallel(c.inputs(std::min<int64_t>(lengths.front(), 64)));  // warm-up
    for (int64_t T : lengths) {
      const auto in = c.inputs(T);
      const Timed par = timed_whole([&] { c.parallel(in); }, o.batch * T);
      const Timed seq = c.sequential(in);
      if (table)
        std::printf("%-7s %7lld  %-18s %12.0f  %-18s %12.0f %7lld  %7.1fx\n", kind.c_str(), static_cast<long long>(T),
                    c.parallel_form.c_str(), par.tokens_per_s, c.sequential_form.c_str(), seq.tokens_per_s,
                    static_cast<long long>(seq.tokens), par.tokens_per_s / seq.tokens_per_s);
      results.push_back({{"mixer", kind}, {"tokens", T}, {"parallel_form", c.parallel_form},
                         {"parallel_tokens_per_s", par.tokens_per_s}, {"sequential_form", c.sequential_form},
                         {"sequential_tokens_per_s", seq.tokens_per_s}, {"sequential_tokens_timed", seq.tokens},
                         {"ratio", par.tokens_per_s / seq.tokens_per_s}});
      std::fflush(stdout);
    }
  }
  nlohmann::json report = {{"device", "cpu"}, {"threads", at::get_num_threads()}, {"dtype", o.dtype},
                           {"batch", o.batch}, {"decode_steps", o.decode_steps}, {"results", results}};
  if (!table) std::cout << report.dump() << "\n";
  if (!o.out.empty()) {
    std::ofstream f(o.out);
    if (!f) throw hylo::IoError("cannot write", o.out);
    f << report.dump(1) << "\n";
  }
}

// `bench` groups several benchmarks; whichever file registers first creates it.
CLI::App* bench_group(CLI::App& root) {
  for (auto* sub : root.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == "bench") return sub;
  auto* bench = root.add_subcommand("bench", "Benchmarks (print a table; --json / --out for JSON)");
  bench->require_subcommand(1);
  return bench;
}

void setup_bench_mixers(CLI::App& root) {
  auto opts = std::make_shared<Options>();
  auto* cmd = bench_group(root)->add_subcommand("mixers", "CPU tokens/s of each mixer and op: parallel vs sequential form");
  cmd->add_option("--tokens", opts->tokens, "Comma-separated sequence lengths (default 2048,8192)");
  cmd->add_option("--mixers", opts->mixers, "Comma-separated: mla,mamba2,gdn (whole mixers), ssd,delta (bare ops)");
  cmd->add_option("--dtype", opts->dtype, "fp32 or bf16");
  cmd->add_option("--batch", opts->batch, "Sequences per forward")->check(CLI::PositiveNumber);
  cmd->add_option("--decode-steps", opts->decode_steps,
                  "Mixers' sequential form: time the last N tokens after an untimed prefill (0: all, from empty)");
  cmd->add_option("--out", opts->out, "Also write the JSON report to this file");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_bench_mixers);
