#include "training/RunHistory.hpp"

#include <QDir>
#include <algorithm>

#include "train/MetricsLog.hpp"

namespace taxon::ui {

void RunHistory::clear() {
  *this = RunHistory(smoothing_);
}

void RunHistory::add(const train::StepMetrics& step) {
  const double x = static_cast<double>(step.step);
  lastStep_ = std::max<qint64>(lastStep_, step.step);
  loss_.emplace_back(x, step.loss);
  average_ = smoothing_ * average_ + (1.0 - smoothing_) * step.loss;
  weight_ = smoothing_ * weight_ + (1.0 - smoothing_);
  smoothed_.emplace_back(x, average_ / weight_);
  learningRate_.emplace_back(x, step.learningRate);
  if (step.distillLoss) {
    labelsLoss_.emplace_back(x, step.crossEntropy);
    distillLoss_.emplace_back(x, *step.distillLoss);
  }
  if (step.examplesPerSec > 0.0) {
    examplesPerSec_.emplace_back(x, step.examplesPerSec);
  }
}

void RunHistory::add(const train::EvalPoint& eval) {
  if (!eval.skipped.empty()) {
    evalNotice_ = QString::fromStdString("nothing to evaluate: " + eval.skipped);
    return;
  }
  evalNotice_.clear();
  const double x = static_cast<double>(eval.step);
  precisionAt1_.emplace_back(x, eval.precisionAt1);
  recallAt5_.emplace_back(x, eval.recallAt5);
}

bool RunHistory::read(const QString& trainDir, QString* error) {
  clear();
  const QString path = QDir(trainDir).filePath(QString::fromLatin1(train::kMetricsFileName));
  train::MetricsLogContents contents;
  try {
    contents = train::readMetricsLog(path.toStdString());
  } catch (const std::exception& e) {
    if (error != nullptr) {
      *error = QString::fromStdString(e.what());
    }
    return false;
  }
  // A torn last line (a kill during the write) is skipped, as the run's resume drops it too; a
  // damaged line before it means the file is not what a run wrote.
  if (const auto* damaged = contents.firstDamaged()) {
    if (error != nullptr) {
      *error = QStringLiteral("%1, line %2: not a JSON object").arg(path).arg(damaged->line);
    }
    return false;
  }
  for (const auto& record : contents.records) {
    if (record.eval) {
      add(*record.eval);
    } else if (record.step) {
      add(*record.step);
    }
  }
  return true;
}

std::vector<QPointF> decimate(const std::vector<QPointF>& points, int buckets) {
  return decimate(
      points.size(), [&](std::size_t i) { return points[i].x(); },
      [&](std::size_t i) { return points[i].y(); }, buckets);
}

}  // namespace taxon::ui
