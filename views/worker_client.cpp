#include "views/worker_client.h"

#include <QJsonDocument>

#include "views/hylo_binary.h"

namespace hylo::views {

WorkerClient::WorkerClient(QObject* parent) : QObject(parent) {
  connect(&proc_, &QProcess::readyReadStandardOutput, this, &WorkerClient::read_stdout);
  connect(&proc_, &QProcess::readyReadStandardError, this, [this] {
    for (const QByteArray& line : proc_.readAllStandardError().split('\n'))
      if (!line.trimmed().isEmpty()) emit log_line(QStringLiteral("worker: ") + QString::fromUtf8(line));
  });
  connect(&proc_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
    if (shutting_down_) return;
    worker_died(status == QProcess::CrashExit ? tr("the worker crashed") : tr("the worker exited with %1").arg(code));
  });
  connect(&proc_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e != QProcess::FailedToStart) return;
    const QString why = tr("cannot start %1: %2").arg(proc_.program(), proc_.errorString());
    for (std::int64_t id : QSet<std::int64_t>(pending_)) emit failed(id, why);
    pending_.clear();
  });
}

WorkerClient::~WorkerClient() {
  if (!running()) return;
  shutting_down_ = true;
  proc_.write(QJsonDocument(QJsonObject{{"id", qint64(next_id_++)}, {"op", "shutdown"}}).toJson(QJsonDocument::Compact) + '\n');
  if (!proc_.waitForFinished(2000)) {
    proc_.kill();
    proc_.waitForFinished(1000);
  }
}

void WorkerClient::ensure_started() {
  if (running()) return;
  proc_.start(hylo_binary(), {QStringLiteral("worker")});
}

std::int64_t WorkerClient::send(QJsonObject request) {
  ensure_started();
  const std::int64_t id = next_id_++;
  request.insert("id", qint64(id));
  if (request.value("op").toString() == QLatin1String("load")) last_load_ = request;
  pending_.insert(id);
  proc_.write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
  return id;
}

void WorkerClient::cancel(std::int64_t id) {
  if (!running() || !pending_.contains(id)) return;
  proc_.write(QJsonDocument(QJsonObject{{"id", qint64(next_id_++)}, {"op", "cancel"}, {"target", qint64(id)}})
                  .toJson(QJsonDocument::Compact) + '\n');
}

void WorkerClient::read_stdout() {
  buf_ += proc_.readAllStandardOutput();
  qsizetype nl;
  while ((nl = buf_.indexOf('\n')) >= 0) {
    const QByteArray line = buf_.left(nl).trimmed();
    buf_.remove(0, nl + 1);
    if (line.isEmpty()) continue;
    const QJsonDocument doc = QJsonDocument::fromJson(line);
    if (!doc.isObject()) {  // the protocol allows nothing else on stdout: show it, do not guess
      emit log_line(tr("worker wrote a line that is not JSON: %1").arg(QString::fromUtf8(line.left(200))));
      continue;
    }
    const QJsonObject o = doc.object();
    const std::int64_t id = o.value("id").toInteger();
    const QString event = o.value("event").toString();
    failed_restarts_ = 0;
    if (event == QLatin1String("progress")) {
      emit progress(id, o.value("done").toInteger(), o.value("total").toInteger(), o.value("what").toString());
    } else if (event == QLatin1String("result")) {
      pending_.remove(id);
      emit result(id, o);
    } else if (event == QLatin1String("error")) {
      pending_.remove(id);
      emit failed(id, o.value("message").toString());
    }
  }
}

void WorkerClient::worker_died(const QString& why) {
  buf_.clear();
  const QSet<std::int64_t> lost = pending_;
  pending_.clear();
  for (std::int64_t id : lost) emit failed(id, why);
  static constexpr int kMaxFailedRestarts = 3;
  if (++failed_restarts_ > kMaxFailedRestarts) {
    emit restarted(tr("%1; not restarted again (it died %2 times without answering)").arg(why).arg(kMaxFailedRestarts));
    return;
  }
  ++restarts_;
  emit restarted(why);
  ensure_started();
  if (!last_load_.isEmpty()) {
    QJsonObject again = last_load_;
    again.remove("id");
    send(again);
  }
}

}  // namespace hylo::views
