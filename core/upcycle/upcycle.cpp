#include "core/upcycle/upcycle.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"

#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/upcycle/linear_init.h"
#include "core/upcycle/mla_init.h"

namespace hylo {
namespace fs = std::filesystem;

AttentionWeights attention_weights(const AttentionMixer& attention) {
  const auto& a = attention.settings();
  auto f64 = [](const at::Tensor& t) { return t.detach().to(at::kDouble).contiguous(); };
  AttentionWeights w{a, f64(attention.q_proj->weight), f64(attention.k_proj->weight), f64(attention.v_proj->weight),
                     f64(attention.o_proj->weight)};
  if (attention.q_norm) {
    const int64_t C = w.q.size(1);
    w.q = (w.q.view({a.num_heads, a.head_dim, C}) * f64(attention.q_norm->weight).view({1, -1, 1})).view({-1, C});
    w.k = (w.k.view({a.num_kv_heads, a.head_dim, C}) * f64(attention.k_norm->weight).view({1, -1, 1})).view({-1, C});
  }
  return w;
}

namespace {

std::string str(int64_t v) { return std::to_string(v); }

const AttentionMixer& teacher_attention(HybridModel& teacher, int64_t layer) {
  auto* attention = dynamic_cast<const AttentionMixer*>(teacher.layer(layer).mixer.get());
  if (!attention)
    throw ConfigError("teacher layer " + str(layer) + " is not softmax attention", {},
                      "layers[" + str(layer) + "]");
  return *attention;
}

// Per-layer MLA ranks from the SVD energy of that layer's teacher weights.
void choose_ranks_by_energy(HybridModel& teacher, ModelConfig& student, double energy) {
  if (!(energy > 0 && energy <= 1)) throw ConfigError("must be in (0, 1], got " + std::to_string(energy), {}, "rank_energy");
  for (int64_t i = 0; i < static_cast<int64_t>(student.layers.size()); ++i) {
    auto& s = student.layers[i].mla;
    if (student.layers[i].kind != MixerKind::MLA) continue;
    const auto spectra = mla_spectra(attention_weights(teacher_attention(teacher, i)), s);
    s.kv_lora_rank = rank_for_energy(spectra.kv, energy, spectra.kv.size(0));
    if (s.q_lora_rank) s.q_lora_rank = rank_for_energy(spectra.q, energy, spectra.q.size(0));
  }
}

// The parameters the student shares with the teacher under the same name: everything except the
// mixers of layers that change kind.
bool shared_with_teacher(const std::string& name, const ModelConfig& student) {
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) != 0) return true;
  const auto dot = name.find('.', prefix.size());
  const int64_t layer = std::stoll(name.substr(prefix.size(), dot - prefix.size()));
  if (student.layers[layer].kind == MixerKind::Attention) return true;
  const std::string rest = name.substr(dot + 1);
  return rest.rfind("input_layernorm.", 0) == 0 || rest.rfind("post_attention_layernorm.", 0) == 0 ||
         rest.rfind("mlp.", 0) == 0;
}

}  // namespace

ModelConfig upcycle_config(const LayerPlan& plan, const ModelConfig& teacher) {
  ModelConfig student = plan.resolve(teacher);
  const int64_t D = teacher.head_dim;
  auto fail = [&](const std::string& what, const std::string& field) { throw ConfigError(what, plan.source, field); };
  for (const auto& spec : student.layers) {
    if (spec.kind == MixerKind::MLA) {
      const auto& s = spec.mla;
      if (D % s.qk_rope_head_dim)
        fail("must divide the teacher's head_dim " + str(D) + " (rope pairs are taken every head_dim/rope dims)",
             "mla.qk_rope_head_dim");
      if (s.qk_head_dim() != D)
        fail("qk_nope_head_dim + qk_rope_head_dim = " + str(s.qk_head_dim()) + " must equal the teacher's head_dim " +
                 str(D) + " (every query/key dim maps to one teacher dim)",
             "mla.qk_nope_head_dim");
      if (s.v_head_dim != D) fail("must equal the teacher's head_dim " + str(D) + " (o_proj is copied)", "mla.v_head_dim");
    }
    if (spec.kind == MixerKind::Mamba2 && spec.mamba2.d_state != D)
      fail("must equal the teacher's head_dim " + str(D) + " for the attention init (B <- W_k, C <- W_q)",
           "mamba2.d_state");
  }
  return student;
}

