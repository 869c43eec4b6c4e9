// Which Mixer class serves each MixerKind. New mixers add their case here.
#include "core/model/hybrid_model.h"
#include "core/model/layers.h"
#include "core/spec/error.h"

namespace hylo {

std::shared_ptr<Mixer> make_mixer(const LayerSpec& spec, const ModelConfig& config, int64_t layer_index) {
  switch (spec.kind) {
    case MixerKind::Attention:
      return std::make_shared<AttentionMixer>(spec.attention, config);
    case MixerKind::MLA:
    case MixerKind::Mamba2:
    case MixerKind::GDN:
      break;
  }
  throw ModelError("mixer kind '" + to_string(spec.kind) + "' has no implementation in this build", {},
                   "layers[" + std::to_string(layer_index) + "]");
}

}  // namespace hylo
