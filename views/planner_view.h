// The layer planner (issue 8): the teacher's layer stack, a palette of mixer kinds to drag onto
// layers (or press A/M/2/G, or use the context menu), the per-kind settings, undo/redo, and live
// estimates of what the plan costs against the teacher.
#pragma once
#include <QWidget>

#include "core/spec/model_config.h"

class QAction;
class QListView;
class QToolButton;

namespace hylo::views {

class LayerPlanModel;
class MixerPalette;
class MixerSettingsPanel;
class PlanEstimatesPanel;
class PlanSuggestDialog;

class PlannerView : public QWidget {
  Q_OBJECT
 public:
  explicit PlannerView(QWidget* parent = nullptr);

  void set_teacher(const ModelConfig& teacher, const QString& teacher_path);
  bool has_teacher() const;
  LayerPlanModel* model() const { return model_; }
  QListView* layer_list() const { return list_; }
  MixerSettingsPanel* settings_panel() const { return settings_; }
  PlanEstimatesPanel* estimates() const { return estimates_; }
  QAction* undo_action() const { return undo_; }
  QAction* redo_action() const { return redo_; }

  // Plan YAML files (core/spec/plan.h). False, with error_occurred emitted, when it fails.
  // undo_text names the step in the undo stack (default "Load <file name>").
  bool load_plan(const QString& file, const QString& undo_text = {});
  // "Suggest plan...": opens the KV-budget dialog (non-modal; it deletes itself when closed) whose
  // result is loaded as one undoable step. Null without a teacher.
  PlanSuggestDialog* suggest_plan();
  bool save_plan(const QString& file);

 signals:
  void error_occurred(const QString& title, const QString& message);
  void message(const QString& line);

 private:
  void assign_selected(MixerKind kind);
  void show_context_menu(const QPoint& pos);

  LayerPlanModel* model_;
  QListView* list_;
  MixerPalette* palette_;
  MixerSettingsPanel* settings_;
  PlanEstimatesPanel* estimates_;
  QToolButton* presets_;
  QAction* suggest_;
  QAction *undo_, *redo_;
  QList<QAction*> assign_actions_;
  ModelConfig teacher_;
  QString teacher_path_;
};

}  // namespace hylo::views
