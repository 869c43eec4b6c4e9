// HybridModel <-> Hugging Face checkpoint folders (config.json + safetensors + tokenizer.json).
// Parameter names are the checkpoint names, so loading is a 1:1 match checked both ways.
#pragma once
#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "core/model/hybrid_model.h"

namespace hylo {

// Builds the model config.json describes and fills every parameter from the checkpoint. A missing
// tensor, a wrong shape or a tensor the model has no parameter for is an IoError naming file and tensor.
std::shared_ptr<HybridModel> load_model(const std::string& dir, at::ScalarType dtype, at::Device device);

// Writes config.json, the parameters under their HF names and a copy of tokenizer_json (when given).
void save_model(const std::string& dir, HybridModel& model, const ModelConfig& config,
                const std::string& tokenizer_json = {});

}  // namespace hylo
