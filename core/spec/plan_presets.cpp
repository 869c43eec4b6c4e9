// The published layer plans (GUIDE §4b: HyLo paper appendix, AMD-Hybrid-Models configs), recognised
// by the teacher's shape, and generic fallbacks for any other Transformer.
#include <algorithm>
#include <cmath>

#include "core/spec/plan.h"

namespace hylo {
namespace {

struct Family {
  std::string model;  // empty: not a published teacher
  MlaSettings mla;  // kv/q ranks and head dims; heads come from the teacher
  int64_t gdn_heads;
  std::vector<int64_t> few_mla;  // the sparse MLA layout (all other layers linear)
  std::string few_source;
};

MlaSettings mla_sizes(int64_t q_lora, int64_t kv_lora, int64_t rope, int64_t nope, int64_t v) {
  MlaSettings s = LayerPlan::default_mla();
  s.q_lora_rank = q_lora;
  s.kv_lora_rank = kv_lora;
  s.qk_rope_head_dim = rope;
  s.qk_nope_head_dim = nope;
  s.v_head_dim = v;
  return s;
}

bool shaped(const ModelConfig& t, const char* type, int64_t layers, int64_t hidden, int64_t heads, int64_t kv,
            int64_t head_dim) {
  return t.model_type == type && t.num_hidden_layers == layers && t.hidden_size == hidden &&
         t.num_attention_heads == heads && t.num_key_value_heads == kv && t.head_dim == head_dim;
}

std::vector<int64_t> every(int64_t step, int64_t first, int64_t n) {
  std::vector<int64_t> out;
  for (int64_t i = first; i < n; i += step) out.push_back(i);
  return out;
}

LayerPlan make_plan(const Family& f, const std::vector<int64_t>& mla_layers, MixerKind linear, int64_t n) {
  LayerPlan p;
  p.num_layers = n;
  p.default_kind = linear;
  for (int64_t i : mla_layers) p.layers[i] = MixerKind::MLA;
  p.mla = f.mla;
  p.gdn.num_heads = f.gdn_heads;
  p.gdn.head_k_dim = 256;  // GDN: key width below the model's, values expanded 2x above it
  p.gdn.head_v_dim = 512;
  return p;
}

}  // namespace

std::vector<PlanPreset> plan_presets(const ModelConfig& t) {
  const int64_t n = t.num_hidden_layers;
  Family f;
  if (shaped(t, "llama", 16, 2048, 32, 8, 64)) {
    f = {"Llama-3.2-1B", mla_sizes(1344, 128, 32, 32, 64), 6, {1, 5, 10, 14}, "HyLo paper"};
  } else if (shaped(t, "llama", 28, 3072, 24, 8, 128)) {
    f = {"Llama-3.2-3B", mla_sizes(1536, 128, 64, 64, 128), 9, {0, 5, 10, 16, 21, 26}, "HyLo paper"};
  } else if (shaped(t, "qwen3", 28, 2048, 16, 8, 128)) {
    // q_lora_rank is not published for Qwen3: a full-rank q_proj.
    f = {"Qwen3-1.7B", mla_sizes(0, 256, 64, 64, 128), 6, {1, 5, 9, 13, 17, 21, 25}, "HyLo paper"};
  } else {
    // Any other teacher: sizes derived from it (see LayerPlan), MLA on every fourth layer, and
    // as many 256-wide GDN key heads as cover 3/4 of the width (6 at 2048, 9 at 3072, as published).
    const int64_t gdn_heads = std::max<int64_t>(1, std::llround(0.75 * t.hidden_size / 256.0));
    f = {"", LayerPlan::default_mla(), gdn_heads, every(4, 1, n), "every fourth layer"};
  }
  const std::vector<int64_t> half = every(2, 0, n);
  std::vector<PlanPreset> presets;
  const std::string prefix = f.model.empty() ? "" : "HyLo ";
  const std::string on = f.model.empty() ? "" : " on " + f.model;
  for (MixerKind linear : {MixerKind::Mamba2, MixerKind::GDN}) {
    for (const std::vector<int64_t>* layout : std::vector<const std::vector<int64_t>*>{&f.few_mla, &half}) {
      LayerPlan p = make_plan(f, *layout, linear, n);
      const std::string compact = compact_name(p.resolve(t));
      p.name = prefix + compact;
      const std::string where = layout == &half ? "MLA on the even layers" : "MLA layers from the " + f.few_source;
      presets.push_back({p.name, where + on, p});
    }
  }
  if (f.model == "Llama-3.2-1B") {
    LayerPlan p = make_plan(f, {0, 5, 10, 14}, MixerKind::Mamba2, n);
    p.name = "Zebra-Llama " + compact_name(p.resolve(t));
    presets.push_back({p.name, "MLA layers from Zebra-Llama on Llama-3.2-1B", p});
  }
  return presets;
}

}  // namespace hylo
