// recipe.yaml: parsing with suffixes, round trips, every rejected input names its field, and the
// learning-rate schedule against values computed here from the formula.
#include <QtTest>

#include <cmath>
#include <fstream>

#include "core/spec/count.h"
#include "core/spec/error.h"
#include "core/spec/recipe.h"

using namespace hylo;

namespace {

const char* kFull = R"(teacher: ../models/Llama-3.1-8B-Instruct
data:
  train: data/mix/manifest.json
  seed: 17
  mixture:
    - {synthetic: passkey, ratio: 0.02}
    - {manifest: /abs/code/manifest.json, ratio: 0.1}
stages:
  - {name: align, kind: ild, seq_len: 2k, tokens: 50M, lr: 2e-4, train: new-mixers, ild_loss: l2_squared}
  - kind: kd
    seq_len: 8k
    tokens: 2B
    batch_size: 32
    lr: 6e-5
    min_lr: 6e-6
    warmup: 0.01
    temperature: 2.0
    ce_weight: 0.1
    train: ["layers.*.mixer.*", "lm_head.weight"]
    teacher_rope: {type: linear, factor: 4, original: 2k}
  - {kind: long, seq_len: 64K, steps: 1000, lr: 6e-5, warmup: 20, schedule: constant,
     rope: {type: yarn, factor: 32, original: 2k}, teacher: other-teacher}
checkpoint: {every: 500, keep: 3}
)";

// Replaces the first occurrence of `from` in kFull, to make one bad recipe at a time.
std::string with(const std::string& from, const std::string& to) {
  std::string s = kFull;
  auto at = s.find(from);
  if (at == std::string::npos) throw std::logic_error("fixture text not found: " + from);
  return s.replace(at, from.size(), to);
}

}  // namespace

