#include "views/layer_row_delegate.h"

#include <QPainter>
#include <QPainterPath>

#include "views/layer_plan_model.h"
#include "views/mixer_style.h"

namespace hylo::views {

void LayerRowDelegate::paint(QPainter* p, const QStyleOptionViewItem& option,
                             const QModelIndex& index) const {
  const auto kind = static_cast<MixerKind>(index.data(LayerPlanModel::KindRole).toInt());
  const auto teacher = static_cast<MixerKind>(index.data(LayerPlanModel::TeacherKindRole).toInt());
  const bool selected = option.state & QStyle::State_Selected;
  const QRect r = option.rect.adjusted(2, 1, -2, -1);
  p->save();
  p->setRenderHint(QPainter::Antialiasing);

  p->fillRect(r, selected ? option.palette.highlight().color().lighter(170) : mixer_tint(kind));
  if (selected) p->fillRect(QRect(r.left(), r.top(), 4, r.height()), option.palette.highlight());

  QFont mono = option.font;
  mono.setFamily(QStringLiteral("monospace"));
  p->setFont(mono);
  p->setPen(QColor(0x55, 0x55, 0x55));
  const QFontMetrics fm(mono);
  const int index_w = fm.horizontalAdvance(QStringLiteral("000")) + 12;
  p->drawText(QRect(r.left() + 8, r.top(), index_w, r.height()), Qt::AlignVCenter | Qt::AlignRight,
              QString::number(index.row()));

  QFont bold = option.font;
  bold.setBold(true);
  const QFontMetrics bfm(bold);
  const int pill_w = bfm.horizontalAdvance(QStringLiteral("Attention")) + 16;
  const QRect pill(r.left() + 8 + index_w + 10, r.top() + 3, pill_w, r.height() - 6);
  QPainterPath path;
  path.addRoundedRect(pill, pill.height() / 2.0, pill.height() / 2.0);
  p->fillPath(path, mixer_color(kind));
  p->setFont(bold);
  p->setPen(Qt::white);
  p->drawText(pill, Qt::AlignCenter, mixer_name(kind));

  p->setFont(option.font);
  p->setPen(QColor(0x33, 0x33, 0x33));
  QRect text = r.adjusted(pill.right() - r.left() + 12, 0, -8, 0);
  QString note;
  if (kind != teacher) note = tr("was %1").arg(mixer_name(teacher));
  const int note_w = note.isEmpty() ? 0 : option.fontMetrics.horizontalAdvance(note) + 12;
  p->drawText(text.adjusted(0, 0, -note_w, 0), Qt::AlignVCenter | Qt::AlignLeft,
              option.fontMetrics.elidedText(index.data(LayerPlanModel::SizesRole).toString(),
                                            Qt::ElideRight, text.width() - note_w));
  if (!note.isEmpty()) {
    QFont italic = option.font;
    italic.setItalic(true);
    p->setFont(italic);
    p->setPen(QColor(0x80, 0x80, 0x80));
    p->drawText(text, Qt::AlignVCenter | Qt::AlignRight, note);
  }
  p->restore();
}

QSize LayerRowDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
  return {420, option.fontMetrics.height() + 14};
}

}  // namespace hylo::views
