// The inference engine on tiny random models: greedy generation against argmax decoding by repeated
// full forwards (single and batched), chunked prefill against one forward, measured cache bytes
// against hylo_spec's estimates for every mixer the factory builds, eos and stop strings, bad input.
#include <QtTest>

#include <cmath>

#include "core/infer/engine.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/plan.h"
#include "tests/core/tiny_checkpoint.h"

using namespace hylo;

namespace {

ModelConfig tiny_config() {
  ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 4;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 8192;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000.0;
  return c;
}

// Larger than HF's init so the argmax is decided by the context, not by ties near uniform logits.
std::shared_ptr<HybridModel> make_model(const ModelConfig& c, uint64_t seed = 0) {
  at::manual_seed(static_cast<int64_t>(seed));
  auto m = std::make_shared<HybridModel>(c);
  at::NoGradGuard no_grad;
  for (auto& p : m->named_parameters()) {
    auto& t = p.value();
    if (p.key().find("norm") != std::string::npos)
      t.uniform_(0.5, 1.5);
    else
      t.normal_(0.0, p.key().find("embed") != std::string::npos ? 1.0 : 0.3);
  }
  return m;
}

at::Tensor random_ids(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  at::manual_seed(static_cast<int64_t>(seed));
  return at::randint(V, {B, T}, at::kLong);
}

// Argmax decoding that re-reads the whole sequence every step (no caches).
std::vector<int64_t> argmax_by_full_forwards(HybridModel& m, at::Tensor ids, int64_t n) {
  at::NoGradGuard no_grad;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    auto next = m.forward(ids)[0][-1].argmax().item<int64_t>();
    out.push_back(next);
    ids = at::cat({ids, at::full({1, 1}, next, at::kLong)}, 1);
  }
  return out;
}

// A tiny hybrid with the given layer kinds (the plan's other settings resolved from the tiny teacher;
// GDN kept small so the test stays fast).
ModelConfig tiny_hybrid(const std::vector<MixerKind>& kinds) {
  LayerPlan plan;
  for (size_t i = 0; i < kinds.size(); ++i) plan.layers[static_cast<int64_t>(i)] = kinds[i];
  plan.gdn.num_heads = plan.gdn.num_k_heads = 2;
  plan.gdn.head_k_dim = 8;
  plan.gdn.head_v_dim = 16;
  plan.gdn.chunk_size = 8;
  plan.mamba2.chunk_size = 8;
  return plan.resolve(tiny_config());
}

// Every config the mixer factory can build: the tiny teacher, a hybrid holding every kind, one
// hybrid per kind (so a kind is covered even while another has no implementation), and with
// `presets` each plan preset (MLA, Mamba2, GDN students at the planner's sizes).
std::vector<std::pair<std::string, ModelConfig>> buildable_configs(bool presets = true) {
  using K = MixerKind;
  std::vector<std::pair<std::string, ModelConfig>> candidates = {
      {"all kinds", tiny_hybrid({K::Attention, K::MLA, K::Mamba2, K::GDN})},
      {"mla", tiny_hybrid({K::MLA, K::Attention, K::MLA, K::MLA})},
      {"mamba2", tiny_hybrid({K::Mamba2, K::Attention, K::Mamba2, K::Mamba2})},
      {"gdn", tiny_hybrid({K::GDN, K::Attention, K::GDN, K::GDN})}};
  if (presets)
    for (const auto& p : plan_presets(tiny_config())) candidates.emplace_back(p.name, p.plan.resolve(tiny_config()));
  std::vector<std::pair<std::string, ModelConfig>> out = {{"teacher", tiny_config()}};
  for (const auto& [name, c] : candidates) {
    try {
      HybridModel probe(c);
      out.emplace_back(name, c);
    } catch (const ModelError& e) {
      qWarning("%s not covered in this build: %s", name.c_str(), e.what());
    }
  }
  return out;
}

}  // namespace

