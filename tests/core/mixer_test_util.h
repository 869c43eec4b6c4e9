// Helpers shared by the mixer tests (test_ssd, test_gdn, test_mla): error measures and a
// finite-difference gradient check in fp64.
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace hylo::test {

// max |a - b| / max |b|: the error relative to the reference's scale (elementwise relative errors
// blow up on entries that are ~0).
inline double rel_err(const at::Tensor& a, const at::Tensor& b) {
  auto ad = a.detach().to(at::kDouble), bd = b.detach().to(at::kDouble);
  const double scale = std::max(bd.abs().max().item<double>(), 1e-30);
  return (ad - bd).abs().max().item<double>() / scale;
}

// A scalar that depends on every element of out: sum(out * w) with a fixed random w, so a wrong
// gradient anywhere shows.
inline at::Tensor probe(const at::Tensor& out, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto w = at::randn(out.sizes(), gen, out.options().requires_grad(false));
  return (out * w).sum();
}

// Gradients of f at inputs (fp64 leaves) by autograd.
inline std::vector<at::Tensor> autograd_grads(const std::function<at::Tensor(const std::vector<at::Tensor>&)>& f,
                                              const std::vector<at::Tensor>& inputs) {
  std::vector<at::Tensor> leaves;
  for (auto& t : inputs) leaves.push_back(t.detach().clone().requires_grad_(true));
  auto loss = f(leaves);
  return torch::autograd::grad({loss}, leaves);
}

// Largest |autograd - central difference| over every input element, relative to the largest
// gradient entry. f must be a scalar function of fp64 inputs.
inline double finite_difference_error(const std::function<at::Tensor(const std::vector<at::Tensor>&)>& f,
                                      const std::vector<at::Tensor>& inputs, double eps = 1e-6) {
  auto analytic = autograd_grads(f, inputs);
  double worst = 0, scale = 1e-30;
  std::vector<at::Tensor> point;
  for (auto& t : inputs) point.push_back(t.detach().clone());
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < point.size(); ++i) {
    auto flat = point[i].view(-1);
    auto g = analytic[i].reshape(-1);
    for (int64_t j = 0; j < flat.numel(); ++j) {
      const double x0 = flat[j].item<double>();
      flat[j] = x0 + eps;
      const double up = f(point).item<double>();
      flat[j] = x0 - eps;
      const double down = f(point).item<double>();
      flat[j] = x0;
      const double numeric = (up - down) / (2 * eps);
      worst = std::max(worst, std::abs(numeric - g[j].item<double>()));
      scale = std::max(scale, std::abs(numeric));
    }
  }
  return worst / scale;
}

}  // namespace hylo::test
