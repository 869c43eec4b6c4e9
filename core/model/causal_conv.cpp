// causal_conv1d_silu (fused_ops.h): the LibTorch reference (ops::causal_conv1d + silu, through
// autograd) and, on GPUs, kernels/causal_conv.cu both ways behind one autograd node.
#include <torch/csrc/autograd/custom_function.h>

#include "core/model/fused_path.h"
#include "core/model/ops.h"

namespace hylo {
namespace {

#if defined(HYLO_HAVE_KERNELS)
kernels::CausalConvArgs conv_args(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  kernels::CausalConvArgs a;
  a.x = x.data_ptr();
  a.x_batch_stride = x.stride(0), a.x_token_stride = x.stride(1);
  a.weight = weight.data_ptr();
  a.bias = bias.defined() ? bias.data_ptr() : nullptr;
  a.batch = x.size(0), a.tokens = x.size(1), a.channels = x.size(2), a.kernel = weight.size(-1);
  a.dtype = fused::to_kernel_dtype(x.scalar_type());
  a.w_dtype = fused::to_kernel_dtype(weight.scalar_type());
  return a;
}

struct CausalConvSilu : torch::autograd::Function<CausalConvSilu> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                                                const at::Tensor& weight, const at::Tensor& bias) {
    const c10::cuda::CUDAGuard guard(x.device());
    auto w = weight.contiguous();
    auto b = bias.defined() ? bias.contiguous() : at::Tensor();
    auto y = at::empty(x.sizes(), x.options());
    auto a = conv_args(x, w, b);
    a.y = y.data_ptr();
    fused::check_launch(kernels::causal_conv_silu_forward(a, fused::stream_of(x)), "causal_conv1d_silu");
    ctx->save_for_backward({x, w, b});
    return {y};
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w = saved[1], &b = saved[2];
    const c10::cuda::CUDAGuard guard(x.device());
    auto gy = grads[0].to(x.scalar_type()).contiguous();
    auto gx = at::empty(x.sizes(), x.options());
    auto a = conv_args(x, w, b);
    const int64_t parts = a.batch * kernels::causal_conv_tiles(a.tokens, a.tile);
    auto f32 = x.options().dtype(at::kFloat);
    auto gw_partial = at::empty({parts, a.channels, a.kernel}, f32), gb_partial = at::empty({parts, a.channels}, f32);
    a.gy = gy.data_ptr();
    a.gx = gx.data_ptr();
    a.gw_partial = gw_partial.data_ptr<float>();
    a.gb_partial = gb_partial.data_ptr<float>();
    fused::check_launch(kernels::causal_conv_silu_backward(a, fused::stream_of(x)), "causal_conv1d_silu backward");
    auto gw = gw_partial.sum(0).view(w.sizes()).to(w.scalar_type());
    auto gb = b.defined() ? gb_partial.sum(0).to(b.scalar_type()) : at::Tensor();
    return {gx, gw, gb};
  }
};
#endif

std::string conv_blocker(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (!gpu_kernels_built()) return "this build has no GPU kernels (configure with -DHYLO_CUDA=ON)";
  if (!x.is_cuda() || !weight.is_cuda() || (bias.defined() && !bias.is_cuda())) return "a tensor is not on a GPU";
  if (!fused::kernel_dtype(x.scalar_type()) ||
      (weight.scalar_type() != at::kFloat && weight.scalar_type() != x.scalar_type()) ||
      (x.scalar_type() == at::kFloat && weight.scalar_type() != at::kFloat) ||
      (bias.defined() && bias.scalar_type() != weight.scalar_type()))
    return "x must be fp32, fp16 or bf16, the weight and bias fp32 or of x's dtype";
  if (x.stride(2) != 1) return "the channels of x must be contiguous";
#if defined(HYLO_HAVE_KERNELS)
  if (!kernels::causal_conv_supports(weight.size(-1))) return "kernel sizes above 8";
#endif
  return {};
}

}  // namespace

at::Tensor causal_conv1d_silu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, OpPath path) {
  if (x.dim() != 3 || weight.dim() != 3 || weight.size(0) != x.size(2) || weight.size(1) != 1 ||
      (bias.defined() && (bias.dim() != 1 || bias.size(0) != x.size(2))))
    throw ModelError("causal_conv1d_silu needs x (B, T, C), weight (C, 1, K) and bias (C)");
  if (!fused::use_kernel(path, conv_blocker(x, weight, bias), "causal_conv1d_silu"))
    return at::silu(ops::causal_conv1d(x.transpose(1, 2), weight.to(x.scalar_type()),
                                       bias.defined() ? bias.to(x.scalar_type()) : bias)
                        .out)
        .transpose(1, 2);
#if defined(HYLO_HAVE_KERNELS)
  // Custom autograd nodes take no undefined inputs: a missing bias is a zero one (its gradient unused).
  return CausalConvSilu::apply(x, weight, bias.defined() ? bias : at::zeros({x.size(2)}, weight.options()))[0];
#else
  return {};
#endif
}

}  // namespace hylo
