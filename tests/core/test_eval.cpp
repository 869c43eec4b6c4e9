// Evaluation runners and the probe on a tiny random Llama checkpoint with the real Llama-3
// tokenizer: result JSON shapes of the contract, determinism for a seed, scorer hand cases,
// perplexity buckets, probe spans and loss points, progress and cancellation, bad input.
#include <QtTest>

#include <cmath>

#include "core/eval/probe.h"
#include "core/eval/runners.h"
#include "core/eval/tasks.h"
#include "core/spec/error.h"
#include "tests/core/tiny_checkpoint.h"

using namespace hylo;

namespace {

template <class F>
void expect_eval_error(F&& f, const char* field) {
  try {
    f();
  } catch (const EvalError& e) {
    QCOMPARE(QString::fromStdString(e.field()), QString(field));
    return;
  }
  QFAIL(qPrintable(QString("no EvalError for field %1").arg(field)));
}

nlohmann::json without_time(nlohmann::json j) {
  j.erase("time_s");
  return j;
}

}  // namespace

class TestEval : public QObject {
  Q_OBJECT
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() / "hylo_test_eval_ckpt";
  std::optional<LoadedModel> model_;

  RunnerOptions niah_options() {
    RunnerOptions o;
    o.lengths = {200, 320};
    o.depths = {0, 50, 100};
    o.trials = 2;
    o.seed = 17;
    o.max_new_tokens = 6;
    o.engine.chunk = 64;
    return o;
  }

 private Q_SLOTS:
  void initTestCase() {
    if (!std::filesystem::exists(testing::llama3_tokenizer_path()))
      QSKIP("no Llama-3 tokenizer: run scripts/fetch_test_data.sh");
    testing::write_tiny_checkpoint(dir_, /*with_tokenizer=*/true);
    model_ = load_for_inference(dir_.string(), at::kFloat, at::kCPU);
  }
  void cleanupTestCase() { std::filesystem::remove_all(dir_); }

  void niah_json_has_the_contract_shape() {
    int64_t last = 0, total = 0;
    auto o = niah_options();
    o.on_progress = [&](int64_t done, int64_t t) {
      QCOMPARE(done, last + 1);
      last = done;
      total = t;
    };
    auto r = run_niah(*model_, o);
    QCOMPARE(total, int64_t(2 * 3 * 2));
    QCOMPARE(last, total);
    for (const char* key : {"task", "lengths", "depths", "score", "loglik", "trials", "seed", "model", "kv_bytes", "time_s"})
      QVERIFY2(r.contains(key), key);
    QCOMPARE(r["task"].get<std::string>(), std::string("niah_single_2"));
    QCOMPARE(r["lengths"], nlohmann::json({200, 320}));
    QCOMPARE(r["depths"], nlohmann::json({0.0, 50.0, 100.0}));
    QCOMPARE(r["score"].size(), size_t(2));
    for (size_t i = 0; i < 2; ++i) {
      QCOMPARE(r["score"][i].size(), size_t(3));
      for (size_t j = 0; j < 3; ++j) {
        const double s = r["score"][i][j], ll = r["loglik"][i][j];
        QVERIFY(s >= 0 && s <= 1);
        QVERIFY(std::isfinite(ll) && ll < 0);  // a log-probability per token
      }
    }
    QCOMPARE(r["trials"].get<int64_t>(), int64_t(2));
    QCOMPARE(r["seed"].get<uint64_t>(), uint64_t(17));
    QCOMPARE(r["model"].get<std::string>(), dir_.string());
    // The tiny teacher: 2 layers x 2 (K, V) x 1 head x 8 dims x 4 bytes per prompt token.
    const int64_t kv200 = r["kv_bytes"]["200"], kv320 = r["kv_bytes"]["320"];
    QCOMPARE(kv200 % (2 * 2 * 8 * 4), int64_t(0));
    QVERIFY(kv200 / 128 > 200 - kLengthSlack && kv200 / 128 <= 201);  // + BOS
    QVERIFY(kv320 / 128 > 320 - kLengthSlack && kv320 / 128 <= 321);
  }

  void niah_is_deterministic_for_a_seed() {
    auto a = run_niah(*model_, niah_options());
    auto b = run_niah(*model_, niah_options());
    QCOMPARE(without_time(a), without_time(b));
    auto other = niah_options();
    other.seed = 18;
    QVERIFY(without_time(run_niah(*model_, other))["loglik"] != without_time(a)["loglik"]);
    other = niah_options();
    other.loglik = false;
    QVERIFY(run_niah(*model_, other)["loglik"][0][0].is_null());
  }

  void ruler_json_shape() {
    RunnerOptions o;
    o.tasks = {"niah_single_1", "passkey", "vt"};
    o.lengths = {256, 384};
    o.trials = 1;
    o.max_new_tokens = 4;
    auto r = run_ruler(*model_, o);
    QCOMPARE(r["tasks"], nlohmann::json(o.tasks));
    QCOMPARE(r["lengths"], nlohmann::json({256, 384}));
    QCOMPARE(r["score"].size(), size_t(3));
    for (const auto& row : r["score"]) {
      QCOMPARE(row.size(), size_t(2));
      for (const auto& s : row) QVERIFY(s.get<double>() >= 0 && s.get<double>() <= 1);
    }
    QCOMPARE(without_time(run_ruler(*model_, o)), without_time(r));
  }

