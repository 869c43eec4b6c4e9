// Rotary position embeddings (RoFormer, arXiv 2104.09864) with the rope_scaling variants of HF
// config.json: default, linear, dynamic NTK, llama3 and YaRN (arXiv 2309.00071). The numbers match
// transformers' rope init functions (fp32 frequencies, cos/sin scaled by the attention factor).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <utility>

#include "core/spec/model_config.h"

namespace hylo {

struct RopeTables {
  at::Tensor inv_freq;             // (rotary_dim / 2) fp32, on the CPU
  double attention_scaling = 1.0;  // multiplies cos and sin (YaRN's attention factor)
};

// seq_len matters for "dynamic" only: the length the tables must cover. At or below
// max_position_embeddings (and when 0) the frequencies are the default ones; above, the base grows
// as transformers' dynamic NTK does.
RopeTables compute_rope(const RopeScaling& s, double theta, int64_t rotary_dim,
                        int64_t max_position_embeddings, int64_t seq_len = 0);

// cos, sin: (T, rotary_dim) for positions pos..pos+T-1, already multiplied by attention_scaling.
std::pair<at::Tensor, at::Tensor> rope_cos_sin(const RopeTables& t, int64_t pos, int64_t T,
                                               at::ScalarType dtype, at::Device device);

// x: (B, H, T, D) with D == rotary_dim; HF's rotate_half convention (first half pairs with second).
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// YaRN's magnitude correction: 0.1 * mscale * ln(scale) + 1 for scale > 1, else 1.
double yarn_get_mscale(double scale, double mscale = 1.0);

}  // namespace hylo
