// hylo-workbench [--project <folder>] [--checkpoint <dir>] [--plan <plan.yaml>] [--recipe <recipe.yaml>]
//   [--student <dir>] [--run-dir <dir>] [--automation-dump <file>]: the Qt workbench.
#include <QApplication>
#include <QCommandLineParser>

#include "views/automation_dump.h"
#include "views/main_window.h"
#include "views/runs_view.h"

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
  QCommandLineOption recipe(QStringLiteral("recipe"), QStringLiteral("Load this recipe into the Runs tab."),
                            QStringLiteral("file"));
  QCommandLineOption student(QStringLiteral("student"), QStringLiteral("The Runs tab's student checkpoint folder."),
                             QStringLiteral("dir"));
  QCommandLineOption run_dir(QStringLiteral("run-dir"), QStringLiteral("The Runs tab's output folder."),
                             QStringLiteral("dir"));
  QCommandLineOption dump(QStringLiteral("automation-dump"),
                          QStringLiteral("For scripted GUI tests: keep a JSON snapshot of the window (where the "
                                         "palette, layers, tabs and Start button are on screen, labels, the "
                                         "trainer's curve length) in this file (views/automation_dump.h)."),
                          QStringLiteral("file"));
  for (const QCommandLineOption* o : {&project, &checkpoint, &plan, &recipe, &student, &run_dir, &dump})
    parser.addOption(*o);
  parser.process(app);

  hylo::views::MainWindow window;
  window.show();
  // Failures are shown in the window (dialog + log); the workbench stays open either way.
  // A project opens its teacher unless a checkpoint is named.
  if (parser.isSet(project)) window.open_project(parser.value(project), false, !parser.isSet(checkpoint));
  if (parser.isSet(checkpoint)) window.open_checkpoint(parser.value(checkpoint));
  if (parser.isSet(plan)) window.set_plan_file(parser.value(plan));
  if (parser.isSet(recipe)) window.runs()->load_recipe(parser.value(recipe));
  if (parser.isSet(student)) window.runs()->set_student_dir(parser.value(student));
  if (parser.isSet(run_dir)) window.runs()->set_out_dir(parser.value(run_dir));
  if (parser.isSet(dump)) new hylo::views::AutomationDump(&window, parser.value(dump));  // owned by the window
  return app.exec();
}
