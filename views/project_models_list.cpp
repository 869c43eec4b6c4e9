#include "views/project_models_list.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "projects/store/project_store.h"

namespace hylo::views {

static constexpr int kDirRole = Qt::UserRole;  // on the Name item: the absolute folder

ProjectModelsList::ProjectModelsList(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 12, 0, 12);
  auto* title = new QLabel(tr("Project models"));
  QFont bold = title->font();
  bold.setBold(true);
  title->setFont(bold);
  summary_ = new QLabel(tr("No project open."));
  summary_->setObjectName(QStringLiteral("models_summary"));
  summary_->setWordWrap(true);
  summary_->setStyleSheet(QStringLiteral("color: #666666;"));
  table_ = new QTableWidget(0, ColumnCount);
  table_->setObjectName(QStringLiteral("project_models"));
  table_->setHorizontalHeaderLabels({tr("Kind"), tr("Name"), tr("Folder")});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setWordWrap(false);
  table_->setTextElideMode(Qt::ElideLeft);  // long folders keep their end and the "(missing)" mark
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  open_ = new QPushButton(tr("Open"));
  open_->setToolTip(tr("Open the selected model (or double-click it)"));
  open_->setEnabled(false);
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(open_);
  layout->addWidget(title);
  layout->addWidget(summary_);
  layout->addWidget(table_, 1);
  layout->addLayout(buttons);

  connect(table_, &QTableWidget::cellDoubleClicked, this, &ProjectModelsList::open_current);
  connect(open_, &QPushButton::clicked, this, &ProjectModelsList::open_current);
  connect(table_, &QTableWidget::itemSelectionChanged, this,
          [this] { open_->setEnabled(!table_->selectedItems().isEmpty()); });
}

void ProjectModelsList::show_models(store::ProjectStore& project) {
  const std::vector<store::ModelRecord> models = project.list_models();
  // The list is re-read while a trainer adds checkpoints: the selected model stays selected.
  const int current = table_->currentRow();
  const QString selected = current >= 0 ? table_->item(current, Name)->data(kDirRole).toString() : QString();
  table_->clearSelection();
  table_->setRowCount(int(models.size()));
  missing_ = 0;
  for (int row = 0; row < int(models.size()); ++row) {
    const store::ModelRecord& m = models[std::size_t(row)];
    const bool exists = project.path_exists(m.path);
    const QString dir = QString::fromStdString(project.resolve_path(m.path));
    auto* kind = new QTableWidgetItem(QString::fromLatin1(store::to_string(m.kind)));
    auto* name = new QTableWidgetItem(QString::fromStdString(m.name));
    auto* folder = new QTableWidgetItem(exists ? QString::fromStdString(m.path)
                                               : tr("%1 (missing)").arg(QString::fromStdString(m.path)));
    name->setData(kDirRole, dir);
    for (QTableWidgetItem* item : {kind, name, folder}) {
      item->setToolTip(exists ? dir : tr("%1 is not there: deleted, or moved outside the project").arg(dir));
      if (!exists) item->setForeground(QColor("#b3261e"));
    }
    if (m.kind == store::ModelKind::Teacher) {
      QFont f = name->font();
      f.setBold(true);
      name->setFont(f);
    }
    table_->setItem(row, Kind, kind);
    table_->setItem(row, Name, name);
    table_->setItem(row, Folder, folder);
    missing_ += exists ? 0 : 1;
    if (!selected.isEmpty() && dir == selected) table_->selectRow(row);
  }
  const QString count = models.size() == 1 ? tr("1 model") : tr("%1 models").arg(models.size());
  summary_->setText(missing_ ? tr("%1, %2 missing (red).").arg(count).arg(missing_) : count + QLatin1Char('.'));
}

void ProjectModelsList::open_current() {
  const int row = table_->currentRow();
  if (row < 0) return;
  const QTableWidgetItem* name = table_->item(row, Name);
  emit open_requested(name->data(kDirRole).toString(), name->text());
}

}  // namespace hylo::views
