#include "views/plan_estimates_panel.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextDocumentFragment>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "core/spec/error.h"
#include "core/spec/plan.h"
#include "views/format.h"
#include "views/layer_plan_model.h"
#include "views/mixer_style.h"

namespace hylo::views {

static constexpr int kMinLog2Context = 10;  // 1K tokens
static constexpr int kMaxLog2Context = 21;  // 2M tokens
static constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

static QString token_count(double n) {
  if (n >= 1 << 20) return QStringLiteral("%1M").arg(n / (1 << 20));
  if (n >= 1 << 10) return QStringLiteral("%1K").arg(n / (1 << 10));
  return QString::number(n);
}

static QLabel* stat_label(const QString& object_name) {
  auto* label = new QLabel;
  label->setObjectName(object_name);
  label->setTextFormat(Qt::RichText);
  label->setStyleSheet(QStringLiteral(
      "QLabel { background: #f4f5f7; border: 1px solid #dfe1e5; border-radius: 6px; padding: 6px 10px; }"));
  return label;
}

static QString stat_html(const QString& title, const QString& value, const QString& detail) {
  return QStringLiteral("<span style='color:#666'>%1</span><br><span style='font-size:large; "
                        "font-weight:bold'>%2</span><br><span style='color:#666'>%3</span>")
      .arg(title, value, detail);
}

PlanEstimatesPanel::PlanEstimatesPanel(LayerPlanModel* model, QWidget* parent)
    : QWidget(parent), model_(model) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(8);

  name_ = new QLabel(tr("No teacher"));
  name_->setObjectName(QStringLiteral("est_name"));
  QFont big = name_->font();
  big.setPointSizeF(big.pointSizeF() * 1.6);
  big.setBold(true);
  name_->setFont(big);
  layout->addWidget(name_);

  auto* stats = new QHBoxLayout;
  kv_ = stat_label(QStringLiteral("est_kv"));
  params_ = stat_label(QStringLiteral("est_params"));
  flops_ = stat_label(QStringLiteral("est_flops"));
  for (QLabel* l : {kv_, params_, flops_}) stats->addWidget(l, 1);
  layout->addLayout(stats);

  problem_ = new QLabel;
  problem_->setObjectName(QStringLiteral("est_problem"));
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QStringLiteral("color: #b3261e;"));
  problem_->hide();
  layout->addWidget(problem_);

  auto* gpu_row = new QHBoxLayout;
  gpu_row->addWidget(new QLabel(tr("GPU memory")));
  gpu_gb_ = new QDoubleSpinBox;
  gpu_gb_->setRange(1, 4096);
  gpu_gb_->setDecimals(0);
  gpu_gb_->setValue(80);
  gpu_gb_->setSuffix(tr(" GiB"));
  gpu_gb_->setToolTip(tr("Drawn as a line: where one sequence's cache fills the GPU"));
  gpu_row->addWidget(gpu_gb_);
  gpu_row->addStretch(1);
  layout->addLayout(gpu_row);

  chart_ = new QCustomPlot;
  chart_->setObjectName(QStringLiteral("est_chart"));
  chart_->setMinimumHeight(240);
  for (QCPAxis* axis : {chart_->xAxis, chart_->yAxis}) {
    axis->setScaleType(QCPAxis::stLogarithmic);
    axis->grid()->setSubGridVisible(false);
  }
  chart_->xAxis->setLabel(tr("context length (tokens)"));
  chart_->yAxis->setLabel(tr("KV cache + state (bf16)"));
  auto x_ticks = QSharedPointer<QCPAxisTickerText>::create();
  for (int p = kMinLog2Context; p <= kMaxLog2Context; p += 2)
    x_ticks->addTick(std::ldexp(1.0, p), token_count(std::ldexp(1.0, p)));
  chart_->xAxis->setTicker(x_ticks);
  chart_->xAxis->setRange(std::ldexp(1.0, kMinLog2Context), std::ldexp(1.0, kMaxLog2Context));

  QCPGraph* teacher = chart_->addGraph();
  teacher->setName(tr("teacher"));
  teacher->setPen(QPen(mixer_color(MixerKind::Attention), 2.5));
  QCPGraph* plan = chart_->addGraph();
  plan->setName(tr("plan"));
  plan->setPen(QPen(mixer_color(MixerKind::MLA), 2.5));
  QCPGraph* gpu = chart_->addGraph();
  gpu->setName(tr("GPU memory"));
  gpu->setPen(QPen(QColor(0xb3, 0x26, 0x1e), 1.5, Qt::DashLine));
  chart_->legend->setVisible(true);
  chart_->legend->setBrush(QColor(255, 255, 255, 220));
  chart_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  layout->addWidget(chart_, 1);

  connect(model_, &LayerPlanModel::plan_changed, this, &PlanEstimatesPanel::recompute);
  connect(gpu_gb_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          &PlanEstimatesPanel::replot_memory_line);
  recompute();
}

