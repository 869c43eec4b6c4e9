// Guards the CPU set-up: LibTorch must use a multi-threaded optimised BLAS (OpenBLAS), else
// fp32 matmuls run ~20x slower (reference BLAS measured 6.5 GFLOP/s vs 137 on 2 cores).
#include <QtTest>

#include <chrono>

class TestCpuBlas : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void matmulIsFast() {
    at::set_num_threads(2);
    auto a = at::randn({1024, 1024});
    auto b = at::randn({1024, 1024});
    at::matmul(a, b);  // warm-up
    const int reps = 8;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) at::matmul(a, b);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double gflops = reps * 2.0 * 1024 * 1024 * 1024 / s / 1e9;
    qInfo("fp32 1024^3 matmul: %.1f GFLOP/s with %d threads", gflops, at::get_num_threads());
    // Reference BLAS reaches ~6.5 GFLOP/s; OpenBLAS well over 50 even on a loaded 2-core box.
    QVERIFY2(gflops > 20.0, "slow matmul: is libopenblas0-pthread installed?");
  }
};

QTEST_GUILESS_MAIN(TestCpuBlas)
#include "test_cpu_blas.moc"
