// CurvesView against the project store: rows committed by another connection and by another
// process are appended (and only those), smoothing equals a hand-written EMA, the CSV export holds
// exactly the shown points, the SVG export draws each visible graph where the plot puts it, stage
// boundaries are drawn, a damaged project is reported.
#include <QFile>
#include <QProcess>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>
#include <QtTest>

#include "projects/store/project_store.h"
#include "tests/gui/screenshot.h"
#include "views/curves_view.h"

using namespace hylo;
using namespace hylo::views;

// The debiased EMA written out as the weighted mean it is: s_n = sum_i w^(n-i) y_i / sum_i w^(n-i).
static std::vector<double> hand_ema(const std::vector<double>& y, double w) {
  std::vector<double> out;
  for (std::size_t n = 0; n < y.size(); ++n) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i <= n; ++i) {
      num += std::pow(w, double(n - i)) * y[i];
      den += std::pow(w, double(n - i));
    }
    out.push_back(num / den);
  }
  return out;
}

static std::vector<store::MetricRow> loss_rows(int from, int to) {
  std::vector<store::MetricRow> rows;
  for (int s = from; s < to; ++s) {
    rows.push_back({s, s * 4096, 0.5 * s, "loss", 5.0 / (1 + s) + 0.1 * std::sin(s)});
    rows.push_back({s, s * 4096, 0.5 * s, "lr", 1e-4});
  }
  return rows;
}

class TestCurvesView : public QObject {
  Q_OBJECT
 private slots:
  void smoothing_equals_hand_ema() {
    CurveSeries s;
    std::vector<double> y;
    for (int i = 0; i < 50; ++i) {
      y.push_back(std::cos(i * 0.7) * 3 + i);
      s.append(i, i, i, y.back());
    }
    for (double w : {0.0, 0.3, 0.9, 0.99}) {
      const std::vector<double> got = s.smoothed(w), want = hand_ema(y, w);
      for (std::size_t i = 0; i < y.size(); ++i) QVERIFY(std::abs(got[i] - want[i]) < 1e-9 * (1 + std::abs(want[i])));
    }
    // A NaN passes through and leaves the average of the others alone.
    CurveSeries n;
    n.append(0, 0, 0, 1.0);
    n.append(1, 0, 0, std::nan(""));
    n.append(2, 0, 0, 3.0);
    const std::vector<double> sm = n.smoothed(0.5);
    QVERIFY(std::isnan(sm[1]));
    QCOMPARE(sm[2], hand_ema({1.0, 3.0}, 0.5)[1]);
  }

  void appends_only_rows_committed_by_another_connection() {
    QTemporaryDir dir;
    auto writer = store::ProjectStore::open(dir.path().toStdString(), true);
    store::RunRecord rec;
    rec.name = "tiny";
    const std::int64_t run = writer.add_run(rec);
    writer.append_metrics(run, loss_rows(0, 100));
    writer.add_run_stage({run, 0, "ild", 0});
    writer.add_run_stage({run, 1, "kd", 60});

    CurvesView view;
    view.resize(1000, 600);
    QVERIFY(view.set_project(dir.path()));
    QCOMPARE(view.series(run, "loss")->size(), std::size_t(100));
    QCOMPARE(view.poll(), std::size_t(0));  // nothing new committed

    writer.append_metrics(run, loss_rows(100, 130));
    QCOMPARE(view.poll(), std::size_t(60));
    const CurveSeries* s = view.series(run, "loss");
    QCOMPARE(s->size(), std::size_t(130));
    const std::vector<store::MetricRow> all = loss_rows(0, 130);
    for (std::size_t i = 0; i < 130; ++i) {
      QCOMPARE(s->step[i], double(all[2 * i].step));
      QCOMPARE(s->value[i], all[2 * i].value);
    }
    // Both graphs of the run hold every point; the smoothed one equals the hand EMA.
    QCOMPARE(view.plot()->graphCount(), 2);
    QCOMPARE(view.plot()->graph(0)->dataCount(), 130);
    const std::vector<double> want = hand_ema(s->value, view.smoothing());
    QVERIFY(std::abs(view.plot()->graph(1)->data()->at(129)->value - want[129]) < 1e-9);
    // The kd stage starts at step 60: one dashed line and its label.
    QCOMPARE(view.plot()->itemCount(), 2);
    QCOMPARE(qobject_cast<QCPItemStraightLine*>(view.plot()->item(0))->point1->coords().x(), 60.0);

    view.hover_at(61.2);
    QVERIFY2(view.hover_text().contains(QString::number(s->value[61], 'g', 6)), qPrintable(view.hover_text()));
    QCOMPARE(view.stats_table()->item(0, 4)->text(), QString("130"));
    const auto [lo, hi] = std::minmax_element(s->value.begin(), s->value.end());
    QCOMPARE(view.stats_table()->item(0, 1)->text(), QString::number(*lo, 'g', 6));
    QCOMPARE(view.stats_table()->item(0, 2)->text(), QString::number(*hi, 'g', 6));
    QCOMPARE(view.stats_table()->item(0, 3)->text(), QString::number(s->value.back(), 'g', 6));
    save_screenshot(&view, "curves");
  }

