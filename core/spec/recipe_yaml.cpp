// recipe.yaml <-> Recipe. Strict: unknown keys and fields that do not apply to a stage's kind are
// ConfigErrors naming the file and the field, so a typo never silently falls back to a default.
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "core/spec/count.h"
#include "core/spec/error.h"
#include "core/spec/recipe.h"

namespace hylo {
namespace {

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ConfigError(what, file_, field);
  }
  void expect_map(const YAML::Node& n, const std::string& field) const {
    if (!n.IsMap()) fail(field.empty() ? "<root>" : field, "expected a mapping");
  }
  void only_keys(const YAML::Node& n, const std::string& field, const std::set<std::string>& allowed) const {
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      if (!allowed.count(key)) fail(join(field, key), "unknown key");
    }
  }
  static std::string join(const std::string& field, const std::string& key) {
    return field.empty() ? key : field + "." + key;
  }
  std::string text(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) fail(field, "expected a scalar");
    return n.Scalar();
  }
  double number(const YAML::Node& n, const std::string& field) const {
    std::string s = text(n, field);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') fail(field, "'" + s + "' is not a number");
    return v;
  }
  int64_t count(const YAML::Node& n, const std::string& field, CountBase base) const {
    std::string s = text(n, field);
    try {
      return parse_count(s, base);
    } catch (const std::invalid_argument& e) {
      fail(field, e.what());
    }
  }

 private:
  std::string file_;
};

template <class Enum>
Enum pick(const Reader& r, const std::string& value, const std::string& field,
          std::initializer_list<std::pair<const char*, Enum>> options) {
  std::string names;
  for (const auto& [name, e] : options) {
    if (value == name) return e;
    names += (names.empty() ? "" : " | ") + std::string(name);
  }
  r.fail(field, "unknown '" + value + "' (" + names + ")");
}

TrainSelection read_train(const Reader& r, const YAML::Node& n, const std::string& field) {
  TrainSelection t;
  if (n.IsSequence()) {
    t.mode = TrainSelection::Mode::Patterns;
    for (size_t i = 0; i < n.size(); ++i) t.patterns.push_back(r.text(n[i], field + "[" + std::to_string(i) + "]"));
    return t;
  }
  t.mode = pick<TrainSelection::Mode>(r, r.text(n, field), field,
                                      {{"new-mixers", TrainSelection::Mode::NewMixers},
                                       {"all", TrainSelection::Mode::All}});
  return t;
}

Warmup read_warmup(const Reader& r, const YAML::Node& n, const std::string& field) {
  // A value below 1 is a fraction of the stage's steps; a whole number >= 1 is a step count.
  double v = r.number(n, field);
  Warmup w;
  if (v >= 0.0 && v < 1.0) {
    w.fraction = v;
  } else if (v >= 1.0 && v == static_cast<double>(static_cast<int64_t>(v))) {
    w.is_fraction = false;
    w.steps = static_cast<int64_t>(v);
  } else {
    r.fail(field, "a fraction in [0, 1) or a whole number of steps");
  }
  return w;
}

StageRope read_rope(const Reader& r, const YAML::Node& rope, const std::string& field) {
  r.expect_map(rope, field);
  r.only_keys(rope, field, {"type", "factor", "original"});
  for (const char* key : {"type", "factor", "original"})
    if (!rope[key]) r.fail(field + "." + key, "missing");
  return StageRope{r.text(rope["type"], field + ".type"), r.number(rope["factor"], field + ".factor"),
                   r.count(rope["original"], field + ".original", CountBase::Binary)};
}

