// Estimates: published parameter counts, hand-computed mixer sizes and states, the HyLo KV
// fractions, FLOPs against the written formula, and monotonicity in the context length.
#include <QtTest>

#include <algorithm>

#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/plan.h"
#include "core/spec/tensor_layout.h"
#include "teachers.h"

using namespace hylo;

namespace {

ModelConfig preset_student(const ModelConfig& teacher, const std::string& name) {
  for (const auto& p : plan_presets(teacher))
    if (p.name == name) return p.plan.resolve(teacher);
  throw std::runtime_error("no preset " + name);
}

ModelConfig teacher_by_index(int i) {
  return i == 0 ? test::llama_3_2_1b() : i == 1 ? test::llama_3_2_3b() : test::qwen3_1_7b();
}

}  // namespace

class TestEstimates : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void publishedParameterCounts() {
    QCOMPARE(count_parameters(test::llama_3_2_1b()).total(), int64_t(1235814400));
    QCOMPARE(count_parameters(test::llama_3_2_3b()).total(), int64_t(3212749824));
    // Qwen3-1.7B ties its embeddings (1.72B unique parameters), yet the Hub checkpoint stores an
    // lm_head copy as well: its file holds 2,031,739,904 values, the untied count.
    auto qwen = test::qwen3_1_7b();
    QCOMPARE(count_parameters(qwen).total(), int64_t(2031739904) - 151936 * 2048);
    qwen.tie_word_embeddings = false;
    QCOMPARE(count_parameters(qwen).total(), int64_t(2031739904));
  }

  void countsEqualTheTensorList() {
    for (int i = 0; i < 3; ++i) {
      const auto t = teacher_by_index(i);
      for (const auto& p : plan_presets(t)) {
        const auto student = p.plan.resolve(t);
        int64_t sum = 0;
        for (const auto& tensor : model_tensors(student)) sum += tensor.numel();
        QCOMPARE(count_parameters(student).total(), sum);
      }
    }
    const auto tensors = model_tensors(test::llama_3_2_1b());
    QCOMPARE(tensors.size(), size_t(1 + 16 * 9 + 1));  // embedding, 9 per layer, final norm; lm_head tied
    QCOMPARE(tensors[2].name, std::string("model.layers.0.self_attn.q_proj.weight"));
    QVERIFY(tensors[2].shape == std::vector<int64_t>({2048, 2048}));
    QCOMPARE(tensors[3].name, std::string("model.layers.0.self_attn.k_proj.weight"));
    QVERIFY(tensors[3].shape == std::vector<int64_t>({512, 2048}));
  }

  void mixerSizesByHand() {
    const auto s = preset_student(test::llama_3_2_1b(), "HyLo 4MLA12M2");
    const auto p = count_parameters(s);
    // MLA: q_a (1344, 2048), q_b (32*64, 1344), kv_a (128+32, 2048), kv_b (8*(32+64), 128), o (2048, 32*64).
    QCOMPARE(p.layers[1].mixer, int64_t(1344 * 2048 + 2048 * 1344 + 160 * 2048 + 768 * 128 + 2048 * 2048));
    // Mamba2: in_proj [z 2048 | x 512 | B 512 | C 2048 | dt 32], conv 3072 x 4 + bias, dt_bias/A_log/D, norm, out.
    QCOMPARE(p.layers[0].mixer, int64_t(5152 * 2048 + 3072 * 4 + 3072 + 3 * 32 + 2048 + 2048 * 2048));
    QCOMPARE(p.layers[0].mlp, int64_t(3 * 2048 * 8192));
    QCOMPARE(p.layers[0].norms, int64_t(2 * 2048));
    // GDN 6 heads, k 256, v 512: qkvz (2*1536 + 2*3072), ba (12), conv (1536*2 + 3072) x 4, dt_bias, A_log, norm, out.
    const auto g = count_parameters(preset_student(test::llama_3_2_1b(), "HyLo 4MLA12GDN"));
    const int64_t gdn = 9216 * 2048 + 12 * 2048 + 6144 * 4 + 6 + 6 + 512 + 2048 * 3072;
    QCOMPARE(g.layers[0].mixer, gdn);
    QVERIFY(gdn > 24'000'000 && gdn < 26'000'000);  // "~25M parameters per GDN layer at 1B"
    // Qwen2-style q/k/v biases add exactly their three vectors per layer.
    auto biased = test::llama_3_2_1b();
    biased.attention_bias = true;
    QCOMPARE(count_parameters(biased).total() - count_parameters(test::llama_3_2_1b()).total(),
             int64_t(16 * (2048 + 512 + 512)));
    // Latent norms add the two latent widths.
    MlaSettings mla = s.layers[1].mla;
    LayerSpec with_norm;
    with_norm.kind = MixerKind::MLA;
    with_norm.mla = mla;
    with_norm.mla.latent_norm = true;
    LayerSpec without = with_norm;
    without.mla.latent_norm = false;
    int64_t a = 0, b = 0;
    for (auto& t : mixer_tensors(with_norm, 2048)) a += t.numel();
    for (auto& t : mixer_tensors(without, 2048)) b += t.numel();
    QCOMPARE(a - b, int64_t(1344 + 128));
  }

  void kvFractions_data() {
    QTest::addColumn<int>("teacher");
    QTest::addColumn<QString>("preset");
    QTest::addColumn<double>("fraction");
    QTest::newRow("1B 4MLA") << 0 << "HyLo 4MLA12M2" << 640.0 / 16384;
    QTest::newRow("1B 8MLA") << 0 << "HyLo 8MLA8GDN" << 0.078;
    QTest::newRow("3B 14MLA") << 1 << "HyLo 14MLA14M2" << 0.047;
    QTest::newRow("3B 6MLA") << 1 << "HyLo 6MLA22GDN" << 0.020;
    QTest::newRow("Qwen 7MLA") << 2 << "HyLo 7MLA21M2" << 0.039;
  }
  void kvFractions() {
    QFETCH(int, teacher);
    QFETCH(QString, preset);
    QFETCH(double, fraction);
    const auto t = teacher_by_index(teacher);
    const double got = kv_fraction(preset_student(t, preset.toStdString()), t);
    QVERIFY2(std::abs(got - fraction) <= 0.001, qPrintable(QString::number(got)));
  }

  void cacheBytesByHand() {
    const auto t = test::llama_3_2_1b();
    QCOMPARE(estimate(t, 65536).kv_bytes, int64_t(2) << 30);   // 32 KiB/token: 2 GiB at 64K
    QCOMPARE(estimate(t, 2 << 20).kv_bytes, int64_t(64) << 30);  // 64 GiB at 2M
    QCOMPARE(estimate(t, 65536).state_bytes, int64_t(0));

    Precision p;
    p.state_bytes = 4;  // fp32 recurrent states, bf16 conv windows and latents
    const auto m2 = preset_student(t, "HyLo 4MLA12M2");
    const auto l0 = layer_cache_size(m2.layers[0]);
    QCOMPARE(l0.recurrent_state, int64_t(32 * 64 * 64));  // heads x head_dim x d_state
    QCOMPARE(l0.conv_state, int64_t(3 * (512 + 512 + 2048)));  // (K-1) x (x + B + C)
    QCOMPARE(l0.per_token, int64_t(0));
    const auto e = estimate(m2, 8192, p);
    QCOMPARE(e.kv_bytes, int64_t(8192) * 4 * (128 + 32) * 2);
    QCOMPARE(e.state_bytes, int64_t(12) * (9216 * 2 + 131072 * 4));
    QCOMPARE(e.total_bytes, e.weight_bytes + e.kv_bytes + e.state_bytes);
    QCOMPARE(e.weight_bytes, count_parameters(m2).total() * 2);

    const auto gdn = preset_student(t, "HyLo 4MLA12GDN");
    const auto g0 = layer_cache_size(gdn.layers[0]);
    QCOMPARE(g0.recurrent_state, int64_t(6 * 256 * 512));
    QCOMPARE(g0.conv_state, int64_t(3 * (2 * 1536 + 3072)));
  }

  void flopsFollowTheFormula() {
    const auto t = test::llama_3_2_1b();
    const int64_t L = 4096;
    const double weights = 2.0 * (10485760 + 50331648) * 16 + 2.0 * 128256 * 2048;
    const double attn_per_key = 4.0 * 32 * 64 * 16;
    const auto e = estimate(t, L);
    QCOMPARE(e.decode_flops_per_token, weights + attn_per_key * (L + 1));
    QCOMPARE(e.prefill_flops_per_token, weights + attn_per_key * (L + 1) / 2);
    // The published rule of thumb: decode at short context costs ~2 x the non-embedding parameters.
    const auto short_ctx = estimate(t, 1);
    const double two_n = 2.0 * (count_parameters(t).total() - 2048);  // tied head counts as a matmul
    QVERIFY(std::abs(short_ctx.decode_flops_per_token - two_n) / two_n < 0.01);
    // MLA, per extra key: absorbed decode scores latent + rope and sums latents for 32 heads,
    // prefill expands to qk (64) and v (64) per head; prefill averages (L+1)/2 keys.
    const auto s = preset_student(t, "HyLo 8MLA8M2");
    QVERIFY(s.layers[0].kind == MixerKind::MLA);
    const auto at_l = layer_flops(s.layers[0], s, L), next = layer_flops(s.layers[0], s, L + 1);
    QCOMPARE(next.decode - at_l.decode, 2.0 * 32 * (2 * 128 + 32));
    QCOMPARE(next.prefill - at_l.prefill, 2.0 * 32 * (64 + 64) / 2);
    // Absorbed decode replaces kv_b's per-token expansion (8 KV heads) by per-head absorption (32).
    const double weights_mla = 2.0 * (1344 * 2048 + 2048 * 1344 + 160 * 2048 + 2048 * 2048 + 3 * 2048 * 8192);
    QCOMPARE(at_l.decode, weights_mla + 2.0 * 32 * 128 * (32 + 64) + 2.0 * 32 * (2 * 128 + 32) * (L + 1));
  }

  void monotoneInContext_data() {
    QTest::addColumn<int>("teacher");
    QTest::addColumn<QString>("preset");
    QTest::newRow("1B teacher") << 0 << "";
    QTest::newRow("1B 4MLA12M2") << 0 << "HyLo 4MLA12M2";
    QTest::newRow("1B 8MLA8GDN") << 0 << "HyLo 8MLA8GDN";
    QTest::newRow("Qwen teacher") << 2 << "";
    QTest::newRow("Qwen 7MLA21GDN") << 2 << "HyLo 7MLA21GDN";
  }
  void monotoneInContext() {
    QFETCH(int, teacher);
    QFETCH(QString, preset);
    const auto t = teacher_by_index(teacher);
    const auto config = preset.isEmpty() ? t : preset_student(t, preset.toStdString());
    Estimate prev = estimate(config, 1);
    for (int64_t L : {2, 63, 64, 65, 255, 256, 257, 1000, 8192, 65536, 1 << 20, 2 << 20}) {
      const auto e = estimate(config, L);
      QVERIFY(e.kv_bytes > prev.kv_bytes);  // every model here keeps some per-token cache
      QVERIFY(e.prefill_flops_per_token >= prev.prefill_flops_per_token);
      QVERIFY(e.decode_flops_per_token > prev.decode_flops_per_token);
      QCOMPARE(e.state_bytes, prev.state_bytes);
      QCOMPARE(e.params, prev.params);
      prev = e;
    }
  }

  void linearOnlyDecodeIsFlat() {
    const auto t = test::llama_3_2_1b();
    const auto s = LayerPlan::from_yaml("default: gdn\n").resolve(t);
    const auto a = estimate(s, 1024), b = estimate(s, 1 << 20);
    QCOMPARE(a.kv_bytes, int64_t(0));
    QCOMPARE(b.kv_bytes, int64_t(0));
    QCOMPARE(a.decode_flops_per_token, b.decode_flops_per_token);
    QCOMPARE(a.prefill_flops_per_token, b.prefill_flops_per_token);  // beyond one chunk
    QVERIFY(estimate(s, 16).prefill_flops_per_token < a.prefill_flops_per_token);
  }

  void dtypes() {
    QCOMPARE(dtype_bytes("bf16"), int64_t(2));
    QCOMPARE(dtype_bytes("float32"), int64_t(4));
    QCOMPARE(dtype_bytes("fp8"), int64_t(1));
    try {
      dtype_bytes("int3", "--state-dtype");
      QFAIL("accepted int3");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("--state-dtype"));
    }
  }
};

QTEST_GUILESS_MAIN(TestEstimates)
#include "test_estimates.moc"