  void appends_rows_written_by_another_process() {
    QTemporaryDir dir;
    std::int64_t run = 0;
    {
      auto store = store::ProjectStore::open(dir.path().toStdString(), true);
      run = store.add_run({});
    }
    CurvesView view;
    QVERIFY(view.set_project(dir.path()));
    QProcess writer;
    writer.start(HYLO_STORE_WRITER, {dir.path(), QString::number(run), "4000", "100"});
    QVERIFY(writer.waitForStarted());
    while (writer.state() != QProcess::NotRunning) QTest::qWait(20);  // the view's timer polls meanwhile
    QCOMPARE(writer.exitCode(), 0);
    view.poll();
    const CurveSeries* s = view.series(run, "loss");
    QVERIFY(s);
    QCOMPARE(s->size(), std::size_t(2000));
    QCOMPARE(view.series(run, "lr")->size(), std::size_t(2000));
    for (std::size_t i = 0; i < s->size(); ++i) QCOMPARE(s->value[i], double(2 * i));  // writer: row k = k
  }

  // Runs a (loss and lr at steps 0..19) and b (steps 5..11) in a new project.
  static std::pair<std::int64_t, std::int64_t> write_two_runs(const QTemporaryDir& dir) {
    auto writer = store::ProjectStore::open(dir.path().toStdString(), true);
    const std::int64_t a = writer.add_run({}), b = writer.add_run({});
    writer.append_metrics(a, loss_rows(0, 20));
    writer.append_metrics(b, loss_rows(5, 12));
    return {a, b};
  }

