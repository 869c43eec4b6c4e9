// LayerPlanModel: the planner's document: the teacher's layer stack and, for each layer, the
// mixer the student gets, plus the per-kind settings. A list model (one row per layer) with drag
// and drop of mixer kinds and undoable edits. Widget-free (QtCore/QtGui only), so tests drive it
// directly.
#pragma once
#include <QAbstractListModel>
#include <QItemSelectionModel>
#include <QPointer>
#include <QUndoStack>
#include <vector>

#include "views/plan_state.h"

namespace hylo::views {

class LayerPlanModel : public QAbstractListModel {
  Q_OBJECT
 public:
  // A drag payload: one mixer kind, written as its plan-file name ("attention", "mla", ...).
  static const QString kMixerMimeType;
  enum Role { KindRole = Qt::UserRole + 1, TeacherKindRole, SizesRole, ChangedRole };

  explicit LayerPlanModel(QObject* parent = nullptr);

  // A new teacher: every layer starts as it is in the teacher, the undo history is cleared.
  void set_teacher(const ModelConfig& teacher);
  const ModelConfig& teacher() const { return teacher_; }
  const PlanState& state() const { return state_; }
  MixerKind kind(int row) const { return state_.kinds.at(static_cast<size_t>(row)); }
  // The student's layer as LayerPlan::resolve makes it; while the plan does not resolve (a
  // setting out of range), the raw settings of its kind.
  const LayerSpec& layer_spec(int row) const { return student_.at(static_cast<size_t>(row)); }
  QUndoStack* undo_stack() { return &undo_; }

  // Drops onto a selected row apply to every selected row; onto an unselected row, to it alone.
  void set_selection_model(QItemSelectionModel* selection) { selection_ = selection; }

  // Undoable edits; each is one step on the undo stack.
  void assign(QList<int> rows, MixerKind kind);
  void set_state(const PlanState& next, const QString& text);  // e.g. "Load plan"
  // Settings edits with the same `merge_key` in a row fold into one step (a spin box dragged
  // from 128 to 256 is one undo, not 128).
  void set_mla(const MlaSettings& s, int merge_key);
  void set_mamba2(const Mamba2Settings& s, int merge_key);
  void set_gdn(const GdnSettings& s, int merge_key);

  static QMimeData* mime_for_kind(MixerKind kind);
  static bool kind_from_mime(const QMimeData* data, MixerKind* kind);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QStringList mimeTypes() const override;
  QMimeData* mimeData(const QModelIndexList& indexes) const override;
  bool canDropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                       const QModelIndex& parent) const override;
  bool dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                    const QModelIndex& parent) override;
  Qt::DropActions supportedDropActions() const override;
  Qt::DropActions supportedDragActions() const override;

 signals:
  void plan_changed();  // after every edit, undo and redo

 private:
  friend class PlanEditCommand;
  void apply(const PlanState& next);  // no undo entry: the commands call it
  void push_edit(PlanState next, const QString& text, int merge_key);
  QList<int> drop_rows(int target) const;

  void resolve_student();

  ModelConfig teacher_;
  std::vector<LayerSpec> student_;
  PlanState state_;
  QUndoStack undo_;
  QPointer<QItemSelectionModel> selection_;
};

}  // namespace hylo::views
