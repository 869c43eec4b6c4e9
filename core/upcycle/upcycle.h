// Upcycling: a hybrid student initialised from its Transformer teacher as a LayerPlan asks.
// Embeddings, the final norm, lm_head and every layer's norms and MLP are copied; `keep` layers
// copy the attention; MLA, Mamba2 and GDN layers are initialised from the teacher's attention
// (mla_init.h, linear_init.h say which paper each mapping follows).
#pragma once
#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "core/model/hybrid_model.h"
#include "core/spec/plan.h"

namespace hylo {

struct UpcycleOptions {
  // In (0, 1]: each MLA layer's kv_lora_rank (and q_lora_rank when the plan compresses the query)
  // becomes the smallest multiple of 8 keeping this share of the SVD energy; 0: the plan's ranks.
  double rank_energy = 0;
  bool identity_conv = false;  // Mamba2 conv1d starts as a pass-through (linear_init.h)
  bool random_mla = false;     // MLA layers keep their random init: the SVD-init ablation (HyLo Fig. 6)
  // What the teacher does not determine (the new mixers' other weights, random MLA) is drawn from
  // the default CPU generator, reseeded with this before the student is built: same seed, same weights.
  uint64_t seed = 0;
};

// The student's config (plan.resolve) after every check the weights do not need: the plan against
// the teacher, and the mappings' own conditions (MLA qk_nope + qk_rope == v_head_dim == head_dim,
// rope dim dividing head_dim; Mamba2 d_state == head_dim). A ConfigError naming the plan file and field.
ModelConfig upcycle_config(const LayerPlan& plan, const ModelConfig& teacher);

struct Upcycled {
  ModelConfig config;                    // the student's, with per-layer ranks when chosen by energy
  std::shared_ptr<HybridModel> model;    // fp32, on the CPU
};

// teacher: a loaded Transformer (any dtype; the factorisations run in fp64).
Upcycled upcycle(HybridModel& teacher, const LayerPlan& plan, const UpcycleOptions& options = {});

// teacher_dir -> out_dir (config.json with the hylo block, safetensors in `dtype`, tokenizer.json
// copied, upcycle.json: the teacher, plan, seed and options it was made with). Everything that can fail is checked before the first file is written: the plan, the
// teacher's tensors (loading), an out_dir that exists and is not empty (an IoError).
struct UpcycledCheckpoint {
  std::shared_ptr<HybridModel> teacher;
  Upcycled student;
};
UpcycledCheckpoint upcycle_checkpoint(const std::string& teacher_dir, const LayerPlan& plan,
                                      const std::string& out_dir, at::ScalarType dtype,
                                      const UpcycleOptions& options = {});

}  // namespace hylo
