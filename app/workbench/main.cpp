// hylo-workbench [--project <folder>] [--checkpoint <dir>]: the Qt workbench.
#include <QApplication>
#include <QCommandLineParser>

#include "views/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("HyLo"));
  QApplication::setApplicationName(QStringLiteral("HyLo Workbench"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Plan, upcycle, train and evaluate hybrid models"));
  parser.addHelpOption();
  QCommandLineOption project({QStringLiteral("p"), QStringLiteral("project")},
                             QStringLiteral("Open this project folder."), QStringLiteral("folder"));
  QCommandLineOption checkpoint({QStringLiteral("c"), QStringLiteral("checkpoint")},
                                QStringLiteral("Open this checkpoint folder."), QStringLiteral("dir"));
  parser.addOption(project);
  parser.addOption(checkpoint);
  parser.process(app);

  hylo::views::MainWindow window;
  window.show();
  // Failures are shown in the window (dialog + log); the workbench stays open either way.
  if (parser.isSet(project)) window.open_project(parser.value(project), false);
  if (parser.isSet(checkpoint)) window.open_checkpoint(parser.value(checkpoint));
  return app.exec();
}
