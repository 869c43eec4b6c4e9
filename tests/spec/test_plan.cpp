// LayerPlan: YAML round trips, every kind of bad plan (the error names the file and the field),
// resolution against a teacher (GUIDE §4b sizes), compact names, presets.
#include <QtTest>

#include <cstdio>
#include <fstream>

#include "core/spec/error.h"
#include "core/spec/plan.h"
#include "teachers.h"

using namespace hylo;

namespace {

const char* kHyloPlan = R"(teacher: ../models/Llama-3.2-1B
default: mamba2
layers: {1: mla, 5: mla, 10: mla, 14: mla}
mla: {kv_lora_rank: 128, q_lora_rank: 1344, qk_rope_head_dim: 32, qk_nope_head_dim: 32, v_head_dim: 64}
mamba2: {d_state: 64, conv_kernel: 4, chunk_size: 256}
gdn: {num_heads: 6, head_k_dim: 256, head_v_dim: 512, conv_kernel: 4, chunk_size: 64}
)";

std::vector<MixerKind> kinds(const std::string& spec) {  // "AAM..." one letter per layer
  std::vector<MixerKind> out;
  for (char ch : spec)
    out.push_back(ch == 'A' ? MixerKind::Attention : ch == 'L' ? MixerKind::MLA : ch == 'M' ? MixerKind::Mamba2 : MixerKind::GDN);
  return out;
}

void expect_plan_equal(const LayerPlan& a, const LayerPlan& b) {
  QCOMPARE(a.name, b.name);
  QCOMPARE(a.teacher, b.teacher);
  QCOMPARE(a.num_layers, b.num_layers);
  QVERIFY(a.default_kind == b.default_kind);
  QVERIFY(a.layers == b.layers);
  QCOMPARE(a.mla.q_lora_rank, b.mla.q_lora_rank);
  QCOMPARE(a.mla.kv_lora_rank, b.mla.kv_lora_rank);
  QCOMPARE(a.mla.qk_rope_head_dim, b.mla.qk_rope_head_dim);
  QCOMPARE(a.mla.qk_nope_head_dim, b.mla.qk_nope_head_dim);
  QCOMPARE(a.mla.v_head_dim, b.mla.v_head_dim);
  QCOMPARE(a.mla.latent_norm, b.mla.latent_norm);
  QCOMPARE(a.mamba2.d_state, b.mamba2.d_state);
  QCOMPARE(a.mamba2.conv_kernel, b.mamba2.conv_kernel);
  QCOMPARE(a.mamba2.chunk_size, b.mamba2.chunk_size);
  QCOMPARE(a.mamba2.dt_min, b.mamba2.dt_min);
  QCOMPARE(a.mamba2.dt_max, b.mamba2.dt_max);
  QCOMPARE(a.mamba2.dt_init_floor, b.mamba2.dt_init_floor);
  QCOMPARE(a.mamba2.gated_norm, b.mamba2.gated_norm);
  QCOMPARE(a.gdn.num_heads, b.gdn.num_heads);
  QCOMPARE(a.gdn.num_k_heads, b.gdn.num_k_heads);
  QCOMPARE(a.gdn.head_k_dim, b.gdn.head_k_dim);
  QCOMPARE(a.gdn.head_v_dim, b.gdn.head_v_dim);
  QCOMPARE(a.gdn.conv_kernel, b.gdn.conv_kernel);
  QCOMPARE(a.gdn.chunk_size, b.gdn.chunk_size);
  QCOMPARE(a.gdn.output_gate, b.gdn.output_gate);
}

}  // namespace