void PlanEstimatesPanel::set_teacher(const ModelConfig& teacher) {
  teacher_ = teacher;
  has_teacher_ = true;
  recompute();
}

QString PlanEstimatesPanel::summary_text() const {
  // The stat cards are rich text: their plain words, one card a line ("KV cache vs teacher 3.9% ...").
  QStringList lines = {name_->text()};
  for (const QLabel* card : {kv_, params_, flops_})
    lines << QTextDocumentFragment::fromHtml(card->text()).toPlainText().simplified();
  return lines.join('\n');
}

void PlanEstimatesPanel::recompute() {
  if (!has_teacher_ || model_->rowCount() == 0) return;
  try {
    const LayerPlan plan = layer_plan_from(model_->state(), {});
    const ModelConfig student = plan.resolve(teacher_);
    numbers_ = plan_numbers(student, teacher_);
    valid_ = true;
    problem_->hide();

    QVector<double> x, yt, yp;
    for (int q = kMinLog2Context * 4; q <= kMaxLog2Context * 4; ++q) {  // 4 points per octave
      const auto tokens = static_cast<int64_t>(std::llround(std::exp2(q / 4.0)));
      x << static_cast<double>(tokens);
      yt << cache_bytes_at(teacher_, tokens);
      yp << cache_bytes_at(student, tokens);
    }
    chart_->graph(0)->setData(x, yt, true);
    chart_->graph(1)->setData(x, yp, true);
    chart_->graph(1)->setName(numbers_.compact_name);
  } catch (const hylo::Error& e) {
    valid_ = false;
    problem_->setText(tr("Plan not valid: %1").arg(QString::fromStdString(e.what())));
    problem_->show();
  }
  name_->setText(numbers_.compact_name);
  kv_->setText(stat_html(tr("KV cache vs teacher"),
                         QStringLiteral("%1%").arg(100.0 * numbers_.kv_fraction, 0, 'f', 1),
                         tr("per token; states are constant")));
  params_->setText(stat_html(tr("Parameters"), human_count(numbers_.params),
                             tr("teacher %1").arg(human_count(numbers_.teacher_params))));
  flops_->setText(stat_html(tr("FLOPs / token"), human_count(numbers_.flops_per_token),
                            tr("teacher %1 · at %2 tokens")
                                .arg(human_count(numbers_.teacher_flops_per_token))
                                .arg(token_count(kFlopsContext))));
  replot_memory_line();
}

void PlanEstimatesPanel::replot_memory_line() {
  const double limit = gpu_gb_->value() * kGiB;
  chart_->graph(2)->setData({chart_->xAxis->range().lower, chart_->xAxis->range().upper},
                            {limit, limit}, true);
  chart_->graph(2)->setName(tr("GPU %1 GiB").arg(gpu_gb_->value()));
  // Show everything from the smallest plan cache to above the GPU line, in whole powers of 4.
  double lo = limit, hi = limit;
  for (int g = 0; g < 2; ++g)
    for (auto it = chart_->graph(g)->data()->constBegin(); it != chart_->graph(g)->data()->constEnd(); ++it) {
      lo = std::min(lo, it->value);
      hi = std::max(hi, it->value);
    }
  lo = std::pow(4.0, std::floor(std::log(std::max(lo, 1.0)) / std::log(4.0)));
  hi = std::pow(4.0, std::ceil(std::log(hi * 1.01) / std::log(4.0)));
  auto y_ticks = QSharedPointer<QCPAxisTickerText>::create();
  for (double v = lo; v <= hi * 1.001; v *= 4) y_ticks->addTick(v, human_bytes(v));
  chart_->yAxis->setTicker(y_ticks);
  chart_->yAxis->setRange(lo, hi);
  chart_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace hylo::views
