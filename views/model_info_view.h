// ModelInfoView: what `hylo info` prints for a checkpoint folder (architecture, sizes, parameters,
// KV bytes per token, context, RoPE) and its layer stack, one row per layer coloured by mixer.
#pragma once
#include <QMap>
#include <QWidget>

#include "core/spec/model_config.h"

class QLabel;
class QTableWidget;

namespace hylo::views {

class ModelInfoView : public QWidget {
  Q_OBJECT
 public:
  explicit ModelInfoView(QWidget* parent = nullptr);

  // Loads dir/config.json. On failure the previous model stays and error_occurred is emitted.
  bool open(const QString& dir);
  bool has_model() const { return !dir_.isEmpty(); }
  const ModelConfig& config() const { return config_; }
  QString checkpoint_dir() const { return dir_; }
  // The text shown for a fact, by key: "architecture", "layers", "hidden", "heads", "kv_heads",
  // "head_dim", "vocab", "params", "kv_per_token", "max_context", "rope".
  QString fact(const QString& key) const;
  QTableWidget* layer_table() const { return table_; }

 signals:
  void error_occurred(const QString& title, const QString& message);
  void message(const QString& line);

 private:
  void show_config();

  ModelConfig config_;
  QString dir_;
  QLabel* title_;
  QMap<QString, QLabel*> facts_;
  QTableWidget* table_;
};

}  // namespace hylo::views
