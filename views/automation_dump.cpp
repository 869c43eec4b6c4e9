#include "views/automation_dump.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListView>
#include <QPushButton>
#include <QSaveFile>
#include <QTabBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>

#include "views/curves_view.h"
#include "views/layer_plan_model.h"
#include "views/main_window.h"
#include "views/mixer_palette.h"
#include "views/mixer_style.h"
#include "views/planner_view.h"
#include "views/runs_view.h"
#include "views/train_process.h"

namespace hylo::views {

static constexpr int kIntervalMs = 200;

// `local` (in `w`'s coordinates) on the screen, or null when `w` is hidden or the rect is
// scrolled out of it.
static QJsonValue screen_rect(const QWidget* w, QRect local) {
  local = local.intersected(w->rect());
  if (!w->isVisible() || local.isEmpty()) return QJsonValue::Null;
  const QPoint at = w->mapToGlobal(local.topLeft());
  return QJsonArray{at.x(), at.y(), local.width(), local.height()};
}

static QString label_text(const QWidget* parent, const char* name) {
  const auto* label = parent->findChild<QLabel*>(QLatin1String(name));
  return label ? label->text() : QString();
}

AutomationDump::AutomationDump(MainWindow* window, const QString& file)
    : QObject(window), window_(window), file_(file), timer_(new QTimer(this)) {
  timer_->setInterval(kIntervalMs);
  connect(timer_, &QTimer::timeout, this, &AutomationDump::write_if_changed);
  timer_->start();
}

QByteArray AutomationDump::snapshot() const {
  QJsonObject o;
  o["window"] = qint64(window_->winId());
  const QTabWidget* tabs = window_->tabs();
  o["tab"] = tabs->tabText(tabs->currentIndex());
  QJsonObject tab_rects;
  for (int i = 0; i < tabs->count(); ++i)
    tab_rects[tabs->tabText(i)] = screen_rect(tabs->tabBar(), tabs->tabBar()->tabRect(i));
  o["tabs"] = tab_rects;

  const PlannerView* planner = window_->planner();
  QJsonObject palette;
  if (const auto* p = planner->findChild<MixerPalette*>()) {
    for (int i = 0; i < p->count(); ++i)
      palette[mixer_name(MixerPalette::kind_of(p->item(i)))] = screen_rect(p->viewport(), p->visualItemRect(p->item(i)));
  }
  o["palette"] = palette;
  QJsonArray layers;
  const QListView* list = planner->layer_list();
  for (int row = 0; row < planner->model()->rowCount(); ++row)
    layers.append(QJsonObject{
        {"kind", QString::fromStdString(to_string(planner->model()->kind(row)))},
        {"rect", screen_rect(list->viewport(), list->visualRect(planner->model()->index(row)))}});
  o["layers"] = layers;

  const RunsView* runs = window_->runs();
  o["labels"] = QJsonObject{{"est_name", label_text(planner, "est_name")},
                            {"est_kv", label_text(planner, "est_kv")},
                            {"run_status", runs->status_text()}};
  const QPushButton* start = runs->start_button();
  o["start"] = QJsonObject{{"rect", screen_rect(start, start->rect())}, {"enabled", start->isEnabled()}};
  const auto run = runs->trainer()->run_id();
  o["trainer"] = QJsonObject{{"running", runs->trainer()->running()},
                             {"run", run ? QJsonValue(qint64(*run)) : QJsonValue::Null}};
  const CurvesView* curves = window_->curves();
  const CurveSeries* curve = run ? curves->series(*run, curves->metric()) : nullptr;
  o["curve"] = QJsonObject{{"metric", curves->metric()}, {"points", qint64(curve ? curve->size() : 0)}};
  QJsonArray table;
  const QTableWidget* t = runs->table();
  for (int row = 0; row < t->rowCount(); ++row) {
    QJsonArray cells;
    for (int col : {0, 1, 2}) cells.append(t->item(row, col) ? t->item(row, col)->text() : QString());
    table.append(cells);
  }
  o["runs"] = table;
  return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

void AutomationDump::write_if_changed() {
  QByteArray now = snapshot();
  if (now == last_) return;
  QJsonObject o = QJsonDocument::fromJson(now).object();
  o["seq"] = ++seq_;
  QSaveFile f(file_);
  if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(o).toJson(QJsonDocument::Indented)) < 0 ||
      !f.commit()) {
    timer_->stop();  // a test reading the file will say it stopped changing; the window carries on
    qWarning("--automation-dump %s: %s", qPrintable(file_), qPrintable(f.errorString()));
    return;
  }
  last_ = std::move(now);
}

}  // namespace hylo::views
