// The trainer on tiny models: chunked losses against full-logit references, zero KL against
// itself, every stage kind overfitting one batch, ILD touching only what it trains, checkpoints
// that verify, bad recipes failing before training, and kill -9 + resume equal to a clean run.
#include <ATen/ATen.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/model/hybrid_model.h"
#include "core/spec/error.h"
#include "core/train/data.h"
#include "core/train/losses.h"
#include "core/train/train_checkpoint.h"
#include "core/train/trainer.h"

namespace fs = std::filesystem;
using namespace hylo;

namespace {

ModelConfig tiny_config() {
  ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 256;
  c.rms_norm_eps = 1e-5;
  return c;
}

NamedTensors weights_of(HybridModel& m) {
  NamedTensors out;
  for (auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value().detach().clone());
  return out;
}

void write_model(const std::string& dir, const ModelConfig& c, uint64_t seed, HybridModel* copy_from = nullptr) {
  at::manual_seed(seed);
  HybridModel m(c);
  if (copy_from) {
    at::NoGradGuard g;
    auto src = copy_from->named_parameters();
    for (auto& item : m.named_parameters())
      if (auto* t = src.find(item.key()); t && t->sizes() == item.value().sizes()) item.value().copy_(*t);
  }
  write_checkpoint(dir, c, weights_of(m));
}

// Layer 1 of the student has one KV head where the teacher has two: a mixer the teacher lacks.
ModelConfig student_config() {
  ModelConfig c = tiny_config();
  LayerSpec keep;
  keep.attention = c.teacher_attention();
  LayerSpec changed = keep;
  changed.attention.num_kv_heads = 1;
  c.layers = {keep, changed};
  return c;
}

void write_data(const std::string& dir, int64_t tokens, uint64_t seed) {
  ShardWriter w(dir, 1 << 20, "", 64, 0, true);
  std::mt19937 rng(seed);
  int64_t written = 0;
  while (written < tokens) {
    std::vector<int32_t> doc(std::min<int64_t>(40, tokens - written - 1 > 0 ? tokens - written - 1 : 1));
    // A repeating pattern the model can learn, with some noise.
    for (size_t i = 0; i < doc.size(); ++i) doc[i] = 1 + static_cast<int32_t>((i * 7 + rng() % 2) % 63);
    w.add_document(doc);
    written = w.tokens_written();
  }
  w.finish();
}

struct Collect : TrainObserver {
  std::vector<double> losses;
  std::vector<std::map<std::string, double>> metrics;
  void on_step(const StepReport& r, int64_t) override {
    losses.push_back(r.metrics.at("loss"));
    metrics.push_back(r.metrics);
  }
};

std::string write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

int64_t max_rss() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss * 1024;
}

// Runs `hylo train ...`, reading its JSON lines; `on_step(step)` returning true sends `sig`.
struct Child {
  int exit_code = -1, signal = 0;
  std::map<int64_t, double> losses;  // step -> loss
};
Child run_hylo(const std::vector<std::string>& args, int64_t signal_at_step = -1, int sig = SIGKILL) {
  const char* bin = std::getenv("HYLO_BINARY_DIR");
  const std::string exe = std::string(bin ? bin : ".") + "/app/hylo";
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  Child c;
  FILE* out = fdopen(fds[0], "r");
  char* line = nullptr;
  size_t cap = 0;
  bool sent = false;
  while (getline(&line, &cap, out) > 0) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != "step") continue;
    const int64_t step = j["step"].get<int64_t>();
    c.losses[step] = j["metrics"]["loss"].get<double>();
    if (!sent && step == signal_at_step) {
      kill(pid, sig);
      sent = true;
    }
  }
  free(line);
  fclose(out);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) c.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) c.signal = WTERMSIG(status);
  return c;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
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
    write_data((root_ / "data").string(), 4000, 3);
    write_data((root_ / "one").string(), 17, 4);  // one window of 16 + 1: every batch is the same
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
    QTest::newRow("kd") << "  - {kind: kd, seq_len: 16, steps: 15, lr: 1e-2, train: all, temperature: 2, ce_weight: 0.1, warmup: 0}\n";
    QTest::newRow("long") << "  - {kind: long, seq_len: 16, steps: 15, lr: 1e-2, train: all, warmup: 0, "
                             "rope: {type: yarn, factor: 4, original: 8}}\n";
  }
  void eachStageKindLowersItsLoss() {
    QFETCH(QString, stage);
    auto o = options(recipe(stage.toStdString()), "fixed_" + std::string(QTest::currentDataTag()));
    o.data = (root_ / "one").string();
    Collect c;
    QCOMPARE(run_training(o, c), TrainOutcome::Finished);
    QCOMPARE(c.losses.size(), size_t(15));
    qInfo("%s: loss %.5f -> %.5f", QTest::currentDataTag(), c.losses.front(), c.losses.back());
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

  void badInputFailsBeforeTraining_data() {
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("field");
    QTest::newRow("unknown kind") << "kind" << "stages[0].kind";
    QTest::newRow("seq_len beyond data") << "seq_len" << "stages[0].seq_len";
    QTest::newRow("teacher vocabulary") << "vocab" << "vocab_size";
    QTest::newRow("missing shard") << "shard" << "shard_00000.bin";
    QTest::newRow("missing student") << "student" << "--student";
  }
  void badInputFailsBeforeTraining() {
    QFETCH(QString, what);
    QFETCH(QString, field);
    const std::string w = what.toStdString();
    std::string stage = "  - {kind: kd, seq_len: 16, steps: 2, lr: 1e-3}\n";
    if (w == "kind") stage = "  - {kind: distill, seq_len: 16, steps: 2, lr: 1e-3}\n";
    if (w == "seq_len") stage = "  - {kind: kd, seq_len: 8192, steps: 2, lr: 1e-3}\n";
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
