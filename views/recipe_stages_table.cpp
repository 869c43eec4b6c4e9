#include "views/recipe_stages_table.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalBlocker>
#include <QTableWidget>
#include <QTextCursor>
#include <QVBoxLayout>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "core/spec/count.h"
#include "core/spec/error.h"

namespace hylo::views {
namespace {

const StageKind kKinds[] = {StageKind::Pretrain, StageKind::Ild, StageKind::Kd, StageKind::Long};

std::string field_of(int row, const char* key) { return "stages[" + std::to_string(row) + "]." + key; }

// Shortest exact text, with the exponent as recipes write it: 2e-4, not 2e-04.
QString shortest(double v) {
  static const QRegularExpression exponent(QStringLiteral("e\\+?(-?)0*(\\d)"));
  return QString::number(v, 'g', QLocale::FloatingPointShortest).replace(exponent, QStringLiteral("e\\1\\2"));
}

QString budget_text(const Stage& s) {
  return s.steps > 0 ? QStringLiteral("%1 steps").arg(s.steps)
                     : QStringLiteral("%1 tokens").arg(QString::fromStdString(format_count(s.tokens, CountBase::Decimal)));
}

int64_t count_from(const QString& text, CountBase base, const std::string& origin, const std::string& field) {
  try {
    return parse_count(text.trimmed().toStdString(), base);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what(), origin, field);
  }
}

// "50M", "50M tokens" or "300 steps": the stage's budget; the other of the two is cleared.
void set_budget(Stage& s, const QString& text, const std::string& origin, int row) {
  const QStringList words = text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
  const QString unit = words.size() == 2 ? words[1].toLower() : QStringLiteral("tokens");
  if (words.isEmpty() || words.size() > 2 ||
      (unit != QLatin1String("tokens") && unit != QLatin1String("steps")))
    throw ConfigError("'" + text.toStdString() + "': write a count and 'tokens' or 'steps' (e.g. 50M tokens)",
                      origin, field_of(row, "tokens"));
  const bool steps = unit == QLatin1String("steps");
  const int64_t n = count_from(words[0], CountBase::Decimal, origin, field_of(row, steps ? "steps" : "tokens"));
  s.steps = steps ? n : 0;
  s.tokens = steps ? 0 : n;
}

}  // namespace

RecipeStagesTable::RecipeStagesTable(QPlainTextEdit* yaml, QWidget* parent) : QWidget(parent), yaml_(yaml) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  table_ = new QTableWidget(0, ColumnCount);
  table_->setObjectName(QStringLiteral("recipe_stages"));
  table_->setHorizontalHeaderLabels({tr("Kind"), tr("Seq len"), tr("Tokens / steps"), tr("LR"), tr("Teacher")});
  table_->horizontalHeaderItem(Budget)->setToolTip(tr("A count and its unit: 50M tokens, 2B tokens, 300 steps"));
  table_->horizontalHeaderItem(SeqLen)->setToolTip(tr("Tokens per sequence: 2k = 2048, 64k = 65536"));
  table_->horizontalHeaderItem(Teacher)->setToolTip(tr("This stage's teacher; empty: the recipe's teacher"));
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(true);
  error_ = new QLabel;
  error_->setObjectName(QStringLiteral("recipe_error"));
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet(QStringLiteral("color: #b3261e;"));
  error_->hide();
  add_ = new QPushButton(tr("Add stage"));
  add_->setToolTip(tr("Append a copy of the selected stage"));
  remove_ = new QPushButton(tr("Remove stage"));
  remove_->setToolTip(tr("Remove the selected stages"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add_);
  buttons->addWidget(remove_);
  buttons->addStretch(1);
  layout->addWidget(table_, 1);
  layout->addLayout(buttons);
  layout->addWidget(error_);

  connect(yaml_, &QPlainTextEdit::textChanged, this, &RecipeStagesTable::text_changed);
  connect(table_, &QTableWidget::itemChanged, this, &RecipeStagesTable::item_edited);
  connect(table_, &QTableWidget::itemSelectionChanged, this, &RecipeStagesTable::update_buttons);
  connect(add_, &QPushButton::clicked, this, &RecipeStagesTable::add_stage);
  connect(remove_, &QPushButton::clicked, this, &RecipeStagesTable::remove_selected);
  text_changed();
}

void RecipeStagesTable::set_origin(const QString& file) {
  origin_ = file;
  text_changed();
}

QString RecipeStagesTable::error_text() const { return error_->text(); }

void RecipeStagesTable::text_changed() {
  if (updating_) return;
  try {
    recipe_ = Recipe::from_yaml_string(yaml_->toPlainText().toStdString(), origin_.toStdString());
    parsed_ = true;
    show_error({});
    fill();
    emit stages_changed();
  } catch (const std::exception& e) {  // hylo::ConfigError, or yaml-cpp on a malformed key
    parsed_ = false;
    show_error(QString::fromStdString(e.what()));
  }
  update_buttons();
}

void RecipeStagesTable::item_edited(QTableWidgetItem* item) {
  if (updating_ || !parsed_) return;
  const int row = item->row();
  Recipe candidate = recipe_;
  Stage& s = candidate.stages[std::size_t(row)];
  const std::string origin = origin_.toStdString();
  const QString text = item->text().trimmed();
  try {
    switch (item->column()) {
      case SeqLen: s.seq_len = count_from(text, CountBase::Binary, origin, field_of(row, "seq_len")); break;
      case Budget: set_budget(s, text, origin, row); break;
      case Lr: {
        bool ok = false;
        s.lr = text.toDouble(&ok);
        if (!ok) throw ConfigError("'" + text.toStdString() + "' is not a number", origin, field_of(row, "lr"));
        break;
      }
      case Teacher:
        if (text.isEmpty()) s.teacher.reset();
        else s.teacher = text.toStdString();
        break;
      default: return;
    }
  } catch (const hylo::Error& e) {
    show_error(QString::fromStdString(e.what()));
    fill();
    return;
  }
  commit(candidate);
}

