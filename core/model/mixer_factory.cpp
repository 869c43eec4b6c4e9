// Which Mixer class serves each MixerKind. New mixers add their case here.
#include "core/model/gated_deltanet.h"
#include "core/model/hybrid_model.h"
#include "core/model/layers.h"
#include "core/model/mamba2.h"
#include "core/model/mla.h"
#include "core/spec/error.h"

namespace hylo {

std::shared_ptr<Mixer> make_mixer(const LayerSpec& spec, const ModelConfig& config, int64_t layer_index) {
  switch (spec.kind) {
    case MixerKind::Attention:
      return std::make_shared<AttentionMixer>(spec.attention, config);
    case MixerKind::MLA:
      return std::make_shared<MlaMixer>(spec.mla, config, layer_index);
    case MixerKind::Mamba2:
      return std::make_shared<Mamba2Mixer>(spec.mamba2, config, layer_index);
    case MixerKind::GDN:
      return std::make_shared<GatedDeltaNetMixer>(spec.gdn, config, layer_index);
  }
  throw ModelError("mixer kind '" + to_string(spec.kind) + "' has no implementation in this build", {},
                   "layers[" + std::to_string(layer_index) + "]");
}

}  // namespace hylo