  void csv_export_holds_the_shown_points() {
    QTemporaryDir dir;
    const std::int64_t b = write_two_runs(dir).second;
    CurvesView view;
    QVERIFY(view.set_project(dir.path()));
    view.set_smoothing(0.8);
    const QString file = dir.filePath("loss.csv");
    QVERIFY(view.export_csv(file));
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.first(), QString("run,metric,step,tokens,wall_s,value,smoothed"));
    QCOMPARE(lines.size(), 1 + 20 + 7);
    const std::vector<store::MetricRow> rows_b = loss_rows(5, 12);
    std::vector<double> yb;
    for (std::size_t i = 0; i < rows_b.size(); i += 2) yb.push_back(rows_b[i].value);
    const std::vector<double> eb = hand_ema(yb, 0.8);
    for (int i = 0; i < 7; ++i) {
      const QStringList c = lines[1 + 20 + i].split(',');
      QCOMPARE(c[0].toLongLong(), b);
      QCOMPARE(c[1], QString("loss"));
      QCOMPARE(c[2].toLongLong(), 5 + i);
      QCOMPARE(c[3].toLongLong(), (5 + i) * 4096LL);
      QCOMPARE(c[5].toDouble(), yb[std::size_t(i)]);
      QVERIFY(std::abs(c[6].toDouble() - eb[std::size_t(i)]) < 1e-12);
    }
    QVERIFY(view.export_image(dir.filePath("loss.png")));
    QVERIFY(view.export_image(dir.filePath("loss.pdf")));
    QVERIFY(QFile(dir.filePath("loss.pdf")).size() > 0);
    QVERIFY(!view.export_csv(dir.filePath("missing/dir/x.csv")));
  }

  void svg_export_draws_each_visible_graph() {
    QTemporaryDir dir;
    write_two_runs(dir);
    CurvesView view;
    view.resize(900, 600);
    QVERIFY(view.set_project(dir.path()));
    view.set_smoothing(0.6);
    const QString file = dir.filePath("loss.svg");
    QVERIFY(view.export_image(file));
    // Each <polyline> with the stroke colour and width of the <g> it sits in.
    struct Line {
      QString stroke;
      double width;
      std::vector<QPointF> points;
    };
    std::vector<Line> lines;
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&f);
    QString stroke;
    double width = 0;
    QVERIFY(xml.readNextStartElement() && xml.name() == QLatin1String("svg"));
    while (!xml.atEnd()) {
      if (xml.readNext() != QXmlStreamReader::StartElement) continue;
      const QXmlStreamAttributes at = xml.attributes();
      if (xml.name() == QLatin1String("g") && at.hasAttribute("stroke")) {
        stroke = at.value("stroke").toString();
        width = at.value("stroke-width").toDouble();
      } else if (xml.name() == QLatin1String("polyline")) {
        Line line{stroke, width, {}};
        for (const QString& p : at.value("points").toString().split(' ', Qt::SkipEmptyParts))
          line.points.emplace_back(p.section(',', 0, 0).toDouble(), p.section(',', 1, 1).toDouble());
        lines.push_back(line);
      }
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    // Every visible graph (raw and smoothed, per run) is one polyline in its pen, through its data.
    int visible = 0;
    for (int g = 0; g < view.plot()->graphCount(); ++g) {
      QCPGraph* graph = view.plot()->graph(g);
      if (!graph->visible() || graph->data()->isEmpty()) continue;
      ++visible;
      const auto match = std::find_if(lines.begin(), lines.end(), [&](const Line& l) {
        if (l.stroke != graph->pen().color().name() || l.width != graph->pen().widthF() ||
            int(l.points.size()) != graph->data()->size())
          return false;
        for (int i = 0; i < graph->data()->size(); ++i) {
          const auto d = graph->data()->at(i);
          const QPointF want(graph->keyAxis()->coordToPixel(d->key), graph->valueAxis()->coordToPixel(d->value));
          if (std::abs(l.points[std::size_t(i)].x() - want.x()) > 0.01 ||
              std::abs(l.points[std::size_t(i)].y() - want.y()) > 0.01)
            return false;
        }
        return true;
      });
      QVERIFY2(match != lines.end(), qPrintable(graph->name()));
    }
    QCOMPARE(visible, 4);  // two runs, raw and smoothed each
    QSignalSpy errors(&view, &CurvesView::error_occurred);
    QVERIFY(!view.export_image(dir.filePath("missing/dir/x.svg")));
    QCOMPARE(errors.size(), 1);
  }

  void damaged_project_is_reported() {
    QTemporaryDir dir;
    QFile f(dir.filePath("project.db"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(8192, 'x'));
    f.close();
    CurvesView view;
    QSignalSpy errors(&view, &CurvesView::error_occurred);
    QVERIFY(!view.set_project(dir.path()));
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors[0][1].toString().contains("project.db"));
    QCOMPARE(view.poll(), std::size_t(0));
  }
};

QTEST_MAIN(TestCurvesView)
#include "test_curves_view.moc"
