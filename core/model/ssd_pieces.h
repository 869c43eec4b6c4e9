// The elementwise pieces of the chunked SSD (core/model/ssd_chunked.cpp) between its batched
// matmuls, each with the LibTorch reference and the GPU kernel (kernels/ssd_chunk.cu) behind one
// call (fused_ops.h says how the path is picked). Per chunk z of L tokens: cs (Z, L) the cumulative
// log decay inside the chunk, dt (Z, L) the step sizes, both fp32 (fp64 in fp64 runs).
#pragma once
#include <ATen/ATen.h>

#include "core/model/fused_ops.h"

namespace hylo {

// w[z, t, s] = cb[z, t, s] exp(cs_t - cs_s) dt_s for s <= t, else 0; cb (Z, L, L), w in cb's dtype.
at::Tensor ssd_decay_mask(const at::Tensor& cb, const at::Tensor& cs, const at::Tensor& dt,
                          OpPath path = OpPath::Auto);

// The backward of ssd_decay_mask for gw = d loss / d w. With r[t, s] = gw cb exp(cs_t - cs_s) (s <= t):
//   gcb = d loss / d cb (cb's dtype),  row[z, t] = sum_s r[t, s] dt_s,  col[z, s] = sum_t r[t, s]
// (row and col in cs's dtype): d loss / d cs_t = row_t - dt_t col_t and d loss / d dt_s += col_s.
struct SsdMaskGrads {
  at::Tensor gcb, row, col;
};
SsdMaskGrads ssd_decay_mask_backward(const at::Tensor& gw, const at::Tensor& cb, const at::Tensor& cs,
                                     const at::Tensor& dt, OpPath path = OpPath::Auto);

// The state carried across chunks for each sequence r: add (R, n, W), decay (R, n), init (R, W) or
// undefined (zeros); for c = 0 .. n-1 (n-1 .. 0 when `reverse`):
//   entering[r, c] = S;  S = decay[r, c] S + add[r, c];      final = S after the last chunk.
struct SsdStatePass {
  at::Tensor entering, final_state;
};
SsdStatePass ssd_state_pass(const at::Tensor& add, const at::Tensor& decay, const at::Tensor& init, bool reverse,
                            OpPath path = OpPath::Auto);

}  // namespace hylo
