// Gated delta rule: chunked (WY/UT) vs token-by-token vs recurrent decode, fp32/bf16/fp64
// gradients; the GatedDeltaNetMixer's prefill + decode against its full forward, cache bytes
// and bad settings.
#include <QtTest>

#include "core/model/gated_deltanet.h"
#include "core/model/ops.h"
#include "core/model/state_cache.h"
#include "core/spec/error.h"
#include "tests/core/mixer_test_util.h"

using hylo::test::rel_err;

namespace {

struct GdnInputs {
  at::Tensor q, k, v, g, beta, init;
};

// q, k (B, T, H, K) L2-normalised as the mixer feeds them; v (B, T, H, V); g (B, T, H) <= 0;
// beta (B, T, H) in (0, 1); init (B, H, K, V).
GdnInputs make_inputs(int64_t T, bool with_init, at::ScalarType dtype, int64_t B = 2, int64_t H = 3,
                      int64_t K = 4, int64_t V = 5) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  auto o = at::TensorOptions().dtype(at::kDouble);
  auto unit = [](const at::Tensor& t) { return t / t.norm(2, -1, true); };
  GdnInputs in;
  in.q = unit(at::randn({B, T, H, K}, gen, o));
  in.k = unit(at::randn({B, T, H, K}, gen, o));
  in.v = at::randn({B, T, H, V}, gen, o);
  in.g = -at::softplus(at::randn({B, T, H}, gen, o) - 1.0);
  in.beta = at::sigmoid(at::randn({B, T, H}, gen, o));
  if (with_init) in.init = at::randn({B, H, K, V}, gen, o);
  for (auto* t : {&in.q, &in.k, &in.v, &in.g, &in.beta, &in.init})
    if (t->defined()) *t = t->to(dtype);
  return in;
}

hylo::ModelConfig small_config() {
  hylo::ModelConfig c;
  c.hidden_size = 32;
  c.rms_norm_eps = 1e-6;
  return c;
}

hylo::GdnSettings small_gdn() {
  hylo::GdnSettings s;
  s.num_heads = 4;
  s.num_k_heads = 2;
  s.head_k_dim = 8;
  s.head_v_dim = 12;
  s.conv_kernel = 4;
  s.chunk_size = 4;
  return s;
}

}  // namespace

