// swiglu (fused_ops.h): at::silu(g) * u through autograd, or on GPUs kernels/swiglu.cu both ways
// behind one autograd node.
#include <torch/csrc/autograd/custom_function.h>

#include "core/model/fused_path.h"

namespace hylo {
namespace {

#if defined(HYLO_HAVE_KERNELS)
struct SwiGluFunction : torch::autograd::Function<SwiGluFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& g,
                                                const at::Tensor& u) {
    const c10::cuda::CUDAGuard guard(g.device());
    auto gc = g.contiguous(), uc = u.contiguous();
    auto y = at::empty_like(gc);
    fused::check_launch(kernels::swiglu_forward(gc.data_ptr(), uc.data_ptr(), y.data_ptr(), gc.numel(),
                                                fused::to_kernel_dtype(g.scalar_type()), fused::stream_of(g)),
                        "swiglu");
    ctx->save_for_backward({gc, uc});
    return {y};
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &g = saved[0], &u = saved[1];
    const c10::cuda::CUDAGuard guard(g.device());
    auto dy = grads[0].to(g.scalar_type()).contiguous();
    auto dg = at::empty_like(g), du = at::empty_like(u);
    fused::check_launch(kernels::swiglu_backward(dy.data_ptr(), g.data_ptr(), u.data_ptr(), dg.data_ptr(),
                                                 du.data_ptr(), g.numel(), fused::to_kernel_dtype(g.scalar_type()),
                                                 fused::stream_of(g)),
                        "swiglu backward");
    return {dg, du};
  }
};
#endif

}  // namespace

at::Tensor swiglu(const at::Tensor& g, const at::Tensor& u, OpPath path) {
  if (g.sizes() != u.sizes()) throw ModelError("swiglu: gate and up differ in shape");
  std::string blocker;
  if (!gpu_kernels_built())
    blocker = "this build has no GPU kernels (configure with -DHYLO_CUDA=ON)";
  else if (!g.is_cuda() || !u.is_cuda())
    blocker = "a tensor is not on a GPU";
  else if (!fused::kernel_dtype(g.scalar_type()) || u.scalar_type() != g.scalar_type())
    blocker = "gate and up must share one of fp32, fp16, bf16";
  if (!fused::use_kernel(path, blocker, "swiglu")) return at::silu(g) * u;
#if defined(HYLO_HAVE_KERNELS)
  return SwiGluFunction::apply(g, u)[0];
#else
  return {};
#endif
}

}  // namespace hylo
