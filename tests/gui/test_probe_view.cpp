// ProbeView through a fake `hylo worker` (tests/gui/fake/fake_worker.py): the answer, the loss
// curve with the needle span shaded and the memory line come from the worker's result; Cancel
// answers "cancelled"; a worker that dies is restarted, the view says so and the next probe works.
#include <QLabel>
#include <QtTest>
#include <qcustomplot.h>

#include "tests/gui/screenshot.h"
#include "views/probe_view.h"
#include "views/worker_client.h"

using namespace hylo::views;

class TestProbeView : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { qputenv("HYLO_BIN", qgetenv("HYLO_SOURCE_DIR") + "/tests/gui/fake/fake_hylo.sh"); }

  void shows_the_workers_result() {
    ProbeView view;
    view.resize(1200, 650);
    view.set_model_dir("/models/student");
    view.set_inputs("", "The magic number is 4417.", "What is the magic number?", "4417", 25, 2048);
    QVERIFY(view.run());
    QTRY_VERIFY(!view.busy());
    QVERIFY2(view.answer_text().contains("4417") && view.answer_text().contains("found"), qPrintable(view.answer_text()));
    QCustomPlot* plot = view.loss_plot();
    QCOMPARE(plot->graphCount(), 1);
    QCOMPARE(plot->graph(0)->dataCount(), 256);
    auto* rect = qobject_cast<QCPItemRect*>(plot->item(0));
    QVERIFY(rect);
    QCOMPARE(rect->topLeft->coords().x(), 512.0);  // 25 % of 2048
    QCOMPARE(rect->bottomRight->coords().x(), 524.0);
    save_screenshot(&view, "probe");
  }

  void cancel_and_restart_after_a_crash() {
    ProbeView view;
    QSignalSpy errors(&view, &ProbeView::error_occurred);
    view.set_model_dir("/models/student");
    view.set_inputs("", "SLOW needle", "q?", "", 50, 1024);
    QVERIFY(view.run());
    QVERIFY(!view.run());  // one probe at a time
    QTest::qWait(200);
    view.cancel();
    QTRY_VERIFY(!view.busy());
    QCOMPARE(view.status_text(), QString("Cancelled."));
    QCOMPARE(errors.size(), 0);

    view.set_inputs("", "CRASH needle", "q?", "", 50, 1024);
    QVERIFY(view.run());
    QTRY_VERIFY(!view.busy());
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors[0][1].toString().contains("exited with 1"));
    QTRY_COMPARE(view.worker()->restarts(), 1);
    QVERIFY(view.status_text().contains("restarted"));

    view.set_inputs("", "The magic number is 99.", "What?", "99", 10, 512);
    QVERIFY(view.run());
    QTRY_VERIFY(!view.busy());
    QVERIFY(view.answer_text().contains("99"));
  }
};

QTEST_MAIN(TestProbeView)
#include "test_probe_view.moc"
