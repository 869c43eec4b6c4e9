// The auto-planner on a synthetic teacher whose attention pattern is known: every token embeds
// to the same vector, so each layer's q and k are the same at every position and the scores depend
// only on the distance. Layers 0, 1, 3 have k = q (RoPE then peaks at distance 0: local
// attention); layer 2 has W_q = 0 (uniform attention over every earlier token: far-reaching).
#include <QtTest>

#include "core/model/hybrid_model.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/upcycle/planner.h"

namespace {

constexpr int64_t kFarLayer = 2;

hylo::ModelConfig synthetic_config() {
  hylo::ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 16;
  c.hidden_size = 32;
  c.intermediate_size = 32;
  c.num_hidden_layers = 4;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 16;
  c.max_position_embeddings = 4096;
  c.rope_theta = 10000;
  return c;
}

std::shared_ptr<hylo::HybridModel> synthetic_teacher() {
  const auto config = synthetic_config();
  at::manual_seed(23);
  auto model = std::make_shared<hylo::HybridModel>(config);
  at::NoGradGuard no_grad;
  const int64_t C = config.hidden_size, D = config.head_dim;
  auto& embed = model->model->embed_tokens->weight;
  embed.copy_(at::randn({1, C}).expand({config.vocab_size, C}));
  const auto g = 4.0 * at::randn({D, C}) / std::sqrt(static_cast<double>(C));  // |q| ~ 4 per dim
  const auto v = at::randn({D, C}) / std::sqrt(static_cast<double>(C));
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    auto& a = dynamic_cast<hylo::AttentionMixer&>(*model->layer(i).mixer);
    a.k_proj->weight.copy_(g);
    a.v_proj->weight.copy_(v);  // same K and V everywhere: equal SVD errors, the attention pattern decides
    if (i == kFarLayer) a.q_proj->weight.zero_();
    else a.q_proj->weight.copy_(at::cat({g, g}, 0));  // both query heads read the one KV head with q = k
  }
  return model;
}

hylo::PlannerOptions options(double budget) {
  hylo::PlannerOptions o;
  o.kv_budget = budget;
  o.long_range = 256;
  o.base.mla.kv_lora_rank = 16;  // + rope 8 = 24 elements per token; the teacher has 4 * 32 = 128
  return o;
}

at::Tensor calibration(int64_t T) { return at::zeros({1, T}, at::kLong); }

}  // namespace

class TestPlanner : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void farAttendingLayerIsChosenFirst() {
    auto teacher = synthetic_teacher();
    const auto s = hylo::suggest_plan(*teacher, calibration(768), options(0.2));
    QString table;
    for (const auto& r : s.scores)
      table += QString("\n  layer %1 entropy %2 long-range %3 svd %4 score %5")
                   .arg(r.layer).arg(r.entropy, 0, 'f', 3).arg(r.long_range_mass, 0, 'f', 4)
                   .arg(r.svd_error, 0, 'f', 4).arg(r.score, 0, 'f', 4);
    qInfo("%s", qPrintable(table));
    QCOMPARE(s.ranking.front(), kFarLayer);
    QCOMPARE(s.mla_layers, int64_t(1));
    QVERIFY(s.plan.layers == (std::map<int64_t, hylo::MixerKind>{{kFarLayer, hylo::MixerKind::MLA}}));
    QVERIFY(s.plan.default_kind == hylo::MixerKind::Mamba2);
    QCOMPARE(QString::fromStdString(s.plan.name), QString("1MLA3M2"));
    QVERIFY(std::abs(s.kv_fraction - 24.0 / 128.0) < 1e-12);
    // Uniform attention: normalised entropy 1 and the far share of keys; the local layers neither.
    const auto& far = s.scores[kFarLayer];
    QVERIFY(far.entropy > 0.99 && far.long_range_mass > 0.2);
    for (int64_t i : {0, 1, 3}) {
      QVERIFY2(s.scores[i].long_range_mass < 0.01, qPrintable(table));
      QVERIFY(s.scores[i].entropy < 0.5);
      QCOMPARE(s.scores[i].svd_error, far.svd_error);
    }
  }

  void budgetDecidesTheMlaCount() {
    auto teacher = synthetic_teacher();
    auto o = options(0.4);  // 51.2 elements: two MLA layers of 24
    o.linear = hylo::MixerKind::GDN;
    const auto s = hylo::suggest_plan(*teacher, calibration(400), o);
    QCOMPARE(s.mla_layers, int64_t(2));
    QVERIFY(s.plan.layers.count(kFarLayer));
    QVERIFY(s.plan.default_kind == hylo::MixerKind::GDN);
    QVERIFY(s.kv_fraction <= 0.4);
    // The plan is a valid plan for this teacher and round-trips through YAML.
    const auto again = hylo::LayerPlan::from_yaml(s.plan.to_yaml());
    QCOMPARE(QString::fromStdString(hylo::compact_name(again.resolve(teacher->config()))), QString("2MLA2GDN"));
  }

  void badRequestsAreConfigErrors() {
    auto teacher = synthetic_teacher();
    try {
      hylo::suggest_plan(*teacher, calibration(400), options(0.1));  // 12.8 elements < one MLA layer
      QFAIL("a budget below one MLA layer was accepted");
    } catch (const hylo::ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("kv_budget"));
    }
    QVERIFY_EXCEPTION_THROWN(hylo::suggest_plan(*teacher, calibration(200), options(0.2)), hylo::ConfigError);
    auto o = options(0.2);
    o.linear = hylo::MixerKind::MLA;
    QVERIFY_EXCEPTION_THROWN(hylo::suggest_plan(*teacher, calibration(400), o), hylo::ConfigError);
  }
};

QTEST_GUILESS_MAIN(TestPlanner)
#include "test_planner.moc"
