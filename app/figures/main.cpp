// hylo-figures: the project's figures and screenshots as PNG files, headless
// (QT_QPA_PLATFORM=offscreen). Subcommands:
//   evals       --project P                                    list evaluations (TSV)
//   niah        --project P (--eval ID | --model NAME)... [--label T]... [--title T]
//               [--measure score|needle-prob] -o out.png
//   curves      --project P --run ID... [--metric loss] [--label T]... [--smoothing W] -o out.png
//   screenshots --project P -o DIR [--size 1400x900]
// Bad input (unknown project, id, model or metric) prints the reason and exits 1.
#include <QApplication>
#include <QCommandLineParser>
#include <QRegularExpression>
#include <cstdio>

#include "core/spec/error.h"
#include "projects/store/project_store.h"
#include "views/curves_figure.h"
#include "views/eval_catalog.h"
#include "views/niah_figure.h"
#include "views/screenshots.h"

using namespace hylo;
using namespace hylo::views;

namespace {

struct Options {
  QCommandLineOption project{{"p", "project"}, "Project folder (holding project.db).", "folder"};
  QCommandLineOption eval{"eval", "NIAH evaluation id (repeatable).", "id"};
  QCommandLineOption model{"model", "The newest NIAH evaluation of this model (repeatable).", "name"};
  QCommandLineOption run{"run", "Run id (repeatable).", "id"};
  QCommandLineOption metric{"metric", "Metric to plot (default loss).", "name", "loss"};
  QCommandLineOption label{"label", "Panel or legend label, in order (repeatable).", "text"};
  QCommandLineOption title{"title", "Figure title.", "text"};
  QCommandLineOption smoothing{"smoothing", "EMA weight 0..0.999 (default 0.6).", "w", "0.6"};
  QCommandLineOption measure{"measure", "NIAH cells: score (exact match) or needle-prob (default score).", "name",
                             "score"};
  QCommandLineOption size{"size", "Image or window size in pixels, e.g. 1400x900.", "WxH"};
  QCommandLineOption out{{"o", "output"}, "Output file (niah, curves) or folder (screenshots).", "path"};
};

[[noreturn]] void usage_error(const std::string& what, const std::string& field) { throw Error(what, "", field); }

QString required(const QCommandLineParser& p, const QCommandLineOption& o) {
  if (!p.isSet(o)) usage_error("required", "--" + o.names().last().toStdString());
  return p.value(o);
}

std::vector<std::int64_t> ids(const QCommandLineParser& p, const QCommandLineOption& o) {
  std::vector<std::int64_t> out;
  for (const QString& v : p.values(o)) {
    bool ok = false;
    const qlonglong id = v.toLongLong(&ok);
    if (!ok || id <= 0) usage_error("\"" + v.toStdString() + "\" is not an id", "--" + o.names().last().toStdString());
    out.push_back(id);
  }
  return out;
}

QSize size_of(const QCommandLineParser& p, const QCommandLineOption& o, QSize fallback) {
  if (!p.isSet(o)) return fallback;
  const auto m = QRegularExpression(QStringLiteral("^(\\d+)x(\\d+)$")).match(p.value(o));
  if (!m.hasMatch() || m.captured(1).toInt() < 16 || m.captured(2).toInt() < 16)
    usage_error("\"" + p.value(o).toStdString() + "\" is not WIDTHxHEIGHT (at least 16x16)", "--size");
  return QSize(m.captured(1).toInt(), m.captured(2).toInt());
}

int list_evals(const QCommandLineParser& p, const Options& o) {
  store::ProjectStore s = store::ProjectStore::open(required(p, o.project).toStdString(), false);
  std::printf("id\tkind\tmodel\tlengths\tmean_score\tcreated\n");
  for (const EvalSummary& e : eval_summaries(s)) {
    QStringList lengths;
    for (std::int64_t l : e.lengths) lengths << QString::number(l);
    std::printf("%lld\t%s\t%s\t%s\t%s\t%s\n", static_cast<long long>(e.id), qPrintable(e.kind), qPrintable(e.model),
                qPrintable(lengths.join(',')), e.mean_score ? qPrintable(QString::number(*e.mean_score, 'f', 4)) : "-",
                qPrintable(e.created));
  }
  return 0;
}

int niah(const QCommandLineParser& p, const Options& o) {
  store::ProjectStore s = store::ProjectStore::open(required(p, o.project).toStdString(), false);
  const QString file = required(p, o.out);
  std::vector<std::int64_t> evals = ids(p, o.eval);
  for (const QString& m : p.values(o.model)) evals.push_back(newest_niah_eval(s, m));
  if (evals.empty()) usage_error("give at least one --eval or --model", "--eval");
  std::vector<NiahPanel> panels;
  for (std::int64_t id : evals) panels.push_back(niah_panel(s, id));
  const QSize size = size_of(p, o.size, NiahFigure::default_size(panels.size()));
  const QString m = p.value(o.measure);
  if (m != QLatin1String("score") && m != QLatin1String("needle-prob"))
    usage_error("unknown measure \"" + m.toStdString() + "\" (score, needle-prob)", "--measure");
  const NiahMeasure measure = m == QLatin1String("score") ? NiahMeasure::Score : NiahMeasure::NeedleProbability;
  NiahFigure(std::move(panels), p.values(o.label), p.value(o.title), size, measure).save_png(file);
  std::fprintf(stderr, "wrote %s\n", qPrintable(file));
  return 0;
}

int curves(const QCommandLineParser& p, const Options& o) {
  CurvesFigure f;
  f.project = required(p, o.project);
  const QString file = required(p, o.out);
  f.runs = ids(p, o.run);
  if (f.runs.empty()) usage_error("give at least one --run", "--run");
  f.metric = p.value(o.metric);
  if (f.metric.trimmed().isEmpty()) usage_error("empty metric name", "--metric");
  f.labels = p.values(o.label);
  bool ok = false;
  f.smoothing = p.value(o.smoothing).toDouble(&ok);
  if (!ok || f.smoothing < 0 || f.smoothing >= 1) usage_error("not a weight in 0..0.999", "--smoothing");
  f.size = size_of(p, o.size, f.size);
  save_curves_figure(f, file);
  std::fprintf(stderr, "wrote %s\n", qPrintable(file));
  return 0;
}

int screenshots(const QCommandLineParser& p, const Options& o) {
  QStringList notes;
  const QStringList files =
      save_screenshots(required(p, o.project), required(p, o.out), size_of(p, o.size, QSize(1400, 900)), &notes);
  for (const QString& n : notes) std::fprintf(stderr, "note: %s\n", qPrintable(n));
  for (const QString& f : files) std::printf("%s\n", qPrintable(f));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("HyLo"));
  QApplication::setApplicationName(QStringLiteral("HyLo Figures"));  // its own recent list, not the workbench's

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Figures and screenshots of a HyLo project as PNG files.\n"
      "Commands: evals, niah, curves, screenshots (see the header of app/figures/main.cpp)."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("evals | niah | curves | screenshots"));
  Options o;
  for (const QCommandLineOption* opt : {&o.project, &o.eval, &o.model, &o.run, &o.metric, &o.label, &o.title,
                                        &o.smoothing, &o.measure, &o.size, &o.out})
    parser.addOption(*opt);
  parser.process(app);

  const QStringList args = parser.positionalArguments();
  const QString command = args.isEmpty() ? QString() : args.first();
  try {
    if (args.size() > 1) usage_error("unexpected argument \"" + args[1].toStdString() + "\"", "command");
    if (command == QLatin1String("evals")) return list_evals(parser, o);
    if (command == QLatin1String("niah")) return niah(parser, o);
    if (command == QLatin1String("curves")) return curves(parser, o);
    if (command == QLatin1String("screenshots")) return screenshots(parser, o);
    usage_error("unknown command \"" + command.toStdString() + "\" (evals, niah, curves, screenshots)", "command");
  } catch (const hylo::Error& e) {
    std::fprintf(stderr, "hylo-figures: %s\n", e.what());
    return 1;
  }
}
