#include "views/plan_edit_command.h"

namespace hylo::views {

PlanEditCommand::PlanEditCommand(LayerPlanModel* model, PlanState before, PlanState after,
                                 const QString& text, int merge_key)
    : model_(model), before_(std::move(before)), after_(std::move(after)), merge_key_(merge_key) {
  setText(text);
}

void PlanEditCommand::undo() { model_->apply(before_); }
void PlanEditCommand::redo() { model_->apply(after_); }

bool PlanEditCommand::mergeWith(const QUndoCommand* other) {
  auto* next = static_cast<const PlanEditCommand*>(other);  // same id() => same class
  after_ = next->after_;
  if (after_ == before_) setObsolete(true);  // edited back to where it started: drop the step
  return true;
}

}  // namespace hylo::views
