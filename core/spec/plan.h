// Layer plans: which sequence mixer each decoder layer of a teacher becomes (plan.yaml), how the
// student's per-layer sizes follow from the teacher, and the published HyLo presets.
//
// plan.yaml:
//   teacher: ../models/Llama-3.2-1B   # relative to the plan file
//   default: mamba2                   # mixer of the layers not listed
//   layers: {1: mla, 5: mla, "8-11": gdn}   # or a full list: [mla, mamba2, ...]
//   mla: {kv_lora_rank: 128, q_lora_rank: 1344, qk_rope_head_dim: 32, qk_nope_head_dim: 32, v_head_dim: 64}
//   mamba2: {d_state: 64, conv_kernel: 4, chunk_size: 256}
//   gdn: {num_heads: 6, head_k_dim: 256, head_v_dim: 512, conv_kernel: 4, chunk_size: 64}
// Optional: name, num_layers (the teacher's layer count the plan was written for; a full list
// states it too). "keep" and "attention" both mean: keep the teacher's attention layer.
//
// Low-rank sizes (kv_lora_rank, q_lora_rank) must be multiples of 8 (an error, not a warning):
// the latent is the row the decode kernel streams from the cache, 8 bf16 = one 16-byte load, and
// every published HyLo / X-EcoMLA rank is one.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/spec/mixers.h"
#include "core/spec/model_config.h"

namespace hylo {

struct LayerPlan {
  std::string source;   // file the plan came from, for error messages; empty when built in code
  std::string name;     // optional label
  std::string teacher;  // teacher checkpoint as written (relative paths are relative to `source`)
  int64_t num_layers = 0;  // teacher layer count the plan was written for; 0: not stated
  MixerKind default_kind = MixerKind::Mamba2;
  std::map<int64_t, MixerKind> layers;  // explicit choices; other layers get default_kind

  // Per-kind settings. Sizes the teacher decides are not plan keys (MLA heads, Mamba2 heads,
  // head_dim, d_inner, d_xb, n_groups). A 0 below means "derive from the teacher":
  //   mla.qk_rope_head_dim, mla.qk_nope_head_dim -> head_dim / 2, mla.v_head_dim -> head_dim,
  //   mla.kv_lora_rank -> 2 * head_dim, mamba2.d_state -> head_dim, gdn.num_k_heads -> gdn.num_heads.
  // mla.q_lora_rank 0 keeps its own meaning: a full-rank q_proj.
  MlaSettings mla = default_mla();
  Mamba2Settings mamba2 = default_mamba2();
  GdnSettings gdn = default_gdn();

  static LayerPlan load(const std::string& path);
  static LayerPlan from_yaml(const std::string& text, const std::string& source = {});
  std::string to_yaml() const;
  void save(const std::string& path) const;

  MixerKind kind_of(int64_t layer) const;
  // The teacher's path with relative paths taken from the plan file's folder; empty if none.
  std::string teacher_path() const;
  // Throws ConfigError (file = source, field = the plan key) if the plan cannot apply to teacher.
  void check(const ModelConfig& teacher) const;
  // The student's config: the teacher's, with one LayerSpec per layer. Calls check().
  ModelConfig resolve(const ModelConfig& teacher) const;

  static MlaSettings default_mla();
  static Mamba2Settings default_mamba2();
  static GdnSettings default_gdn();
};

// Layer counts by kind in the order A, MLA, M2, GDN: "16A", "4MLA12M2", "2A4MLA10M2".
std::string compact_name(const std::vector<MixerKind>& kinds);
std::string compact_name(const ModelConfig& config);  // a config without layers is all attention
// Per-layer kinds of a config (a Transformer's config.json lists no layers: all attention).
std::vector<MixerKind> layer_kinds(const ModelConfig& config);

struct PlanPreset {
  std::string name;  // "HyLo 4MLA12M2"
  std::string note;  // where the layer choice and sizes come from
  LayerPlan plan;
};
// The published recipes for Llama-3.2-1B, Llama-3.2-3B and Qwen3-1.7B (recognised by shape),
// else generic quarter / half MLA plans with sizes derived from the teacher. Each resolves.
std::vector<PlanPreset> plan_presets(const ModelConfig& teacher);

}  // namespace hylo
