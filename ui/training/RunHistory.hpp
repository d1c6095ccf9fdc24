// The curves of one training run, as the charts show them: loss (raw and smoothed) and, for a
// distillation run, its two parts (the labels' cross-entropy and the teacher's T^2 KL), learning
// rate, examples/sec per logged step, and precision@1 / recall@5 per evaluation. Filled live from
// TrainJob updates, or read from a run's metrics.jsonl to show an old run's history. Plain data,
// no widgets.
#pragma once

#include <QPointF>
#include <QString>
#include <algorithm>
#include <cstddef>
#include <vector>

#include "train/Trainer.hpp"

namespace taxon::ui {

class RunHistory {
 public:
  // TensorBoard-style smoothing of the loss: a debiased exponential moving average.
  explicit RunHistory(double smoothing = 0.95) : smoothing_(smoothing) {}

  void clear();
  void add(const train::StepMetrics& step);
  void add(const train::EvalPoint& eval);
  // Reads TRAIN_DIR/metrics.jsonl; false with `error` naming the file and line when it cannot.
  // A torn last line (a run killed while writing) is skipped.
  bool read(const QString& trainDir, QString* error = nullptr);

  const std::vector<QPointF>& loss() const { return loss_; }
  const std::vector<QPointF>& smoothedLoss() const { return smoothed_; }
  // A distillation run's loss parts (empty for a run without a teacher).
  const std::vector<QPointF>& labelsLoss() const { return labelsLoss_; }
  const std::vector<QPointF>& distillLoss() const { return distillLoss_; }
  bool distilled() const { return !distillLoss_.empty(); }
  const std::vector<QPointF>& learningRate() const { return learningRate_; }
  const std::vector<QPointF>& examplesPerSec() const { return examplesPerSec_; }
  const std::vector<QPointF>& precisionAt1() const { return precisionAt1_; }
  const std::vector<QPointF>& recallAt5() const { return recallAt5_; }
  qint64 lastStep() const { return lastStep_; }
  // Why the run has no evaluations ("nothing to evaluate: the 'validation' split of ... is
  // empty"); empty when it has them or has not said.
  const QString& evalNotice() const { return evalNotice_; }

 private:
  double smoothing_;
  double average_ = 0.0;
  double weight_ = 0.0;
  qint64 lastStep_ = 0;
  std::vector<QPointF> loss_, smoothed_, labelsLoss_, distillLoss_, learningRate_, examplesPerSec_,
      precisionAt1_, recallAt5_;
  QString evalNotice_;
};

// At most 4 x `buckets` points that draw like `points` (x ascending): the first, minimum, maximum
// and last of each bucket of equal x width, so a chart of 100,000 steps stays smooth and spikes
// stay visible. All of them when there are at most 2 x `buckets`.
std::vector<QPointF> decimate(const std::vector<QPointF>& points, int buckets);

// The `count` points given by x(i) and y(i).
template <class X, class Y>
std::vector<QPointF> allPoints(std::size_t count, X x, Y y) {
  std::vector<QPointF> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.emplace_back(x(i), y(i));
  }
  return out;
}

// decimate() for `count` points given by x(i) and y(i) (columns of figures, without making points
// of them all first).
template <class X, class Y>
std::vector<QPointF> decimate(std::size_t count, X x, Y y, int buckets) {
  if (buckets <= 0 || count <= static_cast<std::size_t>(2 * buckets)) {
    return allPoints(count, x, y);
  }
  std::vector<QPointF> out;
  const double first = x(0);
  const double width = (x(count - 1) - first) / buckets;
  out.reserve(static_cast<std::size_t>(4 * buckets));
  std::size_t i = 0;
  for (int b = 0; b < buckets && i < count; ++b) {
    const double end = b + 1 == buckets ? x(count - 1) + 1.0 : first + width * (b + 1);
    const std::size_t start = i;
    std::size_t low = i;
    std::size_t high = i;
    while (i < count && x(i) < end) {
      if (y(i) < y(low)) {
        low = i;
      }
      if (y(i) > y(high)) {
        high = i;
      }
      ++i;
    }
    if (i == start) {
      continue;  // an empty bucket
    }
    // In x order, without repeats: first, min and max in their order, last.
    const std::size_t picks[4] = {start, std::min(low, high), std::max(low, high), i - 1};
    std::size_t previous = static_cast<std::size_t>(-1);
    for (const std::size_t p : picks) {
      if (p != previous) {
        out.emplace_back(x(p), y(p));
        previous = p;
      }
    }
  }
  return out;
}

// At most `buckets` + 1 points of a curve without spikes (a smoothed one): the first, then the
// last of each bucket of equal x width. All of them when there are at most `buckets`.
template <class X, class Y>
std::vector<QPointF> thin(std::size_t count, X x, Y y, int buckets) {
  if (buckets <= 0 || count <= static_cast<std::size_t>(buckets)) {
    return allPoints(count, x, y);
  }
  std::vector<QPointF> out;
  const double first = x(0);
  const double width = (x(count - 1) - first) / buckets;
  out.reserve(static_cast<std::size_t>(buckets) + 1);
  out.emplace_back(x(0), y(0));
  double end = first + width;
  for (std::size_t i = 1; i < count; ++i) {
    if (i + 1 == count || x(i + 1) >= end) {
      out.emplace_back(x(i), y(i));
      while (i + 1 < count && x(i + 1) >= end) {
        end += width;
      }
    }
  }
  return out;
}

}  // namespace taxon::ui
