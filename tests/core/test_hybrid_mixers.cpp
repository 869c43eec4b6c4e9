// The mixer zoo inside HybridModel: the factory builds every kind; the parameters are exactly the
// torch-free layout of core/spec/tensor_layout.h (names, shapes, counts); prefill + decode through
// all four cache kinds reproduces the full forward; every cache holds the bytes that
// core/spec/estimates.h predicts, and the HyLo 4MLA12M2 student keeps 3.9% of its teacher's KV.
#include <QtTest>

#include <map>
#include <string>
#include <vector>

#include "core/model/hybrid_model.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/tensor_layout.h"
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
  // Variants that change the layout: biases and qk_norm, q_lora 0 with latent norms, d_xb equal to
  // d_inner (no repetition), no GDN output gate, tied embeddings.
  void layoutEqualsParameters_data() {
    QTest::addColumn<bool>("variant");
    QTest::newRow("base") << false;
    QTest::newRow("variants") << true;
  }
  void layoutEqualsParameters() {
    QFETCH(bool, variant);
    auto c = hybrid_config();
    if (variant) {
      c.layers[0].attention.bias = c.layers[0].attention.qk_norm = true;
      c.layers[1].mla.q_lora_rank = 0;
      c.layers[1].mla.latent_norm = true;
      c.layers[2].mamba2.d_xb = 32;
      c.layers[2].mamba2.n_groups = 2;
      c.layers[2].mamba2.d_state = 16;
      c.layers[3].gdn.output_gate = false;
      c.tie_word_embeddings = true;
    }
    HybridModel model(c);
    std::map<std::string, std::vector<int64_t>> ours, layout;
    int64_t numel = 0;
    for (const auto& p : model.named_parameters()) {
      ours[p.key()] = p.value().sizes().vec();
      numel += p.value().numel();
    }
    for (const auto& t : model_tensors(c)) QVERIFY2(layout.emplace(t.name, t.shape).second, t.name.c_str());
    for (const auto& [name, shape] : layout)
      QVERIFY2(ours.count(name) && ours[name] == shape, qPrintable("layout tensor " + QString::fromStdString(name)));
    for (const auto& [name, shape] : ours)
      QVERIFY2(layout.count(name), qPrintable("parameter missing from the layout " + QString::fromStdString(name)));
    QCOMPARE(count_parameters(c).total(), numel);
    for (const char* name : {"model.layers.1.self_attn.kv_b_proj.weight", "model.layers.2.mamba.A_log",
                             "model.layers.3.linear_attn.out_proj.weight"})
      QVERIFY2(ours.count(name), name);
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

  // Each layer's cache after a real prefill (and one decoded token) holds exactly
  // layer_cache_size() elements: per-token ones times the tokens in the cache dtype, the conv
  // window in the cache dtype, the recurrent state in fp32. Prefills shorter than the conv window too.
  void cacheBytesMatchEstimates_data() {
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<bool>("bf16");
    QTest::newRow("fp32, B=2, T=9") << 2 << 9 << false;
    QTest::newRow("bf16, B=1, T=7") << 1 << 7 << true;
    QTest::newRow("bf16, B=3, T=2 (shorter than the conv window)") << 3 << 2 << true;
  }
  void cacheBytesMatchEstimates() {
    QFETCH(int, batch);
    QFETCH(int, tokens);
    QFETCH(bool, bf16);
    at::manual_seed(12);
    const auto c = hybrid_config();
    HybridModel model(c);
    const auto dtype = bf16 ? at::kBFloat16 : at::kFloat;
    const int64_t cache_bytes = bf16 ? 2 : 4, state_bytes = 4;
    auto caches = model.make_caches(batch, dtype, at::kCPU);
    at::NoGradGuard no_grad;
    auto ids = at::randint(0, c.vocab_size, {batch, tokens + 1}, at::kLong);
    model.forward(ids.narrow(1, 0, tokens), 0, &caches);
    for (int64_t seen : {int64_t(tokens), int64_t(tokens + 1)}) {
      if (seen > tokens) model.forward(ids.narrow(1, tokens, 1), tokens, &caches);
      for (size_t i = 0; i < c.layers.size(); ++i) {
        const auto n = layer_cache_size(c.layers[i]);
        const int64_t expected =
            batch * ((n.per_token * seen + n.conv_state) * cache_bytes + n.recurrent_state * state_bytes);
        QVERIFY2(caches.layers[i]->bytes() == expected,
                 qPrintable(QString("layer %1 (%2) after %3 tokens: %4 bytes, expected %5")
                                .arg(i)
                                .arg(QString::fromStdString(caches.layers[i]->kind()))
                                .arg(seen)
                                .arg(caches.layers[i]->bytes())
                                .arg(expected)));
      }
      // The spec's whole-model estimate (batch 1) agrees too.
      const auto e = estimate(c, seen, Precision{4, cache_bytes, state_bytes});
      const auto by_kind = caches.bytes_by_kind();
      QCOMPARE(by_kind.at("kv") + by_kind.at("mla_latent"), batch * e.kv_bytes);
      QCOMPARE(by_kind.at("ssm_state") + by_kind.at("gdn_state"), batch * e.state_bytes);
    }
  }

  // GUIDE.md section 4: a 16-layer teacher with 8 KV heads of 64 and its 4MLA12M2 student (MLA at
  // layers 1, 5, 10, 14 with kv_lora_rank 128 + rope 32): measured per-token cache bytes are
  // 4*160 / (16*1024) = 3.9% of the teacher's; the Mamba2 state is constant and counted apart.
  // Narrow otherwise (hidden 128), so both models are small.
  void hyloFourMlaKvShare() {
    ModelConfig teacher;
    teacher.model_type = "llama";
    teacher.vocab_size = 64;
    teacher.hidden_size = 128;
    teacher.intermediate_size = 32;
    teacher.num_hidden_layers = 16;
    teacher.num_attention_heads = 8;
    teacher.num_key_value_heads = 8;
    teacher.head_dim = 64;
    teacher.max_position_embeddings = 256;
    ModelConfig student = teacher;
    student.model_type = "hylo";
    LayerSpec mla;
    mla.kind = MixerKind::MLA;
    mla.mla.num_heads = mla.mla.num_kv_heads = 8;
    mla.mla.kv_lora_rank = 128;
    mla.mla.qk_rope_head_dim = 32;
    mla.mla.qk_nope_head_dim = 32;
    mla.mla.v_head_dim = 64;
    LayerSpec m2;
    m2.kind = MixerKind::Mamba2;
    m2.mamba2.num_heads = 2;
    m2.mamba2.head_dim = 64;
    m2.mamba2.d_inner = 128;
    m2.mamba2.d_state = 16;
    m2.mamba2.chunk_size = 8;
    student.layers.assign(16, m2);
    for (int i : {1, 5, 10, 14}) student.layers[i] = mla;

    at::manual_seed(13);
    const int64_t T = 12;
    auto ids = at::randint(0, 64, {1, T}, at::kLong);
    at::NoGradGuard no_grad;
    std::map<std::string, int64_t> kinds[2];
    HybridModel t_model(teacher), s_model(student);
    HybridModel* models[2] = {&t_model, &s_model};
    for (int m = 0; m < 2; ++m) {
      auto caches = models[m]->make_caches(1, at::kBFloat16, at::kCPU);
      models[m]->forward(ids, 0, &caches);
      kinds[m] = caches.bytes_by_kind();
    }
    QCOMPARE(kinds[0].size(), size_t(1));
    QCOMPARE(kinds[0].at("kv"), T * 16 * 2 * 8 * 64 * 2);
    QCOMPARE(kinds[1].at("mla_latent"), T * 4 * 160 * 2);
    const double share = static_cast<double>(kinds[1].at("mla_latent")) / kinds[0].at("kv");
    QVERIFY(std::abs(share - 0.0390625) < 1e-15);
    QVERIFY(std::abs(share - kv_fraction(student, teacher)) < 1e-15);
    // 12 layers of conv window ((K-1) * (x + B + C) = 3 * 160, bf16) + SSM state (2*64*16, fp32).
    QCOMPARE(kinds[1].at("ssm_state"), int64_t(12 * (3 * 160 * 2 + 2 * 64 * 16 * 4)));
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
    c = hybrid_config();
    c.layers[1].mla.kv_lora_rank = 64;  // above hidden_size 32
    QVERIFY_THROWS_EXCEPTION(ModelError, HybridModel{c});
    c = hybrid_config();
    c.layers[3].gdn.num_k_heads = 3;  // does not divide 4 value heads
    try {
      HybridModel model(c);
      QFAIL("no error");
    } catch (const ModelError& e) {
      QCOMPARE(e.field(), std::string("layers[3].gdn.num_k_heads"));
    }
  }
};

QTEST_GUILESS_MAIN(TestHybridMixers)
#include "test_hybrid_mixers.moc"