class TestEngine : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // For the teacher and every buildable hybrid: cached decoding (recurrent forms, MLA absorbed decode)
  // picks the same tokens as full forwards (chunked / expanded forms).
  void greedy_equals_argmax_of_full_forwards() {
    for (const auto& [name, config] : buildable_configs()) {
      auto m = make_model(config, 1);
      auto prompt = random_ids(1, 23, 97, 2);
      DecodeOptions d;
      d.max_new_tokens = 12;
      EngineOptions e;
      e.chunk = 5;  // prefill in 5 chunks, the last one short
      auto g = generate_batch(*m, prompt, d, e);
      if (g.tokens.at(0) != argmax_by_full_forwards(*m, prompt, 12)) QFAIL(qPrintable(QString::fromStdString(name)));
      QCOMPARE(g.decode_steps, int64_t(11));
      QVERIFY(g.ttft_s > 0 && g.tpot_s > 0);
    }
  }

  void batched_rows_equal_single_rows() {
    auto m = make_model(tiny_config(), 3);
    auto prompts = random_ids(3, 17, 97, 4);
    DecodeOptions d;
    d.max_new_tokens = 8;
    EngineOptions e;
    e.chunk = 6;
    auto batched = generate_batch(*m, prompts, d, e);
    for (int64_t b = 0; b < 3; ++b)
      QCOMPARE(batched.tokens.at(b), argmax_by_full_forwards(*m, prompts.slice(0, b, b + 1), 8));
  }

  void sampling_is_reproducible_for_a_seed() {
    auto m = make_model(tiny_config(), 5);
    auto prompt = random_ids(1, 9, 97, 6);
    DecodeOptions d;
    d.max_new_tokens = 16;
    d.temperature = 1.5;
    d.top_p = 0.9;
    d.seed = 11;
    auto a = generate_batch(*m, prompt, d, {});
    auto b = generate_batch(*m, prompt, d, {});
    QCOMPARE(a.tokens, b.tokens);
    d.seed = 12;
    QVERIFY(generate_batch(*m, prompt, d, {}).tokens != a.tokens);
  }

  // Chunked prefill reads the same tokens through the caches: in fp64 the logits agree to 1e-6 of
  // the largest logit (RMSNorm rounds through fp32, as HF does; everything else is fp64), and the
  // caches then continue identically. A wrong state hand-over between chunks costs O(1e-2) or more.
  // The teacher and a hybrid of every kind (presets only change sizes; the greedy test runs them).
  void chunked_prefill_equals_unchunked() {
    for (const auto& [name, config] : buildable_configs(/*presets=*/false)) {
      auto m = make_model(config, 7);
      m->to(at::kDouble);
      auto ids = random_ids(2, 41, 97, 8);
      auto collect = [&](int64_t chunk) {
        std::vector<at::Tensor> parts;
        EngineHooks h;
        h.on_chunk = [&](int64_t, const at::Tensor& l) { parts.push_back(l.clone()); };
        EngineOptions e;
        e.chunk = chunk;
        e.cache_dtype = at::kDouble;
        auto caches = m->make_caches(2, at::kDouble, at::kCPU);
        prefill(*m, ids, caches, e, h);
        at::NoGradGuard no_grad;
        auto next = m->forward(at::full({2, 1}, 3, at::kLong), caches.length(), &caches);
        return std::make_pair(at::cat(parts, 1), next);
      };
      auto [whole, next_whole] = collect(41);
      for (int64_t chunk : {1, 16}) {  // token by token (recurrent forms); chunks across internal chunk edges
        auto [chunked, next_chunked] = collect(chunk);
        const double diff = (whole - chunked).abs().max().item<double>();
        const double diff_next = (next_whole - next_chunked).abs().max().item<double>();
        const double tol = 1e-6 * std::max(1.0, whole.abs().max().item<double>());
        if (diff > tol || diff_next > tol)
          QFAIL(qPrintable(QString("%1, chunk %2: max |diff| %3, next step %4, tolerance %5")
                               .arg(name.c_str()).arg(chunk).arg(diff).arg(diff_next).arg(tol)));
      }
    }
  }

  // Bytes the caches really hold after L prompt tokens (and one decoded token) equal
  // estimate(config, L) at fp32, for the teacher and a hybrid of every kind (the presets differ
  // only in sizes; hylo_spec's tests cover those).
  void cache_bytes_equal_estimates() {
    for (const auto& [name, config] : buildable_configs(/*presets=*/false)) {
      auto m = make_model(config, 9);
      for (int64_t L : {1, 100, 1500}) {
        auto caches = m->make_caches(1, at::kFloat, at::kCPU);
        EngineOptions e;
        e.chunk = 512;
        MemoryReport mem;
        prefill(*m, random_ids(1, L, 97, 10), caches, e, {}, &mem);
        Precision fp32{4, 4, 4};
        auto est = estimate(config, L, fp32);
        if (mem.kv != est.kv_bytes || mem.state != est.state_bytes || mem.weights != est.weight_bytes)
          QFAIL(qPrintable(QString("%1 at %2: measured kv %3 state %4 weights %5, estimated %6 %7 %8")
                               .arg(name.c_str()).arg(L).arg(mem.kv).arg(mem.state).arg(mem.weights)
                               .arg(est.kv_bytes).arg(est.state_bytes).arg(est.weight_bytes)));
        at::NoGradGuard no_grad;
        m->forward(at::full({1, 1}, 1, at::kLong), L, &caches);
        MemoryReport after;
        add_cache_bytes(caches, after);
        QCOMPARE(after.kv, estimate(config, L + 1, fp32).kv_bytes);
      }
    }
  }

  void eos_and_stop_strings_end_generation() {
    auto tok = Tokenizer::from_file(testing::llama3_tokenizer_path());
    auto m = make_model(testing::tiny_llama3_config(), 13);
    auto prompt = random_ids(1, 12, 128256, 14);
    DecodeOptions d;
    d.max_new_tokens = 10;
    auto free_run = generate_batch(*m, prompt, d, {}, &tok);
    QCOMPARE(free_run.tokens.at(0).size(), size_t(10));

    auto with_eos = d;
    with_eos.eos_token_ids = {free_run.tokens[0][3]};
    auto stopped = generate_batch(*m, prompt, with_eos, {}, &tok);
    const auto first = std::find(free_run.tokens[0].begin(), free_run.tokens[0].end(), free_run.tokens[0][3]);
    QCOMPARE(stopped.tokens.at(0), std::vector<int64_t>(free_run.tokens[0].begin(), first + 1));

    const auto full_text = free_run.text.at(0);
    const auto piece = tok.decode({static_cast<int32_t>(free_run.tokens[0][4])}, true);
    if (piece.empty()) QSKIP("token 4 decodes to nothing");
    auto with_stop = d;
    with_stop.stop_strings = {piece};
    auto cut = generate_batch(*m, prompt, with_stop, {}, &tok);
    QCOMPARE(cut.text.at(0), full_text.substr(0, full_text.find(piece)));
    QVERIFY(cut.tokens.at(0).size() <= 5);
  }

  void cancellation_stops_prefill() {
    auto m = make_model(tiny_config(), 15);
    std::atomic<bool> cancel{false};
    EngineHooks h;
    h.cancel = &cancel;
    int64_t chunks = 0;
    h.on_progress = [&](int64_t done, int64_t total) {
      QVERIFY(done <= total);
      if (++chunks == 2) cancel = true;
    };
    EngineOptions e;
    e.chunk = 4;
    auto caches = m->make_caches(1, at::kFloat, at::kCPU);
    QVERIFY_THROWS_EXCEPTION(Cancelled, prefill(*m, random_ids(1, 40, 97, 16), caches, e, h));
    QCOMPARE(chunks, int64_t(2));
  }

  void load_model_round_trip_and_bad_input() {
    const auto dir = std::filesystem::temp_directory_path() / "hylo_test_engine_ckpt";
    testing::write_tiny_checkpoint(dir, /*with_tokenizer=*/false, 21);
    auto loaded = load_for_inference(dir.string(), at::kFloat, at::kCPU);
    at::manual_seed(21);
    HybridModel original(testing::tiny_llama3_config());
    auto ids = random_ids(1, 9, 128256, 22);
    at::NoGradGuard no_grad;
    QVERIFY(at::equal(loaded.model->forward(ids), original.forward(ids)));
    try {
      loaded.require_tokenizer();
      QFAIL("a model without tokenizer.json passed");
    } catch (const EvalError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("tokenizer.json"));
      QCOMPARE(QString::fromStdString(e.file()), QString::fromStdString(dir.string()));
    }
    QVERIFY_THROWS_EXCEPTION(EvalError, parse_dtype("int8"));
    QVERIFY_THROWS_EXCEPTION(EvalError, parse_device("tpu"));
    if (!torch::cuda::is_available()) QVERIFY_THROWS_EXCEPTION(EvalError, parse_device("cuda:0"));
    auto m = make_model(tiny_config());
    auto caches = m->make_caches(1, at::kFloat, at::kCPU);
    EngineOptions zero;
    zero.chunk = 0;
    QVERIFY_THROWS_EXCEPTION(EvalError, prefill(*m, random_ids(1, 4, 97, 1), caches, zero));
    QVERIFY_THROWS_EXCEPTION(EvalError, generate_batch(*m, at::zeros({1, 0}, at::kLong), {}, {}));
    std::filesystem::remove_all(dir);
  }
};

QTEST_GUILESS_MAIN(TestEngine)
#include "test_engine.moc"
