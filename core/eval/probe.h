// One needle probe for the GUI and `hylo probe`: a haystack cut to `length` tokens, the needle at
// `depth` %, the question after it; returns the answer, the loss at every position (bucketed),
// where the needle sits, memory and time. One prefill serves both the loss and the answer.
#pragma once
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/infer/engine.h"

namespace hylo {

struct ProbeRequest {
  std::string haystack;  // text; empty: the Brown corpus (corpus_dir or the default)
  std::string needle;
  std::string question;
  std::string answer;    // expected answer, optional
  double depth = 50.0;   // 0..100
  int64_t length = 4096; // prompt tokens
  int64_t max_new_tokens = 32;
  std::string corpus_dir;
  EngineOptions engine;
};

struct ProbeResult {
  std::string answer;
  // With an expected answer: it occurs in the generated one (case-insensitive). Without: the
  // generated answer is non-empty and occurs in the needle.
  bool found = false;
  std::vector<std::pair<int64_t, double>> loss_by_position;  // (first position of bucket, mean loss)
  std::pair<int64_t, int64_t> needle_span;                   // [start, end) in prompt tokens
  int64_t tokens = 0;                                        // prompt tokens
  double prefill_s = 0, decode_s = 0;
  MemoryReport memory;
};

constexpr int64_t kMaxLossPoints = 512;

// EvalError naming the field for: empty needle or question, an empty haystack text, depth
// outside 0-100, a length too small for needle + question + 1 haystack token, no tokenizer.
ProbeResult run_probe(const LoadedModel& model, const ProbeRequest& request,
                      const std::function<void(int64_t done, int64_t total)>& on_progress = {},
                      const std::atomic<bool>* cancel = nullptr);

// The contract's probe result object.
nlohmann::json to_json(const ProbeResult& result);

// Mean of values[i] over consecutive buckets of ceil(n / max_points) positions: (start, mean).
std::vector<std::pair<int64_t, double>> bucket_losses(const std::vector<double>& values, int64_t first_position,
                                                      int64_t max_points);

}  // namespace hylo
