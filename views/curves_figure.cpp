#include "views/curves_figure.h"

#include <algorithm>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "views/curves_view.h"

namespace hylo::views {

void save_curves_figure(const CurvesFigure& f, const QString& file) {
  if (f.runs.empty()) throw StoreError("no run to draw", f.project.toStdString(), "--run");
  {  // Checked up front, so a typo is an error rather than an empty plot.
    store::ProjectStore s = store::ProjectStore::open(f.project.toStdString(), false);
    for (std::int64_t id : f.runs) {
      s.get_run(id);
      const std::vector<std::string> names = s.metric_names(id);
      if (std::find(names.begin(), names.end(), f.metric.toStdString()) == names.end()) {
        std::string have;
        for (const std::string& n : names) have += (have.empty() ? "" : ", ") + n;
        throw StoreError("run " + std::to_string(id) + " has no metric \"" + f.metric.toStdString() + "\" (it has: " +
                             (have.empty() ? "none" : have) + ")",
                         s.db_file(), "metrics.name");
      }
    }
  }
  CurvesView view;
  QString error;
  QObject::connect(&view, &CurvesView::error_occurred, [&error](const QString& title, const QString& message) {
    error = title + QStringLiteral(": ") + message;
  });
  view.resize(f.size);
  view.set_project(f.project);
  view.set_smoothing(f.smoothing);
  view.set_metric(f.metric);
  view.show_runs(f.runs, f.labels);
  if (!error.isEmpty()) throw StoreError(error.toStdString(), f.project.toStdString(), "metrics");
  if (!view.export_image(file, f.size)) throw IoError("cannot write the image", file.toStdString(), "-o");
}

}  // namespace hylo::views
