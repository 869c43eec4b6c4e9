// A row of NIAH heatmaps for documents (hylo-figures niah): one panel per evaluation, titled with
// its label and KV-cache share, one shared 0..1 colour scale, drawn in NiahView's style
// (views/niah_plot.h) at a fixed pixel size. The cells show the exact-match score, or the needle
// probability: exp(mean log-likelihood per needle token), a graded 0..1 measure that still tells
// models apart when none of them answers exactly (small models).
#pragma once
#include <QPoint>
#include <QSize>
#include <QString>
#include <memory>
#include <vector>

#include "views/eval_catalog.h"

class QCustomPlot;

namespace hylo::views {

enum class NiahMeasure { Score, NeedleProbability };

class NiahFigure {
 public:
  // `labels` replace the panels' labels in order (fewer labels leave the rest as they are).
  // NeedleProbability needs evaluations with log-likelihoods (an EvalError names the one without).
  NiahFigure(std::vector<NiahPanel> panels, const QStringList& labels, const QString& title, QSize size,
             NiahMeasure measure = NiahMeasure::Score);
  ~NiahFigure();

  static QSize default_size(std::size_t panels);
  QString panel_title(std::size_t panel) const;
  // Pixel of the centre of cell (length index, depth index) of `panel` in the saved image.
  QPoint cell_center(std::size_t panel, int length_index, int depth_index) const;
  void save_png(const QString& file) const;  // IoError naming the file when it cannot be written

 private:
  std::vector<NiahPanel> panels_;
  std::unique_ptr<QCustomPlot> plot_;
  QSize size_;
};

}  // namespace hylo::views
