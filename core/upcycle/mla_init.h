// Multi-head Latent Attention from a teacher's GQA attention (X-EcoMLA arXiv 2503.11132,
// Zebra-Llama arXiv 2505.17272, HyLo arXiv 2604.24715): the query by SVD of W_q, keys and values
// by ONE joint SVD of the stacked per-head [W_k_nope ; W_v], the decoupled RoPE key from the
// teacher's rope rows, o_proj copied.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "core/model/mla.h"
#include "core/upcycle/attention_weights.h"

namespace hylo {

// Teacher head dims that MLA rotates, in MLA's rotate_half order (dim a pairs with a + rope/2).
// RoPE rotates the teacher's dims i and i + D/2 with frequency theta^(-2i/D); MLA builds its own
// tables for rope dims, frequency theta^(-2a/rope). Taking every (D/rope)-th teacher pair,
// i = a * D/rope, gives the same frequency for every kept pair, so the kept rope dims rotate
// exactly as in the teacher under default, linear and llama3 scaling (they act per frequency), and
// the kept set spans high and low frequencies alike. Dynamic NTK beyond max_position_embeddings
// (its base exponent depends on the dim count) and YaRN (its ramp bounds are rounded per dim
// count) match only approximately. Needs rope to divide D.
std::vector<int64_t> mla_rope_dims(int64_t head_dim, int64_t rope_dim);
// The teacher dims in MLA's per-head order: the nope dims (the rest, ascending), then mla_rope_dims.
std::vector<int64_t> mla_dim_order(int64_t head_dim, int64_t rope_dim);

// The singular values the factorisations use (descending), for ranks by energy and for the planner.
struct MlaSpectra {
  at::Tensor q;   // of the permuted W_q, (min(H*D, C))
  at::Tensor kv;  // of the stacked [W_k_nope ; W_v], (min(H_kv*(nope+v), C))
};
MlaSpectra mla_spectra(const AttentionWeights& w, const MlaSettings& s);

// Smallest rank (a multiple of 8, at most `limit`) whose share of squared singular values reaches `energy`.
int64_t rank_for_energy(const at::Tensor& singular_values, double energy, int64_t limit);
// Relative Frobenius error ||W - W_r|| / ||W|| of the best rank-r approximation.
double truncation_error(const at::Tensor& singular_values, int64_t rank);

// Writes every MLA weight from the teacher's. s (the mixer's settings) must fit the teacher:
// qk_nope + qk_rope == v_head_dim == D and num_(kv_)heads equal the teacher's (upcycle_config checks this first).
// Exact at full rank with one KV head; with several, the shared rope key is their mean. With
// latent_norm the RMSNorms (weight 1) rescale each token's latents, so the start is approximate.
void init_mla(MlaMixer& mla, const AttentionWeights& w);

}  // namespace hylo
