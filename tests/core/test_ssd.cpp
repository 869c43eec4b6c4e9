// Mamba2 SSD: chunked vs token-by-token vs recurrent decode, fp32/bf16/fp64 gradients; the
// Mamba2Mixer's prefill + decode against its full forward, cache bytes and bad settings.
#include <QtTest>

#include "core/model/mamba2.h"
#include "core/model/ops.h"
#include "core/spec/error.h"
#include "tests/core/mixer_test_util.h"

using hylo::test::rel_err;

namespace {

struct SsdInputs {
  at::Tensor x, dt, A, B, C, init, D;
};

// x (B, T, H, P), dt (B, T, H) > 0, A (H) < 0, B/C (B, T, G, N), init (B, H, P, N), the skip D (H).
SsdInputs make_inputs(int64_t T, bool with_init, at::ScalarType dtype, int64_t H = 4, int64_t G = 2,
                      int64_t seed = 0) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t B = 2, P = 3, N = 5;
  auto o = at::TensorOptions().dtype(at::kDouble);
  SsdInputs in;
  in.x = at::randn({B, T, H, P}, gen, o);
  in.dt = at::softplus(at::randn({B, T, H}, gen, o) - 1.0);
  in.A = -(at::rand({H}, gen, o) * 0.9 + 0.1);
  in.B = at::randn({B, T, G, N}, gen, o);
  in.C = at::randn({B, T, G, N}, gen, o);
  if (with_init) in.init = at::randn({B, H, P, N}, gen, o);
  in.D = at::randn({H}, gen, o);
  for (auto* t : {&in.x, &in.dt, &in.A, &in.B, &in.C, &in.init, &in.D})
    if (t->defined()) *t = t->to(dtype);
  return in;
}

hylo::ModelConfig small_config(int64_t hidden = 32) {
  hylo::ModelConfig c;
  c.hidden_size = hidden;
  c.rms_norm_eps = 1e-5;
  return c;
}

// MambaInLlama-like: x and B from d_xb channels (2 source heads / groups) repeated to 4.
hylo::Mamba2Settings small_mamba2() {
  hylo::Mamba2Settings s;
  s.num_heads = 4;
  s.head_dim = 8;
  s.d_inner = 32;
  s.d_xb = 16;
  s.d_state = 8;
  s.n_groups = 4;
  s.conv_kernel = 4;
  s.chunk_size = 4;
  return s;
}

}  // namespace

