// The Runs tab's stages table against the core's recipe reader: the table shows what the YAML
// says, a cell edit rewrites the YAML keeping every other field, a YAML edit re-fills the table,
// YAML that does not parse shows the core's error (file and field) and leaves the table alone,
// stages can be added and removed, and a change the core refuses is refused with its reason.
#include <QComboBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QtTest>

#include "core/spec/recipe.h"
#include "tests/gui/screenshot.h"
#include "views/recipe_stages_table.h"
#include "views/runs_view.h"

using namespace hylo;
using namespace hylo::views;
using Col = RecipeStagesTable;

static const char* kRecipe =
    "teacher: ../models/teacher\n"
    "data:\n"
    "  train: data/train/manifest.json\n"
    "  seed: 17\n"
    "  mixture: [{synthetic: passkey, ratio: 0.1}]\n"
    "stages:\n"
    "  - {name: warm, kind: ild, seq_len: 2k, tokens: 50M, lr: 2e-4, train: new-mixers}\n"
    "  - {kind: kd, seq_len: 8k, tokens: 2B, lr: 6e-5, warmup: 0.01, temperature: 2.0, teacher: ../models/big}\n"
    "  - {kind: long, seq_len: 16k, steps: 300, lr: 3e-5, rope: {type: yarn, factor: 8, original: 2k}}\n"
    "checkpoint: {every: 250, keep: 2}\n";

static QStringList row_cells(const QTableWidget* t, int row) {
  QStringList out = {qobject_cast<QComboBox*>(t->cellWidget(row, Col::Kind))->currentText()};
  for (int c = Col::SeqLen; c < Col::ColumnCount; ++c) out << t->item(row, c)->text();
  return out;
}

static QList<QStringList> all_cells(const QTableWidget* t) {
  QList<QStringList> rows;
  for (int r = 0; r < t->rowCount(); ++r) rows << row_cells(t, r);
  return rows;
}

static Recipe on_screen(const QString& yaml) { return Recipe::from_yaml_string(yaml.toStdString(), "editor"); }
static Recipe on_screen(const QPlainTextEdit& yaml) { return on_screen(yaml.toPlainText()); }

// Every field the table does not show, compared between two recipes.
static void same_hidden_fields(const Recipe& a, const Recipe& b) {
  QCOMPARE(a.teacher, b.teacher);
  QCOMPARE(a.data.train, b.data.train);
  QCOMPARE(a.data.seed, b.data.seed);
  QCOMPARE(a.data.mixture.size(), b.data.mixture.size());
  QCOMPARE(a.data.mixture[0].ratio, b.data.mixture[0].ratio);
  QCOMPARE(a.checkpoint.every, b.checkpoint.every);
  QCOMPARE(a.checkpoint.keep, b.checkpoint.keep);
  QCOMPARE(a.stages.size(), b.stages.size());
  for (std::size_t i = 0; i < a.stages.size(); ++i) {
    const Stage &x = a.stages[i], &y = b.stages[i];
    QCOMPARE(x.name, y.name);
    QCOMPARE(x.warmup.fraction, y.warmup.fraction);
    QCOMPARE(x.temperature, y.temperature);
    QCOMPARE(x.train.mode, y.train.mode);
    QCOMPARE(x.rope.has_value(), y.rope.has_value());
    if (x.rope) QCOMPARE(x.rope->factor, y.rope->factor);
  }
}

class TestRecipeStagesTable : public QObject {
  Q_OBJECT
 private slots:
  void the_table_shows_the_yaml() {
    QPlainTextEdit yaml(kRecipe);
    RecipeStagesTable stages(&yaml);
    QCOMPARE(stages.error_text(), QString());
    QCOMPARE(stages.table()->rowCount(), 3);
    QCOMPARE(row_cells(stages.table(), 0), QStringList({"ild", "2k", "50M tokens", "2e-4", ""}));
    QCOMPARE(row_cells(stages.table(), 1), QStringList({"kd", "8k", "2B tokens", "6e-5", "../models/big"}));
    QCOMPARE(row_cells(stages.table(), 2), QStringList({"long", "16k", "300 steps", "3e-5", ""}));
    QCOMPARE(stages.table()->verticalHeaderItem(0)->text(), QString("warm"));
  }

  void a_cell_edit_rewrites_the_yaml_and_keeps_the_rest() {
    QPlainTextEdit yaml(kRecipe);
    RecipeStagesTable stages(&yaml);
    const Recipe before = on_screen(yaml);
    stages.table()->item(1, Col::Lr)->setText("1e-4");
    stages.table()->item(1, Col::SeqLen)->setText("4k");
    stages.table()->item(0, Col::Budget)->setText("120 steps");
    stages.table()->item(2, Col::Teacher)->setText("../models/other");
    QCOMPARE(stages.error_text(), QString());
    const Recipe after = on_screen(yaml);
    QCOMPARE(after.stages[1].lr, 1e-4);
    QCOMPARE(after.stages[1].seq_len, std::int64_t(4096));
    QCOMPARE(after.stages[0].steps, std::int64_t(120));
    QCOMPARE(after.stages[0].tokens, std::int64_t(0));
    QCOMPARE(after.stages[2].teacher.value_or(""), std::string("../models/other"));
    same_hidden_fields(before, after);
    // Clearing a teacher removes the stage override.
    stages.table()->item(1, Col::Teacher)->setText("");
    QVERIFY(!on_screen(yaml).stages[1].teacher);
  }

