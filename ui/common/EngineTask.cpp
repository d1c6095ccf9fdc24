#include "common/EngineTask.hpp"

#include <QMetaObject>
#include <QPointer>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>

namespace taxon::ui {

EngineTask::EngineTask(QObject* parent) : QObject(parent) {}

EngineTask::~EngineTask() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

bool EngineTask::start(Work work) {
  if (running_) {
    return false;
  }
  if (thread_.joinable()) {
    thread_.join();  // the previous job has finished (running_ is false): this returns at once
  }
  running_ = true;
  QPointer<EngineTask> self(this);
  thread_ = std::jthread([self, work = std::move(work)](std::stop_token stop) {
    // Progress arrives from several worker threads; forward at most every 100 ms, plus the end.
    auto lastSent = std::make_shared<std::atomic<std::int64_t>>(0);
    auto mutex = std::make_shared<std::mutex>();
    const core::ProgressFn progress = [self, lastSent, mutex](const core::Progress& p) {
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
      const std::scoped_lock lock(*mutex);
      if (now - lastSent->load() < 100 && !(p.total > 0 && p.done >= p.total)) {
        return;
      }
      lastSent->store(now);
      const QString stage = QString::fromStdString(p.stage);
      const QString unit = QString::fromStdString(p.unit);
      const qint64 done = p.done;
      const qint64 total = p.total;
      QMetaObject::invokeMethod(
          self.data(),
          [self, stage, done, total, unit] {
            if (self) {
              Q_EMIT self->progress(stage, done, total, unit);
            }
          },
          Qt::QueuedConnection);
    };
    bool ok = false;
    QString message;
    try {
      message = work(stop, progress);
      ok = true;
    } catch (const std::exception& e) {
      message = QString::fromUtf8(e.what());
    } catch (...) {
      message = QStringLiteral("unknown error");
    }
    const bool cancelled = stop.stop_requested();
    QMetaObject::invokeMethod(
        self.data(),
        [self, ok, cancelled, message] {
          if (self) {
            self->running_ = false;
            Q_EMIT self->finished(ok, cancelled, message);
          }
        },
        Qt::QueuedConnection);
  });
  return true;
}

void EngineTask::cancel() {
  if (thread_.joinable()) {
    thread_.request_stop();
  }
}

}  // namespace taxon::ui