Stage read_stage(const Reader& r, const YAML::Node& n, const std::string& field) {
  r.expect_map(n, field);
  r.only_keys(n, field, {"name", "kind", "seq_len", "tokens", "steps", "batch_size", "grad_accum", "lr",
                         "min_lr", "warmup", "schedule", "weight_decay", "clip", "temperature", "ce_weight",
                         "ild_loss", "train", "rope", "teacher_rope", "teacher"});
  auto f = [&](const char* key) { return field + "." + key; };
  Stage s;
  if (!n["kind"]) r.fail(f("kind"), "missing");
  s.kind = pick<StageKind>(r, r.text(n["kind"], f("kind")), f("kind"),
                           {{"pretrain", StageKind::Pretrain}, {"ild", StageKind::Ild},
                            {"kd", StageKind::Kd}, {"long", StageKind::Long}});
  bool distils = s.kind == StageKind::Kd || s.kind == StageKind::Long;
  for (const char* key : {"temperature", "ce_weight", "teacher_rope"})
    if (n[key] && !distils) r.fail(f(key), "only applies to kd and long stages");
  if (n["teacher"] && s.kind == StageKind::Pretrain) r.fail(f("teacher"), "a pretrain stage has no teacher");
  if (n["ild_loss"] && s.kind != StageKind::Ild) r.fail(f("ild_loss"), "only applies to ild stages");

  if (n["name"]) s.name = r.text(n["name"], f("name"));
  if (!n["seq_len"]) r.fail(f("seq_len"), "missing");
  s.seq_len = r.count(n["seq_len"], f("seq_len"), CountBase::Binary);
  if (n["tokens"]) s.tokens = r.count(n["tokens"], f("tokens"), CountBase::Decimal);
  if (n["steps"]) s.steps = r.count(n["steps"], f("steps"), CountBase::Decimal);
  if (n["batch_size"]) s.batch_size = r.count(n["batch_size"], f("batch_size"), CountBase::Decimal);
  if (n["grad_accum"]) s.grad_accum = r.count(n["grad_accum"], f("grad_accum"), CountBase::Decimal);
  if (!n["lr"]) r.fail(f("lr"), "missing");
  s.lr = r.number(n["lr"], f("lr"));
  if (n["min_lr"]) s.min_lr = r.number(n["min_lr"], f("min_lr"));
  if (n["warmup"]) s.warmup = read_warmup(r, n["warmup"], f("warmup"));
  if (n["schedule"])
    s.schedule = pick<LrSchedule>(r, r.text(n["schedule"], f("schedule")), f("schedule"),
                                  {{"cosine", LrSchedule::Cosine}, {"constant", LrSchedule::Constant}});
  if (n["weight_decay"]) s.weight_decay = r.number(n["weight_decay"], f("weight_decay"));
  if (n["clip"]) s.clip = r.number(n["clip"], f("clip"));
  if (n["temperature"]) s.temperature = r.number(n["temperature"], f("temperature"));
  if (n["ce_weight"]) s.ce_weight = r.number(n["ce_weight"], f("ce_weight"));
  if (n["ild_loss"])
    s.ild_loss = pick<IldLoss>(r, r.text(n["ild_loss"], f("ild_loss")), f("ild_loss"),
                               {{"l2", IldLoss::L2}, {"l2_squared", IldLoss::L2Squared}});
  if (n["train"]) s.train = read_train(r, n["train"], f("train"));
  if (n["rope"]) s.rope = read_rope(r, n["rope"], f("rope"));
  if (n["teacher_rope"]) s.teacher_rope = read_rope(r, n["teacher_rope"], f("teacher_rope"));
  if (n["teacher"]) s.teacher = r.text(n["teacher"], f("teacher"));
  return s;
}

DataSpec read_data(const Reader& r, const YAML::Node& n) {
  r.expect_map(n, "data");
  r.only_keys(n, "data", {"train", "seed", "mixture"});
  DataSpec d;
  if (n["train"]) d.train = r.text(n["train"], "data.train");
  if (n["seed"]) {
    int64_t seed = r.count(n["seed"], "data.seed", CountBase::Decimal);
    if (seed < 0) r.fail("data.seed", "must be >= 0");
    d.seed = static_cast<uint64_t>(seed);
  }
  if (n["mixture"]) {
    const YAML::Node& mix = n["mixture"];
    if (!mix.IsSequence()) r.fail("data.mixture", "expected a list");
    for (size_t i = 0; i < mix.size(); ++i) {
      std::string f = "data.mixture[" + std::to_string(i) + "]";
      r.expect_map(mix[i], f);
      r.only_keys(mix[i], f, {"manifest", "synthetic", "ratio"});
      MixtureEntry m;
      if (mix[i]["manifest"]) m.manifest = r.text(mix[i]["manifest"], f + ".manifest");
      if (mix[i]["synthetic"])
        m.synthetic = pick<SyntheticTask>(r, r.text(mix[i]["synthetic"], f + ".synthetic"), f + ".synthetic",
                                          {{"passkey", SyntheticTask::Passkey}, {"niah", SyntheticTask::Niah}});
      if (!mix[i]["ratio"]) r.fail(f + ".ratio", "missing");
      m.ratio = r.number(mix[i]["ratio"], f + ".ratio");
      d.mixture.push_back(std::move(m));
    }
  }
  if (!d.train && d.mixture.empty()) r.fail("data.train", "missing (or give data.mixture)");
  return d;
}

// Shortest decimal text that reads back as the same double.
std::string exact(double v) {
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void write_rope(YAML::Emitter& out, const char* key, const StageRope& r) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "type" << YAML::Value << r.type;
  out << YAML::Key << "factor" << YAML::Value << exact(r.factor);
  out << YAML::Key << "original" << YAML::Value << format_count(r.original, CountBase::Binary);
  out << YAML::EndMap;
}

}  // namespace