  // The scorer on NIAH answers: exact and near misses.
  void scorer_hand_cases() {
    QCOMPARE(score_contains(" 4829317.", {"4829317"}), 1.0);
    QCOMPARE(score_contains("The number is 482931", {"4829317"}), 0.0);   // one digit short
    QCOMPARE(score_contains("48293177", {"4829317"}), 1.0);               // contains-score is lenient
    QCOMPARE(score_exact("48293177", {"4829317"}), 0.0);                  // exact match is not
    QCOMPARE(score_contains("1234 and 99", {"1234", "5678"}), 0.5);
    QCOMPARE(score_exact("5678, 1234.", {"1234", "5678"}), 1.0);
    QCOMPARE(score_contains("AMBER-harbor", {"amber-harbor"}), 1.0);
  }

  void ppl_buckets_and_tokens() {
    PplOptions o;
    o.length = 300;
    o.documents = 2;
    o.first_bucket = 32;
    o.engine.chunk = 64;
    auto r = run_ppl(*model_, o);
    QCOMPARE(r["buckets"], nlohmann::json({{0, 32}, {32, 64}, {64, 128}, {128, 256}, {256, 300}}));
    // Position 0 is never predicted; every later position once per document.
    QCOMPARE(r["tokens"], nlohmann::json({2 * 31, 2 * 32, 2 * 64, 2 * 128, 2 * 44}));
    // A random model is near uniform over 128256 tokens: loss ~ ln(128256) = 11.76.
    for (const auto& l : r["loss"]) QVERIFY(std::abs(l.get<double>() - std::log(128256.0)) < 0.5);
    QCOMPARE(without_time(run_ppl(*model_, o)), without_time(r));
  }

  void probe_result() {
    ProbeRequest p;
    p.needle = "The secret code of the lighthouse is 7305.";
    p.question = "What is the secret code of the lighthouse?";
    p.answer = "7305";
    p.depth = 40;
    p.length = 1500;
    p.max_new_tokens = 5;
    p.engine.chunk = 128;
    int64_t progress_calls = 0;
    auto r = run_probe(*model_, p, [&](int64_t, int64_t total) {
      ++progress_calls;
      QCOMPARE(total, int64_t(1500));
    });
    QCOMPARE(progress_calls, int64_t(12));  // ceil(1500 / 128)
    QCOMPARE(r.tokens, int64_t(1500));
    const auto& tok = model_->require_tokenizer();
    auto needle_ids = tok.encode(" " + p.needle, false);
    QCOMPARE(r.needle_span.second - r.needle_span.first, int64_t(needle_ids.size()));
    QVERIFY(std::abs(r.needle_span.first - 0.4 * 1500) < 300);
    // 1499 predicted positions in buckets of ceil(1499 / 512) = 3.
    QCOMPARE(r.loss_by_position.size(), size_t(500));
    QCOMPARE(r.loss_by_position[1].first, int64_t(4));
    // The caches hold the prompt and the fed answer tokens (at most max_new_tokens - 1).
    QVERIFY(r.memory.weights > 0 && r.memory.kv % 128 == 0);
    QVERIFY(r.memory.kv >= 128 * 1500 && r.memory.kv <= 128 * 1504);
    auto j = to_json(r);
    for (const char* key : {"answer", "found", "loss_by_position", "needle_span", "tokens", "prefill_s", "decode_s", "memory"})
      QVERIFY2(j.contains(key), key);
    for (const char* key : {"weights", "kv", "state", "activations"}) QVERIFY2(j["memory"].contains(key), key);
  }

  void bucket_losses_means() {
    auto b = bucket_losses({1, 2, 3, 4, 5}, 1, 2);  // width 3
    QCOMPARE(b.size(), size_t(2));
    QCOMPARE(b[0], std::make_pair(int64_t(1), 2.0));
    QCOMPARE(b[1], std::make_pair(int64_t(4), 4.5));
  }

  void bad_input_names_the_field() {
    ProbeRequest p;
    p.needle = "The secret code of the lighthouse is 7305.";
    p.question = "What is the secret code?";
    p.length = 10;
    expect_eval_error([&] { run_probe(*model_, p); }, "length");
    p.length = 300;
    p.haystack = "  \n ";
    expect_eval_error([&] { run_probe(*model_, p); }, "haystack");
    p.haystack.clear();
    p.depth = 120;
    expect_eval_error([&] { run_probe(*model_, p); }, "depth");
    p.depth = 50;
    p.needle = "";
    expect_eval_error([&] { run_probe(*model_, p); }, "needle");

    auto o = niah_options();
    o.depths = {-5};
    expect_eval_error([&] { run_niah(*model_, o); }, "depth");
    o = niah_options();
    o.lengths = {20};
    expect_eval_error([&] { run_niah(*model_, o); }, "length");
    o = niah_options();
    const auto empty = std::filesystem::temp_directory_path() / "hylo_test_eval_empty_corpus";
    std::filesystem::create_directories(empty);
    o.corpus_dir = empty.string();
    expect_eval_error([&] { run_niah(*model_, o); }, "essay_dir");
    o = niah_options();
    o.lengths.clear();
    expect_eval_error([&] { run_niah(*model_, o); }, "lengths");

    LoadedModel no_tok = *model_;
    no_tok.tokenizer.reset();
    expect_eval_error([&] { run_niah(no_tok, niah_options()); }, "tokenizer.json");
    expect_eval_error([&] { run_probe(no_tok, ProbeRequest{}); }, "tokenizer.json");
  }

  void cancellation() {
    std::atomic<bool> cancel{true};
    auto o = niah_options();
    o.cancel = &cancel;
    QVERIFY_THROWS_EXCEPTION(Cancelled, run_niah(*model_, o));
    ProbeRequest p;
    p.needle = "n is 1.";
    p.question = "What is n?";
    p.length = 500;
    QVERIFY_THROWS_EXCEPTION(Cancelled, run_probe(*model_, p, {}, &cancel));
  }
};

QTEST_GUILESS_MAIN(TestEval)
#include "test_eval.moc"
