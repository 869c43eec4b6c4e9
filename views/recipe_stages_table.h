// The Runs tab's stages table (issue 8): one row per recipe stage (kind, seq_len, tokens or steps,
// lr, teacher), kept in step with the recipe.yaml text both ways. Both directions go through the
// core's Recipe reader and writer, so the table accepts exactly what `hylo train` accepts: a cell
// edit rewrites the YAML (every other field kept); a YAML edit re-fills the table; YAML that does
// not parse shows the core's error (file: field: reason) and leaves the table as it was.
#pragma once
#include <QWidget>

#include "core/spec/recipe.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTableWidgetItem;

namespace hylo::views {

class RecipeStagesTable : public QWidget {
  Q_OBJECT
 public:
  enum Column { Kind, SeqLen, Budget, Lr, Teacher, ColumnCount };

  // `yaml` is the editor holding recipe.yaml; the table follows it from now on.
  explicit RecipeStagesTable(QPlainTextEdit* yaml, QWidget* parent = nullptr);

  // The file named in error messages (the recipe loaded, or "recipe.yaml").
  void set_origin(const QString& file);
  QTableWidget* table() const { return table_; }
  QString error_text() const;  // empty while the YAML parses and the last edit was accepted
  const Recipe& recipe() const { return recipe_; }  // the last recipe that parsed

  void add_stage();           // a copy of the selected (else the last) stage, appended
  void remove_selected();     // keeps at least one stage

 signals:
  void stages_changed();  // the table now shows a new recipe

 private:
  void text_changed();
  void item_edited(QTableWidgetItem* item);
  void kind_chosen(int row, int index);
  // Writes `candidate` into the editor when its YAML reads back through the core; else shows why
  // and puts the table back.
  void commit(const Recipe& candidate);
  void fill();
  void show_error(const QString& message);
  void update_buttons();

  QPlainTextEdit* yaml_;
  QTableWidget* table_;
  QLabel* error_;
  QPushButton *add_, *remove_;
  QString origin_ = QStringLiteral("recipe.yaml");
  Recipe recipe_;
  bool parsed_ = false;   // recipe_ holds a recipe that parsed
  bool updating_ = false; // the table or the editor is being written by us
};

}  // namespace hylo::views
