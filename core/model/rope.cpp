// Every step is done in fp32 tensors in the same order as transformers' rope init functions, so
// the frequencies match bit for bit where the arithmetic allows it.
#include "core/model/rope.h"

#include <algorithm>
#include <cmath>

#include "core/spec/error.h"

namespace hylo {
namespace {

constexpr double kPi = 3.14159265358979323846;

// theta^(-2i/dim) for i in [0, dim/2), fp32: (dim/2)
at::Tensor default_inv_freq(double theta, int64_t dim) {
  auto exponents = at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim);
  return at::pow(theta, exponents).reciprocal();
}

at::Tensor llama3_inv_freq(const RopeScaling& s, double theta, int64_t dim) {
  auto inv_freq = default_inv_freq(theta, dim);
  const double old_context = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_context / s.low_freq_factor;
  const double high_freq_wavelen = old_context / s.high_freq_factor;
  auto wavelen = inv_freq.reciprocal() * (2 * kPi);  // Python's scalar / tensor is reciprocal * scalar
  // Long wavelengths (low frequencies) are interpolated by `factor`, short ones kept.
  auto scaled = at::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
  // In between: a smooth blend of the two, linear in old_context / wavelen.
  auto smooth = (wavelen.reciprocal() * old_context - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  auto smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
  auto medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return at::where(medium, smoothed, scaled);
}

// Dimension index at which a frequency completes num_rotations turns over max_pos positions.
double yarn_correction_dim(double num_rotations, int64_t dim, double theta, double max_pos) {
  return dim * std::log(max_pos / (num_rotations * 2 * kPi)) / (2 * std::log(theta));
}

RopeTables yarn_tables(const RopeScaling& s, double theta, int64_t dim, int64_t max_pos) {
  const double original = static_cast<double>(s.original_max_position_embeddings);
  const double factor = s.factor > 0 ? s.factor : max_pos / original;
  RopeTables t;
  if (s.attention_factor) {
    t.attention_scaling = *s.attention_factor;
  } else if (s.mscale.value_or(0) != 0 && s.mscale_all_dim.value_or(0) != 0) {
    // DeepSeek's variant: the ratio of two mscales.
    t.attention_scaling = yarn_get_mscale(factor, *s.mscale) / yarn_get_mscale(factor, *s.mscale_all_dim);
  } else {
    t.attention_scaling = yarn_get_mscale(factor);
  }
  const double beta_fast = s.beta_fast != 0 ? s.beta_fast : 32.0;
  const double beta_slow = s.beta_slow != 0 ? s.beta_slow : 1.0;

  double low = yarn_correction_dim(beta_fast, dim, theta, original);
  double high = yarn_correction_dim(beta_slow, dim, theta, original);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // keeps the ramp finite

  auto pos_freqs = at::pow(theta, at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim));
  auto extrapolation = pos_freqs.reciprocal();
  auto interpolation = (factor * pos_freqs).reciprocal();
  // Ramp over dimension index: 0 below `low` (fast dims, kept), 1 above `high` (slow dims, interpolated).
  auto ramp = ((at::arange(dim / 2, at::kFloat) - low) / (high - low)).clamp(0, 1);
  auto keep = 1 - ramp;
  t.inv_freq = interpolation * (1 - keep) + extrapolation * keep;
  return t;
}

}  // namespace

double yarn_get_mscale(double scale, double mscale) {
  if (scale <= 1) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

RopeTables compute_rope(const RopeScaling& s, double theta, int64_t rotary_dim, int64_t max_position_embeddings,
                        int64_t seq_len) {
  if (rotary_dim <= 0 || rotary_dim % 2 != 0)
    throw ModelError("rotary dimension must be even and positive, got " + std::to_string(rotary_dim), {},
                     "head_dim");
  if (theta <= 0) throw ModelError("rope_theta must be positive", {}, "rope_theta");
  RopeTables t;
  if (s.type == "default") {
    t.inv_freq = default_inv_freq(theta, rotary_dim);
  } else if (s.type == "linear") {
    t.inv_freq = default_inv_freq(theta, rotary_dim) / s.factor;
  } else if (s.type == "dynamic") {
    // NTK-aware: grow the base once the sequence outruns the trained context.
    const double len = static_cast<double>(std::max(seq_len, max_position_embeddings));
    const double base = theta * std::pow(s.factor * len / max_position_embeddings - (s.factor - 1),
                                         static_cast<double>(rotary_dim) / (rotary_dim - 2));
    t.inv_freq = default_inv_freq(base, rotary_dim);
  } else if (s.type == "llama3" || s.type == "yarn") {
    if (s.original_max_position_embeddings <= 0)
      throw ModelError(s.type + " rope scaling needs original_max_position_embeddings", {},
                       "rope_scaling.original_max_position_embeddings");
    if (s.type == "llama3")
      t.inv_freq = llama3_inv_freq(s, theta, rotary_dim);
    else
      t = yarn_tables(s, theta, rotary_dim, max_position_embeddings);
  } else {
    throw ModelError("unknown rope type '" + s.type + "'", {}, "rope_scaling.rope_type");
  }
  return t;
}

std::pair<at::Tensor, at::Tensor> rope_cos_sin(const RopeTables& t, int64_t pos, int64_t T, at::ScalarType dtype,
                                               at::Device device) {
  auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
  auto positions = at::arange(pos, pos + T, opts.dtype(at::kLong)).to(at::kFloat);  // (T)
  auto freqs = positions.unsqueeze(1) * t.inv_freq.to(device).unsqueeze(0);        // (T, D/2)
  auto angles = at::cat({freqs, freqs}, -1);                                         // (T, D)
  auto cos = angles.cos();
  auto sin = angles.sin();
  if (t.attention_scaling != 1.0) {
    cos = cos * t.attention_scaling;
    sin = sin * t.attention_scaling;
  }
  return {cos.to(dtype), sin.to(dtype)};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, half);
  auto rotated = at::cat({-x2, x1}, -1);  // rotate_half
  return x * cos + rotated * sin;         // cos, sin (T, D) broadcast over (B, H)
}

}  // namespace hylo
