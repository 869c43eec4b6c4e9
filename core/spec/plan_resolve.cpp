// LayerPlan against a teacher: the checks, the student's per-layer sizes (GUIDE §4b), compact names.
#include <algorithm>
#include <array>

#include "core/spec/error.h"
#include "core/spec/plan.h"
#include "core/spec/tensor_layout.h"

namespace hylo {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

// MLA: heads from the teacher (X-EcoMLA / HyLo: kv_b_proj yields the teacher's KV heads).
MlaSettings resolved_mla(const LayerPlan& plan, const ModelConfig& t) {
  MlaSettings s = plan.mla;
  s.num_heads = t.num_attention_heads;
  s.num_kv_heads = t.num_key_value_heads;
  if (!s.qk_rope_head_dim) s.qk_rope_head_dim = t.head_dim / 2;
  if (!s.qk_nope_head_dim) s.qk_nope_head_dim = t.head_dim - s.qk_rope_head_dim;
  if (!s.v_head_dim) s.v_head_dim = t.head_dim;
  if (!s.kv_lora_rank) s.kv_lora_rank = 2 * t.head_dim;
  return s;
}

// Mamba2, MambaInLlama sizes: one SSM head per query head, x and B from the KV width repeated,
// C per head (n_groups = heads), d_state = head_dim unless the plan sets it.
Mamba2Settings resolved_mamba2(const LayerPlan& plan, const ModelConfig& t) {
  Mamba2Settings s = plan.mamba2;
  s.num_heads = t.num_attention_heads;
  s.head_dim = t.head_dim;
  s.d_inner = s.num_heads * s.head_dim;
  s.d_xb = t.num_key_value_heads * t.head_dim;
  s.n_groups = s.num_heads;
  if (!s.d_state) s.d_state = t.head_dim;
  return s;
}

GdnSettings resolved_gdn(const LayerPlan& plan) {
  GdnSettings s = plan.gdn;
  if (!s.num_k_heads) s.num_k_heads = s.num_heads;
  return s;
}

class Checker {
 public:
  explicit Checker(const std::string& source) : source_(source) {}
  void positive(int64_t v, const std::string& field) const {
    if (v <= 0) fail("must be positive, got " + str(v), field);
  }
  void at_most(int64_t v, int64_t limit, const std::string& limit_text, const std::string& field) const {
    if (v > limit) fail(str(v) + " exceeds " + limit_text + " = " + str(limit), field);
  }
  void multiple_of_8(int64_t v, const std::string& field) const {
    if (v % 8) fail(str(v) + " is not a multiple of 8 (the latent is the decode kernel's 16-byte-aligned row)", field);
  }
  void divides(int64_t d, int64_t n, const std::string& what, const std::string& field) const {
    if (d <= 0 || n % d) fail(what + ": " + str(d) + " does not divide " + str(n), field);
  }
  [[noreturn]] void fail(const std::string& what, const std::string& field) const {
    throw ConfigError(what, source_, field);
  }

 private:
  const std::string& source_;
};

void check_mla(const MlaSettings& s, const ModelConfig& t, const Checker& c) {
  c.positive(s.qk_rope_head_dim, "mla.qk_rope_head_dim");
  if (s.qk_rope_head_dim % 2) c.fail("rotary dims come in pairs, got " + str(s.qk_rope_head_dim), "mla.qk_rope_head_dim");
  c.at_most(s.qk_rope_head_dim, t.head_dim, "the teacher's head_dim", "mla.qk_rope_head_dim");
  c.positive(s.qk_nope_head_dim, "mla.qk_nope_head_dim");
  c.positive(s.v_head_dim, "mla.v_head_dim");
  c.divides(s.num_kv_heads, s.num_heads, "KV heads must divide the query heads", "mla");
  c.positive(s.kv_lora_rank, "mla.kv_lora_rank");
  c.multiple_of_8(s.kv_lora_rank, "mla.kv_lora_rank");
  c.at_most(s.kv_lora_rank, t.hidden_size, "hidden_size", "mla.kv_lora_rank");
  c.at_most(s.kv_lora_rank, s.num_kv_heads * (s.qk_nope_head_dim + s.v_head_dim),
            "kv_b_proj's output num_kv_heads*(qk_nope_head_dim+v_head_dim)", "mla.kv_lora_rank");
  if (s.q_lora_rank) {
    c.multiple_of_8(s.q_lora_rank, "mla.q_lora_rank");
    c.at_most(s.q_lora_rank, t.hidden_size, "hidden_size", "mla.q_lora_rank");
    c.at_most(s.q_lora_rank, s.num_heads * s.qk_head_dim(), "q_b_proj's output num_heads*qk_head_dim",
              "mla.q_lora_rank");
  }
}

void check_mamba2(const Mamba2Settings& s, const Checker& c) {
  c.positive(s.d_state, "mamba2.d_state");
  c.positive(s.conv_kernel, "mamba2.conv_kernel");
  c.positive(s.chunk_size, "mamba2.chunk_size");
  // x repeats d_xb / head_dim heads, B repeats d_xb / d_state groups (MambaInLlama).
  c.divides(s.d_state, s.d_xb, "d_state must divide the teacher's KV width", "mamba2.d_state");
  c.divides(s.d_xb / s.d_state, s.n_groups, "B groups (KV width / d_state) must divide the heads", "mamba2.d_state");
  c.divides(s.d_xb / s.head_dim, s.num_heads, "KV heads must divide the query heads", "mamba2");
  if (!(s.dt_min > 0 && s.dt_min <= s.dt_max)) c.fail("need 0 < dt_min <= dt_max", "mamba2.dt_min");
}

void check_gdn(const GdnSettings& s, const Checker& c) {
  c.positive(s.num_heads, "gdn.num_heads");
  c.divides(s.num_k_heads, s.num_heads, "key heads must divide the value heads", "gdn.num_k_heads");
  c.positive(s.head_k_dim, "gdn.head_k_dim");
  c.positive(s.head_v_dim, "gdn.head_v_dim");
  c.positive(s.conv_kernel, "gdn.conv_kernel");
  c.positive(s.chunk_size, "gdn.chunk_size");
}

}  // namespace

