#include "views/model_info_view.h"

#include <QDir>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/spec/error.h"
#include "views/format.h"
#include "views/mixer_style.h"
#include "views/model_facts.h"

namespace hylo::views {

ModelInfoView::ModelInfoView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(16, 12, 16, 12);
  layout->setSpacing(10);
  title_ = new QLabel(tr("No model open — File ▸ Open checkpoint..."));
  QFont big = title_->font();
  big.setPointSizeF(big.pointSizeF() * 1.4);
  big.setBold(true);
  title_->setFont(big);
  layout->addWidget(title_);

  auto* grid = new QGridLayout;
  grid->setHorizontalSpacing(18);
  grid->setVerticalSpacing(6);
  const auto& keys = model_fact_keys();
  const int rows = (static_cast<int>(keys.size()) + 2) / 3;  // three columns of facts
  for (int i = 0; i < static_cast<int>(keys.size()); ++i) {
    auto* name = new QLabel(model_fact_label(keys[i]) + QLatin1Char(':'));
    name->setStyleSheet(QStringLiteral("color: #666666;"));
    auto* value = new QLabel(QStringLiteral("—"));
    value->setObjectName(QStringLiteral("fact_") + keys[i]);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = value->font();
    bold.setBold(true);
    value->setFont(bold);
    grid->addWidget(name, i % rows, (i / rows) * 2, Qt::AlignRight);
    grid->addWidget(value, i % rows, (i / rows) * 2 + 1);
    facts_.insert(keys[i], value);
  }
  for (int c = 2; c < 6; c += 2) grid->setColumnMinimumWidth(c, 150);  // gap between groups
  grid->setColumnStretch(6, 1);  // facts pack to the left
  layout->addLayout(grid);

  table_ = new QTableWidget(0, 4);
  table_->setObjectName(QStringLiteral("layers"));
  table_->setHorizontalHeaderLabels({tr("Layer"), tr("Mixer"), tr("Key sizes"), tr("Cache")});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(false);
  table_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
  table_->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  layout->addWidget(table_, 1);
}

bool ModelInfoView::open(const QString& dir) {
  try {
    ModelConfig loaded = ModelConfig::load(dir.toStdString());
    config_ = std::move(loaded);
    dir_ = QDir(dir).absolutePath();
    show_config();
    emit message(tr("Opened %1 (%2, %3 layers)")
                     .arg(dir_, QString::fromStdString(config_.model_type))
                     .arg(config_.num_hidden_layers));
    return true;
  } catch (const hylo::Error& e) {
    emit error_occurred(tr("Cannot open checkpoint"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    emit error_occurred(tr("Internal error opening %1").arg(dir), QString::fromStdString(e.what()));
  }
  return false;
}

QString ModelInfoView::fact(const QString& key) const {
  auto it = facts_.find(key);
  return it == facts_.end() ? QString() : (*it)->text();
}

void ModelInfoView::show_config() {
  title_->setText(tr("%1 — %2").arg(QDir(dir_).dirName(), QString::fromStdString(config_.model_type)));
  const auto values = model_facts(config_);
  for (auto it = values.begin(); it != values.end(); ++it) facts_.value(it.key())->setText(it.value());

  const std::vector<LayerSpec>& specs = config_.layers;
  table_->setRowCount(static_cast<int>(specs.size()));
  for (int r = 0; r < table_->rowCount(); ++r) {
    const LayerSpec& spec = specs[static_cast<size_t>(r)];
    auto* index = new QTableWidgetItem(QString::number(r));
    index->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    auto* mixer = new QTableWidgetItem(mixer_name(spec.kind));
    mixer->setBackground(mixer_color(spec.kind));
    mixer->setForeground(Qt::white);
    QFont bold = mixer->font();
    bold.setBold(true);
    mixer->setFont(bold);
    mixer->setTextAlignment(Qt::AlignCenter);
    auto* sizes = new QTableWidgetItem(mixer_sizes(spec));
    auto* cache = new QTableWidgetItem(layer_cache_text(spec));
    for (auto* item : {index, sizes, cache}) item->setBackground(mixer_tint(spec.kind));
    table_->setItem(r, 0, index);
    table_->setItem(r, 1, mixer);
    table_->setItem(r, 2, sizes);
    table_->setItem(r, 3, cache);
  }
  table_->resizeColumnToContents(0);
  table_->setColumnWidth(1, 110);
  table_->resizeColumnToContents(3);
}

}  // namespace hylo::views
