// Model shapes the benchmarks build with random weights, so a GPU benchmark needs no checkpoint:
//   llama-1b, llama-3b            Llama-3.2-1B / -3B shaped teachers
//   llama-1b-hylo, llama-3b-hylo  the first HyLo preset for that teacher (4MLA12M2 on Llama-1B)
//   <plan.yaml>                   a layer plan resolved against its teacher's config
//   <folder or config.json>       that config
#pragma once
#include <string>

#include "core/spec/model_config.h"

namespace hylo::cli {

// A ConfigError naming `model` when `name` is none of the above.
ModelConfig shape_config(const std::string& name);

}  // namespace hylo::cli
