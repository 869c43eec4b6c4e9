// Our teacher against transformers on the same weights: tests/fixtures/teachers/<name>/ holds a
// tiny random Llama / Qwen2 / Qwen3 (and Llama with llama3 / yarn rope scaling) saved by
// transformers, with its logits and greedy continuation (scripts/fixtures/make_teacher_fixtures.py).
#include <QtTest>

#include <QDir>

#include "core/infer/generate.h"
#include "core/io/safetensors.h"
#include "core/model/model_io.h"

using namespace hylo;

class TestTeacherParity : public QObject {
  Q_OBJECT

  QStringList fixtures() {
    const QString root = qEnvironmentVariable("HYLO_SOURCE_DIR") + "/tests/fixtures/teachers";
    QDir dir(root);
    QStringList names = dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    QStringList out;
    for (const auto& n : names) out << root + "/" + n;
    return out;
  }

 private Q_SLOTS:
  void initTestCase() {
    at::set_num_threads(2);
    if (fixtures().isEmpty())
      QFAIL("tests/fixtures/teachers is missing: run scripts/fixtures/make_teacher_fixtures.py on the GPU machine "
            "(python3 with torch + transformers) and commit its output");
  }

  void logitsMatchTransformers() {
    for (const auto& dir : fixtures()) {
      auto model = load_model(dir.toStdString(), at::kFloat, at::kCPU);
      SafetensorsReader expected((dir + "/expected.safetensors").toStdString());
      auto ids = expected.load("input_ids").to(at::kLong);
      auto want = expected.load("logits").to(at::kFloat);
      at::NoGradGuard no_grad;
      auto got = model->forward(ids);
      QCOMPARE(got.sizes(), want.sizes());
      const double scale = want.abs().max().item<double>();
      const double err = (got - want).abs().max().item<double>() / scale;
      qInfo("%s: max |logit diff| / max |logit| = %.2e", qPrintable(QDir(dir).dirName()), err);
      QVERIFY2(err <= 1e-4, qPrintable(dir));
    }
  }

  void greedyTokensMatchTransformers() {
    for (const auto& dir : fixtures()) {
      auto model = load_model(dir.toStdString(), at::kFloat, at::kCPU);
      SafetensorsReader expected((dir + "/expected.safetensors").toStdString());
      auto prompt_t = expected.load("prompt_ids").to(at::kLong).reshape({-1});
      auto want_t = expected.load("greedy_tokens").to(at::kLong).reshape({-1});
      std::vector<int64_t> prompt(prompt_t.data_ptr<int64_t>(), prompt_t.data_ptr<int64_t>() + prompt_t.numel());
      std::vector<int64_t> want(want_t.data_ptr<int64_t>(), want_t.data_ptr<int64_t>() + want_t.numel());
      GenerationOptions o;
      o.max_new_tokens = 32;
      o.eos_token_ids = model->config().eos_token_ids;
      QCOMPARE(generate(*model, prompt, o).tokens, want);
    }
  }
};

QTEST_GUILESS_MAIN(TestTeacherParity)
#include "test_teacher_parity.moc"