void RecipeStagesTable::kind_chosen(int row, int index) {
  if (updating_ || !parsed_ || index < 0) return;
  Recipe candidate = recipe_;
  candidate.stages[std::size_t(row)].kind = kKinds[index];
  commit(candidate);
}

void RecipeStagesTable::add_stage() {
  if (!parsed_) return;
  Recipe candidate = recipe_;
  const int selected = table_->currentRow();
  Stage copy = candidate.stages[std::size_t(selected >= 0 ? selected : int(candidate.stages.size()) - 1)];
  copy.name.clear();  // names label one stage; a copy gets the default "<index>-<kind>"
  candidate.stages.push_back(copy);
  commit(candidate);
  table_->selectRow(table_->rowCount() - 1);
}

void RecipeStagesTable::remove_selected() {
  if (!parsed_) return;
  std::set<int> rows;
  for (const QModelIndex& i : table_->selectionModel()->selectedRows()) rows.insert(i.row());
  if (rows.empty() || rows.size() >= recipe_.stages.size()) return;
  Recipe candidate = recipe_;
  for (auto r = rows.rbegin(); r != rows.rend(); ++r) candidate.stages.erase(candidate.stages.begin() + *r);
  table_->clearSelection();
  commit(candidate);
}

void RecipeStagesTable::commit(const Recipe& candidate) {
  try {
    // Reading the written text back runs every check `hylo train` runs (a teacher on a pretrain
    // stage, a long stage without rope, warmup longer than the stage...).
    const std::string text = candidate.to_yaml();
    recipe_ = Recipe::from_yaml_string(text, origin_.toStdString());
    updating_ = true;
    QTextCursor all(yaml_->document());
    all.select(QTextCursor::Document);
    all.insertText(QString::fromStdString(text));  // one undo step in the editor
    updating_ = false;
    show_error({});
    fill();
    emit stages_changed();
  } catch (const hylo::Error& e) {
    show_error(QString::fromStdString(e.what()));
    fill();
  }
  update_buttons();
}

void RecipeStagesTable::fill() {
  // Items and combos are reused: fill() also runs from inside their own change signals.
  updating_ = true;
  const int rows = int(recipe_.stages.size());
  table_->setRowCount(rows);
  QStringList labels;
  for (int row = 0; row < rows; ++row) {
    const Stage& s = recipe_.stages[std::size_t(row)];
    // A stage without a name is "<index>-<kind>" (core/spec/recipe.h).
    labels << QString::fromStdString(s.name.empty() ? std::to_string(row) + "-" + to_string(s.kind) : s.name);
    auto* combo = qobject_cast<QComboBox*>(table_->cellWidget(row, Kind));
    if (!combo) {
      combo = new QComboBox;
      for (StageKind k : kKinds) combo->addItem(QString::fromStdString(to_string(k)));
      combo->setFrame(false);
      connect(combo, &QComboBox::currentIndexChanged, this, [this, combo](int index) {
        for (int r = 0; r < table_->rowCount(); ++r)
          if (table_->cellWidget(r, Kind) == combo) return kind_chosen(r, index);
      });
      table_->setCellWidget(row, Kind, combo);
    }
    combo->setCurrentIndex(int(std::find(std::begin(kKinds), std::end(kKinds), s.kind) - std::begin(kKinds)));
    const QString cells[ColumnCount] = {QString(), QString::fromStdString(format_count(s.seq_len, CountBase::Binary)),
                                        budget_text(s), shortest(s.lr),
                                        QString::fromStdString(s.teacher.value_or(""))};
    for (int c = SeqLen; c < ColumnCount; ++c) {
      QTableWidgetItem* item = table_->item(row, c);
      if (!item) {
        item = new QTableWidgetItem;
        table_->setItem(row, c, item);
      }
      item->setText(cells[c]);
    }
    QTableWidgetItem* teacher = table_->item(row, Teacher);
    const bool has_teacher = s.kind != StageKind::Pretrain;
    teacher->setFlags(has_teacher ? teacher->flags() | Qt::ItemIsEditable : teacher->flags() & ~Qt::ItemIsEditable);
    teacher->setToolTip(has_teacher ? tr("Empty: the recipe's teacher (%1)")
                                          .arg(recipe_.teacher ? QString::fromStdString(*recipe_.teacher)
                                                               : tr("the model the student was upcycled from"))
                                    : tr("A pretrain stage has no teacher"));
  }
  table_->setVerticalHeaderLabels(labels);
  updating_ = false;
}

void RecipeStagesTable::show_error(const QString& message) {
  error_->setText(message);
  error_->setVisible(!message.isEmpty());
}

void RecipeStagesTable::update_buttons() {
  // While the text does not parse the table shows the last recipe that did, read-only.
  table_->setEnabled(parsed_);
  add_->setEnabled(parsed_);
  const int selected = int(table_->selectionModel()->selectedRows().size());
  remove_->setEnabled(parsed_ && selected > 0 && selected < int(recipe_.stages.size()));
}

}  // namespace hylo::views
