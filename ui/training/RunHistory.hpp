// The curves of one training run, as the charts show them: loss (raw and smoothed) and, for a
// distillation run, its two parts (the labels' cross-entropy and the teacher's T^2 KL), learning
// rate, examples/sec per logged step, and precision@1 / recall@5 per evaluation. Filled live from
// TrainJob updates, or read from a run's metrics.jsonl to show an old run's history. Plain data,
// no widgets.
#pragma once

#include <QPointF>
#include <QString>
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

// At most 2 x `buckets` points that draw like `points` (x ascending): the first, minimum, maximum
// and last of each bucket of equal x width, so a chart of 100,000 steps stays smooth and spikes
// stay visible.
std::vector<QPointF> decimate(const std::vector<QPointF>& points, int buckets);

}  // namespace taxon::ui
