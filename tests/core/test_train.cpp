// The trainer on tiny models: chunked losses against full-logit references, zero KL against
// itself, AdamW and clipping against a hand-written fp64 update, every stage kind overfitting one batch, ILD touching only what it trains, checkpoints
// that verify, bad recipes failing before training, and kill -9 + resume equal to a clean run.
#include <QtTest>

#include "core/spec/error.h"
#include "core/train/losses.h"
#include "core/train/optimizer.h"
#include "core/train/train_checkpoint.h"
#include "tests/core/train_fixtures.h"

namespace fs = std::filesystem;
using namespace hylo;
using namespace hylo::testing;

namespace {

// A teacher of the same vocabulary, one layer more and a wider residual stream.
ModelConfig larger_teacher_config() {
  ModelConfig c = tiny_config();
  c.hidden_size = 48;
  c.intermediate_size = 96;
  c.num_hidden_layers = 3;
  c.head_dim = 12;
  return c;
}

}  // namespace

class TestTrain : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path root_;
  std::shared_ptr<HybridModel> teacher_;

  std::string recipe(const std::string& stages, const std::string& extra = "") {
    static int n = 0;
    return write_file(root_ / ("recipe" + std::to_string(n++) + ".yaml"),
                      "teacher: teacher\ndata: {train: data, seed: 5}\ncheckpoint: {every: 2, keep: 2}\n" + extra +
                          "stages:\n" + stages);
  }
  TrainOptions options(const std::string& recipe_path, const std::string& out) {
    TrainOptions o;
    o.recipe = recipe_path;
    o.student = (root_ / "student").string();
    o.out = (root_ / out).string();
    return o;
  }

 private Q_SLOTS:
  void initTestCase() {
    at::set_num_threads(1);
    root_ = tmp_.path().toStdString();
    write_model((root_ / "teacher").string(), tiny_config(), 1);
    teacher_ = std::make_shared<HybridModel>(tiny_config());
    load_weights(*teacher_, (root_ / "teacher").string());
    write_model((root_ / "student").string(), student_config(), 2, teacher_.get());
    // Upcycled from the teacher, `student` starts near the kd/long optimum; this one starts far.
    write_model((root_ / "student_random").string(), student_config(), 5);
    write_data((root_ / "data").string(), 4000, 3);
    write_data((root_ / "one").string(), 17, 4);  // one window of 16 + 1: every batch is the same
  }

  // Three AdamW steps (decay on the matrix, none on the vector) and a clipped gradient against the
  // update written out in fp64 (Loshchilov & Hutter, bias-corrected moments); on the CPU the fused
  // path cannot run: demanding it is a clear error, Auto equals Reference.
  void adamwMatchesItsDefinition() {
    at::manual_seed(3);
    const double lr = 1e-2, wd = 0.5, b1 = 0.9, b2 = 0.95, eps = 1e-8;
    at::Tensor w = at::randn({5, 4}), b = at::randn({4});
    std::vector<at::Tensor> grads_w, grads_b;
    for (int s = 0; s < 3; ++s) grads_w.push_back(at::randn({5, 4})), grads_b.push_back(at::randn({4}));
    AdamW opt({{"w", w}, {"b", b}}, b1, b2, eps);
    std::vector<at::Tensor> x = {w.to(at::kDouble), b.to(at::kDouble)}, m(2), v(2);
    for (int i = 0; i < 2; ++i) m[i] = at::zeros_like(x[i]), v[i] = at::zeros_like(x[i]);
    for (int s = 0; s < 3; ++s) {
      w.mutable_grad() = grads_w[s].clone();
      b.mutable_grad() = grads_b[s].clone();
      opt.step(lr, wd);
      for (int i = 0; i < 2; ++i) {
        const at::Tensor g = (i == 0 ? grads_w[s] : grads_b[s]).to(at::kDouble);
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        const double bc1 = 1 - std::pow(b1, s + 1), bc2 = 1 - std::pow(b2, s + 1);
        if (i == 0) x[i] = x[i] * (1 - lr * wd);  // matrices decay, vectors (norms, biases) do not
        x[i] = x[i] - lr * (m[i] / bc1) / ((v[i] / bc2).sqrt() + eps);
      }
    }
    QVERIFY((w.to(at::kDouble) - x[0]).abs().max().item<double>() < 1e-6);
    QVERIFY((b.to(at::kDouble) - x[1]).abs().max().item<double>() < 1e-6);
    QCOMPARE(opt.steps(), int64_t(3));

    const double norm = std::sqrt(grads_w[0].to(at::kDouble).pow(2).sum().item<double>() +
                                  grads_b[0].to(at::kDouble).pow(2).sum().item<double>());
    w.mutable_grad() = grads_w[0].clone();
    b.mutable_grad() = grads_b[0].clone();
    QVERIFY(std::abs(clip_grad_norm(opt.params(), 0.5) - norm) < 1e-9 * norm);
    const double clipped = std::sqrt(w.grad().pow(2).sum().item<double>() + b.grad().pow(2).sum().item<double>());
    QVERIFY(std::abs(clipped - 0.5) < 1e-5);

    opt.path = OpPath::Kernel;
    QVERIFY_THROWS_EXCEPTION(ModelError, opt.step(lr, wd));
    at::Tensor a1 = w.detach().clone(), a2 = w.detach().clone();
    for (auto path : {OpPath::Auto, OpPath::Reference}) {
      at::Tensor p = path == OpPath::Auto ? a1 : a2;
      AdamW o({{"w", p}});
      o.path = path;
      p.mutable_grad() = grads_w[1].clone();
      o.step(lr, wd);
    }
    QVERIFY(at::equal(a1, a2));
  }

  void chunkedLossEqualsFullLogits() {
    at::manual_seed(0);
    const int64_t n = 37, c = 16, v = 50;
    at::Tensor hs = at::randn({n, c}).requires_grad_(), ws = (at::randn({v, c}) * 0.3).requires_grad_();
    at::Tensor ht = at::randn({n, c}), wt = at::randn({v, c}) * 0.3, tgt = at::randint(0, v, {n}, at::kLong);
    const double temp = 2.0, ce_w = 0.3;
    DistillInputs in{hs, ws, ht, wt, tgt, temp, 1.0, ce_w, 7};
    DistillLoss d = distill_loss(in);
    d.loss.backward();
    at::Tensor gh = hs.grad().clone(), gw = ws.grad().clone();
    hs.mutable_grad() = at::Tensor();
    ws.mutable_grad() = at::Tensor();
    // Reference: full logits, the textbook KL and CE through autograd.
    at::Tensor zs = at::matmul(hs, ws.t()), zt = at::matmul(ht, wt.t());
    at::Tensor p = at::softmax(zt / temp, -1);
    at::Tensor kl = (p * (at::log(p) - at::log_softmax(zs / temp, -1))).sum(-1).mean() * temp * temp;
    at::Tensor ce = at::nll_loss(at::log_softmax(zs, -1), tgt);
    at::Tensor ref = kl + ce_w * ce;
    ref.backward();
    QVERIFY(std::abs(d.loss.item<double>() - ref.item<double>()) < 1e-5);
    QVERIFY(std::abs(d.kd - kl.item<double>()) < 1e-5);
    QVERIFY(std::abs(d.ce - ce.item<double>()) < 1e-5);
    QVERIFY(at::allclose(gh, hs.grad(), 1e-5, 1e-6));
    QVERIFY(at::allclose(gw, ws.grad(), 1e-5, 1e-6));
  }

  void kdAgainstItselfIsZero() {
    at::manual_seed(1);
    at::Tensor h = at::randn({64, 16}), w = at::randn({40, 16});
    DistillLoss d = distill_loss({h.clone().requires_grad_(), w.clone().requires_grad_(), h, w, {}, 1.5, 1.0, 0.0, 9});
    QVERIFY2(std::abs(d.kd) < 1e-6, std::to_string(d.kd).c_str());
  }

  // ru_maxrss only grows: measure the chunked loss first, then the full-logits one.
  void chunkedLossSavesMemory() {
    at::manual_seed(2);
    const int64_t n = 2048, c = 64, v = 8192;  // one fp32 (N, V) tensor: 64 MiB
    at::Tensor hs = at::randn({n, c}).requires_grad_(), ws = (at::randn({v, c}) * 0.1).requires_grad_();
    at::Tensor ht = at::randn({n, c}), wt = at::randn({v, c}) * 0.1;
    const int64_t base = max_rss();
    distill_loss({hs, ws, ht, wt, {}, 1.0, 1.0, 0.0, 128}).loss.backward();
    const int64_t chunked = max_rss() - base;
    const int64_t before_naive = max_rss();
    at::Tensor p = at::softmax(at::matmul(ht, wt.t()), -1);
    ((p * (at::log(p) - at::log_softmax(at::matmul(hs, ws.t()), -1))).sum(-1).mean()).backward();
    const int64_t naive = max_rss() - before_naive;
    qInfo("peak RSS growth: chunked %.1f MiB, full logits %.1f MiB", chunked / 1048576.0, naive / 1048576.0);
    QVERIFY(naive > int64_t(128) << 20);
    QVERIFY(chunked < naive / 4);
  }

  void eachStageKindLowersItsLoss_data() {
    QTest::addColumn<QString>("stage");
    QTest::newRow("pretrain") << "  - {kind: pretrain, seq_len: 16, steps: 15, lr: 1e-2, train: all, warmup: 0}\n";
    QTest::newRow("ild") << "  - {kind: ild, seq_len: 16, steps: 15, lr: 1e-2, warmup: 0}\n";
    // ce_weight 0: the CE term has a floor (the random teacher is near uniform); the KL has none.
    QTest::newRow("kd") << "  - {kind: kd, seq_len: 16, steps: 15, lr: 1e-2, train: all, temperature: 2, ce_weight: 0, warmup: 0}\n";
    QTest::newRow("long") << "  - {kind: long, seq_len: 16, steps: 15, lr: 1e-2, train: all, warmup: 0, "
                             "rope: {type: yarn, factor: 4, original: 8}}\n";
  }
  void eachStageKindLowersItsLoss() {
    QFETCH(QString, stage);
    auto o = options(recipe(stage.toStdString()), "fixed_" + std::string(QTest::currentDataTag()));
    o.student = (root_ / "student_random").string();
    o.data = (root_ / "one").string();
    Collect c;
    QCOMPARE(run_training(o, c), TrainOutcome::Finished);
    QCOMPARE(c.losses.size(), size_t(15));
    qInfo("%s: loss %.5f -> %.5f", QTest::currentDataTag(), c.losses.front(), c.losses.back());
    QVERIFY(c.losses.back() < 0.5 * c.losses.front());
  }

  // The teacher's RoPE in a stage (tiny teacher: 256 positions, stages at 512): a long stage past
  // its context scales it as the student unless `teacher_rope` says otherwise; a kd stage leaves it
  // as it is unless `teacher_rope` scales it. A student that is the teacher has zero KL at its first
  // step exactly when both run alike; apart, they differ at every position (YaRN and linear change
  // the low frequencies everywhere).
  void teacherRopeOfAStage_data() {
    QTest::addColumn<QString>("stage");
    QTest::addColumn<bool>("alike");
    const QString yarn = "{type: yarn, factor: 2, original: 256}", linear = "{type: linear, factor: 2, original: 256}";
    const QString lng = "  - {kind: long, seq_len: 512, steps: 1, lr: 1e-3, train: all, warmup: 0, rope: " + yarn;
    const QString kd = "  - {kind: kd, seq_len: 512, steps: 1, lr: 1e-3, train: all, warmup: 0";
    QTest::newRow("long: teacher scaled as the student") << lng + "}\n" << true;
    QTest::newRow("long: teacher_rope = rope") << lng + ", teacher_rope: " + yarn + "}\n" << true;
    QTest::newRow("long: teacher_rope linear") << lng + ", teacher_rope: " + linear + "}\n" << false;
    QTest::newRow("kd: both unscaled") << kd + "}\n" << true;
    QTest::newRow("kd: teacher_rope yarn, student unscaled") << kd + ", teacher_rope: " + yarn + "}\n" << false;
  }
  void teacherRopeOfAStage() {
    QFETCH(QString, stage);
    QFETCH(bool, alike);
    // Sharp attention and logits, so that positions matter (a random tiny model's are near uniform).
    const fs::path same = root_ / "sharp_teacher";
    if (!fs::exists(same / "config.json")) {
      NamedTensors sharp = weights_of(*teacher_);
      for (auto& [name, t] : sharp)
        if (name.find("q_proj") != std::string::npos || name.find("k_proj") != std::string::npos ||
            name.find("lm_head") != std::string::npos)
          t = t * 6.0;
      write_checkpoint(same.string(), tiny_config(), sharp);
      write_data((root_ / "data512").string(), 4000, 7);
    }
    static int run = 0;
    auto o = options(recipe(stage.toStdString()), "rope_self" + std::to_string(run++));
    o.student = same.string();
    o.teacher = same.string();
    o.data = (root_ / "data512").string();
    Collect c;
    QCOMPARE(run_training(o, c), TrainOutcome::Finished);
    QCOMPARE(c.metrics.size(), size_t(1));
    const double kd = c.metrics[0].at("loss/kd");
    if (alike) QVERIFY2(std::abs(kd) < 1e-5, std::to_string(kd).c_str());
    else QVERIFY2(kd > 1e-4, std::to_string(kd).c_str());
  }

  // KD from a different, larger teacher of the same vocabulary: only the logits have to agree.
  void largerTeacherKd() {
    write_model((root_ / "teacher_big").string(), larger_teacher_config(), 11);
    auto o = options(recipe("  - {kind: kd, seq_len: 16, steps: 15, lr: 1e-2, train: all, warmup: 0}\n"), "big");
    o.teacher = (root_ / "teacher_big").string();
    o.data = (root_ / "one").string();
    Collect c;
    QCOMPARE(run_training(o, c), TrainOutcome::Finished);
    qInfo("kd from a 3-layer 48-wide teacher: loss %.5f -> %.5f", c.losses.front(), c.losses.back());
    QVERIFY(c.losses.back() < 0.5 * c.losses.front());
  }

  void ildChangesOnlyTrainableParameters() {
    auto o = options(recipe("  - {kind: ild, seq_len: 16, steps: 3, lr: 1e-2, train: new-mixers}\n"), "ild_only");
    Collect c;
    run_training(o, c);
    QVERIFY(c.metrics.front().count("loss/ild/layer_1"));
    QVERIFY(!c.metrics.front().count("loss/ild/layer_0"));
    HybridModel before(student_config()), after(student_config());
    load_weights(before, (root_ / "student").string());
    load_weights(after, (root_ / "ild_only" / "final").string());
    auto a = after.named_parameters();
    int changed = 0;
    for (auto& item : before.named_parameters()) {
      const bool trainable = item.key().rfind("model.layers.1.self_attn.", 0) == 0;
      const bool same = at::equal(item.value(), *a.find(item.key()));
      QVERIFY2(trainable || same, item.key().c_str());
      changed += trainable && !same;
    }
    QVERIFY(changed >= 4);
  }

  void damagedCheckpointIsSkipped() {
    auto o = options(recipe("  - {kind: kd, seq_len: 16, steps: 4, lr: 1e-3, train: all}\n"), "damaged");
    Collect c;
    run_training(o, c);
    const fs::path ck = fs::path(o.out) / "checkpoints";
    std::vector<std::string> rejected;
    auto newest = find_latest_checkpoint(ck.string(), &rejected);
    QVERIFY(newest && rejected.empty());
    QCOMPARE(newest->state["global_step"].get<int64_t>(), int64_t(4));
    fs::resize_file(ck / "step_000000004" / "model.safetensors", 100);
    auto older = find_latest_checkpoint(ck.string(), &rejected);
    QVERIFY(older);
    QCOMPARE(older->state["global_step"].get<int64_t>(), int64_t(2));
    QCOMPARE(rejected.size(), size_t(1));
    QVERIFY(rejected[0].find("model.safetensors") != std::string::npos);
  }

  // The student's tokenizer.json is read once: deleting it mid-run (the init folder cleaned up)
  // leaves every later checkpoint and the final folder whole.
  void checkpointsKeepTheTokenizerWhenItsSourceGoes() {
    const fs::path student = root_ / "student_tok";
    fs::create_directories(student);
    for (auto& e : fs::directory_iterator(root_ / "student")) fs::copy(e.path(), student / e.path().filename());
    const std::string text = "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}, \"note\": \"test\"}\n";
    write_file(student / "tokenizer.json", text);
    auto o = options(recipe("  - {kind: kd, seq_len: 16, steps: 4, lr: 1e-3, train: all}\n"), "tok_gone");
    o.student = student.string();
    struct RemoveOnFirstStep : Collect {
      fs::path victim;
      void on_step(const StepReport& r, int64_t total) override {
        Collect::on_step(r, total);
        fs::remove(victim);
      }
    } c;
    c.victim = student / "tokenizer.json";
    run_training(o, c);
    QCOMPARE(c.losses.size(), size_t(4));
    QVERIFY(!fs::exists(c.victim));
    const fs::path ck = fs::path(o.out) / "checkpoints";
    for (const fs::path& dir : {ck / "step_000000002", ck / "step_000000004", fs::path(o.out) / "final"})
      QCOMPARE(file_bytes(dir / "tokenizer.json"), text);
    std::vector<std::string> rejected;
    QVERIFY(find_latest_checkpoint(ck.string(), &rejected).has_value());
    QVERIFY(rejected.empty());
  }

  void badInputFailsBeforeTraining_data() {
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("field");
    QTest::newRow("unknown kind") << "kind" << "stages[0].kind";
    QTest::newRow("seq_len beyond data") << "seq_len" << "stages[0].seq_len";
    QTest::newRow("teacher vocabulary") << "vocab" << "vocab_size";
    QTest::newRow("missing shard") << "shard" << "shard_00000.bin";
    QTest::newRow("missing student") << "student" << "--student";
    QTest::newRow("ild teacher of another shape") << "ild_shape" << "num_hidden_layers";
  }
  void badInputFailsBeforeTraining() {
    QFETCH(QString, what);
    QFETCH(QString, field);
    const std::string w = what.toStdString();
    std::string stage = "  - {kind: kd, seq_len: 16, steps: 2, lr: 1e-3}\n";
    if (w == "kind") stage = "  - {kind: distill, seq_len: 16, steps: 2, lr: 1e-3}\n";
    if (w == "seq_len") stage = "  - {kind: kd, seq_len: 8192, steps: 2, lr: 1e-3}\n";
    if (w == "ild_shape") stage = "  - {kind: ild, seq_len: 16, steps: 2, lr: 1e-3}\n";
    auto o = options(recipe(stage), "bad_" + w);
    if (w == "vocab") {
      ModelConfig other = tiny_config();
      other.vocab_size = 80;
      write_model((root_ / "teacher80").string(), other, 9);
      o.teacher = (root_ / "teacher80").string();
    }
    if (w == "shard") {
      fs::copy(root_ / "data", root_ / "data_copy");
      fs::remove(root_ / "data_copy" / "shard_00000.bin");
      o.data = (root_ / "data_copy").string();
    }
    if (w == "student") o.student = (root_ / "nowhere").string();
    if (w == "ild_shape") {
      write_model((root_ / "teacher_wide").string(), larger_teacher_config(), 12);
      o.teacher = (root_ / "teacher_wide").string();
    }
    Collect c;
    try {
      run_training(o, c);
      QFAIL("no error");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find(field.toStdString()) != std::string::npos, e.what());
    }
    QVERIFY(c.losses.empty());
    QVERIFY(!fs::exists(fs::path(o.out) / "checkpoints"));
  }
  // The real binary, killed with SIGKILL at a random step and resumed, must reproduce a clean run
  // exactly: every step's loss and the final weights, byte for byte.
  void killAndResumeEqualsCleanRun() {
    const std::string r = recipe("  - {kind: kd, seq_len: 16, steps: 12, batch_size: 2, lr: 1e-3, train: all}\n");
    auto args = [&](const std::string& out) {
      return std::vector<std::string>{"train", r, "--student", (root_ / "student").string(), "--out",
                                      (root_ / out).string(), "--threads", "1"};
    };
    Child clean = run_hylo(args("clean"));
    QCOMPARE(clean.exit_code, 0);
    QCOMPARE(clean.losses.size(), size_t(12));
    std::random_device rd;
    const int64_t kill_at = 3 + static_cast<int64_t>(rd() % 8);  // 3..10
    qInfo("killing at step %lld", static_cast<long long>(kill_at));
    Child killed = run_hylo(args("killed"), kill_at, SIGKILL);
    QCOMPARE(killed.signal, SIGKILL);
    auto resume_args = args("killed");
    resume_args.push_back("--resume");
    Child resumed = run_hylo(resume_args);
    QCOMPARE(resumed.exit_code, 0);
    QVERIFY(resumed.losses.begin()->first <= kill_at + 1);
    std::map<int64_t, double> joined = killed.losses;
    for (auto& [step, loss] : resumed.losses) joined[step] = loss;
    QCOMPARE(joined.size(), clean.losses.size());
    for (auto& [step, loss] : clean.losses) QVERIFY2(joined[step] == loss, std::to_string(step).c_str());
    const std::string a = file_bytes(root_ / "clean" / "final" / "model.safetensors");
    QVERIFY(!a.empty());
    QVERIFY(a == file_bytes(root_ / "killed" / "final" / "model.safetensors"));
  }

  // SIGTERM: the step finishes, a checkpoint is written, the exit code is 130.
  void sigtermCheckpointsAndExits130() {
    const std::string r = recipe("  - {kind: kd, seq_len: 16, steps: 50, lr: 1e-3, train: all}\n");
    Child c = run_hylo({"train", r, "--student", (root_ / "student").string(), "--out", (root_ / "term").string(),
                        "--threads", "1"}, 3, SIGTERM);
    QCOMPARE(c.exit_code, 130);
    QVERIFY(c.losses.size() < 50);
    auto found = find_latest_checkpoint((root_ / "term" / "checkpoints").string(), nullptr);
    QVERIFY(found);
    QCOMPARE(found->state["global_step"].get<int64_t>(), c.losses.rbegin()->first);
  }
};

QTEST_GUILESS_MAIN(TestTrain)
#include "test_train.moc"
