// A row of NIAH heatmaps for documents (hylo-figures niah): one panel per evaluation, titled with
// its label and KV-cache share, one shared 0..1 colour scale, drawn in NiahView's style
// (views/niah_plot.h) at a fixed pixel size.
#pragma once
#include <QPoint>
#include <QSize>
#include <QString>
#include <memory>
#include <vector>

#include "views/eval_catalog.h"

class QCustomPlot;

namespace hylo::views {

class NiahFigure {
 public:
  // `labels` replace the panels' labels in order (fewer labels leave the rest as they are).
  NiahFigure(std::vector<NiahPanel> panels, const QStringList& labels, const QString& title, QSize size);
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
