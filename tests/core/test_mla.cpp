// MLA: the mixer against an independent per-head reference written from its weights, prefill +
// decode (expanded and absorbed) against the full forward, absorbed == expanded, YaRN softmax
// scale, cache bytes (and the HyLo 3.9% KV figure), gradients, bf16 and bad settings.
#include <QtTest>

#include <cmath>
#include <limits>

#include "core/model/layers.h"
#include "core/model/mla.h"
#include "core/model/rope.h"
#include "core/spec/error.h"
#include "tests/core/mixer_test_util.h"

using hylo::test::rel_err;

namespace {

hylo::ModelConfig small_config(bool yarn = false) {
  hylo::ModelConfig c;
  c.hidden_size = 32;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000;
  c.max_position_embeddings = 64;
  if (yarn) {
    c.rope_scaling.type = "yarn";
    c.rope_scaling.factor = 4.0;
    c.rope_scaling.original_max_position_embeddings = 16;
    c.rope_scaling.mscale = 1.0;
    c.rope_scaling.mscale_all_dim = 0.707;
  }
  return c;
}

hylo::MlaSettings small_mla(int64_t q_lora_rank = 16, bool latent_norm = false) {
  hylo::MlaSettings s;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.q_lora_rank = q_lora_rank;
  s.kv_lora_rank = 12;
  s.qk_rope_head_dim = 4;
  s.qk_nope_head_dim = 6;
  s.v_head_dim = 5;
  s.latent_norm = latent_norm;
  return s;
}

at::Tensor rms(const at::Tensor& x, const at::Tensor& w, double eps) {
  return w * x * at::rsqrt(x.pow(2).mean(-1, true) + eps);
}

// x: (T, D); first half pairs with second half.
at::Tensor rotate(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t h = x.size(-1) / 2;
  auto rotated = at::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
  return x * cos + rotated * sin;
}

// DeepSeek-V2 MLA written head by head in fp64 from the mixer's weights, keys and values expanded
// from the latent explicitly. x: (B, T, C) -> (B, T, C).
at::Tensor reference_mla(hylo::MlaMixer& m, const hylo::ModelConfig& cfg, const at::Tensor& x_in, double scale) {
  const auto& s = m.settings();
  auto d = [](const at::Tensor& t) { return t.detach().to(at::kDouble); };
  auto x = d(x_in);
  const int64_t B = x.size(0), T = x.size(1), H = s.num_heads, dq = s.qk_head_dim(), nope = s.qk_nope_head_dim;
  const int64_t r = s.kv_lora_rank, dr = s.qk_rope_head_dim, dv = s.v_head_dim, rep = H / s.num_kv_heads;
  at::Tensor q;
  if (s.q_lora_rank == 0) {
    q = at::matmul(x, d(m.q_proj->weight).t());
  } else {
    auto ql = at::matmul(x, d(m.q_a_proj->weight).t());
    if (s.latent_norm) ql = rms(ql, d(m.q_a_layernorm->weight), cfg.rms_norm_eps);
    q = at::matmul(ql, d(m.q_b_proj->weight).t());
  }
  auto ckv = at::matmul(x, d(m.kv_a_proj_with_mqa->weight).t());
  auto c = ckv.narrow(-1, 0, r);
  if (s.latent_norm) c = rms(c, d(m.kv_a_layernorm->weight), cfg.rms_norm_eps);
  auto tables = hylo::compute_rope(cfg.rope_scaling, cfg.rope_theta, dr, cfg.max_position_embeddings);
  auto [cos, sin] = hylo::rope_cos_sin(tables, 0, T, at::kDouble, at::kCPU);
  auto Wkv = d(m.kv_b_proj->weight);
  auto causal = at::ones({T, T}, at::kBool).triu(1);
  auto out = at::zeros({B, T, H * dv}, at::kDouble);
  for (int64_t b = 0; b < B; ++b) {
    auto k_rope = rotate(ckv[b].narrow(-1, r, dr), cos, sin);  // (T, dr)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / rep, base = g * (nope + dv);
      auto k_nope = at::matmul(c[b], Wkv.narrow(0, base, nope).t());      // (T, nope)
      auto v = at::matmul(c[b], Wkv.narrow(0, base + nope, dv).t());      // (T, dv)
      auto qh = q[b].narrow(-1, h * dq, dq);
      auto q_rope = rotate(qh.narrow(-1, nope, dr), cos, sin);
      auto scores = (at::matmul(qh.narrow(-1, 0, nope), k_nope.t()) + at::matmul(q_rope, k_rope.t())) * scale;
      scores = scores.masked_fill(causal, -std::numeric_limits<double>::infinity());
      out[b].narrow(-1, h * dv, dv).copy_(at::matmul(at::softmax(scores, -1), v));
    }
  }
  return at::matmul(out, d(m.o_proj->weight).t());
}

}  // namespace

