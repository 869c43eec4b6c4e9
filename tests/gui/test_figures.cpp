// hylo-figures renderers, in process: the NIAH row has the asked size, a score-1 cell is green and
// a score-0 cell red, panels carry the model name and the KV share against the teacher the student
// names (9.4 % for the demo MLA+GDN plan, by hand: 2 layers x (32 + 16) latent / 8 layers x 2 x 2
// x 32 K/V = 96 / 1024; the project's first teacher, teacher-large, would give 96 / 2560), curves
// draw the run's colour, screenshots write one PNG per tab, and unknown ids, models, metrics and
// projects are errors naming them.
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <optional>

#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/model_config.h"
#include "core/spec/plan.h"
#include "projects/store/project_store.h"
#include "views/curves_figure.h"
#include "views/eval_catalog.h"
#include "views/niah_figure.h"
#include "views/screenshots.h"

using namespace hylo;
using namespace hylo::views;

static QString source(const QString& rel) { return qEnvironmentVariable("HYLO_SOURCE_DIR") + "/" + rel; }

// 3 lengths x 4 depths, every cell `score`; with `loglik`, every cell's log-likelihood too.
static std::string grid_json(double score, std::optional<double> loglik = std::nullopt) {
  const QString row = QStringLiteral("[%1,%1,%1,%1]").arg(score);
  const QString ll = loglik ? QStringLiteral(R"("loglik":[%1,%1,%1],)").arg(QStringLiteral("[%1,%1,%1,%1]").arg(*loglik))
                            : QString();
  return QStringLiteral(R"({"task":"niah_single_2","lengths":[1024,2048,4096],"depths":[0,33,66,100],)"
                        R"("score":[%1,%1,%1],%2"trials":2,"model":"/m/x","kv_bytes":{}})")
      .arg(row, ll)
      .toStdString();
}

static bool near(QRgb a, QColor b, int tol) {
  return std::abs(qRed(a) - b.red()) <= tol && std::abs(qGreen(a) - b.green()) <= tol &&
         std::abs(qBlue(a) - b.blue()) <= tol;
}

