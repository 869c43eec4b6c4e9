// PlannerView on a Llama-3.2-1B-shaped teacher: the estimates on screen equal hylo_spec's for the
// same plan written as YAML (HyLo's 4MLA12M2 at 3.9% KV), keyboard shortcuts edit the selection,
// plans round-trip through a file, invalid plans show their error.
#include <QLabel>
#include <QListView>
#include <QSpinBox>
#include <QTemporaryDir>
#include <qcustomplot.h>
#include <QtTest>

#include "core/spec/estimates.h"
#include "core/spec/plan.h"
#include "tests/gui/screenshot.h"
#include "views/layer_plan_model.h"
#include "views/mixer_settings_panel.h"
#include "views/plan_estimates_panel.h"
#include "views/planner_view.h"

using namespace hylo;
using namespace hylo::views;

static ModelConfig llama_1b() {
  return ModelConfig::from_json(nlohmann::json::parse(R"({
    "model_type": "llama", "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192,
    "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
    "max_position_embeddings": 131072, "rope_theta": 500000.0, "tie_word_embeddings": true})"),
                                "llama-1b/config.json");
}

static const char* kHyLo4Mla = R"(
teacher: llama-1b
default: mamba2
layers: {1: mla, 5: mla, 10: mla, 14: mla}
mla: {kv_lora_rank: 128, q_lora_rank: 1344, qk_rope_head_dim: 32, qk_nope_head_dim: 32, v_head_dim: 64}
)";

class TestPlannerView : public QObject {
  Q_OBJECT
 private slots:
  void estimates_equal_hylo_spec_for_the_same_plan() {
    const ModelConfig teacher = llama_1b();
    PlannerView view;
    view.set_teacher(teacher, "llama-1b");
    LayerPlanModel* m = view.model();
    QList<int> others;
    for (int r = 0; r < 16; ++r)
      if (r != 1 && r != 5 && r != 10 && r != 14) others << r;
    m->assign({1, 5, 10, 14}, MixerKind::MLA);
    m->assign(others, MixerKind::Mamba2);
    MixerSettingsPanel* s = view.settings_panel();
    s->spin("mla.kv_lora_rank")->setValue(128);
    s->spin("mla.q_lora_rank")->setValue(1344);
    s->spin("mla.qk_rope_head_dim")->setValue(32);
    s->spin("mla.qk_nope_head_dim")->setValue(32);
    s->spin("mla.v_head_dim")->setValue(64);

    const ModelConfig student = LayerPlan::from_yaml(kHyLo4Mla).resolve(teacher);
    const Estimate se = estimate(student, kFlopsContext), te = estimate(teacher, kFlopsContext);
    PlanEstimatesPanel* e = view.estimates();
    QVERIFY(e->plan_valid());
    QCOMPARE(e->numbers().compact_name, QString("4MLA12M2"));
    QCOMPARE(e->numbers().kv_fraction, 640.0 / 16384.0);  // GUIDE §4: 3.9%
    QCOMPARE(e->numbers().kv_fraction, kv_fraction(student, teacher));
    QCOMPARE(e->numbers().params, double(se.params));
    QCOMPARE(e->numbers().teacher_params, double(te.params));
    QCOMPARE(e->numbers().flops_per_token, se.decode_flops_per_token);
    QVERIFY(e->summary_text().contains("4MLA12M2"));
    QVERIFY(e->summary_text().contains("3.9%"));
    // The chart's plan curve is the spec's KV + state at each context length.
    const QCPGraph* plan_curve = e->chart()->graph(1);
    QVERIFY(plan_curve->dataCount() > 10);
    for (auto it = plan_curve->data()->constBegin(); it != plan_curve->data()->constEnd(); ++it) {
      const Estimate at = estimate(student, static_cast<int64_t>(it->key));
      QCOMPARE(it->value, double(at.kv_bytes + at.state_bytes));
    }
    view.resize(1280, 760);
    view.show();
    view.layer_list()->selectionModel()->select(m->index(5), QItemSelectionModel::Select);
    save_screenshot(&view, "planner_view");
  }

  void keys_assign_to_the_selection_in_one_step() {
    PlannerView view;
    view.set_teacher(llama_1b(), "llama-1b");
    view.show();
    view.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&view));  // shortcuts fire in the active window only
    QListView* list = view.layer_list();
    list->setFocus();
    for (int r : {2, 3, 7}) list->selectionModel()->select(view.model()->index(r), QItemSelectionModel::Select);
    QTest::keyClick(list, Qt::Key_G);
    QCOMPARE(view.model()->kind(2), MixerKind::GDN);
    QCOMPARE(view.model()->kind(7), MixerKind::GDN);
    QCOMPARE(view.model()->kind(4), MixerKind::Attention);
    QTest::keyClick(list, Qt::Key_2);
    QCOMPARE(view.model()->kind(3), MixerKind::Mamba2);
    QCOMPARE(view.model()->undo_stack()->count(), 2);
    view.undo_action()->trigger();
    QCOMPARE(view.model()->kind(3), MixerKind::GDN);
  }

  void plans_round_trip_through_a_file() {
    QTemporaryDir dir;
    PlannerView view;
    view.set_teacher(llama_1b(), dir.filePath("llama-1b"));
    view.model()->assign({0, 4, 8, 12}, MixerKind::MLA);
    view.model()->assign({1, 2, 3}, MixerKind::GDN);
    view.settings_panel()->spin("gdn.head_v_dim")->setValue(512);
    const PlanState saved = view.model()->state();
    QVERIFY(view.save_plan(dir.filePath("plan.yaml")));
    // The file is a plan hylo_spec reads back to the same layers.
    const LayerPlan plan = LayerPlan::load(dir.filePath("plan.yaml").toStdString());
    for (int r = 0; r < 16; ++r) QCOMPARE(plan.kind_of(r), saved.kinds[size_t(r)]);
    QCOMPARE(plan.teacher_path(), dir.filePath("llama-1b").toStdString());
    view.set_teacher(llama_1b(), dir.filePath("llama-1b"));
    QVERIFY(view.model()->state() != saved);
    QVERIFY(view.load_plan(dir.filePath("plan.yaml")));
    QVERIFY(view.model()->state() == saved);
  }

  void bad_plans_are_reported_not_applied() {
    QTemporaryDir dir;
    PlannerView view;
    view.set_teacher(llama_1b(), "llama-1b");
    QSignalSpy errors(&view, &PlannerView::error_occurred);
    QFile f(dir.filePath("bad.yaml"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("default: mamba2\nlayers: {40: mla}\n");  // the teacher has 16 layers
    f.close();
    const PlanState before = view.model()->state();
    QVERIFY(!view.load_plan(dir.filePath("bad.yaml")));
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors.first().at(1).toString().contains("bad.yaml"));
    QVERIFY(view.model()->state() == before);
    // An unresolvable setting shows its error in the estimates instead of numbers.
    view.model()->assign({0}, MixerKind::MLA);
    view.settings_panel()->spin("mla.kv_lora_rank")->setValue(100);  // not a multiple of 8
    QVERIFY(!view.estimates()->plan_valid());
    QVERIFY(view.estimates()->findChild<QLabel*>("est_problem")->text().contains("kv_lora_rank"));
  }
};

QTEST_MAIN(TestPlannerView)
#include "test_planner_view.moc"
