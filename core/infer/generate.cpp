#include "core/infer/generate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/spec/error.h"

namespace hylo {

int64_t pick_token(const at::Tensor& logits, const GenerationOptions& o, at::Generator& gen) {
  auto l = logits.to(at::kCPU, at::kFloat);  // (V)
  if (o.temperature <= 0) return l.argmax().item<int64_t>();
  l = l / o.temperature;
  const double minus_inf = -std::numeric_limits<double>::infinity();
  if (o.top_k > 0 && o.top_k < l.size(0)) {
    auto kth = std::get<0>(l.topk(o.top_k)).min();
    l = l.masked_fill(l < kth, minus_inf);
  }
  if (o.top_p < 1.0) {
    auto [sorted, order] = l.sort(/*dim=*/-1, /*descending=*/true);
    auto probs = at::softmax(sorted, -1);
    // Drop a token once the more likely ones already cover top_p; the most likely always stays.
    auto mass_before = probs.cumsum(-1) - probs;
    auto drop_sorted = mass_before >= o.top_p;
    auto drop = at::zeros_like(drop_sorted).scatter(0, order, drop_sorted);
    l = l.masked_fill(drop, minus_inf);
  }
  return at::multinomial(at::softmax(l, -1), 1, false, gen).item<int64_t>();
}

GenerationResult generate(HybridModel& model, const std::vector<int64_t>& prompt, const GenerationOptions& o,
                          const TokenCallback& on_token) {
  if (prompt.empty()) throw ModelError("generation needs a non-empty prompt", {}, "prompt");
  GenerationResult result;
  if (o.max_new_tokens <= 0) return result;
  at::NoGradGuard no_grad;
  const auto device = model.output_weight().device();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  auto caches = model.make_caches(1, o.cache_dtype, device);
  using clock = std::chrono::steady_clock;

  auto t0 = clock::now();
  auto ids = at::tensor(prompt, at::TensorOptions().dtype(at::kLong)).to(device).unsqueeze(0);  // (1, T)
  auto logits = model.forward(ids, 0, &caches);                                                 // (1, T, V)
  int64_t next = pick_token(logits[0][-1], o, gen);
  auto t1 = clock::now();
  result.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();

  int64_t pos = static_cast<int64_t>(prompt.size());
  while (true) {
    result.tokens.push_back(next);
    if (on_token) on_token(next);
    if (std::find(o.eos_token_ids.begin(), o.eos_token_ids.end(), next) != o.eos_token_ids.end()) {
      result.stopped_on_eos = true;
      break;
    }
    if (static_cast<int64_t>(result.tokens.size()) >= o.max_new_tokens) break;
    auto step = at::full({1, 1}, next, at::TensorOptions().dtype(at::kLong).device(device));
    logits = model.forward(step, pos++, &caches);  // (1, 1, V)
    next = pick_token(logits[0][-1], o, gen);
  }
  result.decode_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return result;
}

}  // namespace hylo