  void the_kind_combo_rewrites_the_yaml() {
    QPlainTextEdit yaml(kRecipe);
    RecipeStagesTable stages(&yaml);
    auto* kind = qobject_cast<QComboBox*>(stages.table()->cellWidget(0, Col::Kind));
    QCOMPARE(kind->count(), 4);
    kind->setCurrentText("kd");
    QCOMPARE(on_screen(yaml).stages[0].kind, StageKind::Kd);
    QCOMPARE(stages.error_text(), QString());
  }

  void a_change_the_core_refuses_is_undone_with_its_reason() {
    QPlainTextEdit yaml(kRecipe);
    RecipeStagesTable stages(&yaml);
    const QString text = yaml.toPlainText();
    const auto cells = all_cells(stages.table());
    stages.table()->item(0, Col::SeqLen)->setText("lots");
    QVERIFY2(stages.error_text().contains("stages[0].seq_len"), qPrintable(stages.error_text()));
    QCOMPARE(yaml.toPlainText(), text);
    QCOMPARE(all_cells(stages.table()), cells);
    // A pretrain stage has no teacher: the core's reader says so and the kind stays kd.
    qobject_cast<QComboBox*>(stages.table()->cellWidget(1, Col::Kind))->setCurrentText("pretrain");
    QVERIFY2(stages.error_text().contains("stages[1].teacher"), qPrintable(stages.error_text()));
    QCOMPARE(yaml.toPlainText(), text);
    QCOMPARE(all_cells(stages.table()), cells);
    // A long stage needs rope scaling.
    qobject_cast<QComboBox*>(stages.table()->cellWidget(0, Col::Kind))->setCurrentText("long");
    QVERIFY2(stages.error_text().contains("stages[0].rope"), qPrintable(stages.error_text()));
    stages.table()->item(1, Col::Budget)->setText("2B apples");
    QVERIFY2(stages.error_text().contains("stages[1].tokens"), qPrintable(stages.error_text()));
    QCOMPARE(all_cells(stages.table()), cells);
    // The next accepted edit clears the message.
    stages.table()->item(1, Col::Lr)->setText("5e-5");
    QCOMPARE(stages.error_text(), QString());
  }

  void a_yaml_edit_refills_the_table() {
    QPlainTextEdit yaml(kRecipe);
    RecipeStagesTable stages(&yaml);
    QSignalSpy changed(&stages, &RecipeStagesTable::stages_changed);
    yaml.setPlainText(QString(kRecipe).replace("seq_len: 8k, tokens: 2B", "seq_len: 32k, tokens: 3B"));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(row_cells(stages.table(), 1), QStringList({"kd", "32k", "3B tokens", "6e-5", "../models/big"}));
  }

  void yaml_that_does_not_parse_shows_the_error_and_keeps_the_table() {
    QPlainTextEdit yaml(kRecipe);
    RecipeStagesTable stages(&yaml);
    stages.set_origin("/tmp/runs/recipe.yaml");
    const auto cells = all_cells(stages.table());
    yaml.setPlainText(QString(kRecipe).replace("lr: 6e-5", "lr: fast"));
    QCOMPARE(stages.error_text(), QString("/tmp/runs/recipe.yaml: stages[1].lr: 'fast' is not a number"));
    QCOMPARE(all_cells(stages.table()), cells);
    QVERIFY(!stages.table()->isEnabled());
    yaml.setPlainText(QString(kRecipe).replace("stages:", "stages: [").left(40));
    QVERIFY2(stages.error_text().startsWith("/tmp/runs/recipe.yaml:"), qPrintable(stages.error_text()));
    QCOMPARE(all_cells(stages.table()), cells);
    yaml.setPlainText(kRecipe);
    QCOMPARE(stages.error_text(), QString());
    QVERIFY(stages.table()->isEnabled());
  }

  void stages_are_added_and_removed() {
    QPlainTextEdit yaml(kRecipe);
    RecipeStagesTable stages(&yaml);
    auto* add = stages.findChildren<QPushButton*>().at(0);
    auto* remove = stages.findChildren<QPushButton*>().at(1);
    QCOMPARE(add->text(), QString("Add stage"));
    QVERIFY(!remove->isEnabled());  // nothing selected
    stages.table()->selectRow(1);
    add->click();
    Recipe r = on_screen(yaml);
    QCOMPARE(r.stages.size(), std::size_t(4));
    QCOMPARE(r.stages[3].kind, StageKind::Kd);  // a copy of the selected stage
    QCOMPARE(r.stages[3].seq_len, std::int64_t(8192));
    QCOMPARE(stages.table()->rowCount(), 4);
    stages.table()->clearSelection();
    stages.table()->selectRow(0);
    QVERIFY(remove->isEnabled());
    remove->click();
    r = on_screen(yaml);
    QCOMPARE(r.stages.size(), std::size_t(3));
    QCOMPARE(r.stages[0].kind, StageKind::Kd);
    QCOMPARE(row_cells(stages.table(), 0)[0], QString("kd"));
    QCOMPARE(row_cells(stages.table(), 2)[0], QString("kd"));
    // The last stage cannot go: a recipe needs one.
    stages.table()->selectAll();
    QVERIFY(!remove->isEnabled());
  }

  void the_runs_tab_carries_the_table() {
    RunsView view;
    view.resize(1200, 760);
    view.set_recipe_text(kRecipe);
    QCOMPARE(view.stages()->table()->rowCount(), 3);
    view.stages()->table()->item(2, Col::Lr)->setText("2e-5");
    QCOMPARE(on_screen(view.recipe_text()).stages[2].lr, 2e-5);
    view.show();
    save_screenshot(&view, "runs_recipe_stages");
  }
};

QTEST_MAIN(TestRecipeStagesTable)
#include "test_recipe_stages_table.moc"
