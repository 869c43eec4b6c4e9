#include "core/train/losses.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/model/fused_path.h"
#include "core/spec/error.h"
#include "core/train/autocast.h"

namespace hylo {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

int64_t chunk_size(const DistillInputs& in, int64_t n, int64_t vocab, int64_t element_bytes, bool gpu) {
  if (in.chunk_tokens > 0) return std::min(in.chunk_tokens, n);
  // Bytes of one (chunk, V) logits tensor: on GPUs large chunks keep the lm_head matmuls efficient;
  // the CPU reference holds ~7 such tensors at once, so there they stay small.
  const int64_t budget = gpu ? int64_t(1) << 30 : int64_t(256) << 20;
  return std::max<int64_t>(1, std::min(n, budget / (vocab * element_bytes)));
}

DistillRows distill_rows_reference(const at::Tensor& zs, const at::Tensor& zt, const at::Tensor& targets,
                                   double temp, double kd_coef, double ce_coef, bool want_grad) {
  const auto cd = zs.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor s = zs.to(cd);
  DistillRows r;
  at::Tensor g;
  if (zt.defined()) {
    at::Tensor log_p = at::log_softmax(zt.to(cd) / temp, -1), log_q = at::log_softmax(s / temp, -1);
    at::Tensor p = log_p.exp();
    r.kd = (p * (log_p - log_q)).sum(-1) * (temp * temp);
    if (want_grad) g = (log_q.exp() - p) * kd_coef;
  }
  if (targets.defined()) {
    at::Tensor tgt = targets.unsqueeze(1);  // (rows, 1)
    at::Tensor log_c = at::log_softmax(s, -1);
    r.ce = -log_c.gather(1, tgt).squeeze(1);
    if (want_grad) {
      at::Tensor gce = log_c.exp();
      gce.scatter_add_(1, tgt, at::full(tgt.sizes(), -1.0, gce.options()));
      gce.mul_(ce_coef);
      g = g.defined() ? g.add_(gce) : gce;
    }
  }
  if (want_grad) r.grad = g.defined() ? g.to(zs.scalar_type()) : at::zeros_like(zs);
  return r;
}

// Loss and, when an input needs it, its gradient, one chunk of tokens at a time. For z = h W^T:
//   d(T^2 KL(p || softmax(z/T)))/dz = T (softmax(z/T) - p),   d(CE)/dz = softmax(z) - onehot(target).
struct ChunkedDistill : torch::autograd::Function<ChunkedDistill> {
  static variable_list forward(AutogradContext* ctx, at::Tensor hs, at::Tensor ws, const DistillInputs* in) {
    const int64_t n = hs.size(0), vocab = ws.size(0);
    const bool has_kd = in->teacher_hidden.defined(), has_ce = in->targets.defined();
    const double temp = in->temperature;
    const double kd_coef = has_kd ? in->kd_weight * temp / n : 0, ce_coef = has_ce ? in->ce_weight / n : 0;
    const bool need_h = hs.requires_grad(), need_w = ws.requires_grad();
    const bool need_grad = (need_h || need_w) && (kd_coef != 0 || ce_coef != 0);
    // The matmul dtype: bf16 under autocast (the lm_head's output dtype there), else the weights'.
    const auto md = autocast_enabled(hs.device()) ? at::kBFloat16 : ws.scalar_type();
    const at::Tensor w = ws.to(md), wt = has_kd ? in->teacher_head.to(md) : at::Tensor();  // (V, C)
    at::Tensor grad_h = need_h ? at::zeros(hs.sizes(), hs.options().dtype(at::kFloat)) : at::Tensor();  // (N, C)
    at::Tensor grad_w = need_w ? at::zeros(ws.sizes(), ws.options().dtype(at::kFloat)) : at::Tensor();  // (V, C)
    at::Tensor kd_sum = at::zeros({}, hs.options().dtype(at::kDouble));
    at::Tensor ce_sum = at::zeros({}, hs.options().dtype(at::kDouble));
    const int64_t step = chunk_size(*in, n, vocab, at::elementSize(md), hs.is_cuda());
    for (int64_t s = 0; s < n; s += step) {
      const int64_t e = std::min(n, s + step);
      at::Tensor h = hs.slice(0, s, e).to(md);                                          // (c, C)
      at::Tensor zs = at::mm(h, w.t());                                                 // (c, V)
      at::Tensor zt = has_kd ? at::mm(in->teacher_hidden.slice(0, s, e).to(md), wt.t()) : at::Tensor();
      at::Tensor tgt = has_ce ? in->targets.slice(0, s, e) : at::Tensor();
      DistillRows rows = distill_rows(zs, zt, tgt, temp, kd_coef, ce_coef, need_grad);  // grad: d loss / d zs
      if (has_kd) kd_sum += rows.kd.sum(at::kDouble);
      if (has_ce) ce_sum += rows.ce.sum(at::kDouble);
      if (!need_grad) continue;
      if (need_h) grad_h.slice(0, s, e).copy_(at::mm(rows.grad, w));
      if (need_w) grad_w.add_(at::mm(rows.grad.t(), h));
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

DistillRows distill_rows(const at::Tensor& zs, const at::Tensor& zt, const at::Tensor& targets, double temperature,
                         double kd_coef, double ce_coef, bool want_grad, OpPath path) {
  if (zs.dim() != 2 || (zt.defined() && zt.sizes() != zs.sizes()) ||
      (targets.defined() && (targets.dim() != 1 || targets.size(0) != zs.size(0))))
    throw TrainError("distill_rows needs logits (rows, V), teacher logits of the same shape and targets (rows)", {},
                     "logits");
  std::string blocker = fused::common_blockers({&zs, &zt, &targets});
  if (blocker.empty() && (!fused::kernel_dtype(zs.scalar_type()) || (zt.defined() && zt.scalar_type() != zs.scalar_type())))
    blocker = "the logits must share one of fp32, fp16, bf16";
  if (blocker.empty() && targets.defined() && targets.scalar_type() != at::kLong) blocker = "targets must be int64";
  if (!fused::use_kernel(path, blocker, "distill_rows"))
    return distill_rows_reference(zs, zt, targets, temperature, kd_coef, ce_coef, want_grad);
#if defined(HYLO_HAVE_KERNELS)
  const c10::cuda::CUDAGuard guard(zs.device());
  const at::Tensor s = zs.contiguous(), t = zt.defined() ? zt.contiguous() : at::Tensor();
  const at::Tensor tgt = targets.defined() ? targets.contiguous() : at::Tensor();
  const auto f32 = zs.options().dtype(at::kFloat);
  DistillRows r;
  if (want_grad) r.grad = at::empty_like(s);
  if (t.defined()) r.kd = at::empty({zs.size(0)}, f32);
  if (tgt.defined()) r.ce = at::empty({zs.size(0)}, f32);
  kernels::DistillRowsArgs a;
  a.student = s.data_ptr();
  a.teacher = t.defined() ? t.data_ptr() : nullptr;
  a.targets = tgt.defined() ? tgt.data_ptr<int64_t>() : nullptr;
  a.grad = want_grad ? r.grad.data_ptr() : nullptr;
  a.kd = r.kd.defined() ? r.kd.data_ptr<float>() : nullptr;
  a.ce = r.ce.defined() ? r.ce.data_ptr<float>() : nullptr;
  a.rows = zs.size(0), a.vocab = zs.size(1);
  a.temperature = static_cast<float>(temperature);
  a.kd_coef = static_cast<float>(kd_coef), a.ce_coef = static_cast<float>(ce_coef);
  a.dtype = fused::to_kernel_dtype(zs.scalar_type());
  fused::check_launch(kernels::distill_rows(a, fused::stream_of(zs)), "distill_rows");
  return r;
#else
  return {};
#endif
}

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
