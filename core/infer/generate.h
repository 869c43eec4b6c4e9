// Autoregressive generation with layer caches: one prefill over the prompt, then one token per
// step. Greedy when temperature == 0, else temperature / top-k / top-p sampling from a seeded
// generator, so a run is reproducible.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model/hybrid_model.h"

namespace hylo {

struct GenerationOptions {
  int64_t max_new_tokens = 32;
  double temperature = 0.0;  // 0: greedy (argmax)
  double top_p = 1.0;        // nucleus: smallest set of tokens whose probability reaches top_p
  int64_t top_k = 0;         // 0: no top-k filter
  uint64_t seed = 0;
  std::vector<int64_t> eos_token_ids;  // stop after emitting any of these
  at::ScalarType cache_dtype = at::kFloat;
};

struct GenerationResult {
  std::vector<int64_t> tokens;  // new tokens only (an emitted eos included)
  bool stopped_on_eos = false;
  double prefill_seconds = 0, decode_seconds = 0;
};

// Called with each new token as soon as it is chosen (streaming).
using TokenCallback = std::function<void(int64_t token)>;

// prompt: token ids of one sequence (non-empty).
GenerationResult generate(HybridModel& model, const std::vector<int64_t>& prompt, const GenerationOptions& options,
                          const TokenCallback& on_token = {});

// Picks the next token from one row of logits (V) under the options; gen is used only when sampling.
int64_t pick_token(const at::Tensor& logits, const GenerationOptions& options, at::Generator& gen);

}  // namespace hylo
