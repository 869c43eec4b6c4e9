// What the trainer needs at scale, on tiny models on the CPU: activation checkpointing gives the
// gradients of the plain backward, bf16 autocast trains with fp32 master weights, two Gloo ranks
// equal one process with the same global batch, and `hylo bench train` reports FLOPs by the
// documented formula.
#include <QtTest>

#include "core/spec/estimates.h"
#include "core/train/autocast.h"
#include "core/train/recompute.h"
#include "core/train/train_checkpoint.h"
#include "tests/core/train_fixtures.h"

namespace fs = std::filesystem;
using namespace hylo;
using namespace hylo::testing;

namespace {

// Gradients of sum(hidden * w) for every parameter that trains.
std::map<std::string, at::Tensor> hidden_grads(HybridModel& m, const at::Tensor& ids, const at::Tensor& w,
                                               bool recompute) {
  for (auto& p : m.parameters()) p.mutable_grad() = at::Tensor();
  (student_hidden(m, ids, recompute) * w).sum().backward();
  std::map<std::string, at::Tensor> out;
  for (auto& item : m.named_parameters())
    if (item.value().grad().defined()) out[item.key()] = item.value().grad().clone();  // lm_head gets none
  return out;
}

// Every step's loss of a `hylo train` run, read from its JSON lines.
std::vector<double> losses_of(const Child& c) {
  std::vector<double> out;
  for (auto& [step, loss] : c.losses) out.push_back(loss);
  return out;
}

}  // namespace

