#include "views/runs_view.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "views/format.h"
#include "views/hylo_binary.h"
#include "views/recipe_stages_table.h"
#include "views/train_process.h"

namespace hylo::views {

static constexpr int kRefreshMs = 1000;

static const char* kStarterRecipe =
    "# recipe.yaml: the stages `hylo train` runs in order\n"
    "data: {train: data/train/manifest.json, seed: 17}\n"
    "stages:\n"
    "  - {kind: ild, seq_len: 2k, tokens: 50M, lr: 2e-4, train: new-mixers}\n"
    "  - {kind: kd, seq_len: 8k, tokens: 2B, lr: 6e-5, warmup: 0.01, temperature: 1.0}\n"
    "checkpoint: {every: 500, keep: 3}\n";

RunsView::RunsView(QWidget* parent)
    : QWidget(parent), trainer_(new TrainProcess(this)), devices_proc_(new QProcess(this)), timer_(new QTimer(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 8);
  table_ = new QTableWidget(0, 8);
  table_->setHorizontalHeaderLabels({tr("Run"), tr("Name"), tr("State"), tr("Step"), tr("Last loss"), tr("Started"),
                                     tr("ETA"), tr("Message")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);

  auto* launch = new QGroupBox(tr("Launch"));
  auto* form = new QFormLayout(launch);
  student_ = new QLineEdit;
  student_->setPlaceholderText(tr("student checkpoint folder (from hylo upcycle)"));
  out_ = new QLineEdit;
  out_->setPlaceholderText(tr("run folder for checkpoints"));
  devices_ = new QComboBox;
  devices_->addItem(tr("cpu"), QStringLiteral("cpu"));
  form->addRow(tr("Student"), student_);
  form->addRow(tr("Output"), out_);
  form->addRow(tr("Device"), devices_);
  auto* buttons = new QHBoxLayout;
  start_ = new QPushButton(tr("Start"));
  stop_ = new QPushButton(tr("Stop"));
  stop_->setToolTip(tr("SIGTERM: the trainer writes a checkpoint and exits"));
  resume_ = new QPushButton(tr("Resume"));
  resume_->setToolTip(tr("Continue from the newest checkpoint in the output folder"));
  for (QPushButton* b : {start_, stop_, resume_}) buttons->addWidget(b);
  form->addRow(buttons);
  status_ = new QLabel(tr("No trainer running."));
  status_->setObjectName(QStringLiteral("run_status"));
  status_->setWordWrap(true);
  form->addRow(status_);

  auto* recipe_box = new QGroupBox(tr("Recipe (recipe.yaml)"));
  auto* recipe_layout = new QVBoxLayout(recipe_box);
  recipe_ = new QPlainTextEdit;
  recipe_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  recipe_->setPlainText(QString::fromLatin1(kStarterRecipe));
  stages_ = new RecipeStagesTable(recipe_);
  auto* recipe_split = new QSplitter(Qt::Vertical);
  recipe_split->addWidget(stages_);
  recipe_split->addWidget(recipe_);
  recipe_split->setStretchFactor(1, 1);
  auto* recipe_buttons = new QHBoxLayout;
  auto* load = new QPushButton(tr("Load..."));
  auto* save = new QPushButton(tr("Save..."));
  recipe_buttons->addWidget(load);
  recipe_buttons->addWidget(save);
  recipe_buttons->addStretch(1);
  recipe_layout->addWidget(recipe_split, 1);
  recipe_layout->addLayout(recipe_buttons);

  log_ = new QPlainTextEdit;
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  log_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  log_->setPlaceholderText(tr("The trainer's output appears here."));

  auto* bottom = new QSplitter;
  bottom->addWidget(recipe_box);
  auto* right = new QWidget;
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  right_layout->addWidget(launch);
  right_layout->addWidget(log_, 1);
  bottom->addWidget(right);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(table_);
  split->addWidget(bottom);
  split->setStretchFactor(1, 2);
  layout->addWidget(split);

  connect(start_, &QPushButton::clicked, this, [this] { start(false); });
  connect(resume_, &QPushButton::clicked, this, [this] { start(true); });
  connect(stop_, &QPushButton::clicked, this, &RunsView::stop);
  connect(load, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Load recipe"), {}, tr("Recipes (*.yaml *.yml)"));
    if (!f.isEmpty()) load_recipe(f);
  });
  connect(save, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getSaveFileName(this, tr("Save recipe"), QStringLiteral("recipe.yaml"),
                                                   tr("Recipes (*.yaml *.yml)"));
    if (!f.isEmpty()) save_recipe(f);
  });
  connect(trainer_, &TrainProcess::log_line, this, &RunsView::append_log);
  connect(trainer_, &TrainProcess::ended, this, &RunsView::trainer_ended);
  connect(trainer_, &TrainProcess::event, this, [this] {
    const auto eta = trainer_->eta_s();
    status_->setText(tr("Running: step %1%2").arg(trainer_->step())
                         .arg(eta ? tr(", stage ends in %1 s").arg(*eta, 0, 'f', 0) : QString()));
  });
  connect(devices_proc_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus) {
    const QByteArray out = devices_proc_->readAllStandardOutput();
    const QJsonDocument doc = QJsonDocument::fromJson(out);
    if (code != 0 || !doc.isArray()) {
      append_log(tr("hylo devices failed: %1").arg(QString::fromUtf8(devices_proc_->readAllStandardError()).trimmed()), true);
      return;
    }
    const QString keep = devices_->currentData().toString();
    devices_->clear();
    for (const QJsonValue& v : doc.array()) {
      const QJsonObject d = v.toObject();
      devices_->addItem(tr("%1  %2  (%3 free of %4)").arg(d.value("id").toString(), d.value("name").toString(),
                                                           human_bytes(d.value("free_bytes").toDouble()),
                                                           human_bytes(d.value("total_bytes").toDouble())),
                        d.value("id").toString());
    }
    const int i = devices_->findData(keep);
    if (i >= 0) devices_->setCurrentIndex(i);
  });
  timer_->setInterval(kRefreshMs);
  connect(timer_, &QTimer::timeout, this, &RunsView::refresh);
  update_buttons();
}

