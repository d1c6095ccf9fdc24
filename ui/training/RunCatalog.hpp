// The project's runs as the Runs page compares them: each run's settings, state and figures,
// read from its train dir (runs of the app, of the CLI, or copied from another machine alike) and
// kept current by reading only what its metrics.jsonl gained since the last look. A damaged
// line is left out and counted, so a damaged or half-written file shows what can be read. Plain
// data, no widgets; loadRun may run on any thread.
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "train/RunState.hpp"

namespace taxon::ui {

// What the charts compare, one chart each.
enum class RunMetric { Loss, LearningRate, ExamplesPerSec, PrecisionAt1, RecallAt5 };
inline constexpr RunMetric kRunMetrics[] = {RunMetric::Loss, RunMetric::LearningRate,
                                            RunMetric::ExamplesPerSec, RunMetric::PrecisionAt1,
                                            RunMetric::RecallAt5};
QString runMetricName(RunMetric metric);  // "loss", "learning rate", ... (the CSV's names too)

// A run's figures in file order (steps ascending; a resumed run's file reads as one run).
struct RunSeries {
  // Every step: its number, epoch, time (seconds since the Unix epoch) and figures.
  std::vector<double> step, epoch, time, loss, learningRate, examplesPerSec;
  // Every evaluation.
  std::vector<double> evalStep, evalEpoch, evalTime, precisionAt1, recallAt5;
  // The x and y columns of `metric` (the evaluation's columns for precision and recall).
  const std::vector<double>& steps(RunMetric metric) const;
  const std::vector<double>& epochs(RunMetric metric) const;
  const std::vector<double>& times(RunMetric metric) const;
  const std::vector<double>& values(RunMetric metric) const;
};

struct RunSnapshot {
  QString dir;
  QString name;          // the folder's path under the project ("runs/a")
  QJsonObject settings;  // settings.json as written (empty when missing or unreadable)
  train::ObservedRunState state;
  std::shared_ptr<const RunSeries> series = std::make_shared<RunSeries>();
  // Summary.
  std::int64_t lastStep = 0;
  std::int64_t totalSteps = 0;  // 0: not known (a length in epochs without run-state.json)
  std::optional<double> bestPrecisionAt1, lastPrecisionAt1;
  double wallSeconds = 0.0;    // from the first figure to the last, pauses between resumes included
  double firstTime = 0.0;      // the first figure's time
  double stepsPerEpoch = 0.0;  // run-state.json's, or learned from the first epoch boundary
  // What could not be read ("metrics.jsonl: lines 17 and 240 could not be read: not a JSON
  // object"; "no metrics.jsonl yet"; "settings.json: ..."); empty when all was.
  QStringList problems;
  // Where reading stopped (the incremental reading's state).
  std::uint64_t inode = 0;
  std::int64_t offset = 0;  // bytes of metrics.jsonl read (whole lines)
  std::int64_t lines = 0;   // lines read
  std::int64_t unreadLines = 0;
  std::vector<std::int64_t> firstUnread;  // the first few unread lines' numbers
  QString unreadReason;                   // the first one's reason
  bool tornTail = false;                  // bytes after the last newline (a line being written)
  qint64 settingsModified = 0;
  qint64 stateModified = 0;
};

// Reads the run in `dir` (its name `name`), continuing from `previous` (the same run's earlier
// snapshot) when its metrics.jsonl only grew. Never throws: what fails is in `problems`.
RunSnapshot loadRun(const QString& dir, const QString& name, const RunSnapshot* previous);

// The x of each of `metric`'s points on `axis`: 0 step, 1 epoch, 2 minutes since the run's first
// figure (`timeScale` 60) or hours (3600).
enum class RunAxis { Step, Epoch, WallTime };
std::vector<double> axisValues(const RunSnapshot& run, RunMetric metric, RunAxis axis,
                               double timeScale);

// TensorBoard's smoothing: an exponential moving average with weight `weight` (0: none, toward 1:
// smoother), debiased so that the first points are not pulled toward 0. Non-finite values pass
// through unsmoothed.
std::vector<double> smoothed(const std::vector<double>& values, double weight);

}  // namespace taxon::ui