class TestPlan : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void readsTheDocumentedPlan() {
    const auto p = LayerPlan::from_yaml(kHyloPlan, "plan.yaml");
    QCOMPARE(p.teacher, std::string("../models/Llama-3.2-1B"));
    QVERIFY(p.default_kind == MixerKind::Mamba2);
    QCOMPARE(p.layers.size(), size_t(4));
    QVERIFY(p.kind_of(5) == MixerKind::MLA);
    QVERIFY(p.kind_of(6) == MixerKind::Mamba2);
    QCOMPARE(p.mla.q_lora_rank, int64_t(1344));
    QCOMPARE(p.gdn.head_v_dim, int64_t(512));
    QCOMPARE(p.teacher_path(), std::string("../models/Llama-3.2-1B"));
    QCOMPARE(LayerPlan::from_yaml(kHyloPlan, "work/plans/p.yaml").teacher_path(),
             std::string("work/plans/../models/Llama-3.2-1B"));
  }

  void yamlRoundTrip() {
    auto p = LayerPlan::from_yaml(kHyloPlan, "plan.yaml");
    p.name = "mine";
    p.num_layers = 16;
    p.mamba2.dt_min = 0.002f;
    p.mamba2.gated_norm = false;
    p.gdn.num_k_heads = 3;
    p.gdn.output_gate = false;
    p.mla.latent_norm = true;
    const auto back = LayerPlan::from_yaml(p.to_yaml());
    expect_plan_equal(back, p);
    QCOMPARE(back.to_yaml(), p.to_yaml());
    // Derived sizes stay derived through a round trip.
    const auto derived = LayerPlan::from_yaml("default: mla\n");
    expect_plan_equal(LayerPlan::from_yaml(derived.to_yaml()), derived);
  }

  void saveAndLoad() {
    const QString path = QDir::temp().filePath("hylo_test_plan.yaml");
    auto p = LayerPlan::from_yaml(kHyloPlan);
    p.save(path.toStdString());
    const auto back = LayerPlan::load(path.toStdString());
    QCOMPARE(back.source, path.toStdString());
    p.source = back.source;
    expect_plan_equal(back, p);
    std::remove(path.toStdString().c_str());
  }

  void listsAndRanges() {
    const auto list = LayerPlan::from_yaml("layers: [keep, mla, mamba2, gdn]\n");
    QCOMPARE(list.num_layers, int64_t(4));
    QVERIFY(list.kind_of(0) == MixerKind::Attention);
    QVERIFY(list.kind_of(3) == MixerKind::GDN);
    const auto ranged = LayerPlan::from_yaml("default: gdn\nlayers: {\"0-3\": mla, 7: attention}\n");
    for (int64_t i = 0; i < 4; ++i) QVERIFY(ranged.kind_of(i) == MixerKind::MLA);
    QVERIFY(ranged.kind_of(4) == MixerKind::GDN);
    QVERIFY(ranged.kind_of(7) == MixerKind::Attention);
    const auto student = ranged.resolve(test::llama_3_2_1b());
    QCOMPARE(compact_name(student), std::string("1A4MLA11GDN"));
  }

  void badPlans_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("field");
    QTest::addColumn<bool>("at_parse");  // found while reading, or only against the teacher
    QTest::newRow("unknown mixer") << "layers: {1: mlp}" << "layers.1" << true;
    QTest::newRow("unknown default") << "default: rwkv" << "default" << true;
    QTest::newRow("unknown key") << "layerz: {1: mla}" << "layerz" << true;
    QTest::newRow("unknown mla key") << "mla: {kv_rank: 128}" << "mla.kv_rank" << true;
    QTest::newRow("unknown gdn key") << "gdn: {heads: 6}" << "gdn.heads" << true;
    QTest::newRow("not an integer") << "mla: {kv_lora_rank: big}" << "mla.kv_lora_rank" << true;
    QTest::newRow("negative") << "mamba2: {d_state: -64}" << "mamba2.d_state" << true;
    QTest::newRow("not a flag") << "mla: {latent_norm: maybe}" << "mla.latent_norm" << true;
    QTest::newRow("layer twice") << "layers: {\"0-3\": gdn, 2: mla}" << "layers.2" << true;
    QTest::newRow("backward range") << "layers: {\"3-1\": gdn}" << "layers.3-1" << true;
    QTest::newRow("bad layer key") << "layers: {one: gdn}" << "layers.one" << true;
    QTest::newRow("list vs num_layers") << "num_layers: 3\nlayers: [mla, mla]" << "layers" << true;
    QTest::newRow("layer out of range") << "layers: {16: mla}" << "layers.16" << false;
    QTest::newRow("range out of range") << "layers: {\"12-19\": gdn}" << "layers.16" << false;
    QTest::newRow("other model") << "num_layers: 28\nlayers: {1: mla}" << "num_layers" << false;
    QTest::newRow("list for other model") << "layers: [mla, mla, mamba2]" << "num_layers" << false;
    QTest::newRow("kv rank > kv_b rows") << "default: mla\nmla: {kv_lora_rank: 776}" << "mla.kv_lora_rank" << false;
    QTest::newRow("kv rank not /8") << "default: mla\nmla: {kv_lora_rank: 124}" << "mla.kv_lora_rank" << false;
    QTest::newRow("q rank not /8") << "default: mla\nmla: {q_lora_rank: 1340}" << "mla.q_lora_rank" << false;
    QTest::newRow("q rank > width") << "default: mla\nmla: {q_lora_rank: 2056}" << "mla.q_lora_rank" << false;
    QTest::newRow("rope > head") << "default: mla\nmla: {qk_rope_head_dim: 96}" << "mla.qk_rope_head_dim" << false;
    QTest::newRow("rope odd") << "default: mla\nmla: {qk_rope_head_dim: 31}" << "mla.qk_rope_head_dim" << false;
    QTest::newRow("gdn heads") << "default: gdn\ngdn: {num_heads: 6, num_k_heads: 4}" << "gdn.num_k_heads" << false;
    QTest::newRow("gdn zero dim") << "default: gdn\ngdn: {head_k_dim: 0}" << "gdn.head_k_dim" << false;
    QTest::newRow("d_state vs KV width") << "mamba2: {d_state: 96}" << "mamba2.d_state" << false;
    QTest::newRow("dt range") << "mamba2: {dt_min: 0.5, dt_max: 0.1}" << "mamba2.dt_min" << false;
  }
  void badPlans() {
    QFETCH(QString, yaml);
    QFETCH(QString, field);
    QFETCH(bool, at_parse);
    try {
      const auto plan = LayerPlan::from_yaml(yaml.toStdString(), "plan.yaml");
      QVERIFY2(!at_parse, "reading the plan should have failed");
      plan.resolve(test::llama_3_2_1b());
      QFAIL("the plan was accepted");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.file()), QString("plan.yaml"));
      QCOMPARE(QString::fromStdString(e.field()), field);
      QVERIFY(QString::fromStdString(e.what()).startsWith("plan.yaml: " + field + ": "));
    }
  }

  void settingsOfUnusedKindsAreNotChecked() {
    const auto p = LayerPlan::from_yaml("default: mamba2\ngdn: {num_heads: 6, num_k_heads: 4}\n", "plan.yaml");
    QCOMPARE(compact_name(p.resolve(test::llama_3_2_1b())), std::string("16M2"));
  }

  void malformedYamlAndMissingFile() {
    try {
      LayerPlan::from_yaml("layers: {1: mla", "plan.yaml");
      QFAIL("accepted broken YAML");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.file()), QString("plan.yaml"));
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, LayerPlan::load("/nonexistent/plan.yaml"));
  }

  void hybridTeacherIsRefused() {
    const auto student = LayerPlan::from_yaml(kHyloPlan).resolve(test::llama_3_2_1b());
    QVERIFY_THROWS_EXCEPTION(ConfigError, LayerPlan::from_yaml(kHyloPlan).resolve(student));
  }

  void resolvesSizesFromTheTeacher() {
    const auto t = test::llama_3_2_1b();
    const auto s = LayerPlan::from_yaml(kHyloPlan).resolve(t);
    QCOMPARE(s.layers.size(), size_t(16));
    QCOMPARE(s.hidden_size, t.hidden_size);
    const auto& mla = s.layers[1].mla;
    QVERIFY(s.layers[1].kind == MixerKind::MLA);
    QCOMPARE(mla.num_heads, int64_t(32));
    QCOMPARE(mla.num_kv_heads, int64_t(8));
    QCOMPARE(mla.kv_lora_rank, int64_t(128));
    const auto& m2 = s.layers[0].mamba2;
    QVERIFY(s.layers[0].kind == MixerKind::Mamba2);
    QCOMPARE(m2.num_heads, int64_t(32));
    QCOMPARE(m2.head_dim, int64_t(64));
    QCOMPARE(m2.d_inner, int64_t(2048));
    QCOMPARE(m2.d_xb, int64_t(512));
    QCOMPARE(m2.n_groups, int64_t(32));
    QCOMPARE(m2.d_state, int64_t(64));
    QCOMPARE(m2.chunk_size, int64_t(256));

    // Derived sizes: d_state = head_dim, MLA rope/nope = head_dim/2, v = head_dim, kv rank 2*head_dim.
    const auto q = test::qwen3_1_7b();
    const auto d = LayerPlan::from_yaml("default: mamba2\nlayers: {0: mla, 1: gdn, 2: keep}\ngdn: {num_heads: 4}\n").resolve(q);
    QCOMPARE(d.layers[3].mamba2.d_state, int64_t(128));
    QCOMPARE(d.layers[0].mla.qk_rope_head_dim, int64_t(64));
    QCOMPARE(d.layers[0].mla.qk_nope_head_dim, int64_t(64));
    QCOMPARE(d.layers[0].mla.v_head_dim, int64_t(128));
    QCOMPARE(d.layers[0].mla.kv_lora_rank, int64_t(256));
    QCOMPARE(d.layers[0].mla.q_lora_rank, int64_t(0));
    QCOMPARE(d.layers[1].gdn.num_k_heads, int64_t(4));
    QVERIFY(d.layers[2].kind == MixerKind::Attention);
    QVERIFY(d.layers[2].attention.qk_norm);
    QCOMPARE(d.layers[2].attention.head_dim, int64_t(128));
    QCOMPARE(compact_name(d), std::string("1A1MLA25M21GDN"));
  }

  void studentConfigRoundTripsThroughConfigJson() {
    const auto student = LayerPlan::from_yaml(kHyloPlan, "plans/p.yaml").resolve(test::llama_3_2_1b());
    QVERIFY(student.is_hybrid());
    QCOMPARE(student.teacher, std::string("plans/../models/Llama-3.2-1B"));
    const auto back = ModelConfig::from_json(student.to_json(), "config.json");
    QCOMPARE(compact_name(back), std::string("4MLA12M2"));
    QCOMPARE(back.layers[5].mla.q_lora_rank, int64_t(1344));
    QCOMPARE(back.layers[0].mamba2.d_xb, int64_t(512));
    QCOMPARE(back.layers[0].mamba2.n_groups, int64_t(32));
  }

  void compactNames() {
    QCOMPARE(compact_name(kinds("AAAAAAAAAAAAAAAA")), std::string("16A"));
    QCOMPARE(compact_name(kinds("MLMMMLMMMMLMMMLM")), std::string("4MLA12M2"));
    QCOMPARE(compact_name(kinds("LGLGLGLGLGLGLGLG")), std::string("8MLA8GDN"));
    QCOMPARE(compact_name(kinds("ALMMMLMMMMLMMMLA")), std::string("2A4MLA10M2"));
    QCOMPARE(compact_name(test::llama_3_2_1b()), std::string("16A"));
  }

  void presets_data() {
    QTest::addColumn<int>("teacher");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("mla_layers");
    QTest::newRow("1B HyLo") << 0 << "HyLo 4MLA12M2" << "1,5,10,14";
    QTest::newRow("1B HyLo GDN") << 0 << "HyLo 4MLA12GDN" << "1,5,10,14";
    QTest::newRow("1B half") << 0 << "HyLo 8MLA8M2" << "0,2,4,6,8,10,12,14";
    QTest::newRow("1B Zebra") << 0 << "Zebra-Llama 4MLA12M2" << "0,5,10,14";
    QTest::newRow("3B sparse") << 1 << "HyLo 6MLA22M2" << "0,5,10,16,21,26";
    QTest::newRow("3B half") << 1 << "HyLo 14MLA14GDN" << "0,2,4,6,8,10,12,14,16,18,20,22,24,26";
    QTest::newRow("Qwen") << 2 << "HyLo 7MLA21GDN" << "1,5,9,13,17,21,25";
  }
  void presets() {
    QFETCH(int, teacher);
    QFETCH(QString, name);
    QFETCH(QString, mla_layers);
    const ModelConfig t = teacher == 0 ? test::llama_3_2_1b() : teacher == 1 ? test::llama_3_2_3b() : test::qwen3_1_7b();
    const auto presets = plan_presets(t);
    auto it = std::find_if(presets.begin(), presets.end(), [&](const PlanPreset& p) { return p.name == name.toStdString(); });
    QVERIFY2(it != presets.end(), qPrintable("no preset " + name));
    QStringList got;
    for (const auto& [i, kind] : it->plan.layers)
      if (kind == MixerKind::MLA) got << QString::number(i);
    QCOMPARE(got.join(","), mla_layers);
    const auto student = it->plan.resolve(t);
    QCOMPARE(QString::fromStdString(compact_name(student)), name.section(' ', 1));
    expect_plan_equal(LayerPlan::from_yaml(it->plan.to_yaml()), it->plan);
  }

  void genericPresetsResolve() {
    auto t = test::llama_teacher(12, 1536, 12, 128);
    t.num_key_value_heads = 4;
    const auto presets = plan_presets(t);
    QCOMPARE(presets.size(), size_t(4));
    for (const auto& p : presets) {
      const auto s = p.plan.resolve(t);
      QCOMPARE(p.name, compact_name(s));
    }
    QCOMPARE(presets[0].plan.layers.size(), size_t(3));  // layers 1, 5, 9
    QCOMPARE(presets[0].plan.resolve(t).layers[1].mla.kv_lora_rank, int64_t(256));
    QCOMPARE(presets[2].plan.gdn.num_heads, int64_t(5));  // 0.75 * 1536 / 256 = 4.5 -> 5
  }
};

QTEST_GUILESS_MAIN(TestPlan)
#include "test_plan.moc"
