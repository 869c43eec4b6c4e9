// Inference engine for any hybrid (teacher or student): chunked prefill through the layer caches
// (activation memory bounded by the chunk, whatever the prompt length), batched decode, greedy or
// sampled generation with eos and stop strings, TTFT / TPOT, and memory by type. The engine only
// sees Mixer / LayerCache, so it does not care which mixer a layer has.
#pragma once
#include <ATen/ATen.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/infer/generate.h"
#include "core/model/hybrid_model.h"
#include "core/text/tokenizer.h"

namespace hylo {

// A request stopped through its cancellation flag (not an input error: callers answer "cancelled").
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

// A checkpoint folder loaded for inference.
struct LoadedModel {
  std::shared_ptr<HybridModel> model;
  std::optional<Tokenizer> tokenizer;  // absent when the folder has no tokenizer.json
  std::string path;
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
  // The tokenizer, or an EvalError naming the folder when it has none.
  const Tokenizer& require_tokenizer() const;
};

// load_model (core/model/model_io.h) + the folder's tokenizer.json when it has one, eval mode.
LoadedModel load_for_inference(const std::string& dir, at::ScalarType dtype, at::Device device);
// "fp32" | "bf16" | "fp16" (and the long spellings); anything else is an EvalError naming `field`.
at::ScalarType parse_dtype(const std::string& text, const std::string& field = "dtype");
// "cpu" | "cuda" | "cuda:N"; CUDA without a GPU is an EvalError naming `field`.
at::Device parse_device(const std::string& text, const std::string& field = "device");

// Bytes by type. kv: caches that grow with the context (attention K/V, MLA latent + RoPE key);
// state: constant caches (Mamba2 / GDN conv windows and recurrent states); activations: peak of
// the rest during the call (CUDA: allocator peak minus weights and caches; CPU: the largest
// hidden + logits chunk the engine held).
struct MemoryReport {
  int64_t weights = 0, kv = 0, state = 0, activations = 0;
};
int64_t weight_bytes(const HybridModel& model);  // parameters (RoPE tables are not weights)
// Splits Caches::bytes_by_kind() into kv and state ("kv", "mla*" grow with the context).
void add_cache_bytes(const Caches& caches, MemoryReport& report);

struct EngineHooks {
  // Each prefill chunk's logits (B, t, V) and the position of its first token; set only when the
  // caller needs every position (per-position loss), since this costs t*V per chunk.
  std::function<void(int64_t start, const at::Tensor& logits)> on_chunk;
  std::function<void(int64_t done, int64_t total)> on_progress;  // prefill tokens
  const std::atomic<bool>* cancel = nullptr;                       // checked between chunks and steps
};

struct EngineOptions {
  int64_t chunk = 2048;  // prefill tokens per forward
  at::ScalarType cache_dtype = at::kFloat;
};

// Runs ids (B, T) after what `caches` hold, chunk by chunk; returns the last position's logits
// (B, V) in fp32. Activation memory is that of one chunk.
at::Tensor prefill(HybridModel& model, const at::Tensor& ids, Caches& caches, const EngineOptions& options,
                   const EngineHooks& hooks = {}, MemoryReport* memory = nullptr);

struct DecodeOptions : GenerationOptions {
  std::vector<std::string> stop_strings;  // a row ends once its decoded text contains one (cut there)
};

struct Generation {
  std::vector<std::vector<int64_t>> tokens;  // per row: new tokens (eos included, stop-string tail kept)
  std::vector<std::string> text;             // per row, when a tokenizer was given: cut at eos / stop string
  int64_t prompt_tokens = 0;
  double ttft_s = 0;      // prefill + first token, synchronised
  double tpot_s = 0;      // mean seconds per later token
  int64_t decode_steps = 0;
  MemoryReport prefill_memory;  // right after the prefill (caches hold the prompt)
  MemoryReport memory;          // at the end of decoding
};

// Batched generation from prompts of equal length (B, T): one chunked prefill, then one token per
// row per step until every row has stopped or max_new_tokens. Rows sample from one generator
// seeded with options.seed, row after row.
Generation generate_batch(HybridModel& model, const at::Tensor& prompts, const DecodeOptions& options,
                          const EngineOptions& engine, const Tokenizer* tokenizer = nullptr,
                          const EngineHooks& hooks = {});

// Waits for the model's device (so timings hold on GPU).
void synchronize(at::Device device);

// Hands the CUDA caching allocator's cached blocks back (after an OOM); a no-op on the CPU or with a
// LibTorch without CUDA. Peaks: core/train/peak_memory.h.
void release_device_memory(at::Device device);

}  // namespace hylo
