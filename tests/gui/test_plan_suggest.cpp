// "Suggest plan..." with a fake `hylo` (tests/gui/fake/fake_hylo.sh): the child gets the argument
// form of `hylo plan suggest <teacher> --kv-budget X% --linear K -o <file>`, the plan it writes is
// loaded into the planner as one undoable step; a failing planner is reported and changes nothing.
#include <QLabel>
#include <QPlainTextEdit>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "tests/gui/screenshot.h"
#include "views/layer_plan_model.h"
#include "views/plan_estimates_panel.h"
#include "views/plan_state.h"
#include "views/plan_suggest_dialog.h"
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

class TestPlanSuggest : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { qputenv("HYLO_BIN", qgetenv("HYLO_SOURCE_DIR") + "/tests/gui/fake/fake_hylo.sh"); }
  void init() { qunsetenv("FAKE_SUGGEST"); }

  void suggested_plan_is_loaded_and_undoable() {
    PlannerView view;
    view.resize(1300, 800);
    view.set_teacher(llama_1b(), "/models/Llama-3.2-1B");
    QSignalSpy errors(&view, &PlannerView::error_occurred);
    const PlanState before = view.model()->state();
    PlanSuggestDialog* dialog = view.suggest_plan();
    QVERIFY(dialog);
    dialog->set_budget_percent(12.5);
    dialog->set_linear(MixerKind::GDN);
    const QStringList args = dialog->arguments();
    QCOMPARE(args.mid(0, 7), QStringList({"plan", "suggest", "/models/Llama-3.2-1B", "--kv-budget", "12.5%",
                                          "--linear", "gdn"}));
    QCOMPARE(args.at(7), QString("-o"));
    QPointer<PlanSuggestDialog> alive(dialog);
    dialog->run();
    QTRY_VERIFY(alive.isNull());  // accepted and deleted once the plan is in
    QCOMPARE(errors.count(), 0);
    const PlanState after = view.model()->state();
    QCOMPARE(after.kinds.size(), std::size_t(16));
    QCOMPARE(after.kinds[3], MixerKind::MLA);
    for (int i : {0, 2, 4, 15}) QCOMPARE(after.kinds[std::size_t(i)], MixerKind::GDN);
    QVERIFY(view.estimates()->summary_text().contains("1MLA15GDN"));
    view.model()->undo_stack()->undo();
    QVERIFY(view.model()->state() == before);
  }

  void failing_planner_is_reported_and_changes_nothing() {
    qputenv("FAKE_SUGGEST", "fail");
    PlannerView view;
    view.set_teacher(llama_1b(), "/models/Llama-3.2-1B");
    QSignalSpy errors(&view, &PlannerView::error_occurred);
    const PlanState before = view.model()->state();
    PlanSuggestDialog* dialog = view.suggest_plan();
    dialog->resize(640, 420);
    dialog->run();
    QTRY_COMPARE(errors.count(), 1);
    const QString why = errors[0][1].toString();
    QVERIFY2(why.contains("exited with 1") && why.contains("tokenizer.json: no such file"), qPrintable(why));
    QVERIFY(dialog->isVisible());  // stays open to adjust and retry
    QVERIFY(dialog->findChild<QLabel*>("suggest_status")->text().contains("tokenizer.json"));
    QVERIFY(dialog->output().contains("--kv-budget 5%"));
    QVERIFY(view.model()->state() == before);
    save_screenshot(dialog, "plan_suggest_failed");
    dialog->reject();
  }

  void no_teacher_no_dialog() {
    PlannerView view;
    QVERIFY(view.suggest_plan() == nullptr);
  }
};

QTEST_MAIN(TestPlanSuggest)
#include "test_plan_suggest.moc"
