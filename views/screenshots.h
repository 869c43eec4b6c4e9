// Screenshots for the docs (hylo-figures screenshots): the workbench window on a project, one PNG
// per tab, each grabbed once the views have loaded.
#pragma once
#include <QSize>
#include <QStringList>

namespace hylo::views {

// Opens `project` in a MainWindow of `size`, with the project's first teacher as the checkpoint,
// its first plan in the planner, the newest run's curves and the two newest NIAH evaluations side
// by side, and writes `dir`/<tab>.png (model, planner, runs, curves, memory, niah, probe).
// Returns the files written; `notes` gets a line for each view left empty and why.
// A hylo::Error names the project when it cannot be read, or the file it cannot write.
QStringList save_screenshots(const QString& project, const QString& dir, QSize size, QStringList* notes);

}  // namespace hylo::views
