#include "views/planner_view.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QScrollArea>
#include <QSplitter>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/spec/error.h"
#include "core/spec/plan.h"
#include "views/layer_plan_model.h"
#include "views/layer_row_delegate.h"
#include "views/mixer_palette.h"
#include "views/mixer_settings_panel.h"
#include "views/mixer_style.h"
#include "views/plan_suggest_dialog.h"
#include "views/plan_estimates_panel.h"

namespace hylo::views {

static QLabel* heading(const QString& text) {
  auto* label = new QLabel(text);
  QFont f = label->font();
  f.setBold(true);
  label->setFont(f);
  return label;
}

PlannerView::PlannerView(QWidget* parent) : QWidget(parent), model_(new LayerPlanModel(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 8);

  auto* bar = new QToolBar;
  bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  undo_ = model_->undo_stack()->createUndoAction(this, tr("Undo"));
  undo_->setShortcut(QKeySequence::Undo);
  redo_ = model_->undo_stack()->createRedoAction(this, tr("Redo"));
  redo_->setShortcut(QKeySequence::Redo);
  bar->addAction(undo_);
  bar->addAction(redo_);
  bar->addSeparator();
  bar->addAction(tr("Load plan..."), this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Load plan"), {}, tr("Plans (*.yaml *.yml)"));
    if (!f.isEmpty()) load_plan(f);
  });
  bar->addAction(tr("Save plan..."), this, [this] {
    const QString f = QFileDialog::getSaveFileName(this, tr("Save plan"), QStringLiteral("plan.yaml"),
                                                   tr("Plans (*.yaml *.yml)"));
    if (!f.isEmpty()) save_plan(f);
  });
  presets_ = new QToolButton;
  presets_->setText(tr("Presets"));
  presets_->setPopupMode(QToolButton::InstantPopup);
  presets_->setMenu(new QMenu(presets_));
  presets_->setEnabled(false);
  bar->addWidget(presets_);
  suggest_ = bar->addAction(tr("Suggest plan..."), this, &PlannerView::suggest_plan);
  suggest_->setToolTip(tr("Let the auto-planner (hylo plan suggest) pick the MLA layers for a KV budget"));
  suggest_->setEnabled(false);
  layout->addWidget(bar);

  // Left: palette above the layer stack.
  auto* left = new QWidget;
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addWidget(heading(tr("Mixers")));
  palette_ = new MixerPalette;
  left_layout->addWidget(palette_);
  auto* hint = new QLabel(tr("Drag a mixer onto a layer, or onto selected layers.\n"
                             "Keys A / M / 2 / G set the selection. Ctrl+Z undoes."));
  hint->setStyleSheet(QStringLiteral("color: #666666;"));
  hint->setWordWrap(true);
  left_layout->addWidget(hint);
  left_layout->addStretch(1);

  auto* middle = new QWidget;
  auto* middle_layout = new QVBoxLayout(middle);
  middle_layout->setContentsMargins(0, 0, 0, 0);
  middle_layout->addWidget(heading(tr("Layer stack (input at the top)")));
  list_ = new QListView;
  list_->setObjectName(QStringLiteral("layer_stack"));
  list_->setModel(model_);
  list_->setItemDelegate(new LayerRowDelegate(list_));
  list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  list_->setDragDropMode(QAbstractItemView::DragDrop);
  list_->setDragDropOverwriteMode(true);  // drops land on a layer, never between two
  list_->setDefaultDropAction(Qt::CopyAction);
  list_->setDropIndicatorShown(true);
  list_->setUniformItemSizes(true);
  list_->setContextMenuPolicy(Qt::CustomContextMenu);
  model_->set_selection_model(list_->selectionModel());
  middle_layout->addWidget(list_, 1);

  auto* right = new QWidget;
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  estimates_ = new PlanEstimatesPanel(model_);
  right_layout->addWidget(estimates_, 1);
  right_layout->addWidget(heading(tr("Settings")));
  settings_ = new MixerSettingsPanel(model_);
  auto* scroll = new QScrollArea;
  scroll->setWidget(settings_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  right_layout->addWidget(scroll, 1);

  auto* split = new QSplitter;
  split->addWidget(left);
  split->addWidget(middle);
  split->addWidget(right);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 2);
  split->setStretchFactor(2, 3);
  split->setSizes({170, 430, 620});
  layout->addWidget(split, 1);

