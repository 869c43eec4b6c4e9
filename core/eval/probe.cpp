#include "core/eval/probe.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/eval/haystack.h"
#include "core/eval/runners.h"
#include "core/eval/tasks.h"
#include "core/spec/error.h"
#include "core/spec/rng.h"

namespace hylo {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<int64_t> encode(const Tokenizer& tok, const std::string& text) {
  auto ids = tok.encode(text, false);
  return {ids.begin(), ids.end()};
}

// The haystack index nearest `k` (within 256 tokens) that follows a token with a full stop, so
// the needle starts a sentence; `k` itself when there is none.
int64_t sentence_boundary(const Tokenizer& tok, const std::vector<int64_t>& hs, int64_t k) {
  const int64_t n = static_cast<int64_t>(hs.size());
  auto ends_sentence = [&](int64_t j) {
    if (j <= 0 || j >= n) return true;
    auto piece = tok.token(static_cast<int32_t>(hs[j - 1]));
    return piece && piece->find('.') != std::string::npos;
  };
  for (int64_t d = 0; d <= 256; ++d) {
    if (k - d >= 0 && ends_sentence(k - d)) return k - d;
    if (k + d <= n && ends_sentence(k + d)) return k + d;
  }
  return k;
}

}  // namespace

std::vector<std::pair<int64_t, double>> bucket_losses(const std::vector<double>& values, int64_t first_position,
                                                      int64_t max_points) {
  std::vector<std::pair<int64_t, double>> out;
  const int64_t n = static_cast<int64_t>(values.size());
  if (n == 0) return out;
  const int64_t width = (n + max_points - 1) / max_points;
  for (int64_t s = 0; s < n; s += width) {
    const int64_t e = std::min(n, s + width);
    double sum = 0;
    for (int64_t i = s; i < e; ++i) sum += values[i];
    out.emplace_back(first_position + s, sum / static_cast<double>(e - s));
  }
  return out;
}

ProbeResult run_probe(const LoadedModel& m, const ProbeRequest& r,
                      const std::function<void(int64_t, int64_t)>& on_progress, const std::atomic<bool>* cancel) {
  const auto& tok = m.require_tokenizer();
  if (trim(r.needle).empty()) throw EvalError("the needle is empty", {}, "needle");
  if (trim(r.question).empty()) throw EvalError("the question is empty", {}, "question");
  if (!(r.depth >= 0.0 && r.depth <= 100.0))
    throw EvalError("depth " + std::to_string(r.depth) + " is outside 0-100", {}, "depth");
  if (r.max_new_tokens <= 0) throw EvalError("must be >= 1", {}, "max_new_tokens");

  const auto needle = encode(tok, " " + trim(r.needle));
  const auto question = encode(tok, "\n\nQuestion: " + trim(r.question) + "\nAnswer:");
  const int64_t bos = tok.bos_id() ? 1 : 0;
  const int64_t n_hay = r.length - bos - static_cast<int64_t>(needle.size() + question.size());
  if (n_hay < 1)
    throw EvalError("length " + std::to_string(r.length) + " leaves no room for the haystack: needle and question take " +
                        std::to_string(needle.size() + question.size() + bos) + " tokens",
                    {}, "length");

  std::string text = r.haystack;
  if (text.empty()) {
    Rng rng(0);
    auto words = essay_words(r.corpus_dir.empty() ? default_corpus_dir() : r.corpus_dir, n_hay, rng);
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
  } else if (trim(text).empty()) {
    throw EvalError("the haystack text is blank", {}, "haystack");
  }
  const auto unit = encode(tok, text);
  if (unit.empty()) throw EvalError("the haystack text gives no tokens", {}, "haystack");
  std::vector<int64_t> hs;
  hs.reserve(n_hay);
  while (static_cast<int64_t>(hs.size()) < n_hay)  // a short haystack repeats
    hs.insert(hs.end(), unit.begin(), unit.begin() + std::min<int64_t>(unit.size(), n_hay - hs.size()));
  const int64_t k = sentence_boundary(tok, hs, std::llround(r.depth / 100.0 * static_cast<double>(n_hay)));

  std::vector<int64_t> ids;
  if (bos) ids.push_back(*tok.bos_id());
  ids.insert(ids.end(), hs.begin(), hs.begin() + k);
  ids.insert(ids.end(), needle.begin(), needle.end());
  ids.insert(ids.end(), hs.begin() + k, hs.end());
  ids.insert(ids.end(), question.begin(), question.end());
  const int64_t T = static_cast<int64_t>(ids.size());
  auto prompt = at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);

  std::vector<double> losses(T - 1, 0.0);  // losses[p - 1]: -log p(token p | tokens < p)
  EngineHooks hooks;
  hooks.cancel = cancel;
  hooks.on_progress = on_progress;
  hooks.on_chunk = [&](int64_t start, const at::Tensor& logits) {
    const int64_t n = std::min(logits.size(1), T - 1 - start);
    if (n <= 0) return;
    auto targets = prompt.slice(1, start + 1, start + 1 + n).to(logits.device());
    auto lp = at::log_softmax(logits.slice(1, 0, n).to(at::kFloat), -1).gather(-1, targets.unsqueeze(-1));
    auto v = (-lp).reshape({-1}).to(at::kCPU).contiguous();
    std::copy(v.data_ptr<float>(), v.data_ptr<float>() + n, losses.begin() + start);
  };
  DecodeOptions d;
  d.max_new_tokens = r.max_new_tokens;
  d.eos_token_ids.assign(m.model->config().eos_token_ids.begin(), m.model->config().eos_token_ids.end());
  if (auto eos = tok.eos_id()) d.eos_token_ids.push_back(*eos);
  d.stop_strings = {"\n"};
  auto gen = generate_batch(*m.model, prompt, d, r.engine, &tok, hooks);

  ProbeResult out;
  out.answer = trim(gen.text.at(0));
  if (!r.answer.empty()) {
    out.found = score_contains(out.answer, {trim(r.answer)}) > 0.0;
  } else {
    auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    out.found = !out.answer.empty() && lower(r.needle).find(lower(out.answer)) != std::string::npos;
  }
  out.loss_by_position = bucket_losses(losses, 1, kMaxLossPoints);
  out.needle_span = {bos + k, bos + k + static_cast<int64_t>(needle.size())};
  out.tokens = T;
  out.prefill_s = gen.ttft_s;
  out.decode_s = gen.tpot_s * static_cast<double>(gen.decode_steps);
  out.memory = gen.memory;
  return out;
}

nlohmann::json to_json(const ProbeResult& r) {
  auto loss = nlohmann::json::array();
  for (const auto& [pos, l] : r.loss_by_position) loss.push_back({pos, l});
  return {{"answer", r.answer},
          {"found", r.found},
          {"loss_by_position", loss},
          {"needle_span", {r.needle_span.first, r.needle_span.second}},
          {"tokens", r.tokens},
          {"prefill_s", r.prefill_s},
          {"decode_s", r.decode_s},
          {"memory",
           {{"weights", r.memory.weights},
            {"kv", r.memory.kv},
            {"state", r.memory.state},
            {"activations", r.memory.activations}}}};
}

}  // namespace hylo