RunsView::~RunsView() {
  if (devices_proc_->state() != QProcess::NotRunning) {  // a device query outliving the window is moot
    devices_proc_->kill();
    devices_proc_->waitForFinished(2000);
  }
}

bool RunsView::set_project(const QString& folder) {
  clear_project();
  try {
    store_ = std::make_unique<store::ProjectStore>(store::ProjectStore::open(folder.toStdString(), false));
  } catch (const std::exception& e) {
    emit error_occurred(tr("Runs: cannot read project"), QString::fromStdString(e.what()));
    return false;
  }
  if (out_->text().isEmpty()) out_->setText(QDir(folder).filePath(QStringLiteral("runs/run-1")));
  refresh();
  timer_->start();
  update_buttons();
  return true;
}

void RunsView::clear_project() {
  timer_->stop();
  store_.reset();
  version_ = -1;
  table_->setRowCount(0);
  update_buttons();
}

void RunsView::refresh() {
  if (!store_) return;
  std::vector<store::RunSummary> runs;
  try {
    const std::int64_t v = store_->data_version();
    if (v == version_ && !trainer_->running()) return;
    version_ = v;
    runs = store_->run_summaries();
  } catch (const std::exception& e) {
    timer_->stop();
    emit error_occurred(tr("Runs: cannot read runs"), QString::fromStdString(e.what()));
    return;
  }
  table_->setRowCount(int(runs.size()));
  for (int row = 0; row < int(runs.size()); ++row) {
    const store::RunSummary& s = runs[std::size_t(row)];
    const store::RunRecord& r = s.run;
    const bool ours = trainer_->running() && trainer_->run_id() == r.id;
    const auto eta = ours ? trainer_->eta_s() : std::nullopt;
    const QStringList cells = {QString::number(r.id), QString::fromStdString(r.name),
                               QString::fromLatin1(store::to_string(r.state)),
                               s.last_step ? QString::number(*s.last_step) : QStringLiteral("-"),
                               s.last_loss ? QString::number(*s.last_loss, 'g', 5) : QStringLiteral("-"),
                               QString::fromStdString(r.started),
                               eta ? tr("%1 s").arg(*eta, 0, 'f', 0) : QStringLiteral("-"),
                               QString::fromStdString(r.message)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (r.state == store::RunState::Failed) item->setForeground(QColor("#b3261e"));
      table_->setItem(row, c, item);
    }
  }
  emit runs_changed();
}

