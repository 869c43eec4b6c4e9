// One undoable planner edit, stored as the plan before and after (exact undo by construction).
#pragma once
#include <QUndoCommand>

#include "views/layer_plan_model.h"

namespace hylo::views {

class PlanEditCommand : public QUndoCommand {
 public:
  // merge_key < 0: never merges; otherwise consecutive edits with the same key fold into one.
  PlanEditCommand(LayerPlanModel* model, PlanState before, PlanState after, const QString& text,
                  int merge_key);
  void undo() override;
  void redo() override;
  int id() const override { return merge_key_; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  LayerPlanModel* model_;
  PlanState before_, after_;
  int merge_key_;
};

}  // namespace hylo::views
