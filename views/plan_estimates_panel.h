// Live estimates of the plan being edited: compact name, share of the teacher's KV cache,
// parameters, FLOPs per token, and a chart of KV + state bytes against context length (log-log)
// for teacher and plan, with a line at the memory of a chosen GPU.
#pragma once
#include <QWidget>

#include "core/spec/model_config.h"
#include "views/plan_numbers.h"

class QCustomPlot;
class QDoubleSpinBox;
class QLabel;

namespace hylo::views {

class LayerPlanModel;

class PlanEstimatesPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PlanEstimatesPanel(LayerPlanModel* model, QWidget* parent = nullptr);
  void set_teacher(const ModelConfig& teacher);

  // What is on screen, for tests: the numbers of the last valid plan, and whether the
  // current plan is valid (an invalid one shows its error instead).
  const PlanNumbers& numbers() const { return numbers_; }
  bool plan_valid() const { return valid_; }
  QString summary_text() const;  // the name and each card's words, one a line (also for the log)
  QCustomPlot* chart() const { return chart_; }
  QDoubleSpinBox* gpu_memory() const { return gpu_gb_; }

 private:
  void recompute();
  void replot_memory_line();

  LayerPlanModel* model_;
  ModelConfig teacher_;
  bool has_teacher_ = false;
  PlanNumbers numbers_;
  bool valid_ = false;
  QLabel* name_;
  QLabel* kv_;
  QLabel* params_;
  QLabel* flops_;
  QLabel* problem_;
  QDoubleSpinBox* gpu_gb_;
  QCustomPlot* chart_;
};

}  // namespace hylo::views
