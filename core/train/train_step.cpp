#include "core/train/train_step.h"

#include "core/spec/error.h"
#include "core/train/autocast.h"
#include "core/train/losses.h"
#include "core/train/recompute.h"

namespace hylo {
namespace {

void ild_step(HybridModel& student, HybridModel& teacher, const MicroStep& s, const at::Tensor& inputs,
              std::map<std::string, double>& m) {
  HiddenStates t;
  {
    at::NoGradGuard no_grad;
    t = teacher.hidden_states(inputs, 0, nullptr, true);
  }
  double total = 0;
  // Each layer sees the teacher's input, so the layers are independent: one backward per layer
  // frees its activations before the next runs.
  for (int64_t l : s.ild_layers) {
    at::Tensor d;
    {
      AutocastScope autocast(inputs.device(), s.bf16_autocast);
      at::Tensor a_s;
      at::Tensor h_s = student.layer(l).forward(t.layer_inputs[l].to(at::kFloat), 0, nullptr, &a_s);
      d = ild_distance(h_s, t.layer_outputs[l], s.ild_loss) + ild_distance(a_s, t.mixer_outputs[l], s.ild_loss);
    }
    const double v = d.item<double>();
    m["loss/ild/layer_" + std::to_string(l)] += v * s.scale;
    total += v;
    (d * s.scale).backward();
  }
  m["loss/ild"] += total * s.scale;
  m["loss"] += total * s.scale;
}

void logits_step(HybridModel& student, HybridModel* teacher, const MicroStep& s, const at::Tensor& inputs,
                 const at::Tensor& targets, std::map<std::string, double>& m) {
  const int64_t n = inputs.numel();
  DistillInputs in;
  in.targets = targets.reshape({n});
  in.chunk_tokens = s.loss_chunk_tokens;
  if (s.kind == StageKind::Pretrain) {
    in.kd_weight = 0;
    in.ce_weight = 1;
  } else {
    at::NoGradGuard no_grad;
    in.teacher_hidden = teacher->hidden_states(inputs).last.reshape({n, -1});  // (N, C_t)
    in.teacher_head = teacher->output_weight();                                 // (V, C_t)
    in.temperature = s.temperature;
    in.ce_weight = s.ce_weight;
  }
  DistillLoss d;
  {
    AutocastScope autocast(inputs.device(), s.bf16_autocast);
    in.student_hidden = student_hidden(student, inputs, s.recompute).reshape({n, -1});  // (N, C)
    in.student_head = student.output_weight();                                         // (V, C)
    d = distill_loss(in);
  }
  if (s.kind != StageKind::Pretrain) m["loss/kd"] += d.kd * s.scale;
  m["loss/ce"] += d.ce * s.scale;
  m["loss"] += d.loss.item<double>() * s.scale;
  (d.loss * s.scale).backward();
}

}  // namespace

void forward_backward(HybridModel& student, HybridModel* teacher, const MicroStep& s, const at::Tensor& inputs,
                      const at::Tensor& targets, std::map<std::string, double>& metrics) {
  if (s.kind != StageKind::Pretrain && !teacher)
    throw TrainError("stage kind " + to_string(s.kind) + " needs a teacher", {}, "teacher");
  if (s.kind == StageKind::Ild)
    ild_step(student, *teacher, s, inputs, metrics);
  else
    logits_step(student, teacher, s, inputs, targets, metrics);
}

}  // namespace hylo
