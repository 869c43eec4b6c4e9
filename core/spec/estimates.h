// Estimates for any ModelConfig (a teacher, or a student from LayerPlan::resolve) at a context
// length L, batch 1: parameters, cache and state bytes, FLOPs per token. Cheap (O(layers)), so
// the GUI planner recomputes them on every drag.
//
// Parameters are exact: the sum of the tensors in tensor_layout.h (a tied lm_head counts once).
//
// Caches, elements per layer:
//   attention  2*Hkv*d per token          MLA  kv_lora_rank + qk_rope_head_dim per token
//   Mamba2     H*hd*d_state (SSM state) + (K-1)*conv channels (conv window), constant
//   GDN        Hv*dk*dv (delta-rule state) + (K-1)*(2*Hk*dk + Hv*dv) (conv window), constant
// Per-token caches and conv windows hold activations (cache dtype); the recurrent states have their
// own dtype (often fp32).
//
// FLOPs per token (a multiply-add = 2), per layer, plus 2*V*C for the lm_head:
//   weights: 2 * elements of every matrix / conv weight of the layer (norms, biases, gates that
//            act elementwise are left out, as are softmax and activations).
//   attention:      prefill + 4*H*d * (L+1)/2      decode + 4*H*d * (L+1)
//     prefill is the mean over the L tokens of a prompt (token t sees t+1 keys); decode is the
//     token at position L (it sees L+1 keys).
//   MLA prefill (kv_b expands the latent):  + 2*H*(qk_head_dim + v_head_dim) * (L+1)/2
//   MLA decode (absorbed, DeepSeek-V2: kv_b folded into the query and output sides, the latent is
//     never expanded): weights without kv_b, + 2*H*r_kv*(nope + v), + 2*H*(2*r_kv + rope) * (L+1)
//   Mamba2 prefill (chunked SSD, chunk Q, q = min(Q, L), a = (q+1)/2 positions seen in a chunk):
//     + 2*G*d_state*a (C.B scores) + 2*H*hd*a (mixing x) + 4*H*hd*d_state (chunk states in and out)
//   Mamba2 decode (recurrence): + 5*H*hd*d_state (decay, B x outer product, add; C.h)
//   GDN prefill (chunked delta rule, WY form, same q and a, Hv heads):
//     + Hv * (a*(6*dk + 4*dv) + q*q/3 + 6*dk*dv)   (KK^T, QK^T, T.K, T.V, intra output; the
//       triangular solve; W.S, Q.S and the state update)
//   GDN decode (recurrence): + 7*Hv*dk*dv (decay, S k, rank-1 update, S q)
// The chunked forms use the steady-state chunk span min(Q, L) (real kernels pad the last chunk),
// so every figure is non-decreasing in L.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/spec/mixers.h"
#include "core/spec/model_config.h"

namespace hylo {

// Bytes per element: bf16/bfloat16/fp16/float16/half 2, fp32/float32/float 4, fp8 1.
// Throws ConfigError naming `field` for anything else.
int64_t dtype_bytes(const std::string& dtype, const std::string& field = "dtype");

struct LayerParams {
  MixerKind kind = MixerKind::Attention;
  int64_t mixer = 0;  // the sequence mixer's tensors
  int64_t mlp = 0;    // gate/up/down projections
  int64_t norms = 0;  // input and post-attention RMSNorms
  int64_t total() const { return mixer + mlp + norms; }
};

struct ParamCount {
  int64_t embedding = 0;
  int64_t lm_head = 0;  // 0 when tied to the embedding
  int64_t final_norm = 0;
  std::vector<LayerParams> layers;
  int64_t total() const;
  int64_t mixers() const;
};
ParamCount count_parameters(const ModelConfig& config);

// Cache elements of one layer.
struct LayerCacheSize {
  int64_t per_token = 0;        // grows with the context: K/V, or MLA latent + RoPE key
  int64_t conv_state = 0;       // constant: the short convolution's window
  int64_t recurrent_state = 0;  // constant: the SSM / delta-rule state
};
LayerCacheSize layer_cache_size(const LayerSpec& spec);

// Cache elements per token summed over the layers.
int64_t kv_elements_per_token(const ModelConfig& config);
// The HyLo check: the student's per-token cache as a share of the teacher's (4MLA12M2 on
// Llama-3.2-1B: 640 / 16384 = 3.9%).
double kv_fraction(const ModelConfig& student, const ModelConfig& teacher);

struct LayerFlops {
  double prefill = 0;  // mean per token of an L-token prompt
  double decode = 0;   // one token at position L
};
LayerFlops layer_flops(const LayerSpec& spec, const ModelConfig& config, int64_t context);

struct Precision {
  int64_t weight_bytes = 2;
  int64_t cache_bytes = 2;  // per-token caches and conv windows
  int64_t state_bytes = 2;  // recurrent states
};

struct Estimate {
  int64_t context = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;
  int64_t kv_bytes = 0;     // caches that grow with the context, after `context` tokens
  int64_t state_bytes = 0;  // constant states (conv windows and recurrent states)
  int64_t total_bytes = 0;  // weights + kv + state
  double prefill_flops_per_token = 0;
  double decode_flops_per_token = 0;
};
Estimate estimate(const ModelConfig& config, int64_t context, const Precision& precision = {});

}  // namespace hylo