void LayerPlan::check(const ModelConfig& t) const {
  const Checker c(source);
  const int64_t n = t.num_hidden_layers;
  if (n <= 0 || t.num_attention_heads <= 0 || t.num_key_value_heads <= 0 || t.head_dim <= 0 || t.hidden_size <= 0)
    c.fail("the teacher's config lacks layer, head or width sizes", "teacher");
  const auto teacher_kinds = layer_kinds(t);
  if (t.is_hybrid() ||
      std::any_of(teacher_kinds.begin(), teacher_kinds.end(), [](MixerKind k) { return k != MixerKind::Attention; }))
    c.fail("the teacher is already a hybrid (" + compact_name(t) + "); plan from a Transformer", "teacher");
  if (num_layers && num_layers != n)
    c.fail("the plan is for a " + str(num_layers) + "-layer model, the teacher has " + str(n) + " layers",
           "num_layers");
  bool used[4] = {};
  used[static_cast<int>(default_kind)] = true;
  for (const auto& [i, kind] : layers) {
    if (i >= n) c.fail("layer " + str(i) + " is out of range: the teacher has layers 0-" + str(n - 1), "layers." + str(i));
    used[static_cast<int>(kind)] = true;
  }
  if (used[static_cast<int>(MixerKind::MLA)]) check_mla(resolved_mla(*this, t), t, c);
  if (used[static_cast<int>(MixerKind::Mamba2)]) check_mamba2(resolved_mamba2(*this, t), c);
  if (used[static_cast<int>(MixerKind::GDN)]) check_gdn(resolved_gdn(*this), c);
}

ModelConfig LayerPlan::resolve(const ModelConfig& t) const {
  check(t);
  ModelConfig student = t;
  student.model_type = "hylo";
  student.architecture = "HyloForCausalLM";
  student.teacher = teacher_path();
  student.layers.assign(t.num_hidden_layers, LayerSpec{});
  for (int64_t i = 0; i < t.num_hidden_layers; ++i) {
    LayerSpec& spec = student.layers[i];
    spec.kind = kind_of(i);
    switch (spec.kind) {
      case MixerKind::Attention:
        spec.attention = t.teacher_attention();
        break;
      case MixerKind::MLA: spec.mla = resolved_mla(*this, t); break;
      case MixerKind::Mamba2: spec.mamba2 = resolved_mamba2(*this, t); break;
      case MixerKind::GDN: spec.gdn = resolved_gdn(*this); break;
    }
  }
  return student;
}

std::vector<MixerKind> layer_kinds(const ModelConfig& config) {
  std::vector<MixerKind> kinds;
  for (const auto& spec : layer_specs_of(config)) kinds.push_back(spec.kind);
  return kinds;
}

std::string compact_name(const std::vector<MixerKind>& kinds) {
  const std::array<std::pair<MixerKind, const char*>, 4> order = {
      {{MixerKind::Attention, "A"}, {MixerKind::MLA, "MLA"}, {MixerKind::Mamba2, "M2"}, {MixerKind::GDN, "GDN"}}};
  std::string name;
  for (const auto& [kind, label] : order) {
    const auto count = std::count(kinds.begin(), kinds.end(), kind);
    if (count) name += std::to_string(count) + label;
  }
  return name;
}

std::string compact_name(const ModelConfig& config) { return compact_name(layer_kinds(config)); }

}  // namespace hylo
