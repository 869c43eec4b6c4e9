// Paints one layer row: index, a pill in the mixer's colour, its key sizes, and what the teacher
// had when the planner changed it. Reads only the LayerPlanModel roles.
#pragma once
#include <QStyledItemDelegate>

namespace hylo::views {

class LayerRowDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace hylo::views
