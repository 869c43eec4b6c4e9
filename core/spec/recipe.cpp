// Recipe semantics: validation, schedules, parameter selection. YAML reading/writing is in
// recipe_yaml.cpp.
#include "core/spec/recipe.h"

#include <cmath>
#include <filesystem>

#include "core/spec/error.h"

namespace hylo {

std::string to_string(StageKind k) {
  switch (k) {
    case StageKind::Pretrain: return "pretrain";
    case StageKind::Ild: return "ild";
    case StageKind::Kd: return "kd";
    case StageKind::Long: return "long";
  }
  return "?";
}
std::string to_string(LrSchedule s) { return s == LrSchedule::Cosine ? "cosine" : "constant"; }
std::string to_string(IldLoss l) { return l == IldLoss::L2 ? "l2" : "l2_squared"; }
std::string to_string(SyntheticTask t) { return t == SyntheticTask::Passkey ? "passkey" : "niah"; }

bool glob_match(const std::string& pattern, const std::string& name) {
  // Iterative match with backtracking to the last '*': linear in practice, no recursion.
  size_t p = 0, n = 0, star = std::string::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p; ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<MixtureEntry> DataSpec::sources() const {
  std::vector<MixtureEntry> out;
  double rest = 1.0;
  for (const auto& m : mixture) rest -= m.ratio;
  if (train) out.push_back(MixtureEntry{train, std::nullopt, rest});
  out.insert(out.end(), mixture.begin(), mixture.end());
  return out;
}

int64_t total_steps(const Stage& s) {
  if (s.steps > 0) return s.steps;
  int64_t per_step = s.batch_size * s.grad_accum * s.seq_len;
  return (s.tokens + per_step - 1) / per_step;
}

int64_t warmup_steps(const Stage& s) {
  if (!s.warmup.is_fraction) return s.warmup.steps;
  return std::llround(s.warmup.fraction * static_cast<double>(total_steps(s)));
}

double lr_at(const Stage& s, int64_t step) {
  int64_t total = total_steps(s), warm = warmup_steps(s);
  if (step < warm) return s.lr * static_cast<double>(step + 1) / static_cast<double>(warm);
  if (s.schedule == LrSchedule::Constant) return s.lr;
  double progress = static_cast<double>(step - warm) / static_cast<double>(total - warm);
  progress = std::min(progress, 1.0);
  return s.min_lr + 0.5 * (s.lr - s.min_lr) * (1.0 + std::cos(M_PI * progress));
}

std::string Recipe::resolve(const std::string& path) const {
  namespace fs = std::filesystem;
  fs::path p(path);
  if (p.is_absolute() || source_path.empty()) return path;
  return (fs::path(source_path).parent_path() / p).lexically_normal().string();
}

std::string Recipe::teacher_for(size_t stage) const {
  if (stage < stages.size() && stages[stage].teacher) return *stages[stage].teacher;
  return teacher.value_or("");
}

void Recipe::validate() const {
  const std::string& file = source_path.empty() ? std::string("<recipe>") : source_path;
  auto fail = [&](const std::string& field, const std::string& what) { throw ConfigError(what, file, field); };
  // A stage's rope scaling (the student's `rope` or the teacher's `teacher_rope`) at `field`.
  auto check_rope = [&](const StageRope& r, int64_t seq_len, const std::string& field) {
    if (r.type != "yarn" && r.type != "linear" && r.type != "llama3")
      fail(field + ".type", "unknown '" + r.type + "' (yarn | linear | llama3)");
    if (!(r.factor >= 1.0)) fail(field + ".factor", "must be >= 1");
    if (r.original <= 0) fail(field + ".original", "must be > 0");
    if (static_cast<double>(seq_len) > r.factor * static_cast<double>(r.original))
      fail(field, "seq_len " + std::to_string(seq_len) + " exceeds factor * original = " +
                      std::to_string(static_cast<int64_t>(r.factor * r.original)));
  };

  double mixed = 0.0;
  for (size_t i = 0; i < data.mixture.size(); ++i) {
    const auto& m = data.mixture[i];
    std::string f = "data.mixture[" + std::to_string(i) + "]";
    if (m.manifest.has_value() == m.synthetic.has_value()) fail(f, "give exactly one of 'manifest' or 'synthetic'");
    if (m.manifest && m.manifest->empty()) fail(f + ".manifest", "empty path");
    if (!(m.ratio > 0.0 && m.ratio <= 1.0)) fail(f + ".ratio", "must be in (0, 1]");
    mixed += m.ratio;
  }
  if (data.train && data.train->empty()) fail("data.train", "empty path");
  if (data.train && mixed >= 1.0 - 1e-9)
    fail("data.mixture", "ratios sum to " + std::to_string(mixed) + ", leaving nothing for data.train");
  if (!data.train && std::fabs(mixed - 1.0) > 1e-6)
    fail("data.mixture", "without data.train the ratios must sum to 1 (they sum to " + std::to_string(mixed) + ")");

  if (stages.empty()) fail("stages", "at least one stage is needed");
  for (size_t i = 0; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    std::string f = "stages[" + std::to_string(i) + "].";
    if (s.seq_len <= 0) fail(f + "seq_len", "must be > 0");
    if ((s.tokens > 0) == (s.steps > 0)) fail(f + "tokens", "give exactly one of 'tokens' or 'steps' (> 0)");
    if (s.tokens < 0) fail(f + "tokens", "must be > 0");
    if (s.steps < 0) fail(f + "steps", "must be > 0");
    if (s.batch_size < 1) fail(f + "batch_size", "must be >= 1");
    if (s.grad_accum < 1) fail(f + "grad_accum", "must be >= 1");
    if (!(s.lr > 0.0)) fail(f + "lr", "must be > 0");
    if (s.min_lr < 0.0 || s.min_lr > s.lr) fail(f + "min_lr", "must be in [0, lr]");
    if (s.warmup.is_fraction && !(s.warmup.fraction >= 0.0 && s.warmup.fraction < 1.0))
      fail(f + "warmup", "a fraction must be in [0, 1)");
    if (!s.warmup.is_fraction && s.warmup.steps < 0) fail(f + "warmup", "must be >= 0 steps");
    if (warmup_steps(s) >= total_steps(s))
      fail(f + "warmup", std::to_string(warmup_steps(s)) + " warmup steps leave none of the " +
                             std::to_string(total_steps(s)) + " steps for the schedule");
    if (s.weight_decay < 0.0) fail(f + "weight_decay", "must be >= 0");
    if (s.clip < 0.0) fail(f + "clip", "must be >= 0 (0 = no clipping)");
    if (!(s.temperature > 0.0)) fail(f + "temperature", "must be > 0");
    if (s.ce_weight < 0.0) fail(f + "ce_weight", "must be >= 0");
    if (s.train.mode == TrainSelection::Mode::Patterns) {
      if (s.train.patterns.empty()) fail(f + "train", "empty list of parameter patterns");
      for (const auto& p : s.train.patterns)
        if (p.empty()) fail(f + "train", "empty parameter pattern");
    }
    if (s.kind == StageKind::Long && !s.rope) fail(f + "rope", "a long stage needs rope scaling");
    if (s.rope) check_rope(*s.rope, s.seq_len, f + "rope");
    if (s.teacher_rope) {
      if (s.kind != StageKind::Kd && s.kind != StageKind::Long)
        fail(f + "teacher_rope", "only applies to kd and long stages");
      check_rope(*s.teacher_rope, s.seq_len, f + "teacher_rope");
    }
    if (s.teacher && s.teacher->empty()) fail(f + "teacher", "empty path");
  }
  if (checkpoint.every < 1) fail("checkpoint.every", "must be >= 1");
  if (checkpoint.keep < 1) fail("checkpoint.keep", "must be >= 1");
}

}  // namespace hylo
