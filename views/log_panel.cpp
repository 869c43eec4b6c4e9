#include "views/log_panel.h"

#include <QFontDatabase>
#include <QTime>
#include <cstdio>

namespace hylo::views {

LogPanel::LogPanel(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setMaximumBlockCount(5000);  // a long session must not grow without bound
  setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  setObjectName(QStringLiteral("log"));
}

void LogPanel::info(const QString& line) { append_line(line, QStringLiteral("#333333")); }

void LogPanel::error(const QString& line) {
  ++errors_;
  append_line(line, QStringLiteral("#b3261e"));
}

void LogPanel::append_line(const QString& line, const QString& color) {
  const QString stamp = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
  // Mirrored to stderr: a session's log survives the window, and scripted tests can read it.
  std::fprintf(stderr, "%s %s\n", qPrintable(stamp), qPrintable(line));
  appendHtml(QStringLiteral("<span style='color:#888888'>%1</span> <span style='color:%2'>%3</span>")
                 .arg(stamp, color, line.toHtmlEscaped().replace('\n', QStringLiteral("<br>"))));
}

}  // namespace hylo::views
