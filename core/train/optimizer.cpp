#include "core/train/optimizer.h"

#include <torch/version.h>

#include <cmath>
#include <map>

#include "core/spec/error.h"

namespace hylo {

bool takes_weight_decay(const std::string&, const at::Tensor& p) { return p.dim() >= 2; }

AdamW::AdamW(NamedTensors params, double beta1, double beta2, double eps)
    : params_(std::move(params)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (auto& [name, p] : params_) {
    exp_avg_.push_back(at::zeros_like(p, p.options().dtype(at::kFloat)));
    exp_avg_sq_.push_back(at::zeros_like(p, p.options().dtype(at::kFloat)));
  }
}

void AdamW::step(double lr, double weight_decay) {
  at::NoGradGuard no_grad;
  ++steps_;
  if (path == OpPath::Reference || (path == OpPath::Auto && reference_ops_only()))
    return reference_step(lr, weight_decay);
  const std::string blocker = fused_blocker();
  if (blocker.empty()) return fused_step(lr, weight_decay);
  if (path == OpPath::Kernel) throw ModelError("the fused AdamW cannot run: " + blocker);
  reference_step(lr, weight_decay);
}

void AdamW::reference_step(double lr, double weight_decay) {
  const double bc1 = 1 - std::pow(beta1_, double(steps_)), bc2 = 1 - std::pow(beta2_, double(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor p = params_[i].second;
    if (!p.grad().defined()) continue;
    at::Tensor g = p.grad().to(at::kFloat);
    at::Tensor& m = exp_avg_[i];
    at::Tensor& v = exp_avg_sq_[i];
    m.mul_(beta1_).add_(g, 1 - beta1_);
    v.mul_(beta2_).addcmul_(g, g, 1 - beta2_);
    at::Tensor update = (m / bc1) / ((v / bc2).sqrt_().add_(eps_));
    at::Tensor master = p.to(at::kFloat);
    if (weight_decay != 0 && takes_weight_decay(params_[i].first, p)) master.mul_(1 - lr * weight_decay);
    master.add_(update, -lr);
    if (!master.is_same(p)) p.copy_(master);
  }
}

std::string AdamW::fused_blocker() const {
#if TORCH_VERSION_MAJOR >= 2
  for (const auto& [name, p] : params_) {
    if (!p.grad().defined()) continue;
    if (!p.is_cuda()) return "'" + name + "' is not on a CUDA device";
    if (p.scalar_type() != at::kFloat || p.grad().scalar_type() != at::kFloat)
      return "'" + name + "' or its gradient is not fp32";
    if (p.grad().device() != p.device()) return "the gradient of '" + name + "' is on another device";
  }
  return {};
#else
  return "needs LibTorch 2";
#endif
}

void AdamW::fused_step(double lr, double weight_decay) {
#if TORCH_VERSION_MAJOR >= 2
  // Two groups (with and without weight decay) per device; the kernel reads the step count and
  // computes the bias corrections itself, with the maths of reference_step.
  std::map<std::pair<bool, int>, std::vector<size_t>> groups;  // (decays, CUDA device index)
  for (size_t i = 0; i < params_.size(); ++i) {
    const at::Tensor& p = params_[i].second;
    if (p.grad().defined()) groups[{takes_weight_decay(params_[i].first, p), p.get_device()}].push_back(i);
  }
  for (const auto& [key, idx] : groups) {
    const bool decays = key.first;
    const at::Device device = params_[idx.front()].second.device();
    if (!step_count_.defined() || step_count_.device() != device)
      step_count_ = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device));
    step_count_.fill_(static_cast<double>(steps_));
    std::vector<at::Tensor> p, g, m, v, steps;
    for (size_t i : idx) {
      p.push_back(params_[i].second);
      g.push_back(params_[i].second.grad());
      m.push_back(exp_avg_[i]);
      v.push_back(exp_avg_sq_[i]);
      steps.push_back(step_count_);
    }
    at::_fused_adamw_(p, g, m, v, /*max_exp_avg_sqs=*/{}, steps, lr, beta1_, beta2_, decays ? weight_decay : 0.0,
                      eps_, /*amsgrad=*/false, /*maximize=*/false);
  }
#else
  (void)lr;
  (void)weight_decay;
#endif
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
}

NamedTensors AdamW::state() const {
  NamedTensors out;
  out.emplace_back("step", at::full({1}, steps_, at::kLong));
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("exp_avg." + params_[i].first, exp_avg_[i].cpu());
    out.emplace_back("exp_avg_sq." + params_[i].first, exp_avg_sq_[i].cpu());
  }
  return out;
}

void AdamW::load_state(const NamedTensors& state, const std::string& file) {
  std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
  auto get = [&](const std::string& name, const at::Tensor& like) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw TrainError("optimizer state lacks this tensor", file, name);
    if (it->second.sizes() != like.sizes()) throw TrainError("optimizer state has another shape", file, name);
    return it->second;
  };
  at::NoGradGuard no_grad;
  steps_ = get("step", at::zeros({1})).item<int64_t>();
  for (size_t i = 0; i < params_.size(); ++i) {
    exp_avg_[i].copy_(get("exp_avg." + params_[i].first, exp_avg_[i]));
    exp_avg_sq_[i].copy_(get("exp_avg_sq." + params_[i].first, exp_avg_sq_[i]));
  }
}

double clip_grad_norm(const NamedTensors& params, double max_norm) {
  at::NoGradGuard no_grad;
  // One host sync for the whole model. On a GPU each gradient's norm is taken in fp32 (an fp64 copy
  // of every gradient costs more than the optimiser); on the CPU in fp64, as before.
  std::vector<at::Tensor> squares;
  for (auto& [name, p] : params) {
    if (!p.grad().defined()) continue;
    const at::Tensor& g = p.grad();
    squares.push_back(g.is_cuda() ? g.norm().to(at::kDouble).pow(2) : g.to(at::kDouble).pow(2).sum());
  }
  double sq = 0;
  if (!squares.empty()) {
    if (squares.front().is_cuda()) {
      sq = at::stack(squares).sum().item<double>();
    } else {
      for (const auto& s : squares) sq += s.item<double>();  // the CPU's summation order, kept for resumes
    }
  }
  const double norm = std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (auto& [name, p] : params)
      if (p.grad().defined()) p.grad().mul_(scale);
  }
  return norm;
}

}  // namespace hylo
