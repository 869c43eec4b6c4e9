#include "core/train/trainer.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/io/checkpoint.h"
#include "core/model/hybrid_model.h"
#include "core/spec/error.h"
#include "core/spec/sha256.h"
#include "core/text/tokenizer.h"
#include "core/train/distributed.h"
#include "core/train/optimizer.h"
#include "core/train/peak_memory.h"
#include "core/train/sampler.h"
#include "core/train/train_checkpoint.h"
#include "core/train/train_step.h"
#include "core/train/trainable.h"

namespace hylo {
namespace fs = std::filesystem;
namespace {

bool needs_teacher(StageKind k) { return k != StageKind::Pretrain; }

std::string stage_field(size_t i, const std::string& f) { return "stages[" + std::to_string(i) + "]." + f; }

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  auto j = nlohmann::json::parse(s.str(), nullptr, false);
  if (j.is_discarded()) throw IoError("not valid JSON", path);
  return j;
}

// Everything checked and opened before the first step.
struct Plan {
  Recipe recipe;
  ModelConfig student_config;
  std::string student_tokenizer;         // tokenizer.json of the student, "" when none
  std::string student_tokenizer_json;    // its text, read once (checkpoints write it)
  std::vector<std::string> teacher_dirs;  // per stage, "" for pretrain
  std::vector<SamplerSource> sources;
  std::unique_ptr<Tokenizer> tokenizer;  // for synthetic sources
};

std::string teacher_dir_for(const TrainOptions& o, const Recipe& r, const ModelConfig& student, size_t i) {
  if (!o.teacher.empty()) return o.teacher;
  std::string t = r.teacher_for(i);
  if (!t.empty()) return r.resolve(t);
  if (!student.teacher.empty()) {
    fs::path p(student.teacher);
    return p.is_absolute() ? p.string() : (fs::path(o.student) / p).lexically_normal().string();
  }
  return {};
}

void check_same_tokenizer(const std::string& student_tok, const std::string& teacher_dir) {
  const std::string teacher_tok = (fs::path(teacher_dir) / "tokenizer.json").string();
  if (student_tok.empty() || !fs::is_regular_file(teacher_tok)) return;
  if (sha256_file(student_tok) == sha256_file(teacher_tok)) return;
  auto a = read_json_file(student_tok), b = read_json_file(teacher_tok);
  if (a.value("model", nlohmann::json()).value("vocab", nlohmann::json()) !=
      b.value("model", nlohmann::json()).value("vocab", nlohmann::json()))
    throw TrainError("teacher tokenizer has another vocabulary than the student's (" + student_tok + ")", teacher_tok,
                     "model.vocab");
}

Plan validate(const TrainOptions& o, int world) {
  Plan p{Recipe::from_yaml_file(o.recipe), {}, {}, {}, {}, {}};
  const Recipe& r = p.recipe;
  if (!fs::is_regular_file(fs::path(o.student) / "config.json"))
    throw TrainError("student checkpoint not found (no config.json)", o.student, "--student");
  p.student_config = ModelConfig::load(o.student);
  const std::string tok = (fs::path(o.student) / "tokenizer.json").string();
  if (fs::is_regular_file(tok)) {
    p.student_tokenizer = tok;
    std::ifstream in(tok, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) throw IoError("cannot read", tok);
    p.student_tokenizer_json = text.str();
  }

  for (size_t i = 0; i < r.stages.size(); ++i) {
    const Stage& s = r.stages[i];
    if (s.batch_size % world != 0)
      throw ConfigError("batch_size " + std::to_string(s.batch_size) + " does not divide over " +
                            std::to_string(world) + " ranks", r.source_path, stage_field(i, "batch_size"));
    std::string dir;
    if (needs_teacher(s.kind)) {
      dir = teacher_dir_for(o, r, p.student_config, i);
      if (dir.empty())
        throw ConfigError("stage kind " + to_string(s.kind) + " needs a teacher (recipe teacher, --teacher or "
                          "the student's config.json `teacher`)", r.source_path, stage_field(i, "teacher"));
      if (!fs::is_regular_file(fs::path(dir) / "config.json"))
        throw TrainError("teacher checkpoint not found (no config.json)", dir, stage_field(i, "teacher"));
      ModelConfig tc = ModelConfig::load(dir);
      const std::string tfile = (fs::path(dir) / "config.json").string();
      if (tc.vocab_size != p.student_config.vocab_size)
        throw TrainError("teacher vocabulary " + std::to_string(tc.vocab_size) + " differs from the student's " +
                             std::to_string(p.student_config.vocab_size), tfile, "vocab_size");
      check_same_tokenizer(p.student_tokenizer, dir);
      if (s.kind == StageKind::Ild &&
          (tc.num_hidden_layers != p.student_config.num_hidden_layers || tc.hidden_size != p.student_config.hidden_size))
        throw TrainError("ild needs a teacher with the student's layers and width", tfile, "num_hidden_layers");
    }
    p.teacher_dirs.push_back(dir);
  }

  std::string main = o.data.empty() ? (r.data.train ? r.resolve(*r.data.train) : std::string()) : o.data;
  const std::vector<MixtureEntry> entries = r.data.sources();
  for (size_t k = 0; k < entries.size(); ++k) {
    const MixtureEntry& e = entries[k];
    SamplerSource src;
    src.ratio = e.ratio;
    if (e.synthetic) {
      src.synthetic = e.synthetic;
      if (!p.tokenizer) {
        if (p.student_tokenizer.empty())
          throw TrainError("synthetic data needs the student's tokenizer.json", o.student, "data.mixture");
        p.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_file(p.student_tokenizer));
      }
    } else {
      // The main corpus (the first entry when data.train is set) is what --data names, when given.
      const bool is_main = k == 0 && r.data.train;
      std::string path = is_main ? main : e.manifest ? r.resolve(*e.manifest) : main;
      if (path.empty()) throw ConfigError("no training data: give data.train or --data", r.source_path, "data.train");
      if (!fs::exists(manifest_path(path))) throw IoError("data manifest not found", manifest_path(path), "data.train");
      auto set = std::make_shared<ShardSet>(ShardSet::open(path));
      if (set->manifest().vocab_size > p.student_config.vocab_size)
        throw TrainError("data vocabulary " + std::to_string(set->manifest().vocab_size) +
                             " exceeds the student's " + std::to_string(p.student_config.vocab_size),
                         manifest_path(path), "vocab_size");
      src.corpus = set;
    }
    p.sources.push_back(std::move(src));
  }
  for (size_t i = 0; i < r.stages.size(); ++i)
    for (auto& src : p.sources)
      if (src.corpus && src.corpus->size() / (r.stages[i].seq_len + 1) < world)
        throw ConfigError("seq_len " + std::to_string(r.stages[i].seq_len) + " needs at least " +
                              std::to_string((r.stages[i].seq_len + 1) * world) + " tokens; the data holds " +
                              std::to_string(src.corpus->size()), r.source_path, stage_field(i, "seq_len"));
  return p;
}