class TestTrainScale : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path root_;

  std::string recipe(const std::string& name, const std::string& stages) {
    return write_file(root_ / name, "teacher: teacher\ndata: {train: data, seed: 5}\ncheckpoint: {every: 100, keep: 1}\n"
                                    "stages:\n" + stages);
  }

 private Q_SLOTS:
  void initTestCase() {
    at::set_num_threads(1);
    root_ = tmp_.path().toStdString();
    write_model((root_ / "teacher").string(), tiny_config(), 1);
    HybridModel teacher(tiny_config());
    load_weights(teacher, (root_ / "teacher").string());
    write_model((root_ / "student").string(), student_config(), 2, &teacher);
    write_model((root_ / "student_random").string(), student_config(), 5);  // far from the teacher
    write_data((root_ / "data").string(), 4000, 3);
    write_data((root_ / "one").string(), 17, 4);
  }

  void recomputeGivesTheSameGradients_data() {
    QTest::addColumn<bool>("frozen_embedding");
    QTest::newRow("all train") << false;
    QTest::newRow("frozen embedding") << true;  // the first layer's input has no graph of its own
  }
  void recomputeGivesTheSameGradients() {
    QFETCH(bool, frozen_embedding);
    at::manual_seed(3);
    HybridModel m(student_config());
    if (frozen_embedding) m.model->embed_tokens->weight.set_requires_grad(false);
    const at::Tensor ids = at::randint(64, {2, 12}, at::kLong), w = at::randn({2, 12, 32});
    auto plain = hidden_grads(m, ids, w, false);
    auto again = hidden_grads(m, ids, w, true);
    QCOMPARE(again.size(), plain.size());
    for (auto& [name, g] : plain) {
      QVERIFY2(again[name].defined(), name.c_str());
      QVERIFY2(at::allclose(again[name], g, 1e-5, 1e-7), name.c_str());
    }
    QVERIFY(plain.count("model.layers.0.self_attn.q_proj.weight"));
  }

  void autocastScopeRunsMatmulsInBf16() {
    const at::Tensor a = at::randn({4, 8}), b = at::randn({8, 3});
    {
      AutocastScope on(at::kCPU, true);
      QCOMPARE(at::matmul(a, b).scalar_type(), at::kBFloat16);
      AutocastScope off(at::kCPU, false);  // a disabled scope changes nothing
      QCOMPARE(at::matmul(a, b).scalar_type(), at::kBFloat16);
    }
    QCOMPARE(at::matmul(a, b).scalar_type(), at::kFloat);
  }

  // bf16 compute, fp32 parameters: the loss falls and the weights written are fp32 and moved.
  void bf16AutocastTrainsFp32Weights() {
    TrainOptions o;
    o.recipe = recipe("bf16.yaml", "  - {kind: kd, seq_len: 16, steps: 12, lr: 1e-2, train: all, ce_weight: 0, warmup: 0}\n");
    o.student = (root_ / "student_random").string();
    o.data = (root_ / "one").string();
    o.out = (root_ / "bf16").string();
    o.bf16_autocast = true;
    o.activation_checkpointing = true;
    Collect c;
    QCOMPARE(run_training(o, c), TrainOutcome::Finished);
    qInfo("bf16 autocast + checkpointing: loss %.5f -> %.5f", c.losses.front(), c.losses.back());
    QVERIFY(c.losses.back() < 0.5 * c.losses.front());
    auto weights = read_named_tensors((root_ / "bf16" / "final" / "model.safetensors").string());
    QVERIFY(!weights.empty());
    for (auto& [name, t] : weights) QVERIFY2(t.scalar_type() == at::kFloat, name.c_str());
  }

  // Two ranks with batch 2 each against one process with batch 4: the same windows per step, the
  // gradient mean formed by an all-reduce instead of one backward. Summation order differs, so
  // equality is up to fp32 rounding: losses within 1e-5 relative, weights within 1e-5 absolute
  // (lr 1e-3, 6 AdamW steps; a wrong averaging or sharding moves them by ~1e-3).
  void twoGlooRanksEqualOneProcess() {
    const std::string r =
        recipe("dp.yaml", "  - {kind: kd, seq_len: 16, steps: 6, batch_size: 4, lr: 1e-3, train: all, ce_weight: 0.5}\n");
    auto args = [&](const std::string& out) {
      return std::vector<std::string>{"train", r, "--student", (root_ / "student").string(), "--out",
                                      (root_ / out).string(), "--threads", "1"};
    };
    Child one = run_hylo(args("dp1"));
    QCOMPARE(one.exit_code, 0);
    auto two_args = args("dp2");
    two_args.insert(two_args.end(), {"--nproc", "2"});
    Child two = run_hylo(two_args);
    QCOMPARE(two.exit_code, 0);
    const auto a = losses_of(one), b = losses_of(two);
    QCOMPARE(a.size(), size_t(6));
    QCOMPARE(b.size(), a.size());  // rank 0 alone reports
    for (size_t i = 0; i < a.size(); ++i) QVERIFY2(std::abs(a[i] - b[i]) <= 1e-5 * std::abs(a[i]), std::to_string(i).c_str());
    HybridModel w1(student_config()), w2(student_config()), start(student_config());
    load_weights(w1, (root_ / "dp1" / "final").string());
    load_weights(w2, (root_ / "dp2" / "final").string());
    load_weights(start, (root_ / "student").string());
    auto p2 = w2.named_parameters(), p0 = start.named_parameters();
    double max_diff = 0, max_moved = 0;
    for (auto& item : w1.named_parameters()) {
      max_diff = std::max(max_diff, (item.value() - *p2.find(item.key())).abs().max().item<double>());
      max_moved = std::max(max_moved, (item.value() - *p0.find(item.key())).abs().max().item<double>());
    }
    qInfo("2 ranks vs 1 process: max |dw| %.3g (training moved weights by up to %.3g)", max_diff, max_moved);
    QVERIFY(max_moved > 1e-3);
    QVERIFY(max_diff <= 1e-5);
    // The checkpoint keeps both ranks' sampler positions.
    auto found = find_latest_checkpoint((root_ / "dp2" / "checkpoints").string(), nullptr);
    QVERIFY(found);
    QCOMPARE(found->state["samplers"].size(), size_t(2));
  }

  void benchTrainReportsModelFlops() {
    const fs::path out = root_ / "bench.json";
    Child c = run_hylo({"bench", "train", (root_ / "student").string(), "--teacher", (root_ / "teacher").string(),
                        "--seq-len", "16", "--batch", "2", "--steps", "2", "--warmup", "1", "--peak-tflops", "0.5",
                        "--json", out.string(), "--threads", "1"});
    QCOMPARE(c.exit_code, 0);
    std::ifstream in(out);
    const auto j = nlohmann::json::parse(in);
    const double fs = estimate(student_config(), 16).prefill_flops_per_token;
    const double ft = estimate(tiny_config(), 16).prefill_flops_per_token;
    QCOMPARE(j["stage"].get<std::string>(), std::string("kd"));
    QVERIFY(fs > 0 && ft > 0);
    QCOMPARE(j["model_flops_per_token"].get<double>(), 3 * fs + ft);
    const double tps = j["tokens_per_s"].get<double>();
    QVERIFY(tps > 0);
    QVERIFY(std::abs(j["achieved_tflops"].get<double>() - (3 * fs + ft) * tps / 1e12) <= 1e-12);
    QVERIFY(std::abs(j["mfu"].get<double>() - j["achieved_tflops"].get<double>() / 0.5) <= 1e-12);
    QVERIFY(j["peak_mem_bytes"].get<int64_t>() > 0);
    QVERIFY(std::isfinite(j["last_loss"].get<double>()));
    QCOMPARE(j["ranks"].get<int>(), 1);
  }

  // --trace writes a Chrome trace of the timed steps: operators, and each layer's mixer and MLP
  // as named scopes (what bench/trace_summary.py groups the GPU time by).
  void benchTrainTraceNamesLayerScopes() {
    const fs::path trace = root_ / "trace.json";
    Child c = run_hylo({"bench", "train", (root_ / "student").string(), "--teacher", (root_ / "teacher").string(),
                        "--seq-len", "16", "--steps", "1", "--warmup", "1", "--trace", trace.string(), "--threads",
                        "1"});
    QCOMPARE(c.exit_code, 0);
    std::ifstream in(trace);
    const auto j = nlohmann::json::parse(in);
    std::map<std::string, int> scopes;
    int ops = 0;
    for (const auto& e : j.at("traceEvents")) {
      const std::string cat = e.value("cat", "");
      if (cat == "user_annotation") ++scopes[e.at("name").get<std::string>()];
      if (cat == "cpu_op") ++ops;
    }
    // One step: the student and the teacher run 2 layers each, forward only under the scopes.
    QCOMPARE(scopes["mixer:" + to_string(MixerKind::Attention)], 4);
    QCOMPARE(scopes["mlp"], 4);
    QVERIFY(ops > 50);
  }

  // Two Gloo ranks: rank 0 alone reports, counting the tokens of both.
  void benchTrainWithTwoRanks() {
    const fs::path out = root_ / "bench2.json";
    Child c = run_hylo({"bench", "train", (root_ / "student").string(), "--seq-len", "16", "--steps", "2",
                        "--warmup", "0", "--nproc", "2", "--json", out.string(), "--threads", "1"});
    QCOMPARE(c.exit_code, 0);
    std::ifstream in(out);
    const auto j = nlohmann::json::parse(in);
    QCOMPARE(j["ranks"].get<int>(), 2);
    QCOMPARE(j["stage"].get<std::string>(), std::string("pretrain"));
    QVERIFY(j["tokens_per_s"].get<double>() > 0);
  }
};

QTEST_GUILESS_MAIN(TestTrainScale)
#include "test_train_scale.moc"
