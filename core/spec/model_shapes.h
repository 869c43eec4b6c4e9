// Named model shapes with no checkpoint behind them, for benchmarks and random-weight checkpoints
// (`hylo bench`, `hylo init-random`):
//   llama-1b, llama-3b                   Llama-3.2-1B / -3B shaped teachers (vocab 128256, bf16)
//   llama-1b-hylo, llama-3b-hylo         their HyLo students: the paper's MLA layers, Mamba2 elsewhere
//   llama-1b-hylo-gdn, llama-3b-hylo-gdn the same with Gated DeltaNet elsewhere
//   tiny, tiny-hylo, tiny-hylo-gdn       a 4-layer Llama (vocab 1024) and its students, for CPU checks
// or a path: a layer plan (.yaml / .yml, resolved against its teacher), a checkpoint folder or a
// config.json.
#pragma once
#include <string>
#include <vector>

#include "core/spec/model_config.h"

namespace hylo {

std::vector<std::string> model_shape_names();
// The config of a shape name or path; anything else is a ConfigError naming `field`.
ModelConfig model_shape(const std::string& name_or_path, const std::string& field = "model");

}  // namespace hylo
