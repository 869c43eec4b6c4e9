// The palette of mixer kinds: drag one onto a layer (or onto a selection of layers).
#pragma once
#include <QListWidget>

#include "core/spec/mixers.h"

namespace hylo::views {

class MixerPalette : public QListWidget {
  Q_OBJECT
 public:
  explicit MixerPalette(QWidget* parent = nullptr);
  static MixerKind kind_of(const QListWidgetItem* item);

 protected:
  QStringList mimeTypes() const override;
  QMimeData* mimeData(const QList<QListWidgetItem*>& items) const override;
};

}  // namespace hylo::views
