#include "core/infer/engine.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/cuda.h>

#if defined(HYLO_TORCH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <chrono>

#include "core/io/checkpoint.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/train/peak_memory.h"

namespace hylo {

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void check_cancel(const EngineHooks& hooks) {
  if (hooks.cancel && hooks.cancel->load()) throw Cancelled();
}

}  // namespace

void release_device_memory(at::Device device) {
#if defined(HYLO_TORCH_CUDA)
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#else
  (void)device;
#endif
}

const Tokenizer& LoadedModel::require_tokenizer() const {
  if (!tokenizer) throw EvalError("the model folder has no tokenizer.json; text tasks need one", path, "tokenizer.json");
  return *tokenizer;
}

at::ScalarType parse_dtype(const std::string& text, const std::string& field) {
  if (text == "fp32" || text == "float32" || text == "float") return at::kFloat;
  if (text == "bf16" || text == "bfloat16") return at::kBFloat16;
  if (text == "fp16" || text == "float16" || text == "half") return at::kHalf;
  throw EvalError("unknown dtype '" + text + "' (fp32, bf16 or fp16)", {}, field);
}

at::Device parse_device(const std::string& text, const std::string& field) {
  if (text == "cpu") return at::kCPU;
  if (text.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) throw EvalError("'" + text + "' asked but no CUDA device is available", {}, field);
    try {
      at::Device d(text);
      if (d.index() >= static_cast<int64_t>(torch::cuda::device_count()))
        throw EvalError("'" + text + "': no such CUDA device", {}, field);
      return d;
    } catch (const c10::Error&) {
    }
  }
  throw EvalError("unknown device '" + text + "' (cpu, cuda or cuda:N)", {}, field);
}

LoadedModel load_for_inference(const std::string& dir, at::ScalarType dtype, at::Device device) {
  LoadedModel out;
  out.path = dir;
  out.dtype = dtype;
  out.device = device;
  out.model = load_model(dir, dtype, device);
  out.model->eval();
  const auto tok = CheckpointReader(dir).tokenizer_path();
  if (!tok.empty()) out.tokenizer = Tokenizer::from_file(tok);
  return out;
}