std::shared_ptr<HybridModel> load_model(const ModelConfig& config, const std::string& dir, at::Device device,
                                        at::ScalarType dtype) {
  auto m = std::make_shared<HybridModel>(config);
  load_weights(*m, dir);
  m->to(device, dtype);
  return m;
}

ModelConfig with_rope(const ModelConfig& base, const StageRope& r) {
  ModelConfig c = base;
  c.rope_scaling = RopeScaling{};
  c.rope_scaling.type = r.type;
  c.rope_scaling.factor = r.factor;
  c.rope_scaling.original_max_position_embeddings = r.original;
  c.max_position_embeddings = std::max<int64_t>(c.max_position_embeddings, static_cast<int64_t>(r.original * r.factor));
  return c;
}

// The student config a stage trains with: `long` applies its rope scaling.
ModelConfig stage_config(const ModelConfig& base, const Stage& s) {
  return s.kind == StageKind::Long && s.rope ? with_rope(base, *s.rope) : base;
}

// The rope scaling the teacher runs a stage with, if any: the stage's `teacher_rope`, else a long
// stage past an unscaled teacher's own context scales it as the student (unscaled, the demo
// teacher trained at 512 is noise there: 5-6.7 nats/byte at 1K-4K, 1.7-1.8 with YaRN x4, and the
// student would be distilled towards that noise).
std::optional<StageRope> teacher_rope_for(const ModelConfig& teacher, const Stage& s) {
  if (s.teacher_rope) return s.teacher_rope;
  if (s.kind == StageKind::Long && s.rope && teacher.rope_scaling.type == "default" &&
      teacher.max_position_embeddings < s.seq_len)
    return s.rope;
  return std::nullopt;
}

