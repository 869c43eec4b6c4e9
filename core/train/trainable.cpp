#include "core/train/trainable.h"

#include <set>

#include "core/spec/error.h"

namespace hylo {
namespace {

bool same_attention(const AttentionSettings& a, const AttentionSettings& b) {
  return a.num_heads == b.num_heads && a.num_kv_heads == b.num_kv_heads && a.head_dim == b.head_dim &&
         a.bias == b.bias && a.qk_norm == b.qk_norm;
}

}  // namespace

std::vector<int64_t> new_mixer_layers(const ModelConfig& student, const ModelConfig* teacher) {
  const auto specs = layer_specs(student);
  std::vector<LayerSpec> teacher_specs;
  if (teacher) teacher_specs = layer_specs(*teacher);
  std::vector<int64_t> out;
  for (size_t i = 0; i < specs.size(); ++i) {
    const LayerSpec& s = specs[i];
    bool is_new = s.kind != MixerKind::Attention;
    if (!is_new && teacher)
      is_new = i >= teacher_specs.size() || teacher_specs[i].kind != MixerKind::Attention ||
               !same_attention(s.attention, teacher_specs[i].attention);
    if (is_new) out.push_back(static_cast<int64_t>(i));
  }
  return out;
}

NamedTensors select_trainable(HybridModel& student, const ModelConfig* teacher, const TrainSelection& sel,
                              const std::string& field) {
  std::vector<std::string> prefixes;
  if (sel.mode == TrainSelection::Mode::NewMixers)
    for (int64_t i : new_mixer_layers(student.config(), teacher))
      prefixes.push_back("model.layers." + std::to_string(i) + "." + student.layer(i).mixer->checkpoint_name() + ".");
  NamedTensors out;
  for (auto& item : student.named_parameters()) {
    const std::string& name = item.key();
    bool take = false;
    switch (sel.mode) {
      case TrainSelection::Mode::All:
        take = true;
        break;
      case TrainSelection::Mode::NewMixers:
        for (auto& p : prefixes) take = take || name.compare(0, p.size(), p) == 0;
        break;
      case TrainSelection::Mode::Patterns:
        for (auto& g : sel.patterns) take = take || glob_match(g, name);
        break;
    }
    if (take) out.emplace_back(name, item.value());
  }
  if (out.empty())
    throw TrainError(sel.mode == TrainSelection::Mode::NewMixers
                         ? "no layer has a mixer the teacher lacks: nothing to train"
                         : "no parameter matches",
                     {}, field);
  return out;
}

}  // namespace hylo