void synchronize(at::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

int64_t weight_bytes(const HybridModel& model) {
  int64_t total = 0;
  for (const auto& p : model.parameters()) total += p.numel() * static_cast<int64_t>(p.element_size());
  return total;
}

void add_cache_bytes(const Caches& caches, MemoryReport& report) {
  for (const auto& [kind, bytes] : caches.bytes_by_kind()) {
    if (kind == "kv" || kind.rfind("mla", 0) == 0)
      report.kv += bytes;
    else
      report.state += bytes;
  }
}

at::Tensor prefill(HybridModel& model, const at::Tensor& ids, Caches& caches, const EngineOptions& options,
                   const EngineHooks& hooks, MemoryReport* memory) {
  if (ids.dim() != 2 || ids.size(1) == 0) throw EvalError("prefill needs (batch, tokens) ids with tokens > 0", {}, "ids");
  if (options.chunk <= 0) throw EvalError("chunk must be positive", {}, "chunk");
  at::NoGradGuard no_grad;
  const auto device = model.output_weight().device();
  const int64_t T = ids.size(1);
  const int64_t start_pos = caches.length();
  const int64_t weights = memory ? weight_bytes(model) : 0;
  caches.reserve(start_pos + T);
  reset_peak_memory(device);
  at::Tensor last;
  int64_t held = 0;  // CPU: the largest hidden + logits chunk held at once
  for (int64_t s = 0; s < T; s += options.chunk) {
    check_cancel(hooks);
    const int64_t e = std::min(T, s + options.chunk);
    auto piece = ids.slice(1, s, e).to(device);
    auto hidden = model.hidden_states(piece, start_pos + s, &caches).last;  // (B, t, C)
    int64_t chunk_bytes = hidden.numel() * static_cast<int64_t>(hidden.element_size());
    if (hooks.on_chunk) {
      auto logits = model.logits(hidden);  // (B, t, V)
      chunk_bytes += logits.numel() * static_cast<int64_t>(logits.element_size());
      hooks.on_chunk(start_pos + s, logits);
      if (e == T) last = logits.select(1, logits.size(1) - 1).to(at::kFloat);
    } else if (e == T) {
      last = model.logits(hidden.select(1, hidden.size(1) - 1)).to(at::kFloat);  // (B, V)
    }
    held = std::max(held, chunk_bytes);
    if (hooks.on_progress) hooks.on_progress(e, T);
  }
  if (memory) {
    MemoryReport m;
    m.weights = weights;
    add_cache_bytes(caches, m);
    const int64_t peak = device.is_cuda() ? peak_memory_bytes(device) : 0;
    m.activations = device.is_cuda() && peak > 0 ? std::max<int64_t>(0, peak - m.weights - m.kv - m.state) : held;
    *memory = m;
  }
  return last;
}

Generation generate_batch(HybridModel& model, const at::Tensor& prompts, const DecodeOptions& o,
                          const EngineOptions& engine, const Tokenizer* tokenizer, const EngineHooks& hooks) {
  if (prompts.dim() != 2 || prompts.size(0) == 0 || prompts.size(1) == 0)
    throw EvalError("generation needs prompts of shape (batch, tokens), both > 0", {}, "prompts");
  if (!o.stop_strings.empty() && !tokenizer)
    throw EvalError("stop strings need a tokenizer", {}, "stop_strings");
  at::NoGradGuard no_grad;
  const auto device = model.output_weight().device();
  const int64_t B = prompts.size(0);
  Generation out;
  out.prompt_tokens = prompts.size(1);
  out.tokens.resize(B);
  out.text.resize(tokenizer ? B : 0);
  if (o.max_new_tokens <= 0) return out;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  auto caches = model.make_caches(B, engine.cache_dtype, device);
  caches.reserve(out.prompt_tokens + o.max_new_tokens);

  synchronize(device);
  auto t0 = clock_type::now();
  auto logits = prefill(model, prompts, caches, engine, hooks, &out.prefill_memory);  // (B, V)
  std::vector<bool> done(B, false);
  std::vector<int64_t> next(B);
  auto pick_all = [&](const at::Tensor& l) {
    auto rows = l.to(at::kCPU);
    for (int64_t b = 0; b < B; ++b) next[b] = pick_token(rows[b], o, gen);
  };
  // Appends the picked tokens and decides which rows are finished.
  auto accept = [&]() {
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      out.tokens[b].push_back(next[b]);
      const bool eos = std::find(o.eos_token_ids.begin(), o.eos_token_ids.end(), next[b]) != o.eos_token_ids.end();
      if (tokenizer) {
        std::vector<int32_t> ids(out.tokens[b].begin(), out.tokens[b].end() - (eos ? 1 : 0));
        auto text = tokenizer->decode(ids, /*skip_special_tokens=*/true);
        for (const auto& stop : o.stop_strings) {
          auto at = text.find(stop);
          if (at != std::string::npos) {
            text.resize(at);
            done[b] = true;
          }
        }
        out.text[b] = text;
      }
      if (eos || static_cast<int64_t>(out.tokens[b].size()) >= o.max_new_tokens) done[b] = true;
    }
  };
  pick_all(logits);
  synchronize(device);
  out.ttft_s = seconds_since(t0);
  accept();

  auto t1 = clock_type::now();
  int64_t pos = prompts.size(1);
  while (std::find(done.begin(), done.end(), false) != done.end()) {
    check_cancel(hooks);
    // Finished rows keep stepping with their last token (the batch stays rectangular); their
    // picks are ignored.
    auto step = at::tensor(next, at::TensorOptions().dtype(at::kLong)).to(device).unsqueeze(1);  // (B, 1)
    logits = model.forward(step, pos++, &caches).select(1, 0).to(at::kFloat);                   // (B, V)
    pick_all(logits);
    accept();
    ++out.decode_steps;
  }
  synchronize(device);
  if (out.decode_steps > 0) out.tpot_s = seconds_since(t1) / static_cast<double>(out.decode_steps);
  out.memory.weights = out.prefill_memory.weights;
  add_cache_bytes(caches, out.memory);
  out.memory.activations = out.prefill_memory.activations;
  return out;
}

}  // namespace hylo