class TestRecipe : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void parsesEveryField() {
    Recipe r = Recipe::from_yaml_string(kFull, "r.yaml");
    QCOMPARE(*r.teacher, std::string("../models/Llama-3.1-8B-Instruct"));
    QCOMPARE(r.data.seed, uint64_t(17));
    QCOMPARE(r.stages.size(), size_t(3));
    const Stage& ild = r.stages[0];
    QCOMPARE(ild.name, std::string("align"));
    QVERIFY(ild.kind == StageKind::Ild);
    QCOMPARE(ild.seq_len, int64_t(2048));
    QCOMPARE(ild.tokens, int64_t(50'000'000));
    QVERIFY(ild.ild_loss == IldLoss::L2Squared);
    QVERIFY(ild.train.mode == TrainSelection::Mode::NewMixers);
    const Stage& kd = r.stages[1];
    QCOMPARE(kd.seq_len, int64_t(8192));
    QCOMPARE(kd.tokens, int64_t(2'000'000'000));
    QCOMPARE(kd.min_lr, 6e-6);
    QVERIFY(kd.warmup.is_fraction);
    QCOMPARE(kd.warmup.fraction, 0.01);
    QCOMPARE(kd.temperature, 2.0);
    QVERIFY(kd.train.mode == TrainSelection::Mode::Patterns);
    QCOMPARE(kd.train.patterns.size(), size_t(2));
    QVERIFY(!kd.rope);
    QCOMPARE(kd.teacher_rope->type, std::string("linear"));
    QCOMPARE(kd.teacher_rope->factor, 4.0);
    QCOMPARE(kd.teacher_rope->original, int64_t(2048));
    const Stage& lg = r.stages[2];
    QCOMPARE(lg.seq_len, int64_t(65536));
    QCOMPARE(lg.steps, int64_t(1000));
    QVERIFY(!lg.warmup.is_fraction);
    QCOMPARE(lg.warmup.steps, int64_t(20));
    QVERIFY(lg.schedule == LrSchedule::Constant);
    QCOMPARE(lg.rope->type, std::string("yarn"));
    QCOMPARE(lg.rope->original, int64_t(2048));
    QVERIFY(!lg.teacher_rope);
    QCOMPARE(r.teacher_for(2), std::string("other-teacher"));
    QCOMPARE(r.teacher_for(1), std::string("../models/Llama-3.1-8B-Instruct"));
    QCOMPARE(r.checkpoint.every, int64_t(500));
    // The main corpus takes what the mixture leaves: 1 - 0.02 - 0.1.
    auto sources = r.data.sources();
    QCOMPARE(sources.size(), size_t(3));
    QCOMPARE(*sources[0].manifest, std::string("data/mix/manifest.json"));
    QVERIFY(std::fabs(sources[0].ratio - 0.88) < 1e-12);
  }

  void roundTripIsExact() {
    Recipe a = Recipe::from_yaml_string(kFull, "r.yaml");
    std::string yaml = a.to_yaml();
    Recipe b = Recipe::from_yaml_string(yaml, "r.yaml");
    QCOMPARE(b.to_yaml(), yaml);
    QCOMPARE(b.stages.size(), a.stages.size());
    for (size_t i = 0; i < a.stages.size(); ++i) {
      QCOMPARE(b.stages[i].lr, a.stages[i].lr);  // bit-exact doubles
      QCOMPARE(b.stages[i].min_lr, a.stages[i].min_lr);
      QCOMPARE(b.stages[i].seq_len, a.stages[i].seq_len);
      QCOMPARE(b.stages[i].tokens, a.stages[i].tokens);
      QCOMPARE(b.stages[i].steps, a.stages[i].steps);
      QCOMPARE(b.stages[i].train.patterns, a.stages[i].train.patterns);
      QCOMPARE(int(b.stages[i].kind), int(a.stages[i].kind));
      QCOMPARE(b.stages[i].warmup.is_fraction, a.stages[i].warmup.is_fraction);
    }
    QCOMPARE(b.data.mixture.size(), a.data.mixture.size());
    QCOMPARE(b.data.mixture[0].ratio, a.data.mixture[0].ratio);
    QCOMPARE(*b.stages[2].teacher, *a.stages[2].teacher);
    QVERIFY(!b.stages[2].teacher_rope && !b.stages[1].rope);
    QCOMPARE(b.stages[1].teacher_rope->type, a.stages[1].teacher_rope->type);
    QCOMPARE(b.stages[1].teacher_rope->factor, a.stages[1].teacher_rope->factor);
    QCOMPARE(b.stages[1].teacher_rope->original, a.stages[1].teacher_rope->original);
    // An awkward double survives too.
    Recipe c = a;
    c.stages[0].lr = 0.1 + 0.2;
    QCOMPARE(Recipe::from_yaml_string(c.to_yaml()).stages[0].lr, 0.1 + 0.2);
  }

  void fileRoundTripAndRelativePaths() {
    QTemporaryDir dir;
    std::string path = dir.path().toStdString() + "/recipes/r.yaml";
    QDir().mkpath(dir.path() + "/recipes");
    std::ofstream(path) << kFull;
    Recipe r = Recipe::from_yaml_file(path);
    QCOMPARE(r.resolve(*r.data.train), dir.path().toStdString() + "/recipes/data/mix/manifest.json");
    QCOMPARE(r.resolve("/abs/code/manifest.json"), std::string("/abs/code/manifest.json"));
    try {
      Recipe::from_yaml_file(path + ".missing");
      QFAIL("missing file accepted");
    } catch (const ConfigError& e) {
      QCOMPARE(e.file(), path + ".missing");
    }
  }

  void rejectsBadInput_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("field");
    auto add = [](const char* name, const std::string& yaml, const char* field) {
      QTest::newRow(name) << QString::fromStdString(yaml) << QString(field);
    };
    add("unknown top key", with("checkpoint:", "chekpoint:"), "chekpoint");
    add("unknown stage key", with("lr: 2e-4,", "lr: 2e-4, lr_max: 1,"), "stages[0].lr_max");
    add("unknown kind", with("kind: kd", "kind: sft"), "stages[1].kind");
    add("negative lr", with("lr: 6e-5\n", "lr: -6e-5\n"), "stages[1].lr");
    add("zero lr", with("lr: 2e-4", "lr: 0"), "stages[0].lr");
    add("lr not a number", with("lr: 2e-4", "lr: fast"), "stages[0].lr");
    add("seq_len zero", with("seq_len: 2k", "seq_len: 0"), "stages[0].seq_len");
    add("seq_len negative", with("seq_len: 8k", "seq_len: -8k"), "stages[1].seq_len");
    add("seq_len bad suffix", with("seq_len: 8k", "seq_len: 8q"), "stages[1].seq_len");
    add("long without rope", with("rope: {type: yarn, factor: 32, original: 2k}, ", ""), "stages[2].rope");
    add("unknown rope type", with("type: yarn", "type: ntk"), "stages[2].rope.type");
    add("rope too short", with("factor: 32", "factor: 4"), "stages[2].rope");
    add("rope missing factor", with("factor: 32, ", ""), "stages[2].rope.factor");
    add("teacher_rope on ild", with("ild_loss: l2_squared", "teacher_rope: {type: yarn, factor: 4, original: 1k}"),
        "stages[0].teacher_rope");
    add("unknown teacher_rope type", with("type: linear", "type: ntk"), "stages[1].teacher_rope.type");
    add("teacher_rope too short", with("factor: 4, original: 2k", "factor: 2, original: 2k"), "stages[1].teacher_rope");
    add("teacher_rope missing original", with("factor: 4, original: 2k}", "factor: 4}"),
        "stages[1].teacher_rope.original");
    add("teacher_rope not a map", with("teacher_rope: {type: linear, factor: 4, original: 2k}", "teacher_rope: yarn"),
        "stages[1].teacher_rope");
    add("teacher_rope unknown key", with("original: 2k}\n", "original: 2k, beta: 32}\n"), "stages[1].teacher_rope.beta");
    add("tokens and steps", with("steps: 1000", "steps: 1000, tokens: 1B"), "stages[2].tokens");
    add("neither tokens nor steps", with("tokens: 50M, ", ""), "stages[0].tokens");
    add("min_lr above lr", with("min_lr: 6e-6", "min_lr: 1e-3"), "stages[1].min_lr");
    add("warmup fraction 1.5", with("warmup: 0.01", "warmup: 1.5"), "stages[1].warmup");
    add("warmup longer than stage", with("warmup: 20", "warmup: 1000"), "stages[2].warmup");
    add("unknown schedule", with("schedule: constant", "schedule: linear"), "stages[2].schedule");
    add("temperature on ild", with("ild_loss: l2_squared", "temperature: 2"), "stages[0].temperature");
    add("ild_loss on kd", with("ce_weight: 0.1", "ild_loss: l2"), "stages[1].ild_loss");
    add("unknown ild loss", with("ild_loss: l2_squared", "ild_loss: l1"), "stages[0].ild_loss");
    add("zero temperature", with("temperature: 2.0", "temperature: 0"), "stages[1].temperature");
    add("batch zero", with("batch_size: 32", "batch_size: 0"), "stages[1].batch_size");
    add("unknown train mode", with("train: new-mixers", "train: mixers"), "stages[0].train");
    add("empty pattern list", with("train: [\"layers.*.mixer.*\", \"lm_head.weight\"]", "train: []"),
        "stages[1].train");
    add("mixture leaves nothing", with("ratio: 0.1", "ratio: 0.98"), "data.mixture");
    add("mixture bad ratio", with("ratio: 0.02", "ratio: -0.02"), "data.mixture[0].ratio");
    add("unknown synthetic", with("synthetic: passkey", "synthetic: qa"), "data.mixture[0].synthetic");
    add("manifest and synthetic", with("synthetic: passkey,", "synthetic: passkey, manifest: x,"), "data.mixture[0]");
    add("no train no mixture", "data: {seed: 1}\nstages: []\n", "data.train");
    add("no stages", with("stages:\n", "stagez:\n"), "stagez");
    add("checkpoint every 0", with("every: 500", "every: 0"), "checkpoint.every");
    add("stage not a map", "data: {train: x}\nstages: [3]\n", "stages[0]");
  }
  void rejectsBadInput() {
    QFETCH(QString, yaml);
    QFETCH(QString, field);
    try {
      Recipe::from_yaml_string(yaml.toStdString(), "bad.yaml");
      QFAIL("accepted a bad recipe");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.file()), QString("bad.yaml"));
      QCOMPARE(QString::fromStdString(e.field()), field);
    }
  }

  // validate() holds the same rule for a recipe built in code (the GUI's stages table).
  void validateRejectsTeacherRopeWithoutTeacher() {
    Recipe r = Recipe::from_yaml_string(kFull, "r.yaml");
    r.stages[0].teacher_rope = StageRope{"yarn", 4.0, 512};
    try {
      r.validate();
      QFAIL("accepted teacher_rope on an ild stage");
    } catch (const ConfigError& e) {
      QCOMPARE(e.field(), std::string("stages[0].teacher_rope"));
    }
    r.stages[0].kind = StageKind::Kd;
    r.validate();
  }

  // The YaRN-off arm of docs/REPRODUCTION.md is fair: it is demo/recipes/distill.yaml but for the
  // student's RoPE in its 2K stage (a kd stage), the teacher there scaled as in distill.yaml.
  void demoNoYarnRecipeDiffersOnlyInTheStudentsRope() {
    const std::string demo = std::string(qgetenv("HYLO_SOURCE_DIR").constData()) + "/demo/recipes/";
    const Recipe with_yarn = Recipe::from_yaml_file(demo + "distill.yaml");
    Recipe without = Recipe::from_yaml_file(demo + "distill-noyarn.yaml");
    Stage& last = without.stages.back();
    QVERIFY(last.kind == StageKind::Kd && !last.rope && last.teacher_rope);
    QVERIFY(with_yarn.stages.back().kind == StageKind::Long && !with_yarn.stages.back().teacher_rope);
    last.kind = StageKind::Long;
    last.rope = last.teacher_rope;
    last.teacher_rope.reset();
    QCOMPARE(without.to_yaml(), with_yarn.to_yaml());
  }

  void yamlSyntaxErrorNamesFile() {
    try {
      Recipe::from_yaml_string("data: {train: x\nstages: [", "broken.yaml");
      QFAIL("accepted broken YAML");
    } catch (const ConfigError& e) {
      QCOMPARE(e.file(), std::string("broken.yaml"));
    }
  }

  void stepsFromTokens() {
    Stage s;
    s.seq_len = 8192; s.batch_size = 32; s.grad_accum = 2; s.lr = 1e-4;
    s.tokens = 2'000'000'000;
    // ceil(2e9 / (32 * 2 * 8192)) = ceil(3814.69...) = 3815
    QCOMPARE(total_steps(s), int64_t(3815));
    s.tokens = 32LL * 2 * 8192 * 10;
    QCOMPARE(total_steps(s), int64_t(10));
    s.tokens = 0; s.steps = 77;
    QCOMPARE(total_steps(s), int64_t(77));
    s.warmup.fraction = 0.1;
    QCOMPARE(warmup_steps(s), int64_t(8));  // round(7.7)
  }

  void cosineSchedule() {
    Stage s;
    s.seq_len = 1; s.steps = 110; s.lr = 1e-3; s.min_lr = 1e-4;
    s.warmup.is_fraction = false; s.warmup.steps = 10;
    QCOMPARE(lr_at(s, 0), 1e-3 * 1 / 10);
    QCOMPARE(lr_at(s, 4), 1e-3 * 5 / 10);
    QCOMPARE(lr_at(s, 9), 1e-3);
    QCOMPARE(lr_at(s, 10), 1e-3);  // cosine starts at the peak
    // Half-way through the 100 decay steps the cosine is at the midpoint of lr and min_lr.
    QVERIFY(std::fabs(lr_at(s, 60) - 5.5e-4) < 1e-15);
    double quarter = 1e-4 + 0.5 * 9e-4 * (1 + std::cos(M_PI * 0.25));
    QVERIFY(std::fabs(lr_at(s, 35) - quarter) < 1e-15);
    for (int64_t step = 11; step < 110; ++step) QVERIFY(lr_at(s, step) < lr_at(s, step - 1));
    QVERIFY(lr_at(s, 109) > s.min_lr);
    QVERIFY(std::fabs(lr_at(s, 110) - s.min_lr) < 1e-18);
    s.schedule = LrSchedule::Constant;
    QCOMPARE(lr_at(s, 3), 1e-3 * 4 / 10);
    QCOMPARE(lr_at(s, 100), 1e-3);
  }

  void globPatterns() {
    QVERIFY(glob_match("layers.*.mixer.*", "layers.3.mixer.q_proj.weight"));
    QVERIFY(!glob_match("layers.*.mixer.*", "layers.3.mlp.up_proj.weight"));
    QVERIFY(glob_match("layers.?.mlp.*", "layers.7.mlp.down_proj.weight"));
    QVERIFY(!glob_match("layers.?.mlp.*", "layers.17.mlp.down_proj.weight"));
    QVERIFY(glob_match("*", ""));
    QVERIFY(glob_match("*norm*", "model.layers.0.input_layernorm.weight"));
    QVERIFY(!glob_match("lm_head", "lm_head.weight"));
  }

  void counts() {
    QCOMPARE(parse_count("50M", CountBase::Decimal), int64_t(50'000'000));
    QCOMPARE(parse_count("2B", CountBase::Decimal), int64_t(2'000'000'000));
    QCOMPARE(parse_count("1.5B", CountBase::Decimal), int64_t(1'500'000'000));
    QCOMPARE(parse_count("8k", CountBase::Binary), int64_t(8192));
    QCOMPARE(parse_count("64K", CountBase::Binary), int64_t(65536));
    QCOMPARE(parse_count("1M", CountBase::Binary), int64_t(1 << 20));
    QCOMPARE(parse_count("4096", CountBase::Binary), int64_t(4096));
    QVERIFY_EXCEPTION_THROWN(parse_count("8x", CountBase::Binary), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(parse_count("1.5", CountBase::Binary), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(parse_count("", CountBase::Binary), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(parse_count("k", CountBase::Binary), std::invalid_argument);
    for (int64_t v : {int64_t(8192), int64_t(65536), int64_t(3000), int64_t(1) << 20, int64_t(7)})
      QCOMPARE(parse_count(format_count(v, CountBase::Binary), CountBase::Binary), v);
    QCOMPARE(format_count(50'000'000, CountBase::Decimal), std::string("50M"));
  }
};

QTEST_GUILESS_MAIN(TestRecipe)
#include "test_recipe.moc"