Upcycled upcycle(HybridModel& teacher, const LayerPlan& plan, const UpcycleOptions& options) {
  Upcycled out;
  out.config = upcycle_config(plan, teacher.config());
  if (options.rank_energy != 0) choose_ranks_by_energy(teacher, out.config, options.rank_energy);
  at::manual_seed(options.seed);
  out.model = std::make_shared<HybridModel>(out.config);
  HybridModel& student = *out.model;
  at::NoGradGuard no_grad;

  const auto teacher_params = teacher.named_parameters();
  for (auto& p : student.named_parameters()) {
    if (!shared_with_teacher(p.key(), out.config)) continue;
    const at::Tensor* src = teacher_params.find(p.key());
    if (!src) throw ModelError("the teacher has no tensor for the student's parameter", {}, p.key());
    if (src->sizes() != p.value().sizes()) throw ModelError("shape differs between teacher and student", {}, p.key());
    p.value().copy_(src->to(p.value().scalar_type()));
  }
  for (int64_t i = 0; i < student.num_layers(); ++i) {
    Mixer* mixer = student.layer(i).mixer.get();
    switch (out.config.layers[i].kind) {
      case MixerKind::Attention: break;
      case MixerKind::MLA:
        if (!options.random_mla) init_mla(dynamic_cast<MlaMixer&>(*mixer), attention_weights(teacher_attention(teacher, i)));
        break;
      case MixerKind::Mamba2:
        init_mamba2(dynamic_cast<Mamba2Mixer&>(*mixer), attention_weights(teacher_attention(teacher, i)),
                    options.identity_conv);
        break;
      case MixerKind::GDN:
        init_gdn(dynamic_cast<GatedDeltaNetMixer&>(*mixer), attention_weights(teacher_attention(teacher, i)));
        break;
    }
  }
  return out;
}

UpcycledCheckpoint upcycle_checkpoint(const std::string& teacher_dir, const LayerPlan& plan,
                                      const std::string& out_dir, at::ScalarType dtype,
                                      const UpcycleOptions& options) {
  upcycle_config(plan, ModelConfig::load(teacher_dir));  // plan errors before the weights are read
  if (fs::exists(out_dir) && !(fs::is_directory(out_dir) && fs::is_empty(out_dir)))
    throw IoError("the output folder exists and is not empty; choose a new one", out_dir, "-o");
  UpcycledCheckpoint result;
  result.teacher = load_model(teacher_dir, at::kFloat, at::kCPU);
  result.student = upcycle(*result.teacher, plan, options);
  result.student.model->to(dtype);
  result.student.config.torch_dtype = dtype == at::kBFloat16 ? "bfloat16" : dtype == at::kHalf ? "float16" : "float32";
  const fs::path tokenizer = fs::path(teacher_dir) / "tokenizer.json";
  save_model(out_dir, *result.student.model, result.student.config,
             fs::exists(tokenizer) ? tokenizer.string() : std::string());
  const nlohmann::json provenance = {{"teacher", teacher_dir},          {"plan", plan.source},
                                     {"seed", options.seed},            {"random_mla", options.random_mla},
                                     {"identity_conv", options.identity_conv}, {"rank_energy", options.rank_energy},
                                     {"dtype", result.student.config.torch_dtype}};
  write_text_atomically((fs::path(out_dir) / "upcycle.json").string(), provenance.dump(2) + "\n");
  return result;
}

}  // namespace hylo
