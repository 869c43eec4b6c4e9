// Test helper: drives a real `hylo-workbench` process on the X display with real input. The
// process runs with --automation-dump (views/automation_dump.h); the driver reads that snapshot
// to aim xdotool at widgets, waits on it with a timeout, and grabs its window with ImageMagick.
// Every failure names what did not happen; the last snapshot and the process's log go to stderr
// (Qt Test cuts long messages) and, on an X display, a grab of the screen to
// <artefacts>/<prefix>failure.png.
#pragma once
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPoint>
#include <QProcess>
#include <QtTest>
#include <cstdio>
#include <functional>

namespace hylo::testing {

class WorkbenchDriver {
 public:
  // The dump and the process's log (stdout + stderr) are kept in `work_dir`; screenshots are
  // <artefacts>/<prefix><name>.png.
  WorkbenchDriver(const QString& work_dir, const QString& artefacts, const QString& prefix)
      : dump_file_(work_dir + "/workbench_dump.json"), log_file_(work_dir + "/workbench.log"),
        artefacts_(artefacts), prefix_(prefix) {}
  ~WorkbenchDriver() { stop(); }

  bool start(const QString& program, QStringList args, const QProcessEnvironment& env) {
    args << "--automation-dump" << dump_file_;
    proc_.setProcessEnvironment(env);
    proc_.setProcessChannelMode(QProcess::MergedChannels);
    proc_.setStandardOutputFile(log_file_);
    proc_.start(program, args);
    if (proc_.waitForStarted(10000)) return true;
    failure_ = program + " did not start: " + proc_.errorString();
    return false;
  }
  void stop() {
    if (proc_.state() == QProcess::NotRunning) return;
    proc_.terminate();
    if (proc_.waitForFinished(10000)) return;
    proc_.kill();
    proc_.waitForFinished(5000);
  }

  // The newest snapshot ({} before the first one).
  const QJsonObject dump() const {  // const: operator[] then reads, never inserts
    QFile f(dump_file_);
    return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
  }
  QString log() const {
    QFile f(log_file_);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
  }
  QString failure() const { return failure_; }

  // Polls the snapshot every 100 ms until `ok` holds; false (failure() says `what` did not
  // happen) after `timeout_ms` or when the process has exited.
  bool wait_for(const QString& what, int timeout_ms, const std::function<bool(const QJsonObject&)>& ok) {
    QElapsedTimer clock;
    clock.start();
    for (;;) {
      const QJsonObject d = dump();
      if (!d.isEmpty() && ok(d)) return true;
      if (proc_.state() == QProcess::NotRunning)
        return fail(QString("hylo-workbench exited (code %1) before: %2").arg(proc_.exitCode()).arg(what));
      if (clock.elapsed() > timeout_ms) return fail(QString("not within %1 s: %2").arg(timeout_ms / 1000.0).arg(what));
      QTest::qWait(100);
    }
  }

  static bool has_rect(const QJsonValue& rect) { return rect.isArray() && rect.toArray().size() == 4; }
  static QPoint center(const QJsonValue& rect) {
    const QJsonArray r = rect.toArray();
    return {r[0].toInt() + r[2].toInt() / 2, r[1].toInt() + r[3].toInt() / 2};
  }

  bool click(QPoint at) {
    return xdotool({"mousemove", "--sync", QString::number(at.x()), QString::number(at.y()), "sleep", "0.1", "click", "1"});
  }
  // Press, a move past the drag distance, small steps over to the target, release: what Qt's
  // xcb plugin and QDrag's loop need to see a drag and a drop.
  bool drag(QPoint from, QPoint to) {
    QStringList args = {"mousemove", "--sync", QString::number(from.x()), QString::number(from.y()),
                        "mousedown", "1", "sleep", "0.3"};
    for (int i = 1; i <= 10; ++i) {
      const QPoint p = from + (to - from) * i / 10;
      args << "mousemove" << QString::number(p.x()) << QString::number(p.y()) << "sleep" << "0.1";
    }
    args << "sleep" << "0.3" << "mouseup" << "1";
    return xdotool(args);
  }
  // Clicks the tab named `tab` and waits until the window shows it.
  bool open_tab(const QString& tab) {
    const QJsonValue rect = dump()["tabs"].toObject()[tab];
    if (!has_rect(rect)) return fail("the snapshot has no tab button " + tab);
    return click(center(rect)) &&
           wait_for("the " + tab + " tab shows after a click on it", 10000, [&](const QJsonObject& d) { return d["tab"] == tab; });
  }
  // The workbench's window (the whole screen before it has one) as <artefacts>/<prefix><name>.png.
  bool screenshot(const QString& name) {
    const QJsonValue window = dump()["window"];
    const QString error = grab(window.isDouble() ? QString::number(window.toInteger()) : "root", name);
    return error.isEmpty() || fail(error);
  }

 private:
  bool xdotool(const QStringList& args) {
    QProcess x;
    x.start("xdotool", args);
    if (!x.waitForStarted()) return fail("xdotool is needed (apt-get install xdotool): " + x.errorString());
    if (!x.waitForFinished(30000) || x.exitCode() != 0)
      return fail("xdotool " + args.join(' ') + " failed: " + QString::fromUtf8(x.readAllStandardError()));
    return true;
  }
  // An empty string, or why ImageMagick's import could not grab `window`.
  QString grab(const QString& window, const QString& name) const {
    QDir().mkpath(artefacts_);
    QProcess import;
    import.start("import", {"-window", window, artefacts_ + "/" + prefix_ + name + ".png"});
    if (import.waitForFinished(20000) && import.exitCode() == 0) return {};
    return "ImageMagick import could not grab the screen (apt-get install imagemagick): " +
           QString::fromUtf8(import.readAllStandardError()) + import.errorString();
  }
  bool fail(const QString& why) {
    std::fprintf(stderr, "--- %s\n--- last snapshot of hylo-workbench:\n%s\n--- its log:\n%s---\n", qPrintable(why),
                 QJsonDocument(dump()).toJson(QJsonDocument::Compact).constData(), qPrintable(log()));
    failure_ = why + " (the last snapshot and the workbench's log are printed above)";
    // The child shares this test's platform: offscreen has no screen to grab.
    if (QGuiApplication::platformName() == QLatin1String("xcb") && grab("root", "failure").isEmpty())
      failure_ += "; the screen: " + artefacts_ + "/" + prefix_ + "failure.png";
    return false;
  }

  QString dump_file_, log_file_, artefacts_, prefix_, failure_;
  QProcess proc_;
};

}  // namespace hylo::testing