void RunsView::refresh_devices() {
  if (devices_proc_->state() != QProcess::NotRunning) return;
  devices_proc_->start(hylo_binary(), {QStringLiteral("devices"), QStringLiteral("--json")});
}

void RunsView::set_recipe_text(const QString& yaml) { recipe_->setPlainText(yaml); }
QString RunsView::recipe_text() const { return recipe_->toPlainText(); }
void RunsView::set_student_dir(const QString& dir) { student_->setText(dir); }
void RunsView::set_out_dir(const QString& dir) { out_->setText(dir); }

bool RunsView::load_recipe(const QString& file) {
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
    emit error_occurred(tr("Cannot load recipe"), tr("%1: %2").arg(file, f.errorString()));
    return false;
  }
  stages_->set_origin(file);
  recipe_->setPlainText(QString::fromUtf8(f.readAll()));
  return true;
}

bool RunsView::save_recipe(const QString& file) {
  QFile f(file);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text) ||
      f.write(recipe_->toPlainText().toUtf8()) < 0) {
    emit error_occurred(tr("Cannot save recipe"), tr("%1: %2").arg(file, f.errorString()));
    return false;
  }
  return true;
}

bool RunsView::start(bool resume) {
  if (trainer_->running()) return false;
  if (!store_ || student_->text().trimmed().isEmpty() || out_->text().trimmed().isEmpty()) {
    emit error_occurred(tr("Cannot start training"), tr("Open a project and fill in the student and output folders."));
    return false;
  }
  const QString out = out_->text().trimmed();
  // The run keeps the recipe it was started with, beside its checkpoints.
  if (!QDir().mkpath(out) || !save_recipe(QDir(out).filePath(QStringLiteral("recipe.yaml")))) return false;
  QStringList args = {QStringLiteral("train"), QDir(out).filePath(QStringLiteral("recipe.yaml")),
                      QStringLiteral("--student"), student_->text().trimmed(), QStringLiteral("--out"), out,
                      QStringLiteral("--project"), QString::fromStdString(store_->folder()),
                      QStringLiteral("--device"), devices_->currentData().toString()};
  if (resume) args << QStringLiteral("--resume");
  log_->clear();
  append_log(tr("$ %1 %2").arg(hylo_binary(), args.join(' ')), false);
  trainer_->start(hylo_binary(), args);
  status_->setText(resume ? tr("Resuming...") : tr("Starting..."));
  update_buttons();
  emit message(tr("Training started (%1)").arg(out));
  return true;
}

void RunsView::stop() {
  if (!trainer_->running()) return;
  status_->setText(tr("Stopping: waiting for the trainer's checkpoint..."));
  trainer_->stop();
}

void RunsView::trainer_ended(bool ok, const QString& why, std::optional<std::int64_t> exit_code) {
  if (ok) {
    status_->setText(tr("Finished at step %1.").arg(trainer_->step()));
    emit message(tr("Training finished"));
  } else {
    status_->setText(tr("Trainer ended: %1").arg(why));
    append_log(why, true);
    // A trainer that dies cannot record its own end: do it for it, so the run is not left "running".
    const auto run = trainer_->run_id();
    if (store_ && run) {
      try {
        const store::RunRecord r = store_->get_run(*run);
        if (!store::is_terminal(r.state))
          store_->mark_run_ended(*run, why == tr("stopped") ? store::RunState::Stopped : store::RunState::Failed,
                                 exit_code, why.toStdString());
      } catch (const std::exception& e) {
        append_log(QString::fromStdString(e.what()), true);
      }
    }
    if (why != tr("stopped")) emit error_occurred(tr("Training failed"), why);
  }
  version_ = -1;
  refresh();
  update_buttons();
}

void RunsView::append_log(const QString& line, bool is_error) {
  if (is_error) log_->appendHtml(QStringLiteral("<span style='color:#b3261e'>%1</span>").arg(line.toHtmlEscaped()));
  else log_->appendPlainText(line);
}

void RunsView::update_buttons() {
  const bool running = trainer_->running();
  start_->setEnabled(store_ && !running);
  resume_->setEnabled(store_ && !running);
  stop_->setEnabled(running);
}

QString RunsView::status_text() const { return status_->text(); }

}  // namespace hylo::views