class TestGdn : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void chunkedMatchesNaive_data() {
    QTest::addColumn<int>("T");
    QTest::addColumn<int>("chunk");
    QTest::addColumn<bool>("withInit");
    QTest::newRow("multiple of chunk") << 16 << 4 << false;
    QTest::newRow("multiple of chunk, initial state") << 16 << 4 << true;
    QTest::newRow("ragged tail") << 13 << 4 << false;
    QTest::newRow("ragged tail, initial state") << 13 << 4 << true;
    QTest::newRow("shorter than one chunk") << 3 << 8 << true;
    QTest::newRow("chunk of one") << 6 << 1 << true;
    QTest::newRow("long chunks") << 70 << 32 << true;
  }
  void chunkedMatchesNaive() {
    QFETCH(int, T);
    QFETCH(int, chunk);
    QFETCH(bool, withInit);
    auto in = make_inputs(T, withInit, at::kFloat);
    auto ref = hylo::ops::gdn_naive(in.q, in.k, in.v, in.g, in.beta, in.init);
    auto got = hylo::ops::gdn_chunked(in.q, in.k, in.v, in.g, in.beta, chunk, in.init);
    QCOMPARE(got.out.sizes(), in.v.sizes());
    QVERIFY2(rel_err(got.out, ref.out) < 1e-5, qPrintable(QString::number(rel_err(got.out, ref.out))));
    QVERIFY2(rel_err(got.state, ref.state) < 1e-5, qPrintable(QString::number(rel_err(got.state, ref.state))));
  }

  // The naive loop against the rule written out for one token from a given state:
  // S' = a S + k (beta (v - a S^T k))^T, o = S'^T q.
  void naiveMatchesClosedFormForOneToken() {
    auto in = make_inputs(1, true, at::kDouble, 1, 1);
    auto r = hylo::ops::gdn_naive(in.q, in.k, in.v, in.g, in.beta, in.init);
    auto S = in.init[0][0], q = in.q[0][0][0], k = in.k[0][0][0], v = in.v[0][0][0];
    auto a = at::exp(in.g[0][0][0]), beta = in.beta[0][0][0];
    auto S1 = a * S + at::outer(k, beta * (v - a * at::mv(S.t(), k)));
    QVERIFY(rel_err(r.state[0][0], S1) < 1e-12);
    QVERIFY(rel_err(r.out[0][0][0], at::mv(S1.t(), q)) < 1e-12);
  }

  // With beta = 1 and no decay, a key written is read back exactly (the delta rule replaces the
  // value stored under a unit key): a property the plain linear-attention sum does not have.
  void deltaRuleOverwrites() {
    auto in = make_inputs(2, false, at::kDouble, 1, 1);
    in.k.select(1, 1).copy_(in.k.select(1, 0));
    in.q.select(1, 1).copy_(in.k.select(1, 0));
    in.beta.fill_(1.0);
    in.g.fill_(0.0);
    auto r = hylo::ops::gdn_chunked(in.q, in.k, in.v, in.g, in.beta, 2);
    QVERIFY(rel_err(r.out[0][1], in.v[0][1]) < 1e-12);
  }

  void prefillThenDecode() {
    auto in = make_inputs(11, true, at::kFloat);
    auto full = hylo::ops::gdn_chunked(in.q, in.k, in.v, in.g, in.beta, 4, in.init);
    const int64_t split = 6;
    auto n = [&](const at::Tensor& t) { return t.narrow(1, 0, split); };
    auto head = hylo::ops::gdn_chunked(n(in.q), n(in.k), n(in.v), n(in.g), n(in.beta), 4, in.init);
    auto S = head.state;
    std::vector<at::Tensor> outs{head.out};
    for (int64_t t = split; t < 11; ++t) {
      auto r = hylo::ops::gdn_recurrent_step(in.q.select(1, t), in.k.select(1, t), in.v.select(1, t),
                                             in.g.select(1, t), in.beta.select(1, t), S);
      outs.push_back(r.out.unsqueeze(1));
      S = r.state;
    }
    QVERIFY(rel_err(at::cat(outs, 1), full.out) < 1e-5);
    QVERIFY(rel_err(S, full.state) < 1e-5);
  }

  // bf16 inputs, fp32 maths: only the output's rounding to bf16 remains (1e-2 of its scale).
  void bf16MatchesFp64() {
    auto in = make_inputs(13, true, at::kBFloat16);
    auto got = hylo::ops::gdn_chunked(in.q, in.k, in.v, in.g, in.beta, 4, in.init);
    QCOMPARE(got.out.scalar_type(), at::kBFloat16);
    QCOMPARE(got.state.scalar_type(), at::kFloat);
    auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
    auto ref = hylo::ops::gdn_naive(d(in.q), d(in.k), d(in.v), d(in.g), d(in.beta), d(in.init));
    QVERIFY2(rel_err(got.out, ref.out) < 1e-2, qPrintable(QString::number(rel_err(got.out, ref.out))));
    QVERIFY(rel_err(got.state, ref.state) < 1e-5);
  }

  void gradientsMatchFiniteDifferences() {
    auto in = make_inputs(5, true, at::kDouble, 1, 2, 3, 2);
    auto chunked = [](const std::vector<at::Tensor>& v) {
      auto r = hylo::ops::gdn_chunked(v[0], v[1], v[2], v[3], v[4], 2, v[5]);
      return hylo::test::probe(r.out, 1) + hylo::test::probe(r.state, 2);
    };
    auto naive = [](const std::vector<at::Tensor>& v) {
      auto r = hylo::ops::gdn_naive(v[0], v[1], v[2], v[3], v[4], v[5]);
      return hylo::test::probe(r.out, 1) + hylo::test::probe(r.state, 2);
    };
    std::vector<at::Tensor> inputs{in.q, in.k, in.v, in.g, in.beta, in.init};
    const double fd = hylo::test::finite_difference_error(chunked, inputs);
    QVERIFY2(fd < 1e-7, qPrintable(QString::number(fd)));
    auto gc = hylo::test::autograd_grads(chunked, inputs);
    auto gn = hylo::test::autograd_grads(naive, inputs);
    for (size_t i = 0; i < gc.size(); ++i) QVERIFY(rel_err(gc[i], gn[i]) < 1e-10);
  }

  void badInputs() {
    auto in = make_inputs(4, false, at::kFloat);
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError, hylo::ops::gdn_chunked(in.q, in.k, in.v, in.g, in.beta, 0));
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError,
                             hylo::ops::gdn_chunked(in.q, in.k, in.v, in.g, in.beta, 4, at::zeros({2, 3, 5, 4})));
  }

  void mixerPrefillThenDecode_data() {
    QTest::addColumn<bool>("gate");
    QTest::newRow("output gate") << true;
    QTest::newRow("plain norm") << false;
  }
  void mixerPrefillThenDecode() {
    QFETCH(bool, gate);
    at::manual_seed(3);
    auto s = small_gdn();
    s.output_gate = gate;
    hylo::GatedDeltaNetMixer mixer(s, small_config());
    auto x = at::randn({2, 11, 32});
    at::NoGradGuard no_grad;
    auto full = mixer.forward(x, 0, nullptr);
    auto cache = mixer.make_cache(2, at::kFloat, at::kCPU);
    std::vector<at::Tensor> outs{mixer.forward(x.narrow(1, 0, 6), 0, cache.get())};
    for (int64_t t = 6; t < 11; ++t) outs.push_back(mixer.forward(x.narrow(1, t, 1), t, cache.get()));
    QVERIFY2(rel_err(at::cat(outs, 1), full) < 1e-5, qPrintable(QString::number(rel_err(at::cat(outs, 1), full))));
    auto cache2 = mixer.make_cache(2, at::kFloat, at::kCPU);
    auto a = mixer.forward(x.narrow(1, 0, 5), 0, cache2.get());
    auto b = mixer.forward(x.narrow(1, 5, 6), 5, cache2.get());
    QVERIFY(rel_err(at::cat({a, b}, 1), full) < 1e-5);
  }

  // bf16 weights and activations against fp32: 3e-2 of the output scale.
  void mixerBf16MatchesFp32() {
    at::manual_seed(4);
    hylo::GatedDeltaNetMixer mixer(small_gdn(), small_config());
    auto x = at::randn({2, 9, 32});
    at::NoGradGuard no_grad;
    auto ref = mixer.forward(x, 0, nullptr);
    mixer.to(at::kBFloat16);
    auto got = mixer.forward(x.to(at::kBFloat16), 0, nullptr);
    QCOMPARE(got.scalar_type(), at::kBFloat16);
    QVERIFY2(rel_err(got, ref) < 3e-2, qPrintable(QString::number(rel_err(got, ref))));
  }

  void mixerBackward() {
    at::manual_seed(5);
    hylo::GatedDeltaNetMixer mixer(small_gdn(), small_config());
    auto x = at::randn({1, 7, 32}).requires_grad_(true);
    mixer.forward(x, 0, nullptr).pow(2).sum().backward();
    for (auto& p : mixer.named_parameters()) {
      QVERIFY2(p.value().grad().defined(), qPrintable(QString::fromStdString(p.key())));
      QVERIFY(at::isfinite(p.value().grad()).all().item<bool>());
    }
    QVERIFY(x.grad().abs().sum().item<double>() > 0);
  }

  void parameterNames() {
    hylo::GatedDeltaNetMixer mixer(small_gdn(), small_config());
    auto params = mixer.named_parameters();
    for (const char* name : {"q_proj.weight", "k_proj.weight", "v_proj.weight", "z_proj.weight", "a_proj.weight",
                             "b_proj.weight", "conv1d.weight", "dt_bias", "A_log", "norm.weight", "out_proj.weight"})
      QVERIFY2(params.contains(name), name);
    QCOMPARE(params["conv1d.weight"].sizes(), (std::vector<int64_t>{2 * 16 + 48, 1, 4}));
    QCOMPARE(mixer.checkpoint_name(), std::string("linear_attn"));
  }

  // bytes() = B * (conv_dim * (K-1) * dtype_bytes + H * Dk * Dv * 4) (GUIDE.md §4).
  void cacheBytes_data() {
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("dv");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<bool>("bf16");
    QTest::newRow("small fp32") << 4 << 12 << 4 << false;
    QTest::newRow("bf16") << 4 << 12 << 4 << true;
    QTest::newRow("wide values, kernel 2") << 2 << 24 << 2 << true;
  }
  void cacheBytes() {
    QFETCH(int, heads);
    QFETCH(int, dv);
    QFETCH(int, kernel);
    QFETCH(bool, bf16);
    auto s = small_gdn();
    s.num_heads = heads;
    s.head_v_dim = dv;
    s.conv_kernel = kernel;
    hylo::GatedDeltaNetMixer mixer(s, small_config());
    const auto dtype = bf16 ? at::kBFloat16 : at::kFloat;
    if (bf16) mixer.to(dtype);
    auto cache = mixer.make_cache(3, dtype, at::kCPU);
    QCOMPARE(cache->kind(), std::string("gdn_state"));
    QCOMPARE(cache->bytes(), int64_t(0));
    at::NoGradGuard no_grad;
    const int64_t conv_dim = 2 * 2 * 8 + heads * dv;
    const int64_t expect = 3 * (conv_dim * (kernel - 1) * (bf16 ? 2 : 4) + heads * 8 * dv * 4);
    mixer.forward(at::randn({3, 5, 32}, dtype), 0, cache.get());
    QCOMPARE(cache->bytes(), expect);
    mixer.forward(at::randn({3, 1, 32}, dtype), 5, cache.get());
    QCOMPARE(cache->bytes(), expect);
  }

  void badSettings() {
    auto expect_field = [](const hylo::GdnSettings& s, const std::string& field) {
      try {
        hylo::GatedDeltaNetMixer mixer(s, small_config(), 5);
        QFAIL("no error");
      } catch (const hylo::ModelError& e) {
        QCOMPARE(e.field(), field);
      }
    };
    auto s = small_gdn();
    s.num_k_heads = 3;
    expect_field(s, "layers[5].gdn.num_k_heads");
    s = small_gdn();
    s.head_v_dim = 0;
    expect_field(s, "layers[5].gdn.head_v_dim");
    s = small_gdn();
    s.chunk_size = -1;
    expect_field(s, "layers[5].gdn.chunk_size");
    hylo::GatedDeltaNetMixer mixer(small_gdn(), small_config());
    auto wrong_cache = hylo::StateCache("ssm_state", 1, at::kFloat, at::kCPU);
    at::NoGradGuard no_grad;
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError, mixer.forward(at::randn({1, 2, 32}), 0, &wrong_cache));
  }
};

QTEST_GUILESS_MAIN(TestGdn)
#include "test_gdn.moc"