class TestMla : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void matchesReference_data() {
    QTest::addColumn<int>("qLora");
    QTest::addColumn<bool>("latentNorm");
    QTest::addColumn<bool>("yarn");
    QTest::newRow("q_lora, no latent norm (HyLo)") << 16 << false << false;
    QTest::newRow("full-rank q_proj") << 0 << false << false;
    QTest::newRow("latent norms (DeepSeek)") << 16 << true << false;
    QTest::newRow("yarn with mscale_all_dim") << 16 << false << true;
  }
  void matchesReference() {
    QFETCH(int, qLora);
    QFETCH(bool, latentNorm);
    QFETCH(bool, yarn);
    at::manual_seed(1);
    auto cfg = small_config(yarn);
    hylo::MlaMixer mixer(small_mla(qLora, latentNorm), cfg);
    if (latentNorm) {  // non-trivial norm weights, so a skipped norm shows
      at::NoGradGuard no_grad;
      mixer.kv_a_layernorm->weight.uniform_(0.5, 1.5);
      mixer.q_a_layernorm->weight.uniform_(0.5, 1.5);
    }
    double scale = 1.0 / std::sqrt(10.0);
    if (yarn) scale *= std::pow(0.1 * 0.707 * std::log(4.0) + 1.0, 2);
    QVERIFY(std::abs(mixer.softmax_scale() - scale) < 1e-12);
    auto x = at::randn({2, 9, 32});
    at::NoGradGuard no_grad;
    auto got = mixer.forward(x, 0, nullptr);
    auto ref = reference_mla(mixer, cfg, x, scale);
    QVERIFY2(rel_err(got, ref) < 1e-5, qPrintable(QString::number(rel_err(got, ref))));
  }

  // Prefill 6 tokens, decode the rest one at a time: the same as the full forward on both paths.
  void prefillThenDecode_data() {
    QTest::addColumn<bool>("absorbed");
    QTest::newRow("absorbed") << true;
    QTest::newRow("expanded") << false;
  }
  void prefillThenDecode() {
    QFETCH(bool, absorbed);
    at::manual_seed(2);
    hylo::MlaMixer mixer(small_mla(), small_config(true));
    mixer.decode_path = absorbed ? hylo::MlaDecode::Absorbed : hylo::MlaDecode::Expanded;
    auto x = at::randn({2, 11, 32});
    at::NoGradGuard no_grad;
    auto full = mixer.forward(x, 0, nullptr);
    auto cache = mixer.make_cache(2, at::kFloat, at::kCPU);
    std::vector<at::Tensor> outs{mixer.forward(x.narrow(1, 0, 6), 0, cache.get())};
    for (int64_t t = 6; t < 11; ++t) outs.push_back(mixer.forward(x.narrow(1, t, 1), t, cache.get()));
    QCOMPARE(cache->length(), 11);
    QVERIFY2(rel_err(at::cat(outs, 1), full) < 1e-5, qPrintable(QString::number(rel_err(at::cat(outs, 1), full))));
  }

  // A byte bound of 1 expands one KV head at a time: outputs (whole sequence and a prefill after a
  // cached prefix) and gradients equal the all-heads expansion.
  void headGroupsEqualAllHeads() {
    at::manual_seed(4);
    hylo::MlaMixer mixer(small_mla(), small_config(true));
    auto x = at::randn({2, 10, 32});
    at::Tensor out[2], prefill[2], grad[2];
    for (int i = 0; i < 2; ++i) {
      mixer.max_expanded_bytes = i == 0 ? (int64_t(4) << 30) : 1;
      mixer.zero_grad();
      out[i] = mixer.forward(x, 0, nullptr);
      out[i].pow(2).sum().backward();
      grad[i] = mixer.kv_b_proj->weight.grad().clone();
      at::NoGradGuard no_grad;
      auto cache = mixer.make_cache(2, at::kFloat, at::kCPU);
      mixer.forward(x.narrow(1, 0, 4), 0, cache.get());
      prefill[i] = mixer.forward(x.narrow(1, 4, 6), 4, cache.get());
    }
    QVERIFY2(rel_err(out[1], out[0]) < 1e-6, qPrintable(QString::number(rel_err(out[1], out[0]))));
    QVERIFY2(rel_err(prefill[1], prefill[0]) < 1e-6, qPrintable(QString::number(rel_err(prefill[1], prefill[0]))));
    QVERIFY2(rel_err(prefill[0], out[0].narrow(1, 4, 6)) < 1e-5, "prefill after a cached prefix");
    QVERIFY2(rel_err(grad[1], grad[0]) < 1e-6, qPrintable(QString::number(rel_err(grad[1], grad[0]))));
  }

  // Absorbed and expanded decode of the same token from the same cache agree, in fp32 and in bf16
  // (bf16: both round their matmuls to 8 bits of mantissa; 3e-2 of the output scale).
  void absorbedEqualsExpanded_data() {
    QTest::addColumn<bool>("bf16");
    QTest::newRow("fp32") << false;
    QTest::newRow("bf16") << true;
  }
  void absorbedEqualsExpanded() {
    QFETCH(bool, bf16);
    at::manual_seed(3);
    hylo::MlaMixer mixer(small_mla(0, true), small_config());
    const auto dtype = bf16 ? at::kBFloat16 : at::kFloat;
    mixer.to(dtype);
    auto x = at::randn({2, 8, 32}, dtype);
    at::NoGradGuard no_grad;
    at::Tensor outs[2];
    for (int i = 0; i < 2; ++i) {
      mixer.decode_path = i == 0 ? hylo::MlaDecode::Absorbed : hylo::MlaDecode::Expanded;
      auto cache = mixer.make_cache(2, dtype, at::kCPU);
      mixer.forward(x.narrow(1, 0, 7), 0, cache.get());
      outs[i] = mixer.forward(x.narrow(1, 7, 1), 7, cache.get());
    }
    const double tol = bf16 ? 3e-2 : 1e-5;
    QVERIFY2(rel_err(outs[0], outs[1]) < tol, qPrintable(QString::number(rel_err(outs[0], outs[1]))));
  }

  void bf16MatchesFp32() {
    at::manual_seed(4);
    hylo::MlaMixer mixer(small_mla(), small_config());
    auto x = at::randn({2, 9, 32});
    at::NoGradGuard no_grad;
    auto ref = mixer.forward(x, 0, nullptr);
    mixer.to(at::kBFloat16);
    auto got = mixer.forward(x.to(at::kBFloat16), 0, nullptr);
    QCOMPARE(got.scalar_type(), at::kBFloat16);
    QVERIFY2(rel_err(got, ref) < 3e-2, qPrintable(QString::number(rel_err(got, ref))));
  }

  // Gradients of the mixer (fp64) against finite differences on a few parameters of each projection.
  // Without latent norms: the shared RMSNorm computes in fp32 even for fp64 inputs, which would
  // drown a finite difference.
  void gradients() {
    at::manual_seed(5);
    hylo::MlaMixer mixer(small_mla(16, false), small_config(true));
    mixer.to(at::kDouble);
    auto x = at::randn({1, 5, 32}, at::kDouble);
    auto loss = [&] { return hylo::test::probe(mixer.forward(x, 0, nullptr), 9); };
    loss().backward();
    for (auto& p : mixer.named_parameters()) {
      auto w = p.value();
      QVERIFY2(w.grad().defined(), qPrintable(QString::fromStdString(p.key())));
      auto flat = w.detach().view(-1);
      for (int64_t j : {int64_t(0), flat.numel() / 2, flat.numel() - 1}) {
        at::NoGradGuard no_grad;
        const double x0 = flat[j].item<double>(), eps = 1e-6;
        flat[j] = x0 + eps;
        const double up = loss().item<double>();
        flat[j] = x0 - eps;
        const double down = loss().item<double>();
        flat[j] = x0;
        const double numeric = (up - down) / (2 * eps), analytic = w.grad().view(-1)[j].item<double>();
        QVERIFY2(std::abs(numeric - analytic) < 1e-6 * std::max(1.0, std::abs(numeric)),
                 qPrintable(QString::fromStdString(p.key()) + " " + QString::number(numeric) + " vs " +
                            QString::number(analytic)));
      }
    }
  }

  void parameterNames() {
    hylo::MlaMixer mixer(small_mla(16, true), small_config());
    auto params = mixer.named_parameters();
    QCOMPARE(params["q_a_proj.weight"].sizes(), (std::vector<int64_t>{16, 32}));
    QCOMPARE(params["q_a_layernorm.weight"].sizes(), (std::vector<int64_t>{16}));
    QCOMPARE(params["q_b_proj.weight"].sizes(), (std::vector<int64_t>{40, 16}));
    QCOMPARE(params["kv_a_proj_with_mqa.weight"].sizes(), (std::vector<int64_t>{16, 32}));
    QCOMPARE(params["kv_a_layernorm.weight"].sizes(), (std::vector<int64_t>{12}));
    QCOMPARE(params["kv_b_proj.weight"].sizes(), (std::vector<int64_t>{22, 12}));
    QCOMPARE(params["o_proj.weight"].sizes(), (std::vector<int64_t>{32, 20}));
    QCOMPARE(params.size(), size_t(7));
    hylo::MlaMixer plain(small_mla(0, false), small_config());
    QVERIFY(plain.named_parameters().contains("q_proj.weight"));
    QCOMPARE(plain.named_parameters().size(), size_t(4));
    QCOMPARE(plain.checkpoint_name(), std::string("self_attn"));
  }

  // bytes() = B * length * (kv_lora_rank + qk_rope_head_dim) * dtype_bytes (GUIDE.md §4).
  void cacheBytes_data() {
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("rank");
    QTest::addColumn<int>("rope");
    QTest::addColumn<bool>("bf16");
    QTest::newRow("fp32") << 2 << 12 << 4 << false;
    QTest::newRow("bf16") << 1 << 12 << 4 << true;
    QTest::newRow("rank 20, rope 8") << 3 << 20 << 8 << true;
  }
  void cacheBytes() {
    QFETCH(int, batch);
    QFETCH(int, rank);
    QFETCH(int, rope);
    QFETCH(bool, bf16);
    auto s = small_mla();
    s.kv_lora_rank = rank;
    s.qk_rope_head_dim = rope;
    hylo::MlaMixer mixer(s, small_config());
    const auto dtype = bf16 ? at::kBFloat16 : at::kFloat;
    mixer.to(dtype);
    auto cache = mixer.make_cache(batch, dtype, at::kCPU);
    QCOMPARE(cache->kind(), std::string("mla_latent"));
    QCOMPARE(cache->bytes(), int64_t(0));
    at::NoGradGuard no_grad;
    const int64_t per_token = batch * (rank + rope) * (bf16 ? 2 : 4);
    mixer.forward(at::randn({batch, 5, 32}, dtype), 0, cache.get());
    QCOMPARE(cache->bytes(), 5 * per_token);
    mixer.forward(at::randn({batch, 1, 32}, dtype), 5, cache.get());
    QCOMPARE(cache->bytes(), 6 * per_token);
  }

  // GUIDE.md §4: Llama-3.2-1B (16 layers, 8 KV heads of 64) with 4 MLA layers of rank 128 + rope 32
  // keeps 3.9% of the teacher's KV bytes.
  void hyloKvFigure() {
    hylo::MlaCache mla(1, 128, 32, at::kBFloat16, at::kCPU);
    mla.append(at::zeros({1, 1, 128}, at::kBFloat16), at::zeros({1, 1, 32}, at::kBFloat16));
    hylo::KVCache kv(1, at::kBFloat16, at::kCPU);
    kv.append(at::zeros({1, 8, 1, 64}, at::kBFloat16), at::zeros({1, 8, 1, 64}, at::kBFloat16));
    const double share = 4.0 * mla.bytes() / (16.0 * kv.bytes());
    QVERIFY(std::abs(share - 0.0390625) < 1e-12);
  }

  void badSettings() {
    auto expect_field = [](const hylo::MlaSettings& s, const std::string& field) {
      try {
        hylo::MlaMixer mixer(s, small_config(), 2);
        QFAIL("no error");
      } catch (const hylo::ModelError& e) {
        QCOMPARE(e.field(), field);
      }
    };
    auto s = small_mla();
    s.kv_lora_rank = 40;  // above hidden 32 and above 2 * (6 + 5)
    expect_field(s, "layers[2].mla.kv_lora_rank");
    s = small_mla();
    s.q_lora_rank = 64;
    expect_field(s, "layers[2].mla.q_lora_rank");
    s = small_mla();
    s.num_kv_heads = 3;
    expect_field(s, "layers[2].mla.num_kv_heads");
    s = small_mla();
    s.qk_rope_head_dim = 3;
    expect_field(s, "layers[2].mla.qk_rope_head_dim");
    s = small_mla();
    s.v_head_dim = 0;
    expect_field(s, "layers[2].mla.v_head_dim");
    hylo::MlaMixer mixer(small_mla(), small_config());
    auto cache = mixer.make_cache(1, at::kFloat, at::kCPU);
    at::NoGradGuard no_grad;
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError, mixer.forward(at::randn({1, 2, 32}), 3, cache.get()));
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError, mixer.forward(at::randn({2, 2, 32}), 0, cache.get()));
  }
};

QTEST_GUILESS_MAIN(TestMla)
#include "test_mla.moc"
