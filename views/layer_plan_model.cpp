#include "views/layer_plan_model.h"

#include <QMimeData>
#include <algorithm>

#include "core/spec/error.h"
#include "views/mixer_style.h"
#include "views/plan_edit_command.h"

namespace hylo::views {

const QString LayerPlanModel::kMixerMimeType = QStringLiteral("application/x-hylo-mixer-kind");

// Plan-file names of the kinds; the mime payload uses them so a drag reads like the YAML.
static QByteArray kind_token(MixerKind kind) { return mixer_name(kind).toLower().toUtf8(); }

LayerPlanModel::LayerPlanModel(QObject* parent) : QAbstractListModel(parent) {}

void LayerPlanModel::set_teacher(const ModelConfig& teacher) {
  beginResetModel();
  teacher_ = teacher;
  PlanState fresh;
  for (const auto& layer : teacher_.layers) fresh.kinds.push_back(layer.kind);
  state_ = fresh;
  resolve_student();
  undo_.clear();
  endResetModel();
  emit plan_changed();
}

void LayerPlanModel::resolve_student() {
  try {
    student_ = layer_plan_from(state_, {}).resolve(teacher_).layers;
  } catch (const hylo::Error&) {  // the estimates panel shows why; rows keep the raw settings
    student_ = teacher_.layers;
    for (size_t i = 0; i < student_.size(); ++i) {
      if (state_.kinds[i] == teacher_.layers[i].kind) continue;
      student_[i].kind = state_.kinds[i];
      student_[i].mla = state_.mla;
      student_[i].mamba2 = state_.mamba2;
      student_[i].gdn = state_.gdn;
    }
  }
}

void LayerPlanModel::assign(QList<int> rows, MixerKind kind) {
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  PlanState next = state_;
  QStringList names;
  for (int r : rows) {
    if (r < 0 || r >= rowCount()) continue;
    next.kinds[static_cast<size_t>(r)] = kind;
    names << QString::number(r);
  }
  if (names.isEmpty() || next == state_) return;
  const QString what = names.size() == 1 ? tr("layer %1").arg(names[0])
                                         : tr("%1 layers").arg(names.size());
  push_edit(std::move(next), tr("Set %1 to %2").arg(what, mixer_name(kind)), -1);
}

void LayerPlanModel::set_state(const PlanState& next, const QString& text) {
  if (next.kinds.size() != state_.kinds.size() || next == state_) return;
  push_edit(next, text, -1);
}

void LayerPlanModel::set_mla(const MlaSettings& s, int merge_key) {
  PlanState next = state_;
  next.mla = s;
  push_edit(std::move(next), tr("Edit MLA settings"), merge_key);
}
void LayerPlanModel::set_mamba2(const Mamba2Settings& s, int merge_key) {
  PlanState next = state_;
  next.mamba2 = s;
  push_edit(std::move(next), tr("Edit Mamba2 settings"), merge_key);
}
void LayerPlanModel::set_gdn(const GdnSettings& s, int merge_key) {
  PlanState next = state_;
  next.gdn = s;
  push_edit(std::move(next), tr("Edit GDN settings"), merge_key);
}

void LayerPlanModel::push_edit(PlanState next, const QString& text, int merge_key) {
  if (next == state_) return;
  undo_.push(new PlanEditCommand(this, state_, std::move(next), text, merge_key));
}

void LayerPlanModel::apply(const PlanState& next) {
  state_ = next;
  resolve_student();
  if (rowCount() > 0) emit dataChanged(index(0), index(rowCount() - 1));
  emit plan_changed();
}

int LayerPlanModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(state_.kinds.size());
}

QVariant LayerPlanModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const int row = index.row();
  const MixerKind k = kind(row);
  switch (role) {
    case Qt::DisplayRole: return tr("%1  %2").arg(row).arg(mixer_name(k));
    case Qt::ToolTipRole:
      return tr("Layer %1: %2 (teacher: %3)\n%4")
          .arg(row)
          .arg(mixer_name(k), mixer_name(teacher_.layers[static_cast<size_t>(row)].kind), mixer_sizes(layer_spec(row)));
    case Qt::BackgroundRole: return mixer_tint(k);
    case Qt::DecorationRole: return mixer_color(k);
    case KindRole: return static_cast<int>(k);
    case TeacherKindRole: return static_cast<int>(teacher_.layers[static_cast<size_t>(row)].kind);
    case SizesRole: return mixer_sizes(layer_spec(row));
    case ChangedRole: return k != teacher_.layers[static_cast<size_t>(row)].kind;
    default: return {};
  }
}

Qt::ItemFlags LayerPlanModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;  // drops land on a layer, never between layers
  return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled | Qt::ItemIsDropEnabled;
}

QStringList LayerPlanModel::mimeTypes() const { return {kMixerMimeType}; }

QMimeData* LayerPlanModel::mime_for_kind(MixerKind kind) {
  auto* data = new QMimeData;
  data->setData(kMixerMimeType, kind_token(kind));
  data->setText(mixer_name(kind));
  return data;
}

bool LayerPlanModel::kind_from_mime(const QMimeData* data, MixerKind* kind) {
  if (!data || !data->hasFormat(kMixerMimeType)) return false;
  const QByteArray token = data->data(kMixerMimeType);
  for (MixerKind k : kAllMixerKinds) {
    if (kind_token(k) == token) {
      *kind = k;
      return true;
    }
  }
  return false;
}

// Dragging a layer carries its mixer kind: drop it on other layers to copy it.
QMimeData* LayerPlanModel::mimeData(const QModelIndexList& indexes) const {
  if (indexes.isEmpty() || !indexes.first().isValid()) return nullptr;
  return mime_for_kind(kind(indexes.first().row()));
}

QList<int> LayerPlanModel::drop_rows(int target) const {
  if (selection_ && selection_->model() == this && selection_->isRowSelected(target, {})) {
    QList<int> rows;
    for (const QModelIndex& i : selection_->selectedRows()) rows << i.row();
    return rows;
  }
  return {target};
}

bool LayerPlanModel::canDropMimeData(const QMimeData* data, Qt::DropAction action, int row,
                                     int, const QModelIndex& parent) const {
  MixerKind k;
  const int target = parent.isValid() ? parent.row() : row;
  return action == Qt::CopyAction && kind_from_mime(data, &k) &&
         target >= 0 && target < rowCount();
}

bool LayerPlanModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row,
                                  int column, const QModelIndex& parent) {
  if (!canDropMimeData(data, action, row, column, parent)) return false;
  MixerKind k;
  kind_from_mime(data, &k);
  assign(drop_rows(parent.isValid() ? parent.row() : row), k);
  return true;
}

Qt::DropActions LayerPlanModel::supportedDropActions() const { return Qt::CopyAction; }
Qt::DropActions LayerPlanModel::supportedDragActions() const { return Qt::CopyAction; }

}  // namespace hylo::views
