// Side panel of the planner: spin boxes for the per-kind settings (MLA ranks, Mamba2 state,
// GDN heads). Edits go to the LayerPlanModel as undoable steps; one spin box = one merge key.
#pragma once
#include <QWidget>
#include <functional>
#include <vector>

class QSpinBox;
class QFormLayout;

namespace hylo::views {

class LayerPlanModel;

class MixerSettingsPanel : public QWidget {
  Q_OBJECT
 public:
  MixerSettingsPanel(LayerPlanModel* model, QWidget* parent = nullptr);
  // The spin box for a field, e.g. spin("mla.kv_lora_rank"); null if unknown (tests use it).
  QSpinBox* spin(const QString& field) const;

 private:
  struct Field {
    QString name;
    QSpinBox* box;
    std::function<int64_t()> read;  // from the model's state
  };
  void add_field(QFormLayout* form, const QString& name, const QString& label, int lo, int hi,
                 int step, const QString& tip, std::function<int64_t()> read,
                 std::function<void(int64_t, int)> write);  // (value, merge key)
  void refresh();

  LayerPlanModel* model_;
  std::vector<Field> fields_;
};

}  // namespace hylo::views
