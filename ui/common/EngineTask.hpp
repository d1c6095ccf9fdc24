// A bridge for one long engine job (an import, building records, an evaluation): runs a function
// on its own thread with a stop token and a progress callback, and reports back on the GUI thread
// through queued signals. The function's exceptions are caught on the worker and arrive as
// finished(false, message); nothing crosses the thread boundary but small values. Destroying the
// task requests a stop and joins the thread.
#pragma once

#include <QObject>
#include <QString>
#include <functional>
#include <stop_token>
#include <thread>

#include "core/Progress.hpp"

namespace taxon::ui {

class EngineTask : public QObject {
  Q_OBJECT

 public:
  // Returns a sentence for the user (a summary when it worked); throws on failure.
  using Work = std::function<QString(std::stop_token, const core::ProgressFn&)>;

  explicit EngineTask(QObject* parent = nullptr);
  ~EngineTask() override;

  // Starts `work`; false when a job of this task is still running.
  bool start(Work work);
  void cancel();  // asks the work to stop; finished() follows
  bool isRunning() const { return running_; }

 Q_SIGNALS:
  // At most ten times a second: stage, units done, units in all (0: unknown), unit name.
  void progress(const QString& stage, qint64 done, qint64 total, const QString& unit);
  void finished(bool ok, bool cancelled, const QString& message);

 private:
  std::jthread thread_;
  bool running_ = false;
};

}  // namespace taxon::ui
