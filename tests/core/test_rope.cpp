// RoPE tables against closed-form values worked out by hand for each rope_scaling type, and the
// two properties attention relies on: rotations keep norms, and <R_m q, R_n k> depends on m - n only.
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "core/model/rope.h"
#include "core/spec/error.h"

using namespace hylo;

namespace {

constexpr double kPi = 3.14159265358979323846;

void expect_close(const at::Tensor& got, const std::vector<double>& want, double rel = 2e-6) {
  QCOMPARE(got.numel(), static_cast<int64_t>(want.size()));
  auto g = got.to(at::kDouble);
  for (size_t i = 0; i < want.size(); ++i) {
    const double v = g[i].item<double>();
    if (std::abs(v - want[i]) > rel * std::abs(want[i]))
      QFAIL(qPrintable(QString("inv_freq[%1] = %2, want %3").arg(i).arg(v, 0, 'g', 10).arg(want[i], 0, 'g', 10)));
  }
}

RopeScaling scaling(const std::string& type) {
  RopeScaling s;
  s.type = type;
  return s;
}

}  // namespace

class TestRope : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void defaultFrequencies() {
    // theta^(-2i/d) with theta = 10^4, d = 8: 10^0, 10^-1, 10^-2, 10^-3.
    auto t = compute_rope(scaling("default"), 10000.0, 8, 128);
    QCOMPARE(t.inv_freq.scalar_type(), at::kFloat);
    expect_close(t.inv_freq, {1.0, 0.1, 0.01, 0.001});
    QCOMPARE(t.attention_scaling, 1.0);
  }

  void linearDividesByFactor() {
    auto s = scaling("linear");
    s.factor = 4;
    expect_close(compute_rope(s, 10000.0, 8, 128).inv_freq, {0.25, 0.025, 0.0025, 0.00025});
  }

  void dynamicGrowsBaseBeyondTrainedLength() {
    auto s = scaling("dynamic");
    s.factor = 2;
    // At or below max_position_embeddings: the default frequencies.
    expect_close(compute_rope(s, 10000.0, 8, 128, 100).inv_freq, {1.0, 0.1, 0.01, 0.001});
    // At 2x the trained length: base' = 10^4 * (2 * 2 - 1)^(8/6), so inv_freq_i = base'^(-i/4).
    const double base = 10000.0 * std::pow(3.0, 4.0 / 3.0);
    expect_close(compute_rope(s, 10000.0, 8, 128, 256).inv_freq,
                 {1.0, std::pow(base, -0.25), std::pow(base, -0.5), std::pow(base, -0.75)}, 1e-5);
  }

  void llama3SmoothsMediumWavelengths() {
    auto s = scaling("llama3");
    s.factor = 8;
    s.low_freq_factor = 1;
    s.high_freq_factor = 4;
    s.original_max_position_embeddings = 64;  // low-freq wavelen 64, high-freq wavelen 16
    // Wavelengths 2*pi/f: 6.28 (< 16: kept), 62.8 (between: blended), 628 and 6283 (> 64: divided by 8).
    const double blend = (64.0 / (2 * kPi / 0.1) - 1.0) / (4.0 - 1.0);
    expect_close(compute_rope(s, 10000.0, 8, 1024).inv_freq,
                 {1.0, (1 - blend) * 0.1 / 8 + blend * 0.1, 0.01 / 8, 0.001 / 8}, 1e-5);
  }

  void yarnRampsBetweenCorrectionDims() {
    auto s = scaling("yarn");
    s.factor = 4;
    s.original_max_position_embeddings = 2048;
    s.beta_fast = 32;
    s.beta_slow = 1;
    const int64_t d = 16;
    const double theta = 10000.0;
    // Dimension where a frequency turns r times over 2048 positions: d*ln(2048/(2*pi*r)) / (2 ln theta).
    auto corr = [&](double r) { return d * std::log(2048.0 / (2 * kPi * r)) / (2 * std::log(theta)); };
    for (bool truncate : {true, false}) {
      s.truncate = truncate;
      const double low = truncate ? std::floor(corr(32)) : corr(32);  // 2.016 -> 2
      const double high = truncate ? std::ceil(corr(1)) : corr(1);    // 5.026 -> 6
      std::vector<double> want;
      for (int i = 0; i < d / 2; ++i) {
        const double f = std::pow(theta, -2.0 * i / d);
        const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);  // 1: fully interpolated
        want.push_back(ramp * f / 4 + (1 - ramp) * f);
      }
      auto t = compute_rope(s, theta, d, 8192);
      expect_close(t.inv_freq, want, 1e-5);
      QVERIFY(std::abs(t.attention_scaling - (0.1 * std::log(4.0) + 1)) < 1e-12);
    }
  }

  void yarnAttentionFactorChoices() {
    auto s = scaling("yarn");
    s.factor = 40;
    s.original_max_position_embeddings = 4096;
    s.attention_factor = 0.5;  // explicit wins
    QCOMPARE(compute_rope(s, 10000.0, 16, 163840).attention_scaling, 0.5);
    s.attention_factor.reset();
    s.mscale = 1.0;
    s.mscale_all_dim = 0.5;  // DeepSeek: ratio of the two mscales
    const double want = (0.1 * std::log(40.0) + 1) / (0.05 * std::log(40.0) + 1);
    QVERIFY(std::abs(compute_rope(s, 10000.0, 16, 163840).attention_scaling - want) < 1e-12);
    QVERIFY(std::abs(yarn_get_mscale(40, 1) - 1.3688879454113936) < 1e-12);
    QCOMPARE(yarn_get_mscale(1, 1), 1.0);
    QCOMPARE(yarn_get_mscale(0.5, 3), 1.0);
  }

  void cosSinCarryAttentionScaling() {
    auto s = scaling("yarn");
    s.factor = 4;
    s.original_max_position_embeddings = 32;
    auto t = compute_rope(s, 10000.0, 8, 128);
    auto [cos, sin] = rope_cos_sin(t, 5, 3, at::kFloat, at::kCPU);
    QCOMPARE(cos.sizes(), (at::IntArrayRef{3, 8}));
    // Position 5, pair 0 (inv_freq 1 stays unscaled at the fast end): cos(5) * mscale.
    const double m = 0.1 * std::log(4.0) + 1;
    QVERIFY(std::abs(cos[0][0].item<double>() - std::cos(5.0) * m) < 1e-5);
    QVERIFY(std::abs(sin[2][4].item<double>() - std::sin(7.0) * m) < 1e-5);  // second half repeats the first
  }

  void rotationPreservesNorms() {
    at::manual_seed(1);
    auto t = compute_rope(scaling("default"), 10000.0, 16, 128);
    auto [cos, sin] = rope_cos_sin(t, 7, 5, at::kFloat, at::kCPU);
    auto x = at::randn({2, 3, 5, 16});
    auto y = apply_rope(x, cos, sin);
    QVERIFY(at::allclose(y.norm(2, -1), x.norm(2, -1), 1e-5, 1e-5));
    QVERIFY(!at::allclose(y, x, 1e-3, 1e-3));  // it did rotate
  }

  void scoresDependOnRelativePositionOnly() {
    at::manual_seed(2);
    auto t = compute_rope(scaling("default"), 10000.0, 16, 4096);
    auto q = at::randn({1, 1, 1, 16}, at::kDouble);
    auto k = at::randn({1, 1, 1, 16}, at::kDouble);
    auto score = [&](int64_t m, int64_t n) {
      auto [cm, sm] = rope_cos_sin(t, m, 1, at::kDouble, at::kCPU);
      auto [cn, sn] = rope_cos_sin(t, n, 1, at::kDouble, at::kCPU);
      return (apply_rope(q, cm, sm) * apply_rope(k, cn, sn)).sum().item<double>();
    };
    const double ref = score(5, 2);
    QVERIFY(std::abs(score(13, 10) - ref) < 1e-5);
    QVERIFY(std::abs(score(1003, 1000) - ref) < 1e-3);  // fp32 angles at position 1000
    QVERIFY(std::abs(score(6, 2) - ref) > 1e-2);  // a different offset gives a different score
  }

  void rejectsBadInput() {
    QVERIFY_EXCEPTION_THROWN(compute_rope(scaling("default"), 10000.0, 7, 128), ModelError);
    QVERIFY_EXCEPTION_THROWN(compute_rope(scaling("longrope"), 10000.0, 8, 128), ModelError);
    QVERIFY_EXCEPTION_THROWN(compute_rope(scaling("yarn"), 10000.0, 8, 128), ModelError);  // no original length
  }
};

QTEST_GUILESS_MAIN(TestRope)
#include "test_rope.moc"
