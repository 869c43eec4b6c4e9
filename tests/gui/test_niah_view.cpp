// NiahView: every cell drawn equals the stored result JSON (and the difference map equals A - B),
// depth 0 is at the top, a malformed result names its row and field and leaves the others shown,
// and a failing `hylo eval niah` child is reported.
#include <QComboBox>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <qcustomplot.h>
#include <QtTest>
#include <cmath>

#include "projects/store/project_store.h"
#include "tests/gui/screenshot.h"
#include "core/spec/error.h"
#include "views/niah_result.h"
#include "views/niah_view.h"

using namespace hylo;
using namespace hylo::views;

static QString grid_json(double offset) {
  // score[i][j] = a distinct value per cell, so a transposed or shifted map cannot pass.
  QStringList rows;
  for (int i = 0; i < 4; ++i) {
    QStringList cells;
    for (int j = 0; j < 5; ++j) cells << QString::number(std::min(1.0, 0.05 * i + 0.15 * j + offset));
    rows << "[" + cells.join(',') + "]";
  }
  return QStringLiteral(R"({"task":"niah_single_2","lengths":[1024,2048,4096,8192],"depths":[0,25,50,75,100],
    "score":[%1],"loglik":[%1],"trials":3,"seed":17,"model":"/m/student","kv_bytes":{"1024":4096},"time_s":1.5})")
      .arg(rows.join(','));
}

static std::int64_t add_eval(store::ProjectStore& s, std::int64_t model, const QString& json) {
  store::EvalRecord e;
  e.model_id = model;
  e.kind = store::EvalKind::Niah;
  e.result_json = json.toStdString();
  return s.add_eval(e);
}

class TestNiahView : public QObject {
  Q_OBJECT
 private slots:
  void cells_equal_the_json() {
    QTemporaryDir dir;
    auto s = store::ProjectStore::open(dir.path().toStdString(), true);
    store::ModelRecord m;
    m.name = "student";
    m.path = "student";
    const std::int64_t model = s.add_model(m);
    add_eval(s, model, grid_json(0.0));
    add_eval(s, model, grid_json(0.3));  // newest first in the list

    NiahView view;
    view.resize(1100, 500);
    QVERIFY(view.set_project(dir.path()));
    QCOMPARE(view.eval_count(), 2);
    view.show_evals(1, 0, NiahView::Mode::SideBySide);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j) {
        QCOMPARE(view.cell(0, i, j), std::min(1.0, 0.05 * i + 0.15 * j));
        QCOMPARE(view.cell(1, i, j), std::min(1.0, 0.05 * i + 0.15 * j + 0.3));
      }
    save_screenshot(&view, "niah_side_by_side");
    view.show_evals(1, 0, NiahView::Mode::Difference);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j)
        QVERIFY(std::abs(view.cell(0, i, j) - (std::min(1.0, 0.05 * i + 0.15 * j) - std::min(1.0, 0.05 * i + 0.15 * j + 0.3))) < 1e-12);
    save_screenshot(&view, "niah_difference");

    view.show_evals(1, 0, NiahView::Mode::Single);
    view.hover_at(0, 2.1, 0.9);  // length 4096, depth 25 %
    QVERIFY2(view.hover_text().contains("4096") && view.hover_text().contains("depth 25") &&
                 view.hover_text().contains(QString::number(0.05 * 2 + 0.15 * 1, 'f', 3)),
             qPrintable(view.hover_text()));
    // Depth 0 % is drawn at the top.
    QCustomPlot* plot = view.findChild<QCustomPlot*>();
    QVERIFY(plot->yAxis->rangeReversed());
  }

  // `hylo eval niah --no-loglik` stores null log-likelihoods: the scores still show.
  void null_loglik_reads_as_missing() {
    const QString json = QStringLiteral(R"({"task":"niah_single_2","lengths":[1024,2048],"depths":[0,100],
      "score":[[1,0.5],[0.25,0]],"loglik":[[null,null],[null,null]],"trials":1,"seed":17,"model":"m"})");
    const NiahResult r = NiahResult::from_json(json.toUtf8(), "evals[1]");
    QCOMPARE(r.score[1][0], 0.25);
    QVERIFY(std::isnan(r.loglik[0][1]));
    const QString bad = QString(json).replace("[[1,0.5]", "[[1,null]");  // a null score is still an error
    QVERIFY_THROWS_EXCEPTION(hylo::EvalError, NiahResult::from_json(bad.toUtf8(), "evals[1]"));
  }

  void malformed_result_is_named_and_others_stay() {
    QTemporaryDir dir;
    auto s = store::ProjectStore::open(dir.path().toStdString(), true);
    const std::int64_t model = s.add_model({});
    add_eval(s, model, grid_json(0.0));
    const std::int64_t bad = add_eval(s, model, R"({"lengths":[1024,2048],"depths":[0,50],"score":[[1,1]]})");
    NiahView view;
    QSignalSpy errors(&view, &NiahView::error_occurred);
    QVERIFY(view.set_project(dir.path()));
    QCOMPARE(errors.size(), 1);
    const QString msg = errors[0][1].toString();
    QVERIFY2(msg.contains(QString("evals[%1]").arg(bad)) && msg.contains("score"), qPrintable(msg));
    QCOMPARE(view.eval_count(), 1);
  }

  void failing_eval_child_is_reported() {
    QTemporaryDir dir;
    { auto s = store::ProjectStore::open(dir.path().toStdString(), true); }
    const QString fake = dir.filePath("hylo");
    QFile f(fake);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("#!/bin/sh\necho \"model: config.json: not found\" >&2\nexit 1\n");
    f.close();
    f.setPermissions(f.permissions() | QFileDevice::ExeOwner);
    qputenv("HYLO_BIN", fake.toUtf8());
    NiahView view;
    QVERIFY(view.set_project(dir.path()));
    QSignalSpy errors(&view, &NiahView::error_occurred);
    QSignalSpy lines(&view, &NiahView::message);
    view.set_model_dir(dir.filePath("nowhere"));
    QVERIFY(view.start_eval());
    QTRY_COMPARE(errors.size(), 1);
    QVERIFY(errors[0][1].toString().contains("1"));
    bool saw_stderr = false;
    for (const auto& l : lines) saw_stderr |= l[0].toString().contains("config.json: not found");
    QVERIFY(saw_stderr);
    qunsetenv("HYLO_BIN");
  }
};

QTEST_MAIN(TestNiahView)
#include "test_niah_view.moc"
