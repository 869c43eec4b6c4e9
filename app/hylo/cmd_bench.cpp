// `hylo bench prefill|decode <model-or-shape> --context 8k,32k,...`: TTFT, TPOT and memory by type
// (measured from the caches and the CUDA allocator, beside hylo_spec's estimates) per context, batch 1,
// and the longest context that fits: a context that runs out of device memory ends the sweep, as does
// one whose predicted prefill time would pass --time-budget. A shape (core/spec/model_shapes.h)
// builds random weights, so the GPU benchmark needs no checkpoint; a checkpoint folder is loaded.
// One warm-up prefill first also checks chunked against one-chunk prefill on this device.
#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "app/hylo/command.h"
#include "core/eval/tasks.h"
#include "core/infer/devices.h"
#include "core/infer/engine.h"
#include "core/io/atomic_file.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/model_shapes.h"
#include "core/spec/plan.h"
#include "core/train/peak_memory.h"

namespace {

struct BenchArgs {
  std::string model = "llama-1b", contexts = "8k,32k", device = "cpu", dtype = "bf16", json;
  int64_t chunk = 2048, decode_tokens = 16, warmup = 1;
  double time_budget_s = 0;
};

bool is_oom(const c10::Error& e) {
  const std::string m = e.what_without_backtrace();
  return m.find("out of memory") != std::string::npos || m.find("OutOfMemory") != std::string::npos;
}

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

at::Tensor random_prompt(const hylo::HybridModel& model, int64_t L) {
  at::manual_seed(L);
  return at::randint(model.config().vocab_size, {1, L}, at::kLong);
}

// The last position's logits (1, V) after a prefill of `ids` in chunks of `chunk`.
at::Tensor prefill_logits(hylo::HybridModel& model, const at::Tensor& ids, int64_t chunk, at::ScalarType dtype,
                          at::Device device) {
  hylo::EngineOptions engine;
  engine.chunk = chunk;
  engine.cache_dtype = dtype;
  auto caches = model.make_caches(1, dtype, device);
  return hylo::prefill(model, ids, caches, engine);
}

// Warm-up on this device, which also checks that prefill in 4 chunks (attention over a cached
// prefix) gives the one-chunk logits: on CUDA this covers the flash kernel's causal alignment.
nlohmann::json warm_up(hylo::HybridModel& model, int64_t L, at::ScalarType dtype, at::Device device) {
  auto ids = random_prompt(model, L);
  auto whole = prefill_logits(model, ids, L, dtype, device);
  auto chunked = prefill_logits(model, ids, (L + 3) / 4, dtype, device);
  const double diff = (whole - chunked).abs().max().item<double>();
  const double scale = whole.abs().max().item<double>();
  return {{"context", L}, {"chunk", (L + 3) / 4}, {"max_abs_diff", diff}, {"max_abs_logit", scale}};
}

nlohmann::json bench_context(hylo::HybridModel& model, const BenchArgs& a, at::Device device, at::ScalarType dtype,
                             int64_t L, bool decode) {
  hylo::EngineOptions engine;
  engine.chunk = a.chunk;
  engine.cache_dtype = dtype;
  auto caches = model.make_caches(1, dtype, device);
  caches.reserve(L + (decode ? a.decode_tokens : 0));
  auto ids = random_prompt(model, L);
  hylo::MemoryReport mem;
  hylo::synchronize(device);
  hylo::reset_peak_memory(device);
  auto t0 = clock_type::now();
  auto logits = hylo::prefill(model, ids, caches, engine, {}, &mem);
  auto next = logits.argmax(-1).item<int64_t>();  // waits for the device
  const double ttft = seconds_since(t0);
  const int64_t prefill_peak = hylo::peak_memory_bytes(device);
  nlohmann::json r = {{"context", L}, {"ttft_s", ttft}, {"prefill_tokens_per_s", static_cast<double>(L) / ttft}};
  if (decode) {
    at::NoGradGuard no_grad;
    auto t1 = clock_type::now();
    for (int64_t i = 0; i < a.decode_tokens; ++i) {
      auto step = at::full({1, 1}, next, at::TensorOptions().dtype(at::kLong).device(device));
      next = model.forward(step, caches.length(), &caches)[0][-1].argmax().item<int64_t>();
    }
    r["tpot_s"] = seconds_since(t1) / static_cast<double>(a.decode_tokens);
  }
  hylo::Precision prec;
  prec.weight_bytes = prec.cache_bytes = prec.state_bytes = static_cast<int64_t>(c10::elementSize(dtype));
  const auto est = hylo::estimate(model.config(), L, prec);
  r["memory"] = {{"weights", mem.weights}, {"kv", mem.kv}, {"state", mem.state}, {"activations", mem.activations}};
  r["estimate"] = {{"weights", est.weight_bytes}, {"kv", est.kv_bytes}, {"state", est.state_bytes}};
  if (device.is_cuda())
    r["peak_allocated"] = {{"prefill", prefill_peak}, {"with_decode", hylo::peak_memory_bytes(device)}};
  return r;
}

std::string gpu_name(at::Device device) {
  if (!device.is_cuda()) return {};
  const auto devices = hylo::list_devices();
  const size_t i = 1 + static_cast<size_t>(device.index() < 0 ? 0 : device.index());
  return i < devices.size() ? devices[i].name : std::string();
}

std::shared_ptr<hylo::HybridModel> build_model(const std::string& name, at::ScalarType dtype, at::Device device) {
  const std::filesystem::path p(name);
  if (std::filesystem::exists(p / "model.safetensors") || std::filesystem::exists(p / "model.safetensors.index.json"))
    return hylo::load_model(name, dtype, device);
  const auto config = hylo::model_shape(name);
  std::cerr << "building " << name << " (" << hylo::compact_name(config) << ") with random weights\n";
  auto model = std::make_shared<hylo::HybridModel>(config);
  model->to(device, dtype);
  return model;
}

void run_bench(const BenchArgs& a, bool decode) {
  const auto device = hylo::parse_device(a.device, "--device");
  const auto dtype = hylo::parse_dtype(a.dtype, "--dtype");
  const auto contexts = hylo::parse_lengths(a.contexts);
  if (decode && a.decode_tokens <= 0) throw hylo::EvalError("must be >= 1", {}, "--tokens");
  if (a.chunk <= 0) throw hylo::EvalError("must be >= 1", {}, "--chunk");
  auto model = build_model(a.model, dtype, device);
  model->eval();
  const auto start = clock_type::now();
  nlohmann::json report = {{"name", decode ? "bench decode" : "bench prefill"},
                           {"model", a.model},
                           {"layers", hylo::compact_name(model->config())},
                           {"device", a.device},
                           {"gpu", gpu_name(device)},
                           {"dtype", a.dtype},
                           {"chunk", a.chunk},
                           {"decode_tokens", decode ? a.decode_tokens : 0}};
  if (a.warmup > 0) {
    const int64_t w = std::min<int64_t>(contexts.front(), 4096);
    for (int64_t i = 0; i < a.warmup; ++i) report["warmup"] = warm_up(*model, w, dtype, device);
    std::cerr << "warm-up at " << w << ": chunked vs one-chunk prefill max |diff| "
              << report["warmup"]["max_abs_diff"].get<double>() << " (logits up to "
              << report["warmup"]["max_abs_logit"].get<double>() << ")\n";
  }
  auto results = nlohmann::json::array();
  int64_t longest = 0;
  nlohmann::json stopped;  // null: every context ran
  double last_ttft = 0;
  int64_t last_context = 0;
  for (int64_t L : contexts) {
    if (a.time_budget_s > 0 && last_context > 0) {
      // Prefill grows at most quadratically with the context (softmax layers).
      const double ratio = static_cast<double>(L) / static_cast<double>(last_context);
      const double predicted = last_ttft * ratio * ratio;
      if (seconds_since(start) + predicted > a.time_budget_s) {
        std::cerr << "context " << L << ": skipped (predicted prefill " << predicted << " s passes --time-budget)\n";
        results.push_back({{"context", L}, {"skipped", "time budget"}, {"predicted_ttft_s", predicted}});
        stopped = "time budget";
        break;
      }
    }
    try {
      auto r = bench_context(*model, a, device, dtype, L, decode);
      std::cerr << "context " << L << ": ttft " << r["ttft_s"].get<double>() << " s"
                << (decode ? ", tpot " + std::to_string(r["tpot_s"].get<double>() * 1e3) + " ms" : std::string())
                << ", kv " << r["memory"]["kv"] << " B (estimate " << r["estimate"]["kv"] << "), state "
                << r["memory"]["state"] << " B, activations " << r["memory"]["activations"] << " B\n";
      last_ttft = r["ttft_s"].get<double>();
      last_context = L;
      results.push_back(r);
      longest = L;
    } catch (const c10::Error& e) {
      if (!is_oom(e)) throw;
      hylo::release_device_memory(device);
      std::cerr << "context " << L << ": out of memory\n";
      results.push_back({{"context", L}, {"oom", true}});
      stopped = "oom";
      break;
    }
  }
  report["results"] = results;
  report["longest_fit"] = longest;
  report["stopped"] = stopped;
  report["wall_s"] = seconds_since(start);
  if (!a.json.empty()) hylo::write_text_atomically(a.json, report.dump(1) + "\n");
  std::cout << report.dump() << "\n";
}

void setup_bench(CLI::App& root) {
  auto a = std::make_shared<BenchArgs>();
  for (bool decode : {false, true}) {
    auto* cmd = hylo::cli::bench_group(root)->add_subcommand(decode ? "decode" : "prefill",
                                                  decode ? "TTFT and TPOT per context (batch 1)" : "TTFT and memory per context (batch 1)");
    cmd->add_option("model", a->model, "Shape (llama-1b, llama-3b, llama-1b-hylo[-gdn], llama-3b-hylo[-gdn], tiny...), plan, config or checkpoint");
    cmd->add_option("--context", a->contexts, "Contexts, e.g. 8k,32k,128k,512k,1M,2M");
    cmd->add_option("--device", a->device, "cpu | cuda:N");
    cmd->add_option("--dtype", a->dtype, "bf16 | fp16 | fp32");
    cmd->add_option("--chunk", a->chunk, "Prefill chunk in tokens");
    cmd->add_option("--warmup", a->warmup, "Warm-up prefills (with the chunked-prefill check) before timing");
    cmd->add_option("--time-budget", a->time_budget_s, "Seconds; skip the contexts whose predicted prefill passes it (0: none)");
    if (decode) cmd->add_option("--tokens", a->decode_tokens, "Decode steps timed per context");
    cmd->add_option("--json", a->json, "Write the report JSON here");
    cmd->callback([a, decode] { run_bench(*a, decode); });
  }
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_bench);