class TestSsd : public QObject {
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
  }
  void chunkedMatchesNaive() {
    QFETCH(int, T);
    QFETCH(int, chunk);
    QFETCH(bool, withInit);
    auto in = make_inputs(T, withInit, at::kFloat);
    auto ref = hylo::ops::ssd_naive(in.x, in.dt, in.A, in.B, in.C, in.init, in.D);
    auto got = hylo::ops::ssd_chunked(in.x, in.dt, in.A, in.B, in.C, chunk, in.init, in.D);
    QCOMPARE(got.out.sizes(), in.x.sizes());
    QCOMPARE(got.out.scalar_type(), at::kFloat);
    QVERIFY2(rel_err(got.out, ref.out) < 1e-5, qPrintable(QString::number(rel_err(got.out, ref.out))));
    QVERIFY2(rel_err(got.state, ref.state) < 1e-5, qPrintable(QString::number(rel_err(got.state, ref.state))));
  }

  // The skip adds exactly D x to the output and leaves the state alone.
  void skipAddsDx() {
    auto in = make_inputs(13, true, at::kDouble);
    auto with = hylo::ops::ssd_chunked(in.x, in.dt, in.A, in.B, in.C, 4, in.init, in.D);
    auto without = hylo::ops::ssd_chunked(in.x, in.dt, in.A, in.B, in.C, 4, in.init);
    QVERIFY(rel_err(with.out - without.out, in.D.view({1, 1, -1, 1}) * in.x) < 1e-12);
    QVERIFY(rel_err(with.state, without.state) < 1e-15);
  }

  // The naive loop is independent of the chunked maths; check it against a closed form too: with
  // one token and a given state, y = exp(dt A) S C + dt (C.B) x + D x.
  void naiveMatchesClosedFormForOneToken() {
    auto in = make_inputs(1, true, at::kDouble, 2, 2);
    auto r = hylo::ops::ssd_naive(in.x, in.dt, in.A, in.B, in.C, in.init, in.D);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t h = 0; h < 2; ++h) {
        auto C = in.C[b][0][h], B = in.B[b][0][h], x = in.x[b][0][h];
        auto dt = in.dt[b][0][h];
        auto expect = at::exp(dt * in.A[h]) * at::mv(in.init[b][h], C) + dt * at::dot(C, B) * x + in.D[h] * x;
        QVERIFY(rel_err(r.out[b][0][h], expect) < 1e-12);
      }
  }

  // Splitting a sequence anywhere and carrying the state gives the same result (prefill in pieces,
  // then token-by-token decode with the recurrent step).
  void prefillThenDecode() {
    auto in = make_inputs(11, true, at::kFloat);
    auto full = hylo::ops::ssd_chunked(in.x, in.dt, in.A, in.B, in.C, 4, in.init, in.D);
    const int64_t split = 7;
    auto head = hylo::ops::ssd_chunked(in.x.narrow(1, 0, split), in.dt.narrow(1, 0, split), in.A,
                                       in.B.narrow(1, 0, split), in.C.narrow(1, 0, split), 4, in.init, in.D);
    auto S = head.state;
    std::vector<at::Tensor> outs{head.out};
    for (int64_t t = split; t < 11; ++t) {
      auto r = hylo::ops::ssd_recurrent_step(in.x.select(1, t), in.dt.select(1, t), in.A, in.B.select(1, t),
                                             in.C.select(1, t), S, in.D);
      outs.push_back(r.out.unsqueeze(1));
      S = r.state;
    }
    QVERIFY(rel_err(at::cat(outs, 1), full.out) < 1e-5);
    QVERIFY(rel_err(S, full.state) < 1e-5);
  }

  // bf16 inputs: the (L, L) matmuls take bf16 operands (C.B^T and the masked scores rounded once
  // more, as on tensor cores), decays, sums and the state stay fp32: 1e-2 of the output scale, the
  // state 1e-5 (only the inputs' own rounding).
  void bf16MatchesFp64() {
    auto in = make_inputs(13, true, at::kBFloat16);
    auto got = hylo::ops::ssd_chunked(in.x, in.dt, in.A, in.B, in.C, 4, in.init, in.D);
    QCOMPARE(got.out.scalar_type(), at::kBFloat16);
    QCOMPARE(got.state.scalar_type(), at::kFloat);
    auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
    auto ref = hylo::ops::ssd_naive(d(in.x), d(in.dt), d(in.A), d(in.B), d(in.C), d(in.init), d(in.D));
    QVERIFY2(rel_err(got.out, ref.out) < 1e-2, qPrintable(QString::number(rel_err(got.out, ref.out))));
    QVERIFY(rel_err(got.state, ref.state) < 1e-5);
  }

  void gradientsMatchFiniteDifferences() {
    auto in = make_inputs(5, true, at::kDouble, 2, 1);
    auto x = in.x.narrow(0, 0, 1), dt = in.dt.narrow(0, 0, 1), B = in.B.narrow(0, 0, 1).narrow(3, 0, 3),
         C = in.C.narrow(0, 0, 1).narrow(3, 0, 3), init = in.init.narrow(0, 0, 1).narrow(3, 0, 3);
    auto chunked = [](const std::vector<at::Tensor>& v) {
      auto r = hylo::ops::ssd_chunked(v[0], v[1], v[2], v[3], v[4], 2, v[5], v[6]);
      return hylo::test::probe(r.out, 1) + hylo::test::probe(r.state, 2);
    };
    auto naive = [](const std::vector<at::Tensor>& v) {
      auto r = hylo::ops::ssd_naive(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
      return hylo::test::probe(r.out, 1) + hylo::test::probe(r.state, 2);
    };
    std::vector<at::Tensor> inputs{x, dt, in.A, B, C, init, in.D};
    const double fd = hylo::test::finite_difference_error(chunked, inputs);
    QVERIFY2(fd < 1e-7, qPrintable(QString::number(fd)));
    auto gc = hylo::test::autograd_grads(chunked, inputs);
    auto gn = hylo::test::autograd_grads(naive, inputs);
    for (size_t i = 0; i < gc.size(); ++i) QVERIFY(rel_err(gc[i], gn[i]) < 1e-10);
  }

  // The hand-written backward of the chunked form against autograd through the token loop, with
  // several chunks, a ragged tail, batch 2, groups repeated to heads and an initial state; every
  // input's gradient (x, dt, A, B, C, the initial state, D) from both outputs.
  void gradientsMatchNaiveOverChunks_data() {
    QTest::addColumn<int>("T");
    QTest::addColumn<int>("chunk");
    QTest::newRow("4 chunks") << 16 << 4;
    QTest::newRow("ragged tail") << 13 << 4;
    QTest::newRow("one chunk") << 7 << 8;
  }
  void gradientsMatchNaiveOverChunks() {
    QFETCH(int, T);
    QFETCH(int, chunk);
    auto in = make_inputs(T, true, at::kDouble, 4, 2, 7);
    std::vector<at::Tensor> inputs{in.x, in.dt, in.A, in.B, in.C, in.init, in.D};
    auto chunked = [chunk](const std::vector<at::Tensor>& v) {
      auto r = hylo::ops::ssd_chunked(v[0], v[1], v[2], v[3], v[4], chunk, v[5], v[6]);
      return hylo::test::probe(r.out, 1) + hylo::test::probe(r.state, 2);
    };
    auto naive = [](const std::vector<at::Tensor>& v) {
      auto r = hylo::ops::ssd_naive(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
      return hylo::test::probe(r.out, 1) + hylo::test::probe(r.state, 2);
    };
    auto gc = hylo::test::autograd_grads(chunked, inputs);
    auto gn = hylo::test::autograd_grads(naive, inputs);
    for (size_t i = 0; i < gc.size(); ++i)
      QVERIFY2(rel_err(gc[i], gn[i]) < 1e-10, qPrintable(QString("input %1: %2").arg(i).arg(rel_err(gc[i], gn[i]))));
  }

  void badInputs() {
    auto in = make_inputs(4, false, at::kFloat);
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError, hylo::ops::ssd_chunked(in.x, in.dt, in.A, in.B, in.C, 0));
    auto wrong = at::zeros({2, 4, 3, 4});
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError, hylo::ops::ssd_chunked(in.x, in.dt, in.A, in.B, in.C, 4, wrong));
  }

  // Prefill 6 tokens, then decode the rest one by one (recurrent step) or as a second prefill
  // (chunked with an initial state): both equal the full forward.
  void mixerPrefillThenDecode_data() {
    QTest::addColumn<int>("dxb");
    QTest::addColumn<int>("groups");
    QTest::newRow("d_xb repeated") << 16 << 4;
    QTest::newRow("HF layout, one group") << 0 << 1;
  }
  void mixerPrefillThenDecode() {
    QFETCH(int, dxb);
    QFETCH(int, groups);
    at::manual_seed(3);
    auto s = small_mamba2();
    s.d_xb = dxb;
    s.n_groups = groups;
    hylo::Mamba2Mixer mixer(s, small_config());
    auto x = at::randn({2, 11, 32});
    at::NoGradGuard no_grad;
    auto full = mixer.forward(x, 0, nullptr);
    auto cache = mixer.make_cache(2, at::kFloat, at::kCPU);
    std::vector<at::Tensor> outs{mixer.forward(x.narrow(1, 0, 6), 0, cache.get())};
    for (int64_t t = 6; t < 11; ++t) outs.push_back(mixer.forward(x.narrow(1, t, 1), t, cache.get()));
    QCOMPARE(cache->length(), 11);
    QVERIFY2(rel_err(at::cat(outs, 1), full) < 1e-5, qPrintable(QString::number(rel_err(at::cat(outs, 1), full))));

    auto cache2 = mixer.make_cache(2, at::kFloat, at::kCPU);
    auto a = mixer.forward(x.narrow(1, 0, 5), 0, cache2.get());
    auto b = mixer.forward(x.narrow(1, 5, 6), 5, cache2.get());
    QVERIFY(rel_err(at::cat({a, b}, 1), full) < 1e-5);
  }

  // The same mixer in bf16 against fp32: bf16 weights and activations round to 8 bits of
  // mantissa at every projection, so 3e-2 of the output scale.
  void mixerBf16MatchesFp32() {
    at::manual_seed(4);
    hylo::Mamba2Mixer mixer(small_mamba2(), small_config());
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
    hylo::Mamba2Mixer mixer(small_mamba2(), small_config());
    auto x = at::randn({1, 7, 32}).requires_grad_(true);
    mixer.forward(x, 0, nullptr).pow(2).sum().backward();
    for (auto& p : mixer.named_parameters()) {
      QVERIFY2(p.value().grad().defined(), qPrintable(QString::fromStdString(p.key())));
      QVERIFY(at::isfinite(p.value().grad()).all().item<bool>());
    }
    QVERIFY(x.grad().abs().sum().item<double>() > 0);
  }

  // bytes() = B * (conv_dim * (K-1) * dtype_bytes + H * P * N * 4) (GUIDE.md §4), whatever the length.
  void cacheBytes_data() {
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("dstate");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<bool>("bf16");
    QTest::newRow("small fp32") << 4 << 8 << 4 << false;
    QTest::newRow("bf16") << 4 << 8 << 4 << true;
    QTest::newRow("wider state, kernel 2") << 2 << 16 << 2 << true;
  }
  void cacheBytes() {
    QFETCH(int, heads);
    QFETCH(int, dstate);
    QFETCH(int, kernel);
    QFETCH(bool, bf16);
    hylo::Mamba2Settings s;
    s.num_heads = heads;
    s.head_dim = 8;
    s.d_inner = heads * 8;
    s.d_state = dstate;
    s.n_groups = 1;
    s.conv_kernel = kernel;
    s.chunk_size = 4;
    hylo::Mamba2Mixer mixer(s, small_config());
    const auto dtype = bf16 ? at::kBFloat16 : at::kFloat;
    if (bf16) mixer.to(dtype);
    auto cache = mixer.make_cache(3, dtype, at::kCPU);
    QCOMPARE(cache->kind(), std::string("ssm_state"));
    QCOMPARE(cache->bytes(), int64_t(0));
    at::NoGradGuard no_grad;
    const int64_t conv_dim = s.d_inner + 2 * dstate;
    const int64_t expect = 3 * (conv_dim * (kernel - 1) * (bf16 ? 2 : 4) + heads * 8 * dstate * 4);
    mixer.forward(at::randn({3, 5, 32}, dtype), 0, cache.get());
    QCOMPARE(cache->bytes(), expect);
    mixer.forward(at::randn({3, 1, 32}, dtype), 5, cache.get());
    QCOMPARE(cache->bytes(), expect);
    cache->reset();
    QCOMPARE(cache->length(), int64_t(0));
  }

  void badSettings() {
    auto expect_field = [](const hylo::Mamba2Settings& s, const std::string& field) {
      try {
        hylo::Mamba2Mixer mixer(s, small_config(), 3);
        QFAIL("no error");
      } catch (const hylo::ModelError& e) {
        QCOMPARE(e.field(), field);
      }
    };
    auto s = small_mamba2();
    s.d_inner = 30;
    expect_field(s, "layers[3].mamba2.d_inner");
    s = small_mamba2();
    s.n_groups = 3;
    expect_field(s, "layers[3].mamba2.n_groups");
    s = small_mamba2();
    s.d_xb = 12;  // not a multiple of head_dim 8
    expect_field(s, "layers[3].mamba2.d_xb");
    s = small_mamba2();
    s.d_state = 0;
    expect_field(s, "layers[3].mamba2.d_state");
    // A cache that continues elsewhere than where the input starts.
    hylo::Mamba2Mixer mixer(small_mamba2(), small_config());
    auto cache = mixer.make_cache(1, at::kFloat, at::kCPU);
    at::NoGradGuard no_grad;
    QVERIFY_THROWS_EXCEPTION(hylo::ModelError, mixer.forward(at::randn({1, 2, 32}), 4, cache.get()));
  }
};

QTEST_GUILESS_MAIN(TestSsd)
#include "test_ssd.moc"
