// Named benchmark shapes: the teachers have the published Llama-3.2 sizes, the students put MLA on
// the HyLo paper's layers with Mamba2 or GDN elsewhere, and their per-token cache share matches
// GUIDE §4b's hand-computed figures; bad names and files are ConfigErrors naming the field.
#include <QtTest>

#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/model_shapes.h"

using namespace hylo;

namespace {

std::vector<int64_t> layers_of(const ModelConfig& c, MixerKind kind) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < c.layers.size(); ++i)
    if (c.layers[i].kind == kind) out.push_back(static_cast<int64_t>(i));
  return out;
}

}  // namespace

class TestModelShapes : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void teachers_have_llama_3_2_sizes() {
    auto l1 = model_shape("llama-1b"), l3 = model_shape("llama-3b");
    QCOMPARE(l1.num_hidden_layers, int64_t(16));
    QCOMPARE(l3.num_hidden_layers, int64_t(28));
    // GQA cache per token: 2 * 8 KV heads * head_dim per layer (GUIDE §4: 32 KiB/token at bf16 for 1B).
    QCOMPARE(kv_elements_per_token(l1) * 2, int64_t(32 * 1024));
    QCOMPARE(kv_elements_per_token(l3), int64_t(28 * 2 * 8 * 128));
    QVERIFY(l1.layers.empty() || layers_of(l1, MixerKind::Attention).size() == 16);
  }

  void students_follow_the_paper() {
    const auto l1 = model_shape("llama-1b"), l3 = model_shape("llama-3b");
    for (const char* name : {"llama-1b-hylo", "llama-1b-hylo-gdn"}) {
      auto s = model_shape(name);
      QCOMPARE(layers_of(s, MixerKind::MLA), std::vector<int64_t>({1, 5, 10, 14}));
      const auto linear = std::string(name).find("gdn") != std::string::npos ? MixerKind::GDN : MixerKind::Mamba2;
      QCOMPARE(layers_of(s, linear).size(), size_t(12));
      QCOMPARE(kv_fraction(s, l1), 640.0 / 16384.0);  // 4 MLA layers x (128 + 32): 3.9%
    }
    for (const char* name : {"llama-3b-hylo", "llama-3b-hylo-gdn"}) {
      auto s = model_shape(name);
      QCOMPARE(layers_of(s, MixerKind::MLA), std::vector<int64_t>({0, 5, 10, 16, 21, 26}));
      QCOMPARE(kv_fraction(s, l3), 6.0 * (128 + 64) / 57344.0);  // 2.0%
    }
    auto tiny = model_shape("tiny-hylo-gdn");
    QCOMPARE(layers_of(tiny, MixerKind::MLA).size(), size_t(1));
    QCOMPARE(layers_of(tiny, MixerKind::GDN).size(), size_t(3));
  }

  void every_listed_name_resolves() {
    for (const auto& n : model_shape_names()) QVERIFY2(model_shape(n).num_hidden_layers > 0, n.c_str());
  }

  void bad_names_name_the_field() {
    try {
      model_shape("llama-7b", "--model");
      QFAIL("no ConfigError");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("--model"));
      QCOMPARE(QString::fromStdString(e.file()), QString("llama-7b"));
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, model_shape("llama-1b-hylo-gdn-hylo"));
  }
};

QTEST_GUILESS_MAIN(TestModelShapes)
#include "test_model_shapes.moc"
