// One `hylo train` child: starts it, reads its JSON-line events (contracts: step / stage /
// checkpoint / done / error), stops it gently (SIGTERM so the trainer checkpoints; SIGKILL only
// after a grace period), and says how it ended. Lines that are not events go to the log as text.
#pragma once
#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QStringList>
#include <cstdint>
#include <optional>

namespace hylo::views {

class TrainProcess : public QObject {
  Q_OBJECT
 public:
  explicit TrainProcess(QObject* parent = nullptr);
  ~TrainProcess() override;

  void start(const QString& program, const QStringList& args);
  void stop(int grace_ms = 15000);  // terminate(), then kill() if still running after grace_ms
  bool running() const { return proc_.state() != QProcess::NotRunning; }
  QProcess& process() { return proc_; }

  std::optional<std::int64_t> run_id() const { return run_id_; }
  std::int64_t step() const { return step_; }
  // Seconds left in the current stage at the recent step rate; empty before two steps are seen.
  std::optional<double> eta_s() const;
  QString last_error() const { return last_error_; }  // an "error" event, or the last stderr line

 signals:
  void log_line(const QString& line, bool is_error);
  void event(const QJsonObject& e);
  // ok: exit code 0 after "done"; otherwise `message` says why.
  void ended(bool ok, const QString& message, std::optional<std::int64_t> exit_code);

 private:
  void read_stdout();
  void read_stderr();
  void handle_line(const QByteArray& line);

  QProcess proc_;
  QByteArray out_buf_, err_buf_;
  std::optional<std::int64_t> run_id_;
  std::int64_t step_ = 0, stage_start_step_ = 0, stage_steps_ = 0;
  std::int64_t rate_step0_ = -1;
  double rate_wall0_ = 0, last_wall_ = 0;
  bool done_ = false, stopping_ = false;
  QString last_error_;
};

}  // namespace hylo::views
