// The fused ops' LibTorch references (core/model/fused_ops.h, ssd_pieces.h) against definitions
// written out element by element in fp64: RMSNorm, absorbed MLA decode attention, the Gated DeltaNet
// decode step (conv window shift, l2 norms, gated delta rule, in-place caches), the SSD decay mask,
// its backward (against autograd) and the chunk-to-chunk state pass both ways. On the CPU a demanded
// kernel path is a clear error. The kernels themselves: test_fused_ops_gpu and `hylo bench kernels`.
#include <QtTest>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <vector>

#include "core/model/fused_ops.h"
#include "core/model/ssd_pieces.h"
#include "core/spec/error.h"

using namespace hylo;

namespace {

at::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kDouble));
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double softplus(double x) { return std::log1p(std::exp(x)); }

}  // namespace

class TestFusedOps : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void rmsNormMatchesDefinition() {
    auto x = randn({3, 5}, 1), w = randn({5}, 2);
    auto y = rms_norm(x, w, 1e-5);
    auto xa = x.accessor<double, 2>();
    auto wa = w.accessor<double, 1>();
    for (int64_t r = 0; r < 3; ++r) {
      double ss = 0;
      for (int64_t i = 0; i < 5; ++i) ss += xa[r][i] * xa[r][i];
      const double inv = 1 / std::sqrt(ss / 5 + 1e-5);
      for (int64_t i = 0; i < 5; ++i) QVERIFY(std::abs(y[r][i].item<double>() - wa[i] * xa[r][i] * inv) < 1e-12);
    }
  }

  void mlaDecodeMatchesPerHeadSoftmax() {
    const int64_t B = 2, H = 3, D = 12, rank = 8, L = 7;
    const double scale = 0.3;
    auto q = randn({B, H, D}, 3), rows = randn({B, L, D}, 4);
    auto out = mla_decode_attention(q, rows, rank, scale);
    QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{B, H, rank}));
    auto qa = q.accessor<double, 3>(), ca = rows.accessor<double, 3>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        std::vector<double> s(L);
        double m = -INFINITY, z = 0;
        for (int64_t t = 0; t < L; ++t) {
          s[t] = 0;
          for (int64_t d = 0; d < D; ++d) s[t] += qa[b][h][d] * ca[b][t][d];
          s[t] *= scale;
          m = std::max(m, s[t]);
        }
        for (int64_t t = 0; t < L; ++t) z += std::exp(s[t] - m);
        for (int64_t j = 0; j < rank; ++j) {
          double ctx = 0;
          for (int64_t t = 0; t < L; ++t) ctx += std::exp(s[t] - m) / z * ca[b][t][j];
          QVERIFY(std::abs(out[b][h][j].item<double>() - ctx) < 1e-12);
        }
      }
  }

  void gdnDecodeStepMatchesDefinitionInPlace() {
    const int64_t B = 2, Hk = 1, H = 2, Dk = 3, Dv = 2, K = 3, C = 2 * Hk * Dk + H * Dv;
    GdnStepInputs in{randn({B, C}, 5), randn({C, 1, K}, 6), randn({B, H}, 7), randn({B, H}, 8),
                     randn({H}, 9), randn({H}, 10), Hk, Dk, Dv};
    auto conv_state = randn({B, C, K - 1}, 11), state = randn({B, H, Dk, Dv}, 12);
    const auto conv0 = conv_state.clone(), state0 = state.clone();
    const void* conv_storage = conv_state.data_ptr();
    const void* state_storage = state.data_ptr();
    auto o = gdn_decode_step(in, conv_state, state);
    QCOMPARE(conv_state.data_ptr(), conv_storage);  // advanced in place: the caches keep their buffers
    QCOMPARE(state.data_ptr(), state_storage);

    auto x = in.qkv.accessor<double, 2>();
    auto w = in.conv_weight.accessor<double, 3>();
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> y(C);
      for (int64_t c = 0; c < C; ++c) {
        double acc = w[c][0][K - 1] * x[b][c];
        for (int64_t i = 0; i + 1 < K; ++i) acc += w[c][0][i] * conv0[b][c][i].item<double>();
        y[c] = acc * sigmoid(acc);
        for (int64_t i = 0; i + 2 < K; ++i)
          QCOMPARE(conv_state[b][c][i].item<double>(), conv0[b][c][i + 1].item<double>());
        QCOMPARE(conv_state[b][c][K - 2].item<double>(), x[b][c]);
      }
      auto unit = [&](int64_t offset, double extra) {
        double n = 0;
        for (int64_t i = 0; i < Dk; ++i) n += y[offset + i] * y[offset + i];
        std::vector<double> u(Dk);
        for (int64_t i = 0; i < Dk; ++i) u[i] = y[offset + i] / std::sqrt(n + 1e-6) * extra;
        return u;
      };
      const auto q = unit(0, 1 / std::sqrt(static_cast<double>(Dk))), k = unit(Hk * Dk, 1);
      for (int64_t h = 0; h < H; ++h) {
        const double alpha =
            std::exp(-std::exp(in.A_log[h].item<double>()) * softplus(in.a[b][h].item<double>() + in.dt_bias[h].item<double>()));
        const double beta = sigmoid(in.b[b][h].item<double>());
        for (int64_t j = 0; j < Dv; ++j) {
          double ks = 0;
          for (int64_t i = 0; i < Dk; ++i) ks += k[i] * alpha * state0[b][h][i][j].item<double>();
          const double u = beta * (y[2 * Hk * Dk + h * Dv + j] - ks);
          double out = 0;
          for (int64_t i = 0; i < Dk; ++i) {
            const double s = alpha * state0[b][h][i][j].item<double>() + k[i] * u;
            QVERIFY(std::abs(state[b][h][i][j].item<double>() - s) < 1e-12);
            out += q[i] * s;
          }
          QVERIFY(std::abs(o[b][h][j].item<double>() - out) < 1e-12);
        }
      }
    }
  }

  void swigluIsSiluTimesUpWithItsGradients() {
    auto g = randn({4, 7}, 13).requires_grad_(), u = randn({4, 7}, 14).requires_grad_(), dy = randn({4, 7}, 15);
    auto y = swiglu(g, u);
    y.backward(dy);
    auto s = at::sigmoid(g.detach());
    QVERIFY(at::allclose(y, g.detach() * s * u.detach(), 1e-12, 1e-12));
    QVERIFY(at::allclose(u.grad(), dy * g.detach() * s, 1e-12, 1e-12));
    QVERIFY(at::allclose(g.grad(), dy * u.detach() * s * (1 + g.detach() * (1 - s)), 1e-12, 1e-12));
    QVERIFY_THROWS_EXCEPTION(ModelError, swiglu(g, u.narrow(1, 0, 3)));
  }

  // y[t, c] = silu(b_c + sum_k w[c, k] x[t - K + 1 + k, c]), zeros before the start; x may be a
  // view with strided tokens (a slice of a projection's output).
  void causalConvSiluMatchesDefinition() {
    const int64_t B = 2, T = 6, C = 3, K = 3;
    auto proj = randn({B, T, C + 2}, 10), w = randn({C, 1, K}, 11), b = randn({C}, 12);
    auto x = proj.narrow(2, 1, C);
    auto y = causal_conv1d_silu(x, w, b);
    QCOMPARE(y.sizes(), x.sizes());
    for (int64_t n = 0; n < B; ++n)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t c = 0; c < C; ++c) {
          double pre = b[c].item<double>();
          for (int64_t k = 0; k < K; ++k) {
            const int64_t s = t - K + 1 + k;
            if (s >= 0) pre += w[c][0][k].item<double>() * x[n][s][c].item<double>();
          }
          QVERIFY(std::abs(y[n][t][c].item<double>() - pre * sigmoid(pre)) < 1e-12);
        }
    QVERIFY_THROWS_EXCEPTION(ModelError, causal_conv1d_silu(x, w.narrow(0, 0, 2), b));
  }

  void ssdDecayMaskMatchesDefinition() {
    const int64_t Z = 2, L = 5;
    auto cb = randn({Z, L, L}, 5), cs = at::cumsum(-at::rand({Z, L}, at::kDouble), -1), dt = at::rand({Z, L}, at::kDouble);
    auto w = ssd_decay_mask(cb, cs, dt);
    for (int64_t z = 0; z < Z; ++z)
      for (int64_t t = 0; t < L; ++t)
        for (int64_t s = 0; s < L; ++s) {
          const double expect = s <= t ? cb[z][t][s].item<double>() *
                                             std::exp(cs[z][t].item<double>() - cs[z][s].item<double>()) *
                                             dt[z][s].item<double>()
                                       : 0.0;
          QVERIFY(std::abs(w[z][t][s].item<double>() - expect) < 1e-12);
        }
  }

  // The backward's outputs are the gradients of sum(gw * w) through the mask by autograd:
  // d/d cb = gcb, d/d cs = row - dt * col, d/d dt = col.
  void ssdDecayMaskBackwardIsItsGradient() {
    const int64_t Z = 3, L = 6;
    auto cb = randn({Z, L, L}, 6).requires_grad_(), gw = randn({Z, L, L}, 7);
    auto cs = at::cumsum(-at::rand({Z, L}, at::kDouble), -1).requires_grad_();
    auto dt = at::rand({Z, L}, at::kDouble).requires_grad_();
    (ssd_decay_mask(cb, cs, dt) * gw).sum().backward();
    auto g = ssd_decay_mask_backward(gw, cb.detach(), cs.detach(), dt.detach());
    QVERIFY(at::allclose(g.gcb, cb.grad(), 1e-12, 1e-12));
    QVERIFY(at::allclose(g.row - dt.detach() * g.col, cs.grad(), 1e-12, 1e-12));
    QVERIFY(at::allclose(g.col, dt.grad(), 1e-12, 1e-12));
  }

  void ssdStatePassBothWays() {
    const int64_t R = 2, n = 4, W = 3;
    auto add = randn({R, n, W}, 8), decay = at::rand({R, n}, at::kDouble), init = randn({R, W}, 9);
    for (bool reverse : {false, true}) {
      auto p = ssd_state_pass(add, decay, init, reverse);
      auto S = init.clone();
      for (int64_t k = 0; k < n; ++k) {
        const int64_t c = reverse ? n - 1 - k : k;
        QVERIFY(at::allclose(p.entering.select(1, c), S, 1e-14, 1e-14));
        S = decay.select(1, c).unsqueeze(-1) * S + add.select(1, c);
      }
      QVERIFY(at::allclose(p.final_state, S, 1e-14, 1e-14));
    }
    auto zero_start = ssd_state_pass(add, decay, at::Tensor(), false);
    QVERIFY(at::equal(zero_start.entering.select(1, 0), at::zeros({R, W}, at::kDouble)));
    QVERIFY_THROWS_EXCEPTION(ModelError, ssd_state_pass(add, decay.narrow(1, 0, 3), init, false));
  }

  void badShapesAreErrors() {
    QVERIFY_THROWS_EXCEPTION(ModelError, mla_decode_attention(randn({1, 2, 8}, 1), randn({1, 4, 6}, 2), 4, 1.0));
    QVERIFY_THROWS_EXCEPTION(ModelError, mla_decode_attention(randn({1, 2, 8}, 1), randn({1, 4, 8}, 2), 9, 1.0));
    GdnStepInputs in{randn({1, 10}, 1), randn({10, 1, 4}, 2), randn({1, 2}, 3), randn({1, 2}, 4),
                     randn({2}, 5), randn({2}, 6), 1, 2, 3};
    auto conv_state = randn({1, 10, 3}, 7), state = randn({1, 2, 2, 3}, 8);  // consistent: C = 2*1*2 + 2*3
    auto wrong_state = randn({1, 2, 2, 4}, 8), wrong_conv = randn({1, 10, 2}, 7);
    QVERIFY_THROWS_EXCEPTION(ModelError, gdn_decode_step(in, conv_state, wrong_state));
    QVERIFY_THROWS_EXCEPTION(ModelError, gdn_decode_step(in, wrong_conv, state));
    gdn_decode_step(in, conv_state, state);
  }

  void demandedKernelOnTheCpuIsAClearError() {
    auto x = randn({2, 4}, 1).to(at::kFloat), w = randn({4}, 2).to(at::kFloat);
    try {
      rms_norm(x, w, 1e-5, OpPath::Kernel);
      QFAIL("expected a ModelError");
    } catch (const ModelError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("rms_norm") != std::string::npos && what.find("GPU kernel cannot run") != std::string::npos,
               what.c_str());
    }
    // Auto takes the reference on the CPU: same result as asking for it.
    QVERIFY(at::equal(rms_norm(x, w, 1e-5, OpPath::Auto), rms_norm(x, w, 1e-5, OpPath::Reference)));
  }
};

QTEST_APPLESS_MAIN(TestFusedOps)
#include "test_fused_ops.moc"
