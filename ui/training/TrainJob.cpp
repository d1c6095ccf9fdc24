#include "training/TrainJob.hpp"

#include <QMetaObject>
#include <QPointer>
#include <exception>

namespace taxon::ui {

TrainJob::TrainJob(QObject* parent) : QObject(parent) {}

TrainJob::~TrainJob() {
  if (thread_.joinable()) {
    thread_.request_stop();
    unpaused_.notify_all();
    thread_.join();
  }
}

bool TrainJob::start(const settings::TrainSettings& settings, bool resume) {
  if (running_) {
    return false;
  }
  if (thread_.joinable()) {
    thread_.join();  // the last run has finished already
  }
  {
    const std::scoped_lock lock(mutex_);
    pending_ = {};
    paused_ = false;
  }
  running_ = true;
  QPointer<TrainJob> self(this);
  thread_ = std::jthread([this, self, settings, resume](std::stop_token stop) {
    train::TrainCallbacks callbacks;
    callbacks.onStep = [this](const train::StepMetrics& step) {
      const std::scoped_lock lock(mutex_);
      pending_.steps.push_back(step);
    };
    // Every replica thread holds after the same step (see TrainCallbacks).
    callbacks.pauseRequested = [this] { return isPaused(); };
    callbacks.holdWhilePaused = [this](const std::stop_token& token) { waitWhilePaused(token); };
    callbacks.onEval = [this](const train::EvalPoint& point) {
      const std::scoped_lock lock(mutex_);
      pending_.evals.push_back(point);
    };
    callbacks.onLog = [this](const std::string& line) {
      const std::scoped_lock lock(mutex_);
      pending_.log.push_back(QString::fromStdString(line));
    };
    callbacks.progress = [this](const core::Progress& progress) {
      if (progress.stage == "train") {
        const std::scoped_lock lock(mutex_);
        pending_.progress = progress;
      }
    };
    bool ok = false;
    bool stopped = false;
    QString message;
    try {
      const train::TrainResult result = train::train(settings, resume, callbacks, stop);
      ok = true;
      stopped = result.stopped;
      message = QString::fromStdString(result.lastCheckpoint.string());
    } catch (const std::exception& e) {
      message = QString::fromUtf8(e.what());
    }
    QMetaObject::invokeMethod(
        self.data(),
        [self, ok, stopped, message] {
          if (self) {
            self->running_ = false;
            Q_EMIT self->finished(ok, stopped, message);
          }
        },
        Qt::QueuedConnection);
  });
  Q_EMIT started();
  return true;
}

void TrainJob::waitWhilePaused(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  unpaused_.wait(lock, stop, [this] { return !paused_; });
}

void TrainJob::pause() {
  if (!running_) {
    return;
  }
  {
    const std::scoped_lock lock(mutex_);
    paused_ = true;
  }
  Q_EMIT pausedChanged(true);
}

void TrainJob::resume() {
  {
    const std::scoped_lock lock(mutex_);
    if (!paused_) {
      return;
    }
    paused_ = false;
  }
  unpaused_.notify_all();
  Q_EMIT pausedChanged(false);
}

void TrainJob::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();  // also wakes a paused loop (the wait watches the token)
  }
  resume();
}

bool TrainJob::isPaused() const {
  const std::scoped_lock lock(mutex_);
  return paused_;
}

TrainJob::Update TrainJob::take() {
  const std::scoped_lock lock(mutex_);
  Update out = std::move(pending_);
  pending_ = {};
  return out;
}

}  // namespace taxon::ui
