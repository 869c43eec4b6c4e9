// Memory (issue 8): cache memory of one sequence against context length (log-log, bf16):
// the teacher's total, each student's total, and the chosen student split by layer type
// (attention KV, MLA latent, Mamba2 / GDN states), with measured cache bytes from stored NIAH
// evaluations (kv_bytes) drawn as points beside the estimates.
#pragma once
#include <QString>
#include <QWidget>
#include <cstdint>
#include <map>
#include <vector>

#include "core/spec/model_config.h"

class QComboBox;
class QCustomPlot;
class QTableWidget;

namespace hylo::views {

// Bytes of cache (per-token caches after `tokens` plus constant states) of the layers of `kind`,
// bf16, as hylo_spec's estimates count them.
double cache_bytes_of_kind(const ModelConfig& config, MixerKind kind, std::int64_t tokens);

class MemoryView : public QWidget {
  Q_OBJECT
 public:
  explicit MemoryView(QWidget* parent = nullptr);

  void set_teacher(const ModelConfig& teacher, const QString& name);
  // Replaces the students (a name each, e.g. "plan 4MLA12M2"); the first is split by layer type.
  void set_students(const std::vector<std::pair<QString, ModelConfig>>& students);
  // Measured points: label -> {context length -> bytes}.
  void set_measured(const std::map<QString, std::map<std::int64_t, double>>& measured);

  QCustomPlot* plot() const { return plot_; }
  QTableWidget* table() const { return table_; }
  static std::vector<std::int64_t> contexts();  // 1K .. 2M, powers of two

 private:
  void redraw();

  ModelConfig teacher_;
  QString teacher_name_;
  bool has_teacher_ = false;
  std::vector<std::pair<QString, ModelConfig>> students_;
  std::map<QString, std::map<std::int64_t, double>> measured_;
  QComboBox* at_;
  QCustomPlot* plot_;
  QTableWidget* table_;
};

}  // namespace hylo::views