// Which message a call throws as a hylo::Error; empty when it does not throw.
template <class F>
static QString error_of(F&& f) {
  try {
    f();
  } catch (const hylo::Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

class TestFigures : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::int64_t student_eval_ = 0, teacher_eval_ = 0, large_eval_ = 0, ppl_eval_ = 0, run_ = 0;

 private slots:
  void initTestCase() {
    qputenv("HYLO_BIN", qgetenv("HYLO_SOURCE_DIR") + "/tests/gui/fake/fake_hylo.sh");
    QVERIFY(QDir(dir_.path()).mkpath("teacher"));
    QVERIFY(QFile::copy(source("demo/configs/teacher.json"), dir_.filePath("teacher/config.json")));
    auto s = store::ProjectStore::open(dir_.path().toStdString(), true);
    const ModelConfig teacher = ModelConfig::load(dir_.filePath("teacher").toStdString());
    QFile plan_file(source("demo/plans/mla-gdn.yaml"));
    QVERIFY(plan_file.open(QIODevice::ReadOnly));
    const std::string plan_yaml = plan_file.readAll().toStdString();

    // A first teacher the student was not made from: the student's own (absolute) teacher wins.
    store::ModelRecord other;
    other.kind = store::ModelKind::Teacher;
    other.name = "teacher-large";
    other.path = "absent";
    QFile large(source("demo/configs/teacher-large.json"));
    QVERIFY(large.open(QIODevice::ReadOnly));
    other.config_json = large.readAll().toStdString();
    const std::int64_t large_id = s.add_model(other);
    store::ModelRecord t;
    t.kind = store::ModelKind::Teacher;
    t.name = "teacher";
    t.path = "teacher";
    const std::int64_t teacher_id = s.add_model(t);
    store::ModelRecord st;
    st.kind = store::ModelKind::Student;
    st.name = "2MLA6GDN (distilled)";
    st.path = "student";
    ModelConfig student = LayerPlan::from_yaml(plan_yaml).resolve(teacher);
    student.teacher = dir_.filePath("teacher").toStdString();
    st.config_json = student.to_json().dump();
    const std::int64_t student_id = s.add_model(st);
    store::PlanRecord p;
    p.model_id = teacher_id;
    p.name = "2MLA6GDN";
    p.yaml = plan_yaml;
    s.add_plan(p);

    store::EvalRecord e;
    e.kind = store::EvalKind::Niah;
    e.model_id = student_id;
    e.result_json = grid_json(1.0, 0.0);  // needle probability 1
    student_eval_ = s.add_eval(e);
    e.model_id = teacher_id;
    e.result_json = grid_json(0.0, -30.0);  // needle probability ~0
    teacher_eval_ = s.add_eval(e);
    e.model_id = large_id;
    large_eval_ = s.add_eval(e);
    e.kind = store::EvalKind::Ppl;
    e.result_json = R"({"buckets":[[0,512]],"loss":[2.5],"tokens":[512]})";
    ppl_eval_ = s.add_eval(e);

    store::RunRecord r;
    r.name = "distill";
    run_ = s.add_run(r);
    std::vector<store::MetricRow> rows;
    for (int i = 0; i < 40; ++i) {
      rows.push_back({i * 10, i * 1000, double(i), "loss", 5.0 * std::exp(-0.05 * i)});
      rows.push_back({i * 10, i * 1000, double(i), "lr", 1e-3});
    }
    s.append_metrics(run_, rows);
  }

  void niah_row_colours_and_titles() {
    auto s = store::ProjectStore::open(dir_.path().toStdString(), false);
    std::vector<NiahPanel> panels = {niah_panel(s, student_eval_), niah_panel(s, teacher_eval_)};
    QCOMPARE(panels[0].label, QString("2MLA6GDN (distilled)"));
    QVERIFY(panels[0].kv_fraction && std::abs(*panels[0].kv_fraction - 96.0 / 1024.0) < 1e-12);
    QVERIFY(panels[1].kv_fraction && *panels[1].kv_fraction == 1.0);  // the teacher itself
    // A second, larger teacher is measured against the one the plans were made on, not 100%.
    const ModelConfig large_config = ModelConfig::load(source("demo/configs/teacher-large.json").toStdString());
    const ModelConfig teacher_config = ModelConfig::load(dir_.filePath("teacher").toStdString());
    const auto large_kv = niah_panel(s, large_eval_).kv_fraction;
    QVERIFY(large_kv && *large_kv > 1.0);
    QCOMPARE(*large_kv, kv_fraction(large_config, teacher_config));

    const QSize size(900, 420);
    NiahFigure fig(panels, {"HyLo student"}, "NIAH", size);
    QCOMPARE(fig.panel_title(0), QString("HyLo student\nKV cache 9.4 % of the teacher"));
    QCOMPARE(fig.panel_title(1), QString("teacher\nKV cache 100.0 % of the teacher"));
    const QString file = dir_.filePath("niah.png");
    fig.save_png(file);
    const QImage img(file);
    QCOMPARE(img.size(), size);
    const QPoint one = fig.cell_center(0, 1, 2), zero = fig.cell_center(1, 1, 2);
    QVERIFY(one.x() < zero.x());  // panels left to right in order
    QVERIFY2(near(img.pixel(one), QColor("#2e7d32"), 2), qPrintable(QColor(img.pixel(one)).name()));
    QVERIFY2(near(img.pixel(zero), QColor("#c62828"), 2), qPrintable(QColor(img.pixel(zero)).name()));
  }

  // Needle probability: exp(loglik) on the same 0..1 scale; an evaluation without log-likelihoods
  // is an error naming it.
  void niah_needle_probability() {
    auto s = store::ProjectStore::open(dir_.path().toStdString(), false);
    std::vector<NiahPanel> panels = {niah_panel(s, student_eval_), niah_panel(s, teacher_eval_)};
    const QSize size(900, 420);
    NiahFigure fig(panels, {}, "NIAH", size, NiahMeasure::NeedleProbability);
    const QString file = dir_.filePath("niah-prob.png");
    fig.save_png(file);
    const QImage img(file);
    QVERIFY(near(img.pixel(fig.cell_center(0, 0, 0)), QColor("#2e7d32"), 2));
    QVERIFY(near(img.pixel(fig.cell_center(1, 2, 3)), QColor("#c62828"), 2));
    for (auto& row : panels[1].result.loglik)
      for (double& v : row) v = std::nan("");  // what --no-loglik stores
    try {
      NiahFigure bad(panels, {}, "NIAH", size, NiahMeasure::NeedleProbability);
      QFAIL("no error for an evaluation without log-likelihoods");
    } catch (const EvalError& e) {
      QVERIFY2(std::string(e.what()).find("evaluation " + std::to_string(teacher_eval_)) != std::string::npos, e.what());
    }
  }

  void evaluations_by_id_and_model() {
    auto s = store::ProjectStore::open(dir_.path().toStdString(), false);
    const std::vector<EvalSummary> all = eval_summaries(s);
    QCOMPARE(all.size(), std::size_t(4));
    QCOMPARE(all[0].kind, QString("niah"));
    QCOMPARE(all[0].lengths, (std::vector<std::int64_t>{1024, 2048, 4096}));
    QCOMPARE(*all[0].mean_score, 1.0);
    QCOMPARE(*all[1].mean_score, 0.0);
    QCOMPARE(*all[2].mean_score, 0.0);  // the larger teacher's
    QVERIFY(!all[3].mean_score);        // perplexity has no score
    QCOMPARE(newest_niah_eval(s, "teacher"), teacher_eval_);

    QString err = error_of([&] { niah_panel(s, 999); });
    QVERIFY2(err.contains("evals") && err.contains("999"), qPrintable(err));
    err = error_of([&] { niah_panel(s, ppl_eval_); });
    QVERIFY2(err.contains(QString("evals[%1]").arg(ppl_eval_)) && err.contains("not niah"), qPrintable(err));
    err = error_of([&] { newest_niah_eval(s, "nobody"); });
    QVERIFY2(err.contains("\"nobody\"") && err.contains("project.db"), qPrintable(err));
  }

  void curves_draw_the_run() {
    CurvesFigure f;
    f.project = dir_.path();
    f.runs = {run_};
    f.labels = {"student"};
    f.size = QSize(640, 400);
    const QString file = dir_.filePath("curves.png");
    save_curves_figure(f, file);
    const QImage img(file);
    QCOMPARE(img.size(), f.size);
    int run_pixels = 0;  // the first run's colour (CurvesView's palette starts with #4e79a7)
    for (int y = 0; y < img.height(); ++y)
      for (int x = 0; x < img.width(); ++x) run_pixels += near(img.pixel(x, y), QColor("#4e79a7"), 8);
    QVERIFY2(run_pixels > 200, qPrintable(QString::number(run_pixels)));
  }

  void curves_errors_name_the_problem() {
    CurvesFigure f;
    f.project = dir_.path();
    f.runs = {run_, 77};
    QString err = error_of([&] { save_curves_figure(f, dir_.filePath("x.png")); });
    QVERIFY2(err.contains("runs") && err.contains("77"), qPrintable(err));
    f.runs = {run_};
    f.metric = "grad_norm";
    err = error_of([&] { save_curves_figure(f, dir_.filePath("x.png")); });
    QVERIFY2(err.contains("\"grad_norm\"") && err.contains("loss, lr"), qPrintable(err));
    f.project = dir_.filePath("missing");
    err = error_of([&] { save_curves_figure(f, dir_.filePath("x.png")); });
    QVERIFY2(err.contains("missing"), qPrintable(err));
    QVERIFY(!QFile::exists(dir_.filePath("x.png")));
  }

  void screenshots_one_png_per_tab() {
    QStringList notes;
    const QSize size(1400, 900);
    const QStringList files = save_screenshots(dir_.path(), dir_.filePath("shots"), size, &notes);
    QVERIFY2(notes.isEmpty(), qPrintable(notes.join('\n')));
    QStringList names;
    for (const QString& f : files) {
      names << QFileInfo(f).baseName();
      QCOMPARE(QImage(f).size(), size);
    }
    QCOMPARE(names, QStringList({"model", "planner", "runs", "curves", "memory", "niah", "probe"}));
    const QString err = error_of([&] { save_screenshots(dir_.filePath("nowhere"), dir_.filePath("s2"), size, &notes); });
    QVERIFY2(err.contains("nowhere"), qPrintable(err));
  }
};

QTEST_MAIN(TestFigures)
#include "test_figures.moc"
