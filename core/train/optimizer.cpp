#include "core/train/optimizer.h"

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
    p.copy_(master);
  }
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
  double sq = 0;
  for (auto& [name, p] : params)
    if (p.grad().defined()) sq += p.grad().to(at::kDouble).pow(2).sum().item<double>();
  const double norm = std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (auto& [name, p] : params)
      if (p.grad().defined()) p.grad().mul_(scale);
  }
  return norm;
}

}  // namespace hylo