std::shared_ptr<HybridModel> rebuild(const HybridModel& from, const ModelConfig& config, at::Device device) {
  auto m = std::make_shared<HybridModel>(config);
  m->to(device);
  at::NoGradGuard no_grad;
  auto src = from.named_parameters();
  for (auto& item : m->named_parameters()) item.value().copy_(*src.find(item.key()));
  return m;
}

struct Batch {
  at::Tensor inputs, targets;  // (B, T) int64
};

Batch next_batch(PackedSampler& sampler, int64_t rows, int64_t seq_len, at::Device device) {
  at::Tensor all = at::empty({rows, seq_len + 1}, at::kInt);
  for (int64_t b = 0; b < rows; ++b) {
    PackedSample s = sampler.next();
    std::memcpy(all[b].data_ptr<int32_t>(), s.tokens.data(), sizeof(int32_t) * (seq_len + 1));
  }
  all = all.to(at::kLong).to(device);
  return {all.slice(1, 0, seq_len), all.slice(1, 1, seq_len + 1)};
}

}  // namespace

TrainOutcome run_training(const TrainOptions& o, TrainObserver& obs) {
  const int rank = o.dist.rank, world = o.dist.world;
  const at::Device device(o.device);
  Plan plan = validate(o, world);
  auto comm = Communicator::connect(o.dist, device);
  const bool root = comm->is_root();
  const Recipe& recipe = plan.recipe;
  const fs::path ckpt_root = fs::path(o.out) / "checkpoints";

  auto student = load_model(plan.student_config, o.student, device, at::kFloat);
  int64_t first_stage = 0, stage_step = 0, global_step = 0, tokens = 0, stage_start = 0;
  double wall_before = 0;
  std::optional<FoundCheckpoint> resume_from;
  if (o.resume) {
    std::vector<std::string> rejected;
    resume_from = find_latest_checkpoint(ckpt_root.string(), &rejected);
    for (auto& r : rejected) obs.on_log("skipping damaged checkpoint " + r);
    if (!resume_from) obs.on_log("no checkpoint under " + ckpt_root.string() + ": starting from the beginning");
  }
  if (resume_from) {
    const auto& st = resume_from->state;
    first_stage = st.at("stage").get<int64_t>();
    stage_step = st.at("stage_step").get<int64_t>();
    global_step = st.at("global_step").get<int64_t>();
    tokens = st.at("tokens").get<int64_t>();
    stage_start = st.at("stage_start_step").get<int64_t>();
    wall_before = st.at("wall_s").get<double>();
    load_weights(*student, resume_from->dir);
    obs.on_log("resuming from " + resume_from->dir + " at step " + std::to_string(global_step));
  }
  if (root) obs.on_start(recipe, global_step);

  std::map<std::string, std::shared_ptr<HybridModel>> teachers;
  const at::ScalarType teacher_dtype = device.is_cuda() ? at::kBFloat16 : at::kFloat;
  const auto t0 = std::chrono::steady_clock::now();
  auto wall = [&] {
    return wall_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  for (size_t si = static_cast<size_t>(first_stage); si < recipe.stages.size(); ++si) {
    const Stage& stage = recipe.stages[si];
    const bool resuming_here = resume_from && static_cast<int64_t>(si) == first_stage;
    if (!resuming_here) {
      stage_step = 0;
      stage_start = global_step;
    }
    const int64_t steps = total_steps(stage);
    const ModelConfig cfg = stage_config(plan.student_config, stage);
    if (stage.kind == StageKind::Long) student = rebuild(*student, cfg, device);

    std::shared_ptr<HybridModel> teacher;
    std::optional<ModelConfig> teacher_config;
    if (!plan.teacher_dirs[si].empty()) {
      ModelConfig tc = ModelConfig::load(plan.teacher_dirs[si]);
      const std::optional<StageRope> rope = teacher_rope_for(tc, stage);
      std::string key = plan.teacher_dirs[si];  // one teacher per folder and scaling, shared by stages
      if (rope) {
        tc = with_rope(tc, *rope);
        std::ostringstream what;
        what.precision(17);  // the key tells scalings apart exactly
        what << rope->type << " x" << rope->factor << " over " << rope->original;
        key += "#" + what.str();
        if (root) obs.on_log(stage_field(si, "teacher_rope") + ": the teacher runs with " + what.str());
      }
      auto& t = teachers[key];
      if (!t) {
        t = load_model(tc, plan.teacher_dirs[si], device, teacher_dtype);
        t->eval();
        for (auto& p : t->parameters()) p.set_requires_grad(false);
      }
      teacher = t;
      teacher_config = teacher->config();
    } else if (!plan.student_config.teacher.empty() &&
               fs::is_regular_file(fs::path(teacher_dir_for(o, recipe, plan.student_config, si)) / "config.json")) {
      teacher_config = ModelConfig::load(teacher_dir_for(o, recipe, plan.student_config, si));
    }

    NamedTensors trainable = select_trainable(*student, teacher_config ? &*teacher_config : nullptr, stage.train,
                                              stage_field(si, "train"));
    for (auto& p : student->parameters()) p.set_requires_grad(false);
    for (auto& [name, p] : trainable) p.set_requires_grad(true);
    MicroStep micro_step;
    micro_step.kind = stage.kind;
    micro_step.temperature = stage.temperature;
    micro_step.ce_weight = stage.ce_weight;
    micro_step.ild_loss = stage.ild_loss;
    micro_step.loss_chunk_tokens = o.loss_chunk_tokens;
    micro_step.bf16_autocast = o.bf16_autocast;
    micro_step.recompute = o.activation_checkpointing;
    micro_step.scale = 1.0 / static_cast<double>(stage.grad_accum);
    // ILD trains layer by layer: the layers that hold a trainable parameter.
    std::vector<int64_t>& ild_layers = micro_step.ild_layers;
    if (stage.kind == StageKind::Ild)
      for (int64_t l = 0; l < student->num_layers(); ++l) {
        const std::string prefix = "model.layers." + std::to_string(l) + ".";
        for (auto& [name, p] : trainable)
          if (name.compare(0, prefix.size(), prefix) == 0) {
            ild_layers.push_back(l);
            break;
          }
      }

    AdamW opt(trainable);
    uint64_t seed = recipe.data.seed + 0x9E3779B97F4A7C15ull * (si + 1);
    PackedSampler sampler(plan.sources, stage.seq_len, seed, rank, world, plan.tokenizer.get());
    if (resuming_here) {
      const std::string opt_file = (fs::path(resume_from->dir) / "optimizer.safetensors").string();
      NamedTensors state = read_named_tensors(opt_file);
      opt.load_state(state, opt_file);
      restore_rng_state(state, opt_file);
      const auto& samplers = resume_from->state.at("samplers");
      if (static_cast<int>(samplers.size()) != world)
        throw TrainError("checkpoint was written by " + std::to_string(samplers.size()) + " ranks, this run has " +
                             std::to_string(world), resume_from->dir, "samplers");
      sampler.restore(samplers.at(rank));
    }
    if (root) obs.on_stage(static_cast<int64_t>(si), stage, stage_start, steps);

    const int64_t rows = stage.batch_size / world;
    auto save = [&](const std::string& why) {
      // Each rank draws its own windows: the checkpoint keeps every rank's sampler position.
      auto states = comm->gather_at_root("sampler/" + std::to_string(global_step), sampler.state().dump());
      if (!root) return;
      nlohmann::json samplers = nlohmann::json::array();
      for (auto& s : states) samplers.push_back(nlohmann::json::parse(s));
      nlohmann::json st = {{"stage", si},
                           {"stage_step", stage_step},
                           {"global_step", global_step},
                           {"stage_start_step", stage_start},
                           {"tokens", tokens},
                           {"wall_s", wall()},
                           {"lr", lr_at(stage, std::max<int64_t>(stage_step - 1, 0))},
                           {"samplers", samplers},
                           {"reason", why}};
      // A stage that is complete resumes at the next one.
      if (stage_step >= steps) st["stage"] = si + 1, st["stage_step"] = 0, st["stage_start_step"] = global_step;
      CheckpointContent c{student.get(), &opt, plan.student_tokenizer_json, st};
      obs.on_checkpoint(global_step, write_train_checkpoint(ckpt_root.string(), global_step, c, recipe.checkpoint.keep));
    };

    for (; stage_step < steps; ++stage_step) {
      const auto step_t0 = std::chrono::steady_clock::now();
      std::map<std::string, double> m;
      for (int64_t micro = 0; micro < stage.grad_accum; ++micro) {
        Batch batch = next_batch(sampler, rows, stage.seq_len, device);
        forward_backward(*student, teacher.get(), micro_step, batch.inputs, batch.targets, m);
      }
      if (world > 1) {
        std::vector<at::Tensor> grads;
        for (auto& [name, p] : trainable)
          if (p.grad().defined()) grads.push_back(p.mutable_grad());
        comm->average(grads);
        comm->average(m);
      }
      const double grad_norm = clip_grad_norm(trainable, stage.clip);
      const double lr = lr_at(stage, stage_step);
      opt.step(lr, stage.weight_decay);
      opt.zero_grad();
      ++global_step;
      const int64_t step_tokens = stage.batch_size * stage.grad_accum * stage.seq_len;
      tokens += step_tokens;
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_t0).count();
      m["lr"] = lr;
      m["grad_norm"] = grad_norm;
      m["tokens_per_s"] = dt > 0 ? step_tokens / dt : 0;
      m["peak_mem_bytes"] = static_cast<double>(peak_memory_bytes(device));
      if (root) obs.on_step(StepReport{static_cast<int64_t>(si), global_step, tokens, wall(), m}, steps);

      const bool stage_end = stage_step + 1 >= steps;
      // Every rank stops at the same step when one of them got the signal.
      const bool stop = comm->any(o.stop && o.stop->load());
      const bool at_max = o.max_steps > 0 && global_step >= o.max_steps;
      if (stage_end || stop || at_max || global_step % recipe.checkpoint.every == 0) {
        ++stage_step;  // the checkpoint holds the position after this step
        save(stage_end ? "stage_end" : stop ? "signal" : at_max ? "max_steps" : "every");
        --stage_step;
      }
      if (stop || (at_max && (!stage_end || si + 1 < recipe.stages.size()))) {
        comm->finish();
        return stop ? TrainOutcome::Stopped : TrainOutcome::MaxSteps;
      }
    }
    resume_from.reset();
  }
  if (root) {
    write_model_checkpoint((fs::path(o.out) / "final").string(), *student, plan.student_tokenizer_json);
  }
  comm->finish();
  return TrainOutcome::Finished;
}

}  // namespace hylo
