#include "views/mixer_palette.h"

#include <QPainter>

#include "views/layer_plan_model.h"
#include "views/mixer_style.h"

namespace hylo::views {

static QIcon swatch(MixerKind kind) {
  QPixmap pm(14, 14);
  pm.fill(Qt::transparent);
  QPainter p(&pm);
  p.setRenderHint(QPainter::Antialiasing);
  p.setBrush(mixer_color(kind));
  p.setPen(Qt::NoPen);
  p.drawRoundedRect(QRectF(0, 0, 14, 14), 3, 3);
  return QIcon(pm);
}

MixerPalette::MixerPalette(QWidget* parent) : QListWidget(parent) {
  setObjectName(QStringLiteral("palette"));
  setDragEnabled(true);
  setDragDropMode(QAbstractItemView::DragOnly);
  setDefaultDropAction(Qt::CopyAction);
  setSelectionMode(QAbstractItemView::SingleSelection);
  setSpacing(2);
  for (MixerKind k : kAllMixerKinds) {
    auto* item = new QListWidgetItem(
        swatch(k), tr("%1   [%2]").arg(mixer_name(k), mixer_key(k).toString()), this);
    item->setData(Qt::UserRole, static_cast<int>(k));
    item->setToolTip(tr("Drag onto a layer, or onto selected layers; key %1")
                         .arg(mixer_key(k).toString()));
  }
  setFixedHeight(sizeHintForRow(0) * count() + 2 * frameWidth() + 4 * spacing() * count());
}

MixerKind MixerPalette::kind_of(const QListWidgetItem* item) {
  return static_cast<MixerKind>(item->data(Qt::UserRole).toInt());
}

QStringList MixerPalette::mimeTypes() const { return {LayerPlanModel::kMixerMimeType}; }

QMimeData* MixerPalette::mimeData(const QList<QListWidgetItem*>& items) const {
  if (items.isEmpty()) return nullptr;
  return LayerPlanModel::mime_for_kind(kind_of(items.first()));
}

}  // namespace hylo::views
