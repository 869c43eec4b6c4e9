// Which student parameters a stage trains (the recipe's `train:`), and which layers hold a mixer
// the teacher lacks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/hybrid_model.h"
#include "core/spec/recipe.h"
#include "core/train/optimizer.h"

namespace hylo {

// Layers whose mixer differs from the teacher's layer at the same index (another kind, or
// attention with other settings). Without a teacher config: every layer that is not attention.
std::vector<int64_t> new_mixer_layers(const ModelConfig& student, const ModelConfig* teacher);

// The parameters to train, in named_parameters() order. new-mixers: the mixers of
// new_mixer_layers; all: everything; patterns: names matching any glob. Selecting nothing is a
// TrainError naming `field`.
NamedTensors select_trainable(HybridModel& student, const ModelConfig* teacher, const TrainSelection& sel,
                              const std::string& field);

}  // namespace hylo
