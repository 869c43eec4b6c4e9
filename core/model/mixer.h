// The contract between a decoder layer and its sequence mixer (attention, MLA, Mamba2, GDN).
// Each mixer has one reference implementation in LibTorch (differentiable); fast kernels slot in
// behind the ops it calls, never here.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>

namespace hylo {

// Per-layer decoding state. Attention: K/V; MLA: latent + rope key; Mamba2/GDN: conv + SSM state.
class LayerCache {
 public:
  virtual ~LayerCache() = default;
  virtual int64_t length() const = 0;      // tokens seen so far
  virtual int64_t bytes() const = 0;       // bytes the cache really holds for those tokens (not capacity)
  virtual std::string kind() const = 0;    // "kv", "mla_latent", "ssm_state", ...
  virtual void reset() = 0;
  // Room for at least `tokens` in total (calls only raise it), taken at the next growth in one
  // allocation: a context that cannot fit fails at its first chunk, and decoding past the prompt
  // never doubles the buffer. Caches of constant size have nothing to reserve.
  virtual void reserve(int64_t tokens) { (void)tokens; }
};

class Mixer : public torch::nn::Module {
 public:
  // x: (B, T, C) -> (B, T, C).
  // pos: absolute position of x[:, 0] (RoPE). With a cache, x continues what the cache holds
  // (pos == cache->length()) and the cache is extended; without one, x is a whole sequence.
  virtual at::Tensor forward(const at::Tensor& x, int64_t pos, LayerCache* cache) = 0;
  virtual std::unique_ptr<LayerCache> make_cache(int64_t batch, at::ScalarType dtype, at::Device device) const = 0;
  // The name the mixer is registered under in its layer, i.e. its prefix in checkpoints:
  // "self_attn" (attention, MLA), "mamba" (Mamba2), "linear_attn" (Gated DeltaNet).
  virtual std::string checkpoint_name() const = 0;
};

}  // namespace hylo
