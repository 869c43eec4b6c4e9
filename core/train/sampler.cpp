#include "core/train/sampler.h"

#include <cmath>
#include <numeric>
#include <sstream>

#include "core/eval/tasks.h"
#include "core/spec/error.h"
#include "core/spec/rng.h"
#include "core/text/tokenizer.h"

namespace hylo {
namespace {

// Stream tags, so the per-epoch shuffles, the source draws and the synthetic documents never
// share random numbers.
constexpr uint64_t kShuffleStream = 1, kMixStream = 2, kSyntheticStream = 3;

}  // namespace

PackedSampler::PackedSampler(const ShardSet& corpus, int64_t seq_len, uint64_t seed, int rank, int world_size)
    : PackedSampler({SamplerSource{std::make_shared<ShardSet>(corpus), std::nullopt, 1.0}}, seq_len, seed, rank,
                    world_size) {}

PackedSampler::PackedSampler(std::vector<SamplerSource> sources, int64_t seq_len, uint64_t seed, int rank,
                             int world_size, const Tokenizer* tokenizer)
    : sources_(std::move(sources)), seq_len_(seq_len), seed_(seed), rank_(rank), world_size_(world_size),
      tokenizer_(tokenizer) {
  if (seq_len <= 0) throw TrainError("must be > 0", "", "seq_len");
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw TrainError("rank " + std::to_string(rank) + " outside world size " + std::to_string(world_size), "", "rank");
  if (sources_.empty()) throw TrainError("no data sources", "", "data");
  double total = 0.0;
  for (size_t i = 0; i < sources_.size(); ++i) {
    const auto& s = sources_[i];
    std::string field = "data.sources[" + std::to_string(i) + "]";
    if (!(s.ratio > 0.0)) throw TrainError("ratio must be > 0", "", field);
    if (bool(s.corpus) == s.synthetic.has_value()) throw TrainError("give a corpus or a synthetic task", "", field);
    if (s.synthetic && (!tokenizer_ || !tokenizer_->eos_id()))
      throw TrainError("synthetic documents need a tokenizer with an EOS token", "", field);
    if (s.corpus && rank_windows(i) < 1)
      throw TrainError(std::to_string(s.corpus->size()) + " tokens give fewer windows of " + std::to_string(seq_len + 1) +
                           " tokens than ranks", s.corpus->dir(), "seq_len");
    total += s.ratio;
  }
  if (std::fabs(total - 1.0) > 1e-6) throw TrainError("ratios sum to " + std::to_string(total) + ", not 1", "", "data");
  cursors_.resize(sources_.size());
  order_.resize(sources_.size());
  for (size_t i = 0; i < sources_.size(); ++i)
    if (sources_[i].corpus) shuffle_epoch(i);
}

int64_t PackedSampler::windows(size_t source) const {
  const auto& c = sources_.at(source).corpus;
  return c ? std::max<int64_t>(c->size() - 1, 0) / seq_len_ : 0;
}

int64_t PackedSampler::rank_windows(size_t source) const { return windows(source) / world_size_; }

void PackedSampler::shuffle_epoch(size_t source) {
  // Every rank computes the same permutation; each takes its own residue class of positions.
  auto& order = order_[source];
  order.resize(static_cast<size_t>(windows(source)));
  std::iota(order.begin(), order.end(), int64_t(0));
  Rng rng = Rng::derive(seed_, kShuffleStream, source, static_cast<uint64_t>(cursors_[source].epoch));
  rng.shuffle(order);
}

PackedSample PackedSampler::next() {
  Rng pick = Rng::derive(seed_, kMixStream, static_cast<uint64_t>(rank_), static_cast<uint64_t>(samples_));
  double u = pick.uniform(), cumulative = 0.0;
  size_t source = sources_.size() - 1;
  for (size_t i = 0; i < sources_.size(); ++i) {
    cumulative += sources_[i].ratio;
    if (u < cumulative) {
      source = i;
      break;
    }
  }
  PackedSample s = sources_[source].corpus ? corpus_sample(source) : synthetic_sample(source);
  s.source = source;
  ++samples_;
  return s;
}

PackedSample PackedSampler::corpus_sample(size_t source) {
  Cursor& c = cursors_[source];
  if (c.position == rank_windows(source)) {
    ++c.epoch;
    c.position = 0;
    shuffle_epoch(source);
  }
  PackedSample s;
  s.window = order_[source][static_cast<size_t>(c.position * world_size_ + rank_)];
  s.epoch = c.epoch;
  ++c.position;
  const ShardSet& corpus = *sources_[source].corpus;
  s.tokens.resize(static_cast<size_t>(seq_len_ + 1));
  corpus.read(s.window * seq_len_, seq_len_ + 1, s.tokens.data());
  s.document_starts = corpus.document_starts(s.window * seq_len_, seq_len_ + 1);
  return s;
}

PackedSample PackedSampler::synthetic_sample(size_t source) {
  // One task per window: prompt, then the answer, then EOS up to seq_len + 1 tokens.
  Rng rng = Rng::derive(seed_, kSyntheticStream, static_cast<uint64_t>(rank_), static_cast<uint64_t>(samples_));
  Cursor& c = cursors_[source];
  int32_t eos = *tokenizer_->eos_id();
  TaskSpec spec;
  spec.task = *sources_[source].synthetic == SyntheticTask::Passkey ? "passkey" : "niah_single_1";
  spec.depth = 100.0 * rng.uniform();
  spec.seed = rng.next();
  if (spec.task != "passkey") {
    // A NIAH window hides its needle in the training text itself (as `hylo eval niah` hides it in
    // prose), not in the repeated noise sentences, so what is learnt carries over to the eval.
    for (const auto& other : sources_)
      if (other.corpus && other.corpus->size() > seq_len_) {
        std::vector<int32_t> ids(static_cast<size_t>(seq_len_));
        other.corpus->read(static_cast<int64_t>(rng.below(static_cast<uint64_t>(other.corpus->size() - seq_len_))),
                           seq_len_, ids.data());
        std::istringstream text(tokenizer_->decode(ids, true));
        for (std::string w; text >> w;) spec.essay_words.push_back(w);
        if (spec.essay_words.size() > 2) spec.essay_words.erase(spec.essay_words.begin());  // a cut word
        if (!spec.essay_words.empty()) spec.task = "niah_single_2";
        break;
      }
  }
  // The answer (" 1234567.") takes a handful of tokens; reserve a margin for it and the EOS.
  spec.length = seq_len_ + 1 - 16;
  TaskSample task = generate_task(*tokenizer_, spec);
  PackedSample s;
  s.tokens = tokenizer_->encode(task.prompt, false);
  std::string answer = " " + task.expected[0] + ".";
  for (int32_t id : tokenizer_->encode(answer, false)) s.tokens.push_back(id);
  if (static_cast<int64_t>(s.tokens.size()) > seq_len_)
    throw TrainError("synthetic document overflows the window", "", "seq_len");
  s.tokens.resize(static_cast<size_t>(seq_len_ + 1), eos);
  s.document_starts = {0};
  s.epoch = c.epoch;
  ++c.position;
  return s;
}

nlohmann::json PackedSampler::state() const {
  nlohmann::json cursors = nlohmann::json::array();
  for (const auto& c : cursors_) cursors.push_back({{"epoch", c.epoch}, {"position", c.position}});
  return {{"seed", seed_}, {"seq_len", seq_len_}, {"rank", rank_}, {"world_size", world_size_},
          {"samples", samples_}, {"sources", cursors}};
}

void PackedSampler::restore(const nlohmann::json& state) {
  auto expect = [&](const char* key, int64_t want) {
    if (!state.contains(key) || state[key].get<int64_t>() != want)
      throw TrainError("sampler state is for a different " + std::string(key) + " (" +
                           (state.contains(key) ? state[key].dump() : "missing") + ", this run has " +
                           std::to_string(want) + ")", "", std::string("sampler.") + key);
  };
  if (!state.contains("seed") || state["seed"].get<uint64_t>() != seed_)
    throw TrainError("sampler state is for a different seed", "", "sampler.seed");
  expect("seq_len", seq_len_);
  expect("rank", rank_);
  expect("world_size", world_size_);
  if (!state.contains("sources") || state["sources"].size() != sources_.size())
    throw TrainError("sampler state has a different number of sources", "", "sampler.sources");
  samples_ = state["samples"].get<int64_t>();
  for (size_t i = 0; i < sources_.size(); ++i) {
    Cursor c{state["sources"][i]["epoch"].get<int64_t>(), state["sources"][i]["position"].get<int64_t>()};
    if (sources_[i].corpus && (c.position < 0 || c.position > rank_windows(i)))
      throw TrainError("position outside the epoch", "", "sampler.sources[" + std::to_string(i) + "]");
    bool reshuffle = sources_[i].corpus && c.epoch != cursors_[i].epoch;
    cursors_[i] = c;
    if (reshuffle) shuffle_epoch(i);
  }
}

}  // namespace hylo
