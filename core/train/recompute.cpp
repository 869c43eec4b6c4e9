#include "core/train/recompute.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/train/autocast.h"

namespace hylo {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct LayerRecompute : torch::autograd::Function<LayerRecompute> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, DecoderLayer* layer) {
    ctx->saved_data["layer"] = reinterpret_cast<int64_t>(layer);
    ctx->saved_data["autocast"] = autocast_enabled(x.device());
    ctx->save_for_backward({x});
    return layer->forward(x, 0, nullptr);  // autograd is off here: no activations are kept
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto* layer = reinterpret_cast<DecoderLayer*>(ctx->saved_data["layer"].toInt());
    at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    at::Tensor out;
    {
      at::AutoGradMode grad_on(true);
      AutocastScope autocast(x.device(), ctx->saved_data["autocast"].toBool());
      out = layer->forward(x, 0, nullptr);
    }
    // Accumulates the layer's parameter gradients and gives the input's.
    torch::autograd::backward({out}, {grad_out[0]});
    return {x.grad(), at::Tensor()};
  }
};

}  // namespace

at::Tensor student_hidden(HybridModel& model, const at::Tensor& ids, bool recompute) {
  if (!recompute) return model.hidden_states(ids).last;
  at::Tensor h = model.model->embed_tokens->forward(ids);  // (B, T, C)
  // A frozen embedding gives an input without a graph; the layers still need their backward.
  if (!h.requires_grad()) h = h.detach().requires_grad_(true);
  for (int64_t i = 0; i < model.num_layers(); ++i) h = LayerRecompute::apply(h, &model.layer(i));
  return model.model->norm->forward(h);
}

}  // namespace hylo
