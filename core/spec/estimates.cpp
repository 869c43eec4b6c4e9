// Parameter counts, cache sizes and FLOPs per token (formulas in estimates.h).
#include "core/spec/estimates.h"

#include <algorithm>
#include <numeric>

#include "core/spec/error.h"
#include "core/spec/tensor_layout.h"

namespace hylo {
namespace {

int64_t total_numel(const std::vector<TensorInfo>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

// Elements of the tensors that are multiplied with activations (matrices and conv kernels).
int64_t matmul_numel(const std::vector<TensorInfo>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors)
    if (t.shape.size() >= 2) n += t.numel();
  return n;
}

int64_t mlp_params(const ModelConfig& c) { return 3 * c.hidden_size * c.intermediate_size; }

}  // namespace

int64_t dtype_bytes(const std::string& dtype, const std::string& field) {
  if (dtype == "bf16" || dtype == "bfloat16" || dtype == "fp16" || dtype == "float16" || dtype == "half") return 2;
  if (dtype == "fp32" || dtype == "float32" || dtype == "float") return 4;
  if (dtype == "fp8") return 1;
  throw ConfigError("unknown dtype '" + dtype + "' (bf16, fp16, fp32, fp8)", {}, field);
}

int64_t ParamCount::total() const {
  int64_t n = embedding + lm_head + final_norm;
  for (const auto& l : layers) n += l.total();
  return n;
}

int64_t ParamCount::mixers() const {
  return std::accumulate(layers.begin(), layers.end(), int64_t{0},
                         [](int64_t n, const LayerParams& l) { return n + l.mixer; });
}

ParamCount count_parameters(const ModelConfig& c) {
  ParamCount p;
  p.embedding = c.vocab_size * c.hidden_size;
  p.lm_head = c.tie_word_embeddings ? 0 : p.embedding;
  p.final_norm = c.hidden_size;
  for (const auto& spec : layer_specs_of(c))
    p.layers.push_back({spec.kind, total_numel(mixer_tensors(spec, c.hidden_size)), mlp_params(c), 2 * c.hidden_size});
  return p;
}

LayerCacheSize layer_cache_size(const LayerSpec& spec) {
  LayerCacheSize s;
  switch (spec.kind) {
    case MixerKind::Attention: s.per_token = 2 * spec.attention.num_kv_heads * spec.attention.head_dim; break;
    case MixerKind::MLA: s.per_token = spec.mla.kv_lora_rank + spec.mla.qk_rope_head_dim; break;
    case MixerKind::Mamba2:
      s.conv_state = (spec.mamba2.conv_kernel - 1) * conv_channels(spec);
      s.recurrent_state = spec.mamba2.num_heads * spec.mamba2.head_dim * spec.mamba2.d_state;
      break;
    case MixerKind::GDN:
      s.conv_state = (spec.gdn.conv_kernel - 1) * conv_channels(spec);
      s.recurrent_state = spec.gdn.num_heads * spec.gdn.head_k_dim * spec.gdn.head_v_dim;
      break;
  }
  return s;
}

int64_t kv_elements_per_token(const ModelConfig& config) {
  int64_t n = 0;
  for (const auto& spec : layer_specs_of(config)) n += layer_cache_size(spec).per_token;
  return n;
}

double kv_fraction(const ModelConfig& student, const ModelConfig& teacher) {
  const int64_t t = kv_elements_per_token(teacher);
  if (t == 0) throw ConfigError("the teacher keeps no per-token cache", {}, "teacher");
  return static_cast<double>(kv_elements_per_token(student)) / static_cast<double>(t);
}

LayerFlops layer_flops(const LayerSpec& spec, const ModelConfig& config, int64_t context) {
  const auto tensors = mixer_tensors(spec, config.hidden_size);
  const double weights = 2.0 * (matmul_numel(tensors) + mlp_params(config));
  const double L = static_cast<double>(context);
  LayerFlops f{weights, weights};
  // Positions seen inside a chunk of a chunked scan, on average.
  auto chunk_span = [&](int64_t chunk) { return static_cast<double>(std::min<int64_t>(chunk, context)); };
  switch (spec.kind) {
    case MixerKind::Attention: {
      const auto& s = spec.attention;
      const double per_key = 4.0 * s.num_heads * s.head_dim;
      f.prefill += per_key * (L + 1) / 2;
      f.decode += per_key * (L + 1);
      break;
    }
    case MixerKind::MLA: {
      const auto& s = spec.mla;
      const double H = s.num_heads, r = s.kv_lora_rank;
      f.prefill += 2.0 * H * (s.qk_head_dim() + s.v_head_dim) * (L + 1) / 2;
      const double kv_b = 2.0 * s.num_kv_heads * (s.qk_nope_head_dim + s.v_head_dim) * s.kv_lora_rank;
      f.decode += -kv_b + 2.0 * H * r * (s.qk_nope_head_dim + s.v_head_dim) +
                  2.0 * H * (2 * r + s.qk_rope_head_dim) * (L + 1);
      break;
    }
    case MixerKind::Mamba2: {
      const auto& s = spec.mamba2;
      const double a = (chunk_span(s.chunk_size) + 1) / 2, state = double(s.num_heads) * s.head_dim * s.d_state;
      f.prefill += 2.0 * s.n_groups * s.d_state * a + 2.0 * s.num_heads * s.head_dim * a + 4 * state;
      f.decode += 5 * state;
      break;
    }
    case MixerKind::GDN: {
      const auto& s = spec.gdn;
      const double q = chunk_span(s.chunk_size), a = (q + 1) / 2, dk = s.head_k_dim, dv = s.head_v_dim;
      f.prefill += s.num_heads * (a * (6 * dk + 4 * dv) + q * q / 3 + 6 * dk * dv);
      f.decode += 7.0 * s.num_heads * dk * dv;
      break;
    }
  }
  return f;
}

Estimate estimate(const ModelConfig& config, int64_t context, const Precision& precision) {
  Estimate e;
  e.context = context;
  e.params = count_parameters(config).total();
  e.weight_bytes = e.params * precision.weight_bytes;
  const double head = 2.0 * config.vocab_size * config.hidden_size;
  e.prefill_flops_per_token = e.decode_flops_per_token = head;
  for (const auto& spec : layer_specs_of(config)) {
    const auto cache = layer_cache_size(spec);
    e.kv_bytes += cache.per_token * context * precision.cache_bytes;
    e.state_bytes += cache.conv_state * precision.cache_bytes + cache.recurrent_state * precision.state_bytes;
    const auto f = layer_flops(spec, config, context);
    e.prefill_flops_per_token += f.prefill;
    e.decode_flops_per_token += f.decode;
  }
  e.total_bytes = e.weight_bytes + e.kv_bytes + e.state_bytes;
  return e;
}

}  // namespace hylo
