// hylo-workbench --automation-dump <file> (for scripted GUI tests): a JSON snapshot of what the
// window shows, rewritten whenever it changes, so a test driving the real process with X input
// (xdotool) knows where to aim and what the views say. It only reads the widgets; the window
// behaves the same with or without it.
//
// The file (written atomically; rects are [x, y, width, height] in global screen pixels, null
// while the widget or item is not visible):
//   seq          increases with every write
//   window       the main window's native window id (X11: what xdotool and ImageMagick take)
//   tab          the current tab's text;  tabs: {text: rect} of the tab bar's buttons
//   palette      {mixer name ("MLA", ...): rect of its palette item}
//   layers       [{kind: plan-file name ("attention", "mla", ...), rect}] in layer order
//   labels       {est_name, est_kv, run_status: the label's text}
//   start        {rect, enabled}: the Runs tab's Start button
//   trainer      {running, run: the store's run id once the trainer said it, else null}
//   curve        {metric, points: length of the trainer run's curve in the Curves tab}
//   runs         [[id, name, state], ...]: the Runs tab's table
#pragma once
#include <QByteArray>
#include <QObject>
#include <QString>

class QTimer;

namespace hylo::views {

class MainWindow;

class AutomationDump : public QObject {
  Q_OBJECT
 public:
  AutomationDump(MainWindow* window, const QString& file);

  QByteArray snapshot() const;  // the JSON without seq
  // Writes the file when the snapshot differs from the last one written. The timer calls it.
  void write_if_changed();

 private:
  MainWindow* window_;
  QString file_;
  QByteArray last_;
  qint64 seq_ = 0;
  QTimer* timer_;
};

}  // namespace hylo::views
