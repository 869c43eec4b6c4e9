// `hylo bench prefill|decode <model-or-shape> --context 8k,32k,...`: TTFT, TPOT and memory by type
// (measured from the caches, beside hylo_spec's estimates) per context, batch 1, and the longest
// context that fits (a context that runs out of device memory ends the sweep). A shape builds
// random weights, so the GPU benchmark needs no checkpoint:
//   llama-1b, llama-3b            Llama-3.2-1B / -3B shaped teachers
//   llama-1b-hylo, llama-3b-hylo  the first HyLo preset for that teacher (MLA + Mamba2)
//   <plan.yaml>                   a layer plan resolved against its teacher's config
//   <folder or config.json>       that config with random weights
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#if defined(HYLO_KERNELS_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <chrono>
#include <filesystem>
#include <iostream>

#include "app/hylo/command.h"
#include "core/eval/tasks.h"
#include "core/infer/engine.h"
#include "core/io/atomic_file.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/plan.h"

namespace {

hylo::ModelConfig llama_shape(int64_t hidden, int64_t layers, int64_t heads, int64_t head_dim) {
  hylo::ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 128256;
  c.hidden_size = hidden;
  c.intermediate_size = 8192;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = 8;
  c.head_dim = head_dim;
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 500000.0;
  c.rope_scaling.type = "llama3";
  c.rope_scaling.factor = 32;
  c.rope_scaling.low_freq_factor = 1;
  c.rope_scaling.high_freq_factor = 4;
  c.rope_scaling.original_max_position_embeddings = 8192;
  c.tie_word_embeddings = true;
  c.torch_dtype = "bfloat16";
  return c;
}

hylo::ModelConfig hylo_student(const hylo::ModelConfig& teacher) {
  for (const auto& p : hylo::plan_presets(teacher))
    if (p.name.find("HyLo") != std::string::npos) return p.plan.resolve(teacher);
  throw hylo::ConfigError("no HyLo preset for this teacher shape", {}, "model");
}

hylo::ModelConfig shape_config(const std::string& s) {
  const auto l1 = llama_shape(2048, 16, 32, 64), l3 = llama_shape(3072, 28, 24, 128);
  if (s == "llama-1b") return l1;
  if (s == "llama-3b") return l3;
  if (s == "llama-1b-hylo") return hylo_student(l1);
  if (s == "llama-3b-hylo") return hylo_student(l3);
  const std::filesystem::path p(s);
  if (p.extension() == ".yaml" || p.extension() == ".yml") {
    auto plan = hylo::LayerPlan::load(s);
    if (plan.teacher_path().empty()) throw hylo::ConfigError("the plan names no teacher", s, "teacher");
    auto tp = std::filesystem::path(plan.teacher_path());
    return plan.resolve(hylo::ModelConfig::load((std::filesystem::is_directory(tp) ? tp / "config.json" : tp).string()));
  }
  if (std::filesystem::is_directory(p)) return hylo::ModelConfig::load((p / "config.json").string());
  if (std::filesystem::exists(p)) return hylo::ModelConfig::load(s);
  throw hylo::ConfigError("not a shape (llama-1b, llama-3b, llama-1b-hylo, llama-3b-hylo), plan or config", s, "model");
}

struct BenchArgs {
  std::string model = "llama-1b", contexts = "8k,32k", device = "cpu", dtype = "bf16", json;
  int64_t chunk = 2048, decode_tokens = 16;
};

bool is_oom(const c10::Error& e) {
  const std::string m = e.what_without_backtrace();
  return m.find("out of memory") != std::string::npos || m.find("OutOfMemory") != std::string::npos;
}

void release_device_memory() {
#if defined(HYLO_KERNELS_CUDA)
  c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

using clock_type = std::chrono::steady_clock;

nlohmann::json bench_context(hylo::HybridModel& model, const BenchArgs& a, at::Device device, at::ScalarType dtype,
                             int64_t L, bool decode) {
  hylo::EngineOptions engine;
  engine.chunk = a.chunk;
  engine.cache_dtype = dtype;
  auto caches = model.make_caches(1, dtype, device);
  at::manual_seed(L);
  auto ids = at::randint(model.config().vocab_size, {1, L}, at::kLong);
  hylo::MemoryReport mem;
  hylo::synchronize(device);
  auto t0 = clock_type::now();
  auto logits = hylo::prefill(model, ids, caches, engine, {}, &mem);
  auto next = logits.argmax(-1).item<int64_t>();  // waits for the device
  const double ttft = std::chrono::duration<double>(clock_type::now() - t0).count();
  nlohmann::json r = {{"context", L}, {"ttft_s", ttft}, {"prefill_tokens_per_s", L / ttft}};
  if (decode) {
    at::NoGradGuard no_grad;
    auto t1 = clock_type::now();
    for (int64_t i = 0; i < a.decode_tokens; ++i) {
      auto step = at::full({1, 1}, next, at::TensorOptions().dtype(at::kLong).device(device));
      next = model.forward(step, caches.length(), &caches)[0][-1].argmax().item<int64_t>();
    }
    r["tpot_s"] = std::chrono::duration<double>(clock_type::now() - t1).count() / static_cast<double>(a.decode_tokens);
  }
  hylo::Precision prec;
  prec.weight_bytes = prec.cache_bytes = prec.state_bytes = static_cast<int64_t>(c10::elementSize(dtype));
  const auto est = hylo::estimate(model.config(), L, prec);
  r["memory"] = {{"weights", mem.weights}, {"kv", mem.kv}, {"state", mem.state}, {"activations", mem.activations}};
  r["estimate"] = {{"weights", est.weight_bytes}, {"kv", est.kv_bytes}, {"state", est.state_bytes}};
  return r;
}

void run_bench(const BenchArgs& a, bool decode) {
  const auto device = hylo::parse_device(a.device, "--device");
  const auto dtype = hylo::parse_dtype(a.dtype, "--dtype");
  const auto config = shape_config(a.model);
  const auto contexts = hylo::parse_lengths(a.contexts);
  if (decode && a.decode_tokens <= 0) throw hylo::EvalError("must be >= 1", {}, "--tokens");
  std::cerr << "building " << a.model << " (" << hylo::compact_name(config) << ") with random weights\n";
  auto model = std::make_shared<hylo::HybridModel>(config);
  model->to(device, dtype);
  model->eval();
  auto results = nlohmann::json::array();
  int64_t longest = 0;
  std::string stopped_at;
  for (int64_t L : contexts) {
    try {
      auto r = bench_context(*model, a, device, dtype, L, decode);
      std::cerr << "context " << L << ": ttft " << r["ttft_s"].get<double>() << " s"
                << (decode ? ", tpot " + std::to_string(r["tpot_s"].get<double>() * 1e3) + " ms" : std::string())
                << ", kv " << r["memory"]["kv"] << " B (estimate " << r["estimate"]["kv"] << "), state "
                << r["memory"]["state"] << " B, activations " << r["memory"]["activations"] << " B\n";
      results.push_back(r);
      longest = L;
    } catch (const c10::Error& e) {
      if (!is_oom(e)) throw;
      release_device_memory();
      std::cerr << "context " << L << ": out of memory\n";
      results.push_back({{"context", L}, {"oom", true}});
      break;
    }
  }
  nlohmann::json report = {{"name", decode ? "bench decode" : "bench prefill"},
                           {"model", a.model},
                           {"layers", hylo::compact_name(config)},
                           {"device", a.device},
                           {"dtype", a.dtype},
                           {"chunk", a.chunk},
                           {"results", results},
                           {"longest_fit", longest}};
  if (!a.json.empty()) hylo::write_text_atomically(a.json, report.dump(1) + "\n");
  std::cout << report.dump() << "\n";
}

// `bench` groups several benchmarks; whichever file registers first creates it.
CLI::App* bench_group(CLI::App& root) {
  for (auto* sub : root.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == "bench") return sub;
  auto* bench = root.add_subcommand("bench", "Benchmarks (print a table; --json / --out for JSON)");
  bench->require_subcommand(1);
  return bench;
}

void setup_bench(CLI::App& root) {
  auto a = std::make_shared<BenchArgs>();
  for (bool decode : {false, true}) {
    auto* cmd = bench_group(root)->add_subcommand(decode ? "decode" : "prefill",
                                                  decode ? "TTFT and TPOT per context (batch 1)" : "TTFT and memory per context (batch 1)");
    cmd->add_option("model", a->model, "Shape (llama-1b, llama-3b, llama-1b-hylo, llama-3b-hylo), plan file or config");
    cmd->add_option("--context", a->contexts, "Contexts, e.g. 8k,32k,128k,512k,1M,2M");
    cmd->add_option("--device", a->device, "cpu | cuda:N");
    cmd->add_option("--dtype", a->dtype, "bf16 | fp16 | fp32");
    cmd->add_option("--chunk", a->chunk, "Prefill chunk in tokens");
    if (decode) cmd->add_option("--tokens", a->decode_tokens, "Decode steps timed per context");
    cmd->add_option("--json", a->json, "Write the report JSON here");
    cmd->callback([a, decode] { run_bench(*a, decode); });
  }
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_bench);