  for (MixerKind k : kAllMixerKinds) {
    auto* act = new QAction(tr("Set to %1").arg(mixer_name(k)), this);
    act->setShortcut(mixer_key(k));
    act->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(act, &QAction::triggered, this, [this, k] { assign_selected(k); });
    list_->addAction(act);
    assign_actions_ << act;
  }
  connect(list_, &QWidget::customContextMenuRequested, this, &PlannerView::show_context_menu);
}

void PlannerView::set_teacher(const ModelConfig& teacher, const QString& teacher_path) {
  teacher_ = teacher;
  teacher_path_ = teacher_path;
  model_->set_teacher(teacher);
  estimates_->set_teacher(teacher);
  QMenu* menu = presets_->menu();
  menu->clear();
  for (const PlanPreset& preset : plan_presets(teacher)) {
    QAction* act = menu->addAction(QString::fromStdString(preset.name), this, [this, preset] {
      model_->set_state(plan_state_from(preset.plan, teacher_.num_hidden_layers),
                        tr("Preset %1").arg(QString::fromStdString(preset.name)));
    });
    act->setToolTip(QString::fromStdString(preset.note));
  }
  presets_->setEnabled(!menu->isEmpty());
  suggest_->setEnabled(true);
}

PlanSuggestDialog* PlannerView::suggest_plan() {
  if (!has_teacher()) return nullptr;
  auto* dialog = new PlanSuggestDialog(teacher_path_, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  // Loaded while the dialog (and its temporary folder) still exists; load_plan checks it fits.
  connect(dialog, &PlanSuggestDialog::plan_ready, this, [this](const QString& file) {
    if (load_plan(file, tr("Suggested plan"))) emit message(tr("Suggested plan applied: Ctrl+Z restores the previous one"));
  });
  connect(dialog, &PlanSuggestDialog::failed, this,
          [this](const QString& why) { emit error_occurred(tr("Plan suggestion failed"), why); });
  dialog->open();
  return dialog;
}

bool PlannerView::has_teacher() const { return model_->rowCount() > 0; }

void PlannerView::assign_selected(MixerKind kind) {
  QList<int> rows;
  for (const QModelIndex& i : list_->selectionModel()->selectedRows()) rows << i.row();
  model_->assign(rows, kind);
}

void PlannerView::show_context_menu(const QPoint& pos) {
  if (!has_teacher()) return;
  QMenu menu(this);
  for (QAction* act : assign_actions_) menu.addAction(act);
  menu.addSeparator();
  menu.addAction(undo_);
  menu.addAction(redo_);
  menu.exec(list_->viewport()->mapToGlobal(pos));
}

bool PlannerView::load_plan(const QString& file, const QString& undo_text) {
  if (!has_teacher()) {
    emit error_occurred(tr("Cannot load plan"), tr("Open the teacher checkpoint first."));
    return false;
  }
  try {
    const LayerPlan plan = LayerPlan::load(file.toStdString());
    plan.check(teacher_);
    model_->set_state(plan_state_from(plan, teacher_.num_hidden_layers),
                      undo_text.isEmpty() ? tr("Load %1").arg(QFileInfo(file).fileName()) : undo_text);
    emit message(tr("Loaded plan %1").arg(file));
    return true;
  } catch (const hylo::Error& e) {
    emit error_occurred(tr("Cannot load plan"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    emit error_occurred(tr("Internal error loading %1").arg(file), QString::fromStdString(e.what()));
  }
  return false;
}

bool PlannerView::save_plan(const QString& file) {
  try {
    const QString teacher = QFileInfo(file).absoluteDir().relativeFilePath(teacher_path_);
    layer_plan_from(model_->state(), teacher.toStdString()).save(file.toStdString());
    emit message(tr("Saved plan %1").arg(file));
    return true;
  } catch (const hylo::Error& e) {
    emit error_occurred(tr("Cannot save plan"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    emit error_occurred(tr("Internal error saving %1").arg(file), QString::fromStdString(e.what()));
  }
  return false;
}

}  // namespace hylo::views
