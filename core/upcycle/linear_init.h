// Linear-time mixers from a teacher's attention, read as linear attention without the softmax:
// the query becomes the state's read-out, the key its write address, the value what is written.
#pragma once
#include "core/model/gated_deltanet.h"
#include "core/model/mamba2.h"
#include "core/upcycle/attention_weights.h"

namespace hylo {

// MambaInLlama (arXiv 2408.15237): in_proj's x <- W_v, B <- W_k (the KV heads' d_xb channels the
// mixer repeats to the heads at run time), C <- W_q, out_proj <- W_o. z, dt, dt_bias, A_log, D
// keep the mixer's default init. Needs d_xb = H_kv * D and d_state = D (upcycle_config checks this).
// identity_conv: conv1d passes its input through (last tap 1, the rest and the bias 0), so x, B
// and C start as the projections themselves; off: the default random conv, as MambaInLlama.
void init_mamba2(Mamba2Mixer& mamba, const AttentionWeights& w, bool identity_conv);

// HyLo (arXiv 2604.24715): the teacher's KV heads repeated to its query heads give per-query-head
// Q, K, V (H * D rows each) and O (H * D columns). GDN's key dim is usually smaller and its value
// dim larger than H * D: the overlapping leading block of each projection is copied, rows beyond
// it keep their random init. Gate (z), decay (a, A_log, dt_bias), beta (b) and conv stay random.
void init_gdn(GatedDeltaNetMixer& gdn, const AttentionWeights& w);

}  // namespace hylo
