// Precompiled header for LibTorch translation units (hylo_core, torch-facing tests, hylo CLI).
// Never included from views/: Qt's keywords clash with LibTorch.
#pragma once
#include <ATen/ATen.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
