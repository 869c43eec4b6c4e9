// Decoding state of the recurrent mixers (Mamba2, Gated DeltaNet): the short convolution's last
// K-1 inputs plus the recurrent state. Its size does not grow with the tokens seen.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "core/model/mixer.h"

namespace hylo {

class StateCache : public LayerCache {
 public:
  // kind: "ssm_state" (Mamba2) or "gdn_state" (Gated DeltaNet). dtype is the conv state's; the
  // recurrent state is kept in fp32 (fp64 for fp64 models), as the ops compute it.
  StateCache(std::string kind, int64_t batch, at::ScalarType dtype, at::Device device)
      : kind_(std::move(kind)), batch_(batch), dtype_(dtype), device_(device) {}

  int64_t length() const override { return length_; }
  int64_t bytes() const override {
    return (conv.defined() ? static_cast<int64_t>(conv.nbytes()) : 0) +
           (state.defined() ? static_cast<int64_t>(state.nbytes()) : 0);
  }
  std::string kind() const override { return kind_; }
  void reset() override {
    conv = at::Tensor();
    state = at::Tensor();
    length_ = 0;
  }

  int64_t batch() const { return batch_; }
  at::ScalarType dtype() const { return dtype_; }
  at::Device device() const { return device_; }
  at::ScalarType state_dtype() const { return dtype_ == at::kDouble ? at::kDouble : at::kFloat; }
  // Stores what a forward left behind (detached: decoding never backpropagates into the past).
  void update(const at::Tensor& new_conv, const at::Tensor& new_state, int64_t tokens) {
    conv = new_conv.detach().to(device_, dtype_);
    state = new_state.detach().to(device_, state_dtype());
    length_ += tokens;
  }
  // Counts tokens whose conv window and state were advanced in place (a fused decoding step).
  void advance(int64_t tokens) { length_ += tokens; }

  at::Tensor conv;   // (B, conv_dim, K-1), undefined before the first token
  at::Tensor state;  // Mamba2: (B, H, head_dim, d_state); GDN: (B, H, head_k_dim, head_v_dim)

 private:
  std::string kind_;
  int64_t batch_;
  at::ScalarType dtype_;
  at::Device device_;
  int64_t length_ = 0;
};

}  // namespace hylo