Recipe Recipe::from_yaml_string(const std::string& yaml, const std::string& origin) {
  Reader r(origin);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError("YAML syntax: " + e.msg + " (line " + std::to_string(e.mark.line + 1) + ")", origin);
  }
  r.expect_map(root, "");
  r.only_keys(root, "", {"teacher", "data", "stages", "checkpoint"});
  Recipe rec;
  rec.source_path = origin;
  if (root["teacher"]) rec.teacher = r.text(root["teacher"], "teacher");
  if (!root["data"]) r.fail("data", "missing");
  rec.data = read_data(r, root["data"]);
  if (!root["stages"] || !root["stages"].IsSequence()) r.fail("stages", "missing or not a list");
  for (size_t i = 0; i < root["stages"].size(); ++i)
    rec.stages.push_back(read_stage(r, root["stages"][i], "stages[" + std::to_string(i) + "]"));
  if (root["checkpoint"]) {
    const YAML::Node& c = root["checkpoint"];
    r.expect_map(c, "checkpoint");
    r.only_keys(c, "checkpoint", {"every", "keep"});
    if (c["every"]) rec.checkpoint.every = r.count(c["every"], "checkpoint.every", CountBase::Decimal);
    if (c["keep"]) rec.checkpoint.keep = r.count(c["keep"], "checkpoint.keep", CountBase::Decimal);
  }
  rec.validate();
  return rec;
}

Recipe Recipe::from_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot open recipe", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return from_yaml_string(ss.str(), path);
}

std::string Recipe::to_yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (teacher) out << YAML::Key << "teacher" << YAML::Value << *teacher;
  out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  if (data.train) out << YAML::Key << "train" << YAML::Value << *data.train;
  out << YAML::Key << "seed" << YAML::Value << data.seed;
  if (!data.mixture.empty()) {
    out << YAML::Key << "mixture" << YAML::Value << YAML::BeginSeq;
    for (const auto& m : data.mixture) {
      out << YAML::Flow << YAML::BeginMap;
      if (m.manifest) out << YAML::Key << "manifest" << YAML::Value << *m.manifest;
      if (m.synthetic) out << YAML::Key << "synthetic" << YAML::Value << to_string(*m.synthetic);
      out << YAML::Key << "ratio" << YAML::Value << exact(m.ratio) << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  out << YAML::Key << "stages" << YAML::Value << YAML::BeginSeq;
  for (const Stage& s : stages) {
    out << YAML::BeginMap;
    if (!s.name.empty()) out << YAML::Key << "name" << YAML::Value << s.name;
    out << YAML::Key << "kind" << YAML::Value << to_string(s.kind);
    out << YAML::Key << "seq_len" << YAML::Value << format_count(s.seq_len, CountBase::Binary);
    if (s.tokens > 0) out << YAML::Key << "tokens" << YAML::Value << format_count(s.tokens, CountBase::Decimal);
    if (s.steps > 0) out << YAML::Key << "steps" << YAML::Value << s.steps;
    out << YAML::Key << "batch_size" << YAML::Value << s.batch_size;
    out << YAML::Key << "grad_accum" << YAML::Value << s.grad_accum;
    out << YAML::Key << "lr" << YAML::Value << exact(s.lr);
    out << YAML::Key << "min_lr" << YAML::Value << exact(s.min_lr);
    out << YAML::Key << "warmup" << YAML::Value
        << (s.warmup.is_fraction ? exact(s.warmup.fraction) : std::to_string(s.warmup.steps));
    out << YAML::Key << "schedule" << YAML::Value << to_string(s.schedule);
    out << YAML::Key << "weight_decay" << YAML::Value << exact(s.weight_decay);
    out << YAML::Key << "clip" << YAML::Value << exact(s.clip);
    if (s.kind == StageKind::Kd || s.kind == StageKind::Long) {
      out << YAML::Key << "temperature" << YAML::Value << exact(s.temperature);
      out << YAML::Key << "ce_weight" << YAML::Value << exact(s.ce_weight);
    }
    if (s.kind == StageKind::Ild) out << YAML::Key << "ild_loss" << YAML::Value << to_string(s.ild_loss);
    out << YAML::Key << "train" << YAML::Value;
    if (s.train.mode == TrainSelection::Mode::Patterns) {
      out << YAML::Flow << s.train.patterns;
    } else {
      out << (s.train.mode == TrainSelection::Mode::All ? "all" : "new-mixers");
    }
    if (s.rope) write_rope(out, "rope", *s.rope);
    if (s.teacher_rope) write_rope(out, "teacher_rope", *s.teacher_rope);
    if (s.teacher) out << YAML::Key << "teacher" << YAML::Value << *s.teacher;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "checkpoint" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "every" << YAML::Value << checkpoint.every;
  out << YAML::Key << "keep" << YAML::Value << checkpoint.keep << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace hylo
