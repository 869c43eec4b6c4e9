// hylo-workbench [--project <folder>] [--checkpoint <dir>] [--plan <plan.yaml>]: the Qt workbench.
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
  QCommandLineOption plan(QStringLiteral("plan"),
                          QStringLiteral("Plan file: loaded when it exists, saved after every edit."),
                          QStringLiteral("file"));
  parser.addOption(project);
  parser.addOption(checkpoint);
  parser.addOption(plan);
  parser.process(app);

  hylo::views::MainWindow window;
  window.show();
  // Failures are shown in the window (dialog + log); the workbench stays open either way.
  // A project opens its teacher unless a checkpoint is named.
  if (parser.isSet(project)) window.open_project(parser.value(project), false, !parser.isSet(checkpoint));
  if (parser.isSet(checkpoint)) window.open_checkpoint(parser.value(checkpoint));
  if (parser.isSet(plan)) window.set_plan_file(parser.value(plan));
  return app.exec();
}
