#include "core/infer/kernel_bench.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>

#include "core/infer/engine.h"
#include "core/model/fused_ops.h"
#include "core/model/ssd_pieces.h"
#include "core/spec/error.h"
#include "core/train/losses.h"
#include "core/train/optimizer.h"

namespace hylo {

namespace {

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

double max_error(const std::vector<at::Tensor>& got, const std::vector<at::Tensor>& exact) {
  double e = 0;
  for (size_t i = 0; i < got.size(); ++i) e = std::max(e, max_abs(got[i].to(at::kDouble) - exact[i]));
  return e;
}

double scale_of(const std::vector<at::Tensor>& exact) {
  double s = 1;
  for (const auto& t : exact) s = std::max(s, max_abs(t));
  return s;
}

double ms_per_call(const std::function<void()>& call, int64_t iterations, at::Device device) {
  call();  // warm-up (and the kernel's one-time attribute set-up)
  synchronize(device);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iterations; ++i) call();
  synchronize(device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(iterations);
}

// Runs `op` (outputs from inputs, both lists of tensors) on: the inputs in fp64 through the
// reference, the inputs in `dtype` through the reference and through the kernel; times both paths.
KernelCheck compare(const std::string& name, const std::string& shape, const std::vector<at::Tensor>& inputs,
                    const std::function<std::vector<at::Tensor>(std::vector<at::Tensor>, OpPath)>& op,
                    const KernelBenchOptions& o) {
  // fp64 inputs mark those that stay fp32 at low precision (recurrent states, as the caches keep them).
  auto cast = [](const std::vector<at::Tensor>& in, at::ScalarType target) {
    std::vector<at::Tensor> out;
    for (const auto& t : in)
      out.push_back(t.to(target == at::kDouble ? at::kDouble : t.scalar_type() == at::kDouble ? at::kFloat : target));
    return out;
  };
  const auto exact = op(cast(inputs, at::kDouble), OpPath::Reference);
  KernelCheck c;
  c.op = name;
  c.shape = shape;
  c.reference_error = max_error(op(cast(inputs, o.dtype), OpPath::Reference), exact);
  c.kernel_error = max_error(op(cast(inputs, o.dtype), OpPath::Kernel), exact);
  const double floor = (o.dtype == at::kFloat ? 1e-5 : 1e-3) * scale_of(exact);
  c.tolerance = 2 * c.reference_error + floor;
  const auto low = cast(inputs, o.dtype);
  c.reference_ms = ms_per_call([&] { op(low, OpPath::Reference); }, o.iterations, o.device);
  c.kernel_ms = ms_per_call([&] { op(low, OpPath::Kernel); }, o.iterations, o.device);
  return c;
}

std::string dims(std::initializer_list<std::pair<const char*, int64_t>> d) {
  std::string s;
  for (const auto& [k, v] : d) s += (s.empty() ? "" : " ") + std::string(k) + "=" + std::to_string(v);
  return s;
}

}  // namespace

std::vector<KernelCheck> check_kernels(const KernelBenchOptions& o) {
  if (!gpu_kernels_built()) throw ModelError("this build has no GPU kernels (configure with -DHYLO_CUDA=ON)");
  if (!o.device.is_cuda()) throw ModelError("the kernel checks need a CUDA device");
  at::NoGradGuard no_grad;
  at::manual_seed(o.seed);
  // Inputs are made in fp32 (the ops cast them); the checks' fp64 run converts them up.
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(o.device);
  std::vector<KernelCheck> out;

  for (auto [rows, dim] : std::vector<std::pair<int64_t, int64_t>>{{1, 3072}, {64, 2048}}) {
    auto x = at::randn({rows, dim}, f32), w = 1 + 0.1 * at::randn({dim}, f32);
    out.push_back(compare("rms_norm", dims({{"rows", rows}, {"dim", dim}}), {x, w},
                          [](std::vector<at::Tensor> in, OpPath p) {
                            return std::vector<at::Tensor>{rms_norm(in[0], in[1], 1e-5, p)};
                          },
                          o));
  }

  // Training: forward and backward through autograd, 8K tokens of the 1B student's residual stream
  // (fp32 weights: fp64-marked, fp32 at every precision).
  {
    auto x = at::randn({8192, 2048}, f32), w = (1 + 0.1 * at::randn({2048}, f32)).to(at::kDouble);
    auto gy = at::randn({8192, 2048}, f32);
    out.push_back(compare("rms_norm_bwd", dims({{"rows", 8192}, {"dim", 2048}}), {x, w, gy},
                          [](std::vector<at::Tensor> in, OpPath p) {
                            at::AutoGradMode grad(true);
                            auto x = in[0].detach().requires_grad_(), w = in[1].detach().requires_grad_();
                            auto y = rms_norm(x, w, 1e-5, p);
                            y.backward(in[2].to(y.scalar_type()));
                            return std::vector<at::Tensor>{y.detach(), x.grad(), w.grad() / 64};
                          },
                          o));
  }
  // Mamba2's gated norm (gate before the norm, one group over d_inner) of the 1B student at 8K tokens.
  {
    auto x = at::randn({8192, 2048}, f32), gate = at::randn({8192, 2048}, f32);
    auto w = (1 + 0.1 * at::randn({2048}, f32)).to(at::kDouble), gy = at::randn({8192, 2048}, f32);
    out.push_back(compare("gated_norm", dims({{"rows", 8192}, {"dim", 2048}}), {x, gate, w, gy},
                          [](std::vector<at::Tensor> in, OpPath p) {
                            at::AutoGradMode grad(true);
                            auto x = in[0].detach().requires_grad_(), g = in[1].detach().requires_grad_();
                            auto w = in[2].detach().requires_grad_();
                            auto y = gated_rms_norm(x, g, w, 1e-5, 2048, true, p);
                            y.backward(in[3].to(y.scalar_type()));
                            return std::vector<at::Tensor>{y.detach(), x.grad(), g.grad(), w.grad() / 64};
                          },
                          o));
  }

  struct Mla { int64_t B, H, rank, rope, L; };
  std::vector<Mla> mla = {{1, 24, 128, 64, 4097}, {2, 32, 128, 32, 1000}, {1, 16, 512, 64, 300}, {3, 8, 96, 32, 33}};
  if (o.long_context) mla.push_back({1, 24, 128, 64, 524288});
  for (const auto& m : mla) {
    const int64_t D = m.rank + m.rope, capacity = m.L + 17;  // rows: a view of a larger cache, as MlaCache's
    const double scale = 1.0 / std::sqrt(static_cast<double>(m.rope + 64));
    auto q = at::randn({m.B, m.H, D}, f32), cache = at::randn({m.B, capacity, D}, f32);
    out.push_back(compare("mla_decode", dims({{"B", m.B}, {"H", m.H}, {"rank", m.rank}, {"rope", m.rope}, {"L", m.L}}),
                          {q, cache},
                          [&](std::vector<at::Tensor> in, OpPath p) {
                            return std::vector<at::Tensor>{
                                mla_decode_attention(in[0], in[1].narrow(1, 0, m.L), m.rank, scale, p)};
                          },
                          o));
  }

  struct Gdn { int64_t B, Hk, H, Dk, Dv, K; };
  for (const auto& g : std::vector<Gdn>{{1, 9, 9, 256, 512, 4}, {2, 2, 4, 64, 96, 4}}) {
    const int64_t C = 2 * g.Hk * g.Dk + g.H * g.Dv;
    std::vector<at::Tensor> in = {at::randn({g.B, C}, f32),          0.5 * at::randn({C, 1, g.K}, f32),
                                  at::randn({g.B, g.H}, f32),        at::randn({g.B, g.H}, f32),
                                  at::log(1 + 15 * at::rand({g.H}, f32)), 0.5 * at::randn({g.H}, f32),
                                  at::randn({g.B, C, g.K - 1}, f32), 0.1 * at::randn({g.B, g.H, g.Dk, g.Dv}, f32)};
    in[7] = in[7].to(at::kDouble);  // the recurrent state: fp32 at low precision, as the caches keep it
    out.push_back(compare("gdn_decode", dims({{"B", g.B}, {"Hk", g.Hk}, {"H", g.H}, {"Dk", g.Dk}, {"Dv", g.Dv}}), in,
                          [&](std::vector<at::Tensor> t, OpPath p) {
                            auto conv_state = t[6].clone(), state = t[7].clone();  // updated in place
                            GdnStepInputs s{t[0], t[1], t[2], t[3], t[4], t[5], g.Hk, g.Dk, g.Dv};
                            auto o_ = gdn_decode_step(s, conv_state, state, p);
                            return std::vector<at::Tensor>{o_, state, conv_state};
                          },
                          o));
  }

  // AdamW: three steps on a 2048 x 8192 matrix (decays) and a vector (does not), fp32 master
  // weights as the trainer keeps them (all inputs fp64-marked: fp32 at "low" precision).
  {
    std::vector<at::Tensor> in = {at::randn({2048, 8192}, f32), at::randn({2048, 8192}, f32), at::randn({2048}, f32),
                                  at::randn({2048}, f32)};
    for (auto& t : in) t = t.to(at::kDouble);
    out.push_back(compare("adamw", dims({{"matrix", 2048 * 8192}, {"vector", 2048}, {"steps", 3}}), in,
                          [](std::vector<at::Tensor> t, OpPath p) {
                            auto w = t[0].clone(), b = t[2].clone();
                            AdamW opt({{"mlp.weight", w}, {"norm.weight", b}});
                            opt.path = p;
                            for (int s = 0; s < 3; ++s) {
                              w.mutable_grad() = t[1] * (1.0 + s);
                              b.mutable_grad() = t[3] * (1.0 - 0.3 * s);
                              opt.step(1e-2, 0.5);
                            }
                            return std::vector<at::Tensor>{w, b};
                          },
                          o));
  }

  // SwiGLU's gate at the 1B models' MLP width, 8K tokens, forward and backward.
  {
    std::vector<at::Tensor> in = {at::randn({8192, 8192}, f32), at::randn({8192, 8192}, f32),
                                  at::randn({8192, 8192}, f32)};
    out.push_back(compare("swiglu", dims({{"tokens", 8192}, {"width", 8192}}), in,
                          [](std::vector<at::Tensor> t, OpPath p) {
                            at::AutoGradMode grad(true);
                            auto g = t[0].detach().requires_grad_(), u = t[1].detach().requires_grad_();
                            auto y = swiglu(g, u, p);
                            y.backward(t[2]);
                            return std::vector<at::Tensor>{y.detach(), g.grad(), u.grad()};
                          },
                          o));
  }

  // The short conv + SiLU of a Mamba2 layer of the 1B student at 8K tokens, forward and backward,
  // reading a view into the wider in_proj output (weight and bias fp32 master copies).
  {
    const int64_t T = 8192, C = 3072, wide = 5000;
    std::vector<at::Tensor> in = {at::randn({1, T, wide}, f32), (0.3 * at::randn({C, 1, 4}, f32)).to(at::kDouble),
                                  (0.1 * at::randn({C}, f32)).to(at::kDouble), at::randn({1, T, C}, f32)};
    out.push_back(compare("conv_silu", dims({{"T", T}, {"C", C}, {"K", 4}}), in,
                          [C](std::vector<at::Tensor> t, OpPath p) {
                            at::AutoGradMode grad(true);
                            auto proj = t[0].detach().requires_grad_();
                            auto w = t[1].detach().requires_grad_(), b = t[2].detach().requires_grad_();
                            auto y = causal_conv1d_silu(proj.narrow(-1, 100, C), w, b, p);
                            y.backward(t[3].to(y.scalar_type()));
                            return std::vector<at::Tensor>{y.detach(), proj.grad().narrow(-1, 100, C), w.grad() / 64,
                                                           b.grad() / 64};
                          },
                          o));
  }

  // The training pieces of a Mamba2 layer of the 1B student at 8K tokens: 32 heads x 32 chunks of
  // 256, P = N = 64 (cs and dt are fp32 at every precision: fp64-marked).
  {
    const int64_t Z = 1024, L = 256, R = 32, n = 32, W = 64 * 64;
    auto cs = at::cumsum(-0.05 * at::rand({Z, L}, f32), -1).to(at::kDouble);
    auto dt = (0.1 * at::rand({Z, L}, f32)).to(at::kDouble);
    auto cb = at::randn({Z, L, L}, f32), gw = at::randn({Z, L, L}, f32);
    const std::string shape = dims({{"chunks", Z}, {"L", L}});
    out.push_back(compare("ssd_mask", shape, {cb, cs, dt},
                          [](std::vector<at::Tensor> t, OpPath p) {
                            return std::vector<at::Tensor>{ssd_decay_mask(t[0], t[1], t[2], p)};
                          },
                          o));
    out.push_back(compare("ssd_mask_bwd", shape, {gw, cb, cs, dt},
                          [](std::vector<at::Tensor> t, OpPath p) {
                            auto g = ssd_decay_mask_backward(t[0], t[1], t[2], t[3], p);
                            return std::vector<at::Tensor>{g.gcb, g.row, g.col};
                          },
                          o));
    std::vector<at::Tensor> pass = {at::randn({R, n, W}, f32), at::rand({R, n}, f32), at::randn({R, W}, f32)};
    for (auto& t : pass) t = t.to(at::kDouble);
    for (bool reverse : {false, true})
      out.push_back(compare(reverse ? "ssd_state_rev" : "ssd_state", dims({{"sequences", R}, {"chunks", n}, {"width", W}}),
                            pass,
                            [reverse](std::vector<at::Tensor> t, OpPath p) {
                              auto r = ssd_state_pass(t[0], t[1], t[2], reverse, p);
                              return std::vector<at::Tensor>{r.entering, r.final_state};
                            },
                            o));
  }

  // The distillation loss over a 128K vocabulary (Llama 3), 2048 rows: KD at T = 2 and CE.
  {
    const int64_t rows = 2048, V = 128256;
    auto zs = 3 * at::randn({rows, V}, f32), zt = 3 * at::randn({rows, V}, f32);
    auto targets = at::randint(0, V, {rows}, f32.dtype(at::kLong));
    out.push_back(compare("distill_rows", dims({{"rows", rows}, {"vocab", V}}), {zs, zt},
                          [&](std::vector<at::Tensor> t, OpPath p) {
                            auto r = distill_rows(t[0], t[1], targets, 2.0, 1.0, 0.5, true, p);
                            return std::vector<at::Tensor>{r.grad * V, r.kd, r.ce};  // grad: O(1), not O(1/V)
                          },
                          o));
  }
  return out;
}

}  // namespace hylo
