#include "views/niah_result.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <limits>

#include "core/spec/error.h"

namespace hylo::views {

[[noreturn]] static void fail(const QString& origin, const QString& field, const QString& what) {
  throw EvalError(what.toStdString(), origin.toStdString(), field.toStdString());
}

static QJsonArray array_field(const QJsonObject& o, const char* key, const QString& origin) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (!v.isArray()) fail(origin, key, QObject::tr("missing or not an array"));
  return v.toArray();
}

// `nulls_ok`: a null cell reads as NaN (`hylo eval niah --no-loglik` writes null log-likelihoods).
static std::vector<std::vector<double>> grid(const QJsonArray& rows, std::size_t n_rows, std::size_t n_cols,
                                             const char* key, const QString& origin, bool nulls_ok = false) {
  if (std::size_t(rows.size()) != n_rows)
    fail(origin, key, QObject::tr("has %1 rows for %2 lengths").arg(rows.size()).arg(n_rows));
  std::vector<std::vector<double>> out;
  for (int i = 0; i < rows.size(); ++i) {
    const QString field = QStringLiteral("%1[%2]").arg(QLatin1String(key)).arg(i);
    if (!rows[i].isArray()) fail(origin, field, QObject::tr("not an array"));
    const QJsonArray row = rows[i].toArray();
    if (std::size_t(row.size()) != n_cols)
      fail(origin, field, QObject::tr("has %1 values for %2 depths").arg(row.size()).arg(n_cols));
    std::vector<double> r;
    for (const QJsonValue& v : row) {
      if (nulls_ok && v.isNull()) {
        r.push_back(std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      if (!v.isDouble()) fail(origin, field, QObject::tr("holds a value that is not a number"));
      r.push_back(v.toDouble());
    }
    out.push_back(std::move(r));
  }
  return out;
}

NiahResult NiahResult::from_json(const QByteArray& json, const QString& origin) {
  QJsonParseError err{};
  const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
  if (err.error != QJsonParseError::NoError) fail(origin, "result_json", err.errorString());
  if (!doc.isObject()) fail(origin, "result_json", QObject::tr("not a JSON object"));
  const QJsonObject o = doc.object();
  NiahResult r;
  r.task = o.value("task").toString();
  r.model = o.value("model").toString();
  r.trials = o.value("trials").toInt();
  r.time_s = o.value("time_s").toDouble();
  for (const QJsonValue& v : array_field(o, "lengths", origin)) {
    if (!v.isDouble() || v.toDouble() <= 0) fail(origin, "lengths", QObject::tr("holds a length that is not positive"));
    r.lengths.push_back(std::int64_t(v.toDouble()));
  }
  for (const QJsonValue& v : array_field(o, "depths", origin)) {
    if (!v.isDouble() || v.toDouble() < 0 || v.toDouble() > 100)
      fail(origin, "depths", QObject::tr("holds a depth outside 0..100"));
    r.depths.push_back(v.toDouble());
  }
  if (r.lengths.empty() || r.depths.empty()) fail(origin, "lengths", QObject::tr("empty grid"));
  r.score = grid(array_field(o, "score", origin), r.lengths.size(), r.depths.size(), "score", origin);
  if (o.contains("loglik"))
    r.loglik = grid(array_field(o, "loglik", origin), r.lengths.size(), r.depths.size(), "loglik", origin, true);
  const QJsonObject kv = o.value("kv_bytes").toObject();
  for (auto it = kv.begin(); it != kv.end(); ++it) {
    bool ok = false;
    const qlonglong len = it.key().toLongLong(&ok);
    if (!ok || !it.value().isDouble()) fail(origin, "kv_bytes." + it.key(), QObject::tr("not a length and a byte count"));
    r.kv_bytes[len] = it.value().toDouble();
  }
  return r;
}

std::vector<std::vector<double>> niah_difference(const NiahResult& a, const NiahResult& b) {
  if (a.lengths != b.lengths || a.depths != b.depths)
    throw EvalError("the two evaluations use different lengths or depths", "", "lengths");
  std::vector<std::vector<double>> d = a.score;
  for (std::size_t i = 0; i < d.size(); ++i)
    for (std::size_t j = 0; j < d[i].size(); ++j) d[i][j] -= b.score[i][j];
  return d;
}

QString short_length(std::int64_t tokens) {
  if (tokens >= (1 << 20) && tokens % (1 << 20) == 0) return QStringLiteral("%1M").arg(tokens >> 20);
  if (tokens >= 1024 && tokens % 1024 == 0) return QStringLiteral("%1K").arg(tokens >> 10);
  return QString::number(tokens);
}

}  // namespace hylo::views
