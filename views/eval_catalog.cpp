#include "views/eval_catalog.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>

#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/model_config.h"
#include "projects/store/project_store.h"

namespace hylo::views {

static void add_numbers(const QJsonValue& v, double& sum, std::int64_t& n) {
  if (v.isDouble()) {
    sum += v.toDouble();
    ++n;
  } else if (v.isArray()) {
    for (const QJsonValue& x : v.toArray()) add_numbers(x, sum, n);
  }
}

static QString model_name(store::ProjectStore& s, std::int64_t model_id) {
  for (const store::ModelRecord& m : s.list_models())
    if (m.id == model_id) return QString::fromStdString(m.name);
  return QObject::tr("model %1").arg(model_id);  // evaluations may outlive their model row
}

std::vector<EvalSummary> eval_summaries(store::ProjectStore& s) {
  std::vector<EvalSummary> out;
  for (const store::EvalRecord& e : s.list_evals()) {
    EvalSummary r;
    r.id = e.id;
    r.model = model_name(s, e.model_id);
    r.kind = QString::fromLatin1(store::to_string(e.kind));
    r.created = QString::fromStdString(e.created);
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(e.result_json)).object();
    for (const QJsonValue& v : o.value(QLatin1String("lengths")).toArray())
      if (v.isDouble()) r.lengths.push_back(std::int64_t(v.toDouble()));
    double sum = 0;
    std::int64_t n = 0;
    add_numbers(o.value(QLatin1String("score")), sum, n);
    if (n > 0) r.mean_score = sum / double(n);
    out.push_back(std::move(r));
  }
  return out;
}

std::int64_t newest_niah_eval(store::ProjectStore& s, const QString& model) {
  std::vector<std::int64_t> ids;
  for (const store::ModelRecord& m : s.list_models())
    if (QString::fromStdString(m.name) == model || QFileInfo(QString::fromStdString(m.path)).fileName() == model)
      ids.push_back(m.id);
  if (ids.empty()) throw StoreError("no model named \"" + model.toStdString() + "\"", s.db_file(), "models.name");
  std::optional<std::int64_t> newest;
  for (const store::EvalRecord& e : s.list_evals())
    if (e.kind == store::EvalKind::Niah && std::find(ids.begin(), ids.end(), e.model_id) != ids.end())
      newest = std::max(newest.value_or(e.id), e.id);
  if (!newest)
    throw StoreError("model \"" + model.toStdString() + "\" has no NIAH evaluation", s.db_file(), "evals.model_id");
  return *newest;
}

// The model's config: the copy stored with its row, else the config.json in its folder.
static std::optional<ModelConfig> model_config(store::ProjectStore& s, const store::ModelRecord& m) {
  try {
    const nlohmann::json j = nlohmann::json::parse(m.config_json);
    if (j.is_object() && !j.empty()) return ModelConfig::from_json(j, s.db_file() + ": models[" + std::to_string(m.id) + "]");
    if (!m.path.empty() && s.path_exists(m.path)) return ModelConfig::load(s.resolve_path(m.path));
  } catch (const std::exception&) {
    // An unreadable config only costs the panel its KV share.
  }
  return std::nullopt;
}

static std::optional<double> kv_share(store::ProjectStore& s, std::int64_t model_id) {
  const std::vector<store::ModelRecord> models = s.list_models();
  // The project's reference teacher: the one its plans were made on, else the first teacher. It is
  // 100% of itself; another teacher (a larger one for distillation) is measured against it.
  std::optional<std::int64_t> reference;
  for (const store::PlanRecord& p : s.list_plans())
    if (!reference) reference = p.model_id;
  for (const store::ModelRecord& m : models)
    if (!reference && m.kind == store::ModelKind::Teacher) reference = m.id;
  if (reference && *reference == model_id) return 1.0;
  std::optional<ModelConfig> student;
  bool is_teacher = false;
  for (const store::ModelRecord& m : models) {
    if (m.id != model_id) continue;
    student = model_config(s, m);
    is_teacher = m.kind == store::ModelKind::Teacher;
  }
  if (!student) return std::nullopt;
  std::optional<ModelConfig> teacher;
  if (is_teacher) {
    for (const store::ModelRecord& m : models)
      if (m.id == reference) teacher = model_config(s, m);
  } else {
    // A relative teacher path has no known base (the plan file's folder it came from is gone).
    if (QFileInfo(QString::fromStdString(student->teacher)).isAbsolute()) {
      try {
        teacher = ModelConfig::load(student->teacher);
      } catch (const std::exception&) {
        // Moved or deleted: fall back to the project's teacher.
      }
    }
    for (const store::ModelRecord& m : models)
      if (!teacher && m.kind == store::ModelKind::Teacher) teacher = model_config(s, m);
  }
  if (!teacher) return std::nullopt;
  try {
    return kv_fraction(*student, *teacher);
  } catch (const hylo::Error&) {
    return std::nullopt;
  }
}

NiahPanel niah_panel(store::ProjectStore& s, std::int64_t eval_id) {
  const store::EvalRecord e = s.get_eval(eval_id);
  const std::string field = "evals[" + std::to_string(eval_id) + "]";
  if (e.kind != store::EvalKind::Niah)
    throw EvalError(std::string("is a ") + store::to_string(e.kind) + " evaluation, not niah", s.db_file(), field);
  NiahPanel p;
  p.eval_id = eval_id;
  p.label = model_name(s, e.model_id);
  p.result = NiahResult::from_json(QByteArray::fromStdString(e.result_json),
                                   QString::fromStdString(s.db_file() + ": " + field + ".result_json"));
  p.kv_fraction = kv_share(s, e.model_id);
  return p;
}

}  // namespace hylo::views
