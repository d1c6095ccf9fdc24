// The bridge between the Train page and one training run on its own thread (train::train). The
// engine's callbacks (on the training thread) only append small values to a mutex-guarded
// buffer; the page drains it with take() from a timer, so a fast run costs the GUI one short
// lock per refresh however many steps it makes. Pause blocks the training loop between steps
// (memory and data position stay; Resume continues at once); Stop asks the run to write a
// checkpoint and return. finished() arrives through a queued signal.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/Progress.hpp"
#include "train/Trainer.hpp"

namespace taxon::ui {

class TrainJob : public QObject {
  Q_OBJECT

 public:
  // What arrived since the last take().
  struct Update {
    std::vector<train::StepMetrics> steps;
    std::vector<train::EvalPoint> evals;
    QStringList log;
    std::optional<core::Progress> progress;  // the latest
  };

  explicit TrainJob(QObject* parent = nullptr);
  ~TrainJob() override;  // stops the run (with a checkpoint) and joins

  // Starts a run (or with `resume`, continues the one in settings.trainDir). False when one is
  // running already.
  bool start(const settings::TrainSettings& settings, bool resume);
  void pause();
  void resume();
  void stop();
  bool isRunning() const { return running_; }
  bool isPaused() const;
  Update take();

 Q_SIGNALS:
  void started();
  void pausedChanged(bool paused);
  // ok: the run ended normally or was stopped on request; message: the engine's error otherwise.
  void finished(bool ok, bool stopped, const QString& message);

 private:
  void waitWhilePaused(const std::stop_token& stop);

  std::jthread thread_;
  bool running_ = false;
  mutable std::mutex mutex_;
  std::condition_variable_any unpaused_;
  bool paused_ = false;
  Update pending_;
};

}  // namespace taxon::ui
