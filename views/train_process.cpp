#include "views/train_process.h"

#include <QJsonDocument>
#include <QTimer>

namespace hylo::views {

TrainProcess::TrainProcess(QObject* parent) : QObject(parent) {
  connect(&proc_, &QProcess::readyReadStandardOutput, this, &TrainProcess::read_stdout);
  connect(&proc_, &QProcess::readyReadStandardError, this, &TrainProcess::read_stderr);
  connect(&proc_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart)
      emit ended(false, tr("cannot start %1: %2").arg(proc_.program(), proc_.errorString()), std::nullopt);
  });
  connect(&proc_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
    read_stdout();
    read_stderr();
    if (stopping_) {  // asked to stop: however it exits, the run was stopped, not failed
      emit ended(false, tr("stopped"), status == QProcess::NormalExit ? std::optional<std::int64_t>(code) : std::nullopt);
    } else if (status == QProcess::NormalExit && code == 0) {
      emit ended(true, done_ ? tr("finished") : tr("exited"), code);
    } else {
      const QString why = status == QProcess::CrashExit ? tr("the trainer crashed") : tr("the trainer exited with %1").arg(code);
      emit ended(false, last_error_.isEmpty() ? why : why + ": " + last_error_,
                 status == QProcess::NormalExit ? std::optional<std::int64_t>(code) : std::nullopt);
    }
  });
}

TrainProcess::~TrainProcess() {
  if (running()) {
    proc_.kill();
    proc_.waitForFinished(2000);
  }
}

void TrainProcess::start(const QString& program, const QStringList& args) {
  run_id_.reset();
  step_ = stage_start_step_ = stage_steps_ = 0;
  rate_step0_ = -1;
  done_ = stopping_ = false;
  last_error_.clear();
  proc_.start(program, args);
}

void TrainProcess::stop(int grace_ms) {
  if (!running()) return;
  stopping_ = true;
  proc_.terminate();
  QTimer::singleShot(grace_ms, this, [this] {
    if (running()) {
      emit log_line(tr("The trainer did not stop within the grace period: killing it."), true);
      proc_.kill();
    }
  });
}

std::optional<double> TrainProcess::eta_s() const {
  if (rate_step0_ < 0 || step_ <= rate_step0_ || stage_steps_ <= 0) return std::nullopt;
  const double rate = double(step_ - rate_step0_) / std::max(1e-9, last_wall_ - rate_wall0_);
  const double left = double(stage_start_step_ + stage_steps_ - step_);
  return std::max(0.0, left) / rate;
}

void TrainProcess::read_stdout() {
  out_buf_ += proc_.readAllStandardOutput();
  qsizetype nl;
  while ((nl = out_buf_.indexOf('\n')) >= 0) {
    handle_line(out_buf_.left(nl));
    out_buf_.remove(0, nl + 1);
  }
}

void TrainProcess::read_stderr() {
  err_buf_ += proc_.readAllStandardError();
  qsizetype nl;
  while ((nl = err_buf_.indexOf('\n')) >= 0) {
    const QString line = QString::fromUtf8(err_buf_.left(nl)).trimmed();
    err_buf_.remove(0, nl + 1);
    if (line.isEmpty()) continue;
    last_error_ = line;
    emit log_line(line, false);
  }
}

void TrainProcess::handle_line(const QByteArray& raw) {
  const QByteArray line = raw.trimmed();
  if (line.isEmpty()) return;
  const QJsonDocument doc = QJsonDocument::fromJson(line);
  if (!doc.isObject()) {
    emit log_line(QString::fromUtf8(line), false);
    return;
  }
  const QJsonObject e = doc.object();
  const QString kind = e.value("event").toString();
  if (kind == QLatin1String("step")) {
    if (e.contains("run")) run_id_ = e.value("run").toInteger();
    step_ = e.value("step").toInteger();
    last_wall_ = e.value("wall_s").toDouble();
    if (rate_step0_ < 0) {
      rate_step0_ = step_;
      rate_wall0_ = last_wall_;
    }
  } else if (kind == QLatin1String("stage")) {
    stage_start_step_ = step_;
    stage_steps_ = e.value("steps").toInteger();
    emit log_line(tr("stage %1 (%2): %3 steps at %4 tokens").arg(e.value("idx").toInteger())
                      .arg(e.value("kind").toString()).arg(stage_steps_).arg(e.value("seq_len").toInteger()), false);
  } else if (kind == QLatin1String("checkpoint")) {
    emit log_line(tr("checkpoint at step %1: %2").arg(e.value("step").toInteger()).arg(e.value("path").toString()), false);
  } else if (kind == QLatin1String("done")) {
    done_ = true;
  } else if (kind == QLatin1String("error")) {
    last_error_ = e.value("message").toString();
    emit log_line(last_error_, true);
  }
  emit event(e);
}

}  // namespace hylo::views
