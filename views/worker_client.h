// The GUI's side of `hylo worker` (contracts: JSON lines, requests with a client "id", responses
// progress / result / error by id). Keeps one child; if it dies, pending requests fail with the
// reason, a fresh worker is started, the last model is loaded again, and restarted() says so.
#pragma once
#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QSet>
#include <cstdint>

namespace hylo::views {

class WorkerClient : public QObject {
  Q_OBJECT
 public:
  explicit WorkerClient(QObject* parent = nullptr);
  ~WorkerClient() override;  // asks the worker to shut down, kills it if it does not

  // Sends a request (an "id" is added); starts the worker first if needed. Returns the id.
  std::int64_t send(QJsonObject request);
  void cancel(std::int64_t id);
  bool running() const { return proc_.state() != QProcess::NotRunning; }
  int restarts() const { return restarts_; }
  QProcess& process() { return proc_; }

 signals:
  void progress(std::int64_t id, std::int64_t done, std::int64_t total, const QString& what);
  void result(std::int64_t id, const QJsonObject& response);
  void failed(std::int64_t id, const QString& message);
  void restarted(const QString& why);
  void log_line(const QString& line);

 private:
  void ensure_started();
  void read_stdout();
  void worker_died(const QString& why);

  QProcess proc_;
  QByteArray buf_;
  std::int64_t next_id_ = 1;
  QSet<std::int64_t> pending_;
  QJsonObject last_load_;  // replayed after a restart so the user's model stays loaded
  int restarts_ = 0;
  int failed_restarts_ = 0;  // restarts since the last answer: a worker that cannot start is not retried forever
  bool shutting_down_ = false;
};

}  // namespace hylo::views
