// The log panel (a dock in the main window): timestamped lines, errors in red, newest at the bottom.
#pragma once
#include <QPlainTextEdit>

namespace hylo::views {

class LogPanel : public QPlainTextEdit {
  Q_OBJECT
 public:
  explicit LogPanel(QWidget* parent = nullptr);
  int error_count() const { return errors_; }

 public slots:
  void info(const QString& line);
  void error(const QString& line);

 private:
  void append_line(const QString& line, const QString& color);
  int errors_ = 0;
};

}  // namespace hylo::views
