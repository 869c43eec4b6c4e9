#include "core/train/losses.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/spec/error.h"

namespace hylo {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

int64_t chunk_size(const DistillInputs& in, int64_t n, int64_t vocab) {
  if (in.chunk_tokens > 0) return std::min(in.chunk_tokens, n);
  const int64_t budget = int64_t(256) << 20;  // bytes of one (chunk, V) fp32 tensor
  return std::max<int64_t>(1, std::min(n, budget / (vocab * 4)));
}

// Loss and, when an input needs it, its gradient, one chunk of tokens at a time. For z = h W^T:
//   d(T^2 KL(p || softmax(z/T)))/dz = T (softmax(z/T) - p),   d(CE)/dz = softmax(z) - onehot(target).
struct ChunkedDistill : torch::autograd::Function<ChunkedDistill> {
  static variable_list forward(AutogradContext* ctx, at::Tensor hs, at::Tensor ws, const DistillInputs* in) {
    const int64_t n = hs.size(0), vocab = ws.size(0);
    const bool has_kd = in->teacher_hidden.defined(), has_ce = in->targets.defined();
    const bool need_h = hs.requires_grad(), need_w = ws.requires_grad();
    const double temp = in->temperature;
    at::Tensor grad_h = need_h ? at::zeros(hs.sizes(), hs.options().dtype(at::kFloat)) : at::Tensor();  // (N, C)
    at::Tensor grad_w = need_w ? at::zeros(ws.sizes(), ws.options().dtype(at::kFloat)) : at::Tensor();  // (V, C)
    at::Tensor kd_sum = at::zeros({}, hs.options().dtype(at::kDouble));
    at::Tensor ce_sum = at::zeros({}, hs.options().dtype(at::kDouble));
    const int64_t step = chunk_size(*in, n, vocab);
    for (int64_t s = 0; s < n; s += step) {
      const int64_t e = std::min(n, s + step);
      at::Tensor h = hs.slice(0, s, e);                                // (c, C)
      at::Tensor zs = at::matmul(h, ws.t().to(h.scalar_type())).to(at::kFloat);  // (c, V)
      at::Tensor g;                                                    // d loss / d zs, (c, V)
      if (has_kd) {
        at::Tensor ht = in->teacher_hidden.slice(0, s, e);
        at::Tensor zt = at::matmul(ht, in->teacher_head.t().to(ht.scalar_type())).to(at::kFloat);
        at::Tensor log_p = at::log_softmax(zt / temp, -1);
        at::Tensor log_q = at::log_softmax(zs / temp, -1);
        at::Tensor p = log_p.exp();
        kd_sum += (p * (log_p - log_q)).sum().to(at::kDouble) * (temp * temp);
        if (in->kd_weight != 0) g = (log_q.exp() - p) * (in->kd_weight * temp / n);
      }
      if (has_ce) {
        at::Tensor tgt = in->targets.slice(0, s, e).unsqueeze(1);  // (c, 1)
        at::Tensor log_q = at::log_softmax(zs, -1);
        ce_sum -= log_q.gather(1, tgt).sum().to(at::kDouble);
        if (in->ce_weight != 0) {
          at::Tensor gce = log_q.exp();
          gce.scatter_add_(1, tgt, at::full(tgt.sizes(), -1.0f, gce.options()));
          gce.mul_(in->ce_weight / n);
          g = g.defined() ? g.add_(gce) : gce;
        }
      }
      if (!g.defined()) continue;
      if (need_h) grad_h.slice(0, s, e).copy_(at::matmul(g, ws.to(at::kFloat)));
      if (need_w) grad_w.add_(at::matmul(g.t(), h.to(at::kFloat)));
    }
    at::Tensor kd = (kd_sum / n).to(at::kFloat), ce = (ce_sum / n).to(at::kFloat);
    at::Tensor loss = (in->kd_weight * kd.to(at::kDouble) * (has_kd ? 1 : 0) +
                       in->ce_weight * ce.to(at::kDouble) * (has_ce ? 1 : 0)).to(at::kFloat);
    ctx->saved_data["dtype_h"] = static_cast<int64_t>(hs.scalar_type());
    ctx->saved_data["dtype_w"] = static_cast<int64_t>(ws.scalar_type());
    ctx->save_for_backward({grad_h, grad_w});
    ctx->mark_non_differentiable({kd, ce});
    return {loss, kd, ce};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    at::Tensor go = grad_out[0].to(at::kFloat);
    at::Tensor gh, gw;
    if (saved[0].defined())
      gh = (saved[0] * go).to(static_cast<at::ScalarType>(ctx->saved_data["dtype_h"].toInt()));
    if (saved[1].defined())
      gw = (saved[1] * go).to(static_cast<at::ScalarType>(ctx->saved_data["dtype_w"].toInt()));
    return {gh, gw, at::Tensor()};
  }
};

}  // namespace

DistillLoss distill_loss(const DistillInputs& in) {
  if (in.student_hidden.dim() != 2 || in.student_head.dim() != 2 ||
      in.student_hidden.size(1) != in.student_head.size(1))
    throw TrainError("student hidden (N, C) and head (V, C) disagree", {}, "student_hidden");
  if (in.teacher_hidden.defined() != in.teacher_head.defined())
    throw TrainError("teacher hidden and head come together", {}, "teacher_hidden");
  if (in.teacher_hidden.defined() &&
      (in.teacher_hidden.size(0) != in.student_hidden.size(0) || in.teacher_head.size(0) != in.student_head.size(0)))
    throw TrainError("teacher tokens or vocabulary differ from the student's", {}, "teacher_hidden");
  if (in.ce_weight != 0 && !in.targets.defined()) throw TrainError("CE needs targets", {}, "targets");
  if (!in.teacher_hidden.defined() && !in.targets.defined())
    throw TrainError("nothing to compute: no teacher and no targets", {}, "targets");
  if (!(in.temperature > 0)) throw TrainError("must be > 0", {}, "temperature");
  auto out = ChunkedDistill::apply(in.student_hidden, in.student_head, &in);
  DistillLoss r;
  r.loss = out[0];
  r.kd = out[1].item<double>();
  r.ce = out[2].item<double>();
  return r;
}

at::Tensor ild_distance(const at::Tensor& x, const at::Tensor& y, IldLoss kind) {
  at::Tensor d = (x - y).to(at::kFloat);  // (B, T, C)
  if (kind == IldLoss::L2) return at::linalg_vector_norm(d, 2, {-1}, false, c10::nullopt).mean();
  return d.pow(2).mean();
}

}  // namespace hylo
