#include "core/model/ssd_pieces.h"

#include <limits>
#include <string>
#include <vector>

#include "core/model/fused_path.h"

namespace hylo {
namespace {

using fused::common_blockers;
using fused::kernel_dtype;
using fused::use_kernel;

// [z, t, s] = exp(cs_t - cs_s) for s <= t, 0 above the diagonal (never exp of a positive number).
at::Tensor decay_matrix(const at::Tensor& cs) {
  const int64_t L = cs.size(-1);
  auto lower = at::ones({L, L}, cs.options().dtype(at::kBool)).tril();
  auto diff = cs.unsqueeze(-1) - cs.unsqueeze(-2);
  return at::exp(diff.masked_fill(lower.logical_not(), -std::numeric_limits<double>::infinity()));
}

void require_shapes(const at::Tensor& m, const at::Tensor& cs, const at::Tensor& dt, const char* op) {
  if (m.dim() != 3 || m.size(1) != m.size(2) || cs.dim() != 2 || cs.sizes() != dt.sizes() ||
      cs.size(0) != m.size(0) || cs.size(1) != m.size(1))
    throw ModelError(std::string(op) + ": needs (Z, L, L) matrices with cs and dt of (Z, L)");
}

// The mask kernels' conditions beyond the shared ones.
std::string mask_blocker(std::initializer_list<const at::Tensor*> matrices, const at::Tensor& cs,
                         const at::Tensor& dt) {
  for (const at::Tensor* m : matrices)
    if (!kernel_dtype(m->scalar_type()) || m->scalar_type() != (*matrices.begin())->scalar_type())
      return "the matrices must share one of fp32, fp16, bf16";
  if (cs.scalar_type() != at::kFloat || dt.scalar_type() != at::kFloat) return "cs and dt must be fp32";
#if defined(HYLO_HAVE_KERNELS)
  if (!kernels::ssd_mask_supports(cs.size(1))) return "chunks of more than 1024 tokens";
#endif
  return {};
}

}  // namespace

at::Tensor ssd_decay_mask(const at::Tensor& cb, const at::Tensor& cs, const at::Tensor& dt, OpPath path) {
  require_shapes(cb, cs, dt, "ssd_decay_mask");
  std::string blocker = common_blockers({&cb, &cs, &dt});
  if (blocker.empty()) blocker = mask_blocker({&cb}, cs, dt);
  if (!use_kernel(path, blocker, "ssd_decay_mask"))
    return (cb.to(cs.scalar_type()) * decay_matrix(cs) * dt.unsqueeze(-2)).to(cb.scalar_type());
#if defined(HYLO_HAVE_KERNELS)
  const c10::cuda::CUDAGuard guard(cb.device());
  auto cbc = cb.contiguous(), csc = cs.contiguous(), dtc = dt.contiguous();
  auto w = at::empty_like(cbc);
  fused::check_launch(kernels::ssd_decay_mask(cbc.data_ptr(), csc.data_ptr<float>(), dtc.data_ptr<float>(),
                                              w.data_ptr(), cb.size(0), cb.size(1),
                                              fused::to_kernel_dtype(cb.scalar_type()), fused::stream_of(cb)),
                      "ssd_decay_mask");
  return w;
#else
  return {};
#endif
}

SsdMaskGrads ssd_decay_mask_backward(const at::Tensor& gw, const at::Tensor& cb, const at::Tensor& cs,
                                     const at::Tensor& dt, OpPath path) {
  require_shapes(cb, cs, dt, "ssd_decay_mask_backward");
  if (gw.sizes() != cb.sizes()) throw ModelError("ssd_decay_mask_backward: gw and cb differ in shape");
  std::string blocker = common_blockers({&gw, &cb, &cs, &dt});
  if (blocker.empty()) blocker = mask_blocker({&cb, &gw}, cs, dt);
  if (!use_kernel(path, blocker, "ssd_decay_mask_backward")) {
    auto ge = gw.to(cs.scalar_type()) * decay_matrix(cs);
    auto r = ge * cb.to(cs.scalar_type());
    return {(ge * dt.unsqueeze(-2)).to(cb.scalar_type()), (r * dt.unsqueeze(-2)).sum(-1), r.sum(-2)};
  }
#if defined(HYLO_HAVE_KERNELS)
  const c10::cuda::CUDAGuard guard(cb.device());
  auto gwc = gw.contiguous(), cbc = cb.contiguous(), csc = cs.contiguous(), dtc = dt.contiguous();
  SsdMaskGrads g{at::empty_like(cbc), at::empty_like(csc), at::empty_like(csc)};
  fused::check_launch(
      kernels::ssd_decay_mask_backward(gwc.data_ptr(), cbc.data_ptr(), csc.data_ptr<float>(), dtc.data_ptr<float>(),
                                       g.gcb.data_ptr(), g.row.data_ptr<float>(), g.col.data_ptr<float>(),
                                       cb.size(0), cb.size(1), fused::to_kernel_dtype(cb.scalar_type()),
                                       fused::stream_of(cb)),
      "ssd_decay_mask_backward");
  return g;
#else
  return {};
#endif
}

SsdStatePass ssd_state_pass(const at::Tensor& add, const at::Tensor& decay, const at::Tensor& init, bool reverse,
                            OpPath path) {
  if (add.dim() != 3 || decay.dim() != 2 || decay.size(0) != add.size(0) || decay.size(1) != add.size(1) ||
      (init.defined() && (init.dim() != 2 || init.size(0) != add.size(0) || init.size(1) != add.size(2))))
    throw ModelError("ssd_state_pass: needs add (R, n, W), decay (R, n) and init (R, W)");
  const int64_t R = add.size(0), n = add.size(1), W = add.size(2);
  std::string blocker = common_blockers({&add, &decay, &init});
  if (blocker.empty() && (add.scalar_type() != at::kFloat || decay.scalar_type() != at::kFloat ||
                          (init.defined() && init.scalar_type() != at::kFloat)))
    blocker = "the states and decays must be fp32";
  if (!use_kernel(path, blocker, "ssd_state_pass")) {
    auto S = init.defined() ? init.to(add.scalar_type()) : at::zeros({R, W}, add.options());
    std::vector<at::Tensor> entering(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
      const int64_t c = reverse ? n - 1 - k : k;
      entering[static_cast<size_t>(c)] = S;
      S = decay.select(1, c).unsqueeze(-1) * S + add.select(1, c);
    }
    return {n > 0 ? at::stack(entering, 1) : at::empty({R, 0, W}, add.options()), S};
  }
#if defined(HYLO_HAVE_KERNELS)
  const c10::cuda::CUDAGuard guard(add.device());
  auto addc = add.contiguous(), decayc = decay.contiguous();
  auto initc = init.defined() ? init.contiguous() : at::Tensor();
  SsdStatePass p{at::empty_like(addc), at::empty({R, W}, add.options())};
  fused::check_launch(kernels::ssd_state_pass(addc.data_ptr<float>(), decayc.data_ptr<float>(),
                                              initc.defined() ? initc.data_ptr<float>() : nullptr,
                                              p.entering.data_ptr<float>(), p.final_state.data_ptr<float>(), R, n, W,
                                              reverse, fused::stream_of(add)),
                      "ssd_state_pass");
  return p;
#else
  return {};
#endif
}

}  // namespace hylo
