// The GPU kernels (kernels/ through core/model/fused_ops.h) against their LibTorch references on
// the GPU: every case of check_kernels (the HyLo students' sizes, masks, odd lengths, a cache view
// with padding) in bf16 and fp32 within tolerance of an fp64 run; and a whole hybrid model's decode
// through the kernels equal to its decode through the references. Skips without a GPU build or a GPU.
#include <QtTest>

#include <torch/cuda.h>

#include "core/infer/kernel_bench.h"
#include "core/model/fused_ops.h"
#include "core/model/hybrid_model.h"
#include "core/spec/model_shapes.h"

using namespace hylo;

class TestFusedOpsGpu : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void kernelsMatchReferences_data() {
    QTest::addColumn<int>("dtype");
    QTest::newRow("bf16") << static_cast<int>(at::kBFloat16);
    QTest::newRow("fp32") << static_cast<int>(at::kFloat);
  }
  void kernelsMatchReferences() {
    if (!gpu_kernels_built() || !torch::cuda::is_available()) QSKIP("needs a GPU build (-DHYLO_CUDA=ON) and a GPU");
    QFETCH(int, dtype);
    KernelBenchOptions o;
    o.dtype = static_cast<at::ScalarType>(dtype);
    o.iterations = 2;
    o.long_context = false;
    for (const auto& c : check_kernels(o)) {
      const std::string what = c.op + " " + c.shape + ": kernel error " + std::to_string(c.kernel_error) +
                               " > tolerance " + std::to_string(c.tolerance);
      QVERIFY2(c.passed(), what.c_str());
    }
  }

  // A tiny MLA + GDN student decoding on the GPU (RMSNorm, MLA and GDN steps through the kernels)
  // gives the logits of the same weights decoding on the CPU (the references), in fp32.
  void hybridDecodeThroughKernelsMatchesTheCpu() {
    if (!gpu_kernels_built() || !torch::cuda::is_available()) QSKIP("needs a GPU build (-DHYLO_CUDA=ON) and a GPU");
    at::NoGradGuard no_grad;
    const auto config = model_shape("tiny-hylo-gdn");
    at::manual_seed(3);
    HybridModel cpu(config);
    at::manual_seed(3);
    HybridModel gpu(config);
    gpu.to(at::Device(at::kCUDA, 0));
    auto cpu_caches = cpu.make_caches(2, at::kFloat, at::kCPU);
    auto gpu_caches = gpu.make_caches(2, at::kFloat, at::Device(at::kCUDA, 0));
    auto ids = at::randint(0, config.vocab_size, {2, 9}, at::TensorOptions().dtype(at::kLong));
    auto a = cpu.forward(ids, 0, &cpu_caches);
    auto b = gpu.forward(ids.cuda(), 0, &gpu_caches).cpu();
    for (int64_t step = 0; step < 4; ++step) {
      auto next = a.select(1, a.size(1) - 1).argmax(-1).unsqueeze(1);  // (2, 1), the CPU's greedy pick
      a = cpu.forward(next, 9 + step, &cpu_caches);
      b = gpu.forward(next.cuda(), 9 + step, &gpu_caches).cpu();
      const double diff = (a - b).abs().max().item<double>(), scale = a.abs().max().item<double>();
      QVERIFY2(diff <= 1e-4 * scale, (std::to_string(diff) + " at step " + std::to_string(step)).c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestFusedOpsGpu)
#include "test_fused_ops_gpu.moc"
