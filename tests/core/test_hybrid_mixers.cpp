// The mixer zoo inside HybridModel: the factory builds every kind, checkpoint names are the HF
// ones, and prefill + decode through all four cache kinds reproduces the full forward's logits.
#include <QtTest>

#include "core/model/hybrid_model.h"
#include "core/spec/error.h"
#include "tests/core/mixer_test_util.h"

using namespace hylo;

namespace {

// attention, MLA, Mamba2, Gated DeltaNet: one layer of each.
ModelConfig hybrid_config() {
  ModelConfig c;
  c.model_type = "hylo";
  c.vocab_size = 61;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 4;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 128;
  c.rms_norm_eps = 1e-6;
  LayerSpec attn;
  attn.attention = {4, 2, 8, false, false};
  LayerSpec mla;
  mla.kind = MixerKind::MLA;
  mla.mla.num_heads = 4;
  mla.mla.num_kv_heads = 2;
  mla.mla.q_lora_rank = 16;
  mla.mla.kv_lora_rank = 12;
  mla.mla.qk_rope_head_dim = 4;
  mla.mla.qk_nope_head_dim = 4;
  mla.mla.v_head_dim = 8;
  LayerSpec m2;
  m2.kind = MixerKind::Mamba2;
  m2.mamba2.num_heads = 4;
  m2.mamba2.head_dim = 8;
  m2.mamba2.d_inner = 32;
  m2.mamba2.d_xb = 16;
  m2.mamba2.d_state = 8;
  m2.mamba2.n_groups = 4;
  m2.mamba2.chunk_size = 4;
  LayerSpec gdn;
  gdn.kind = MixerKind::GDN;
  gdn.gdn.num_heads = 4;
  gdn.gdn.num_k_heads = 2;
  gdn.gdn.head_k_dim = 8;
  gdn.gdn.head_v_dim = 16;
  gdn.gdn.chunk_size = 4;
  c.layers = {attn, mla, m2, gdn};
  return c;
}

}  // namespace

class TestHybridMixers : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void checkpointNames() {
    HybridModel model(hybrid_config());
    auto params = model.named_parameters();
    for (const char* name : {"model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.kv_b_proj.weight",
                             "model.layers.2.mamba.A_log", "model.layers.2.mamba.in_proj.weight",
                             "model.layers.3.linear_attn.A_log", "model.layers.3.linear_attn.out_proj.weight"})
      QVERIFY2(params.contains(name), name);
  }

  void prefillThenDecodeMatchesFullForward() {
    at::manual_seed(11);
    HybridModel model(hybrid_config());
    auto ids = at::randint(0, 61, {2, 10}, at::kLong);
    at::NoGradGuard no_grad;
    auto full = model.forward(ids);
    auto caches = model.make_caches(2, at::kFloat, at::kCPU);
    std::vector<at::Tensor> outs{model.forward(ids.narrow(1, 0, 6), 0, &caches)};
    for (int64_t t = 6; t < 10; ++t) outs.push_back(model.forward(ids.narrow(1, t, 1), t, &caches));
    const double err = test::rel_err(at::cat(outs, 1), full);
    QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
    auto by_kind = caches.bytes_by_kind();
    QCOMPARE(by_kind.size(), size_t(4));
    QCOMPARE(by_kind["mla_latent"], int64_t(2 * 10 * (12 + 4) * 4));
    QCOMPARE(by_kind["kv"], int64_t(2 * 2 * 10 * 2 * 8 * 4));
    QVERIFY(by_kind["ssm_state"] > 0 && by_kind["gdn_state"] > 0);
  }

  void badLayerSettingsNameTheLayer() {
    auto c = hybrid_config();
    c.layers[2].mamba2.d_inner = 31;
    try {
      HybridModel model(c);
      QFAIL("no error");
    } catch (const ModelError& e) {
      QCOMPARE(e.field(), std::string("layers[2].mamba2.d_inner"));
    }
  }
};

QTEST_GUILESS_MAIN(TestHybridMixers)
#include "test_hybrid_mixers.moc"
