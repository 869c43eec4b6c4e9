// Settings checks shared by the mixers: a failed one is a ModelError naming the layer and field,
// e.g. "layers[3].mla.kv_lora_rank".
#pragma once
#include <cstdint>
#include <string>

#include "core/spec/error.h"

namespace hylo {

inline void require_setting(bool ok, const std::string& what, int64_t layer_index, const std::string& kind,
                            const std::string& field) {
  if (!ok)
    throw ModelError(what, {}, "layers[" + std::to_string(layer_index) + "]." + kind + "." + field);
}

}  // namespace hylo
