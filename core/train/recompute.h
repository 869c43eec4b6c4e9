// The student's final hidden state, optionally with activation checkpointing per layer: a layer
// keeps only its input during the forward and runs again in the backward (in the autocast state
// the forward had), so the activations of one layer at a time are alive instead of all of them.
#pragma once
#include <ATen/ATen.h>

#include "core/model/hybrid_model.h"

namespace hylo {

// ids (B, T) int64 -> (B, T, C) after the final norm; equals model.hidden_states(ids).last.
at::Tensor student_hidden(HybridModel& model, const at::Tensor& ids, bool recompute);

}  // namespace hylo
