// Guards the CPU set-up: LibTorch must run its matmuls through an optimised BLAS (OpenBLAS via
// Debian's libblas.so.3 alternative, or MKL), else fp32 matmuls run ~20x slower (reference BLAS
// measured 6.5 GFLOP/s vs 137 on 2 cores). Checking the mapped library rather than a speed keeps
// the test reliable on a loaded machine; the speed is printed for the log.
#include <QtTest>

#include <chrono>
#include <fstream>
#include <string>

static std::string blas_libraries_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  while (std::getline(maps, line)) {
    for (const char* name : {"openblas", "libmkl", "libblas"}) {
      auto at = line.find(name);
      if (at != std::string::npos && found.find(line.substr(line.rfind('/') + 1)) == std::string::npos)
        found += line.substr(line.rfind('/') + 1) + " ";
    }
  }
  return found;
}

class TestCpuBlas : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void matmulUsesOptimisedBlas() {
    at::set_num_threads(2);
    auto a = at::randn({512, 512});
    auto b = at::randn({512, 512});
    at::matmul(a, b);  // loads the BLAS
    const int reps = 8;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) at::matmul(a, b);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string libs = blas_libraries_mapped();
    qInfo("fp32 512^3 matmul: %.1f GFLOP/s, %d threads, BLAS mapped: %s", reps * 2.0 * 512 * 512 * 512 / s / 1e9,
          at::get_num_threads(), libs.c_str());
    QVERIFY2(libs.find("openblas") != std::string::npos || libs.find("libmkl") != std::string::npos,
             ("no optimised BLAS mapped (" + libs + "): install libopenblas0-pthread").c_str());
  }
};

QTEST_GUILESS_MAIN(TestCpuBlas)
#include "test_cpu_blas.moc"
