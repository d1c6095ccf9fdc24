#include "training/RunHistory.hpp"

#include <QDir>
#include <QFile>
#include <algorithm>
#include <nlohmann/json.hpp>

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
  const QString path = QDir(trainDir).filePath(QStringLiteral("metrics.jsonl"));
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    if (error != nullptr) {
      *error = QStringLiteral("%1: %2").arg(path, file.errorString());
    }
    return false;
  }
  const QList<QByteArray> lines = file.readAll().split('\n');
  for (int i = 0; i < lines.size(); ++i) {
    const QByteArray& line = lines[i];
    if (line.trimmed().isEmpty()) {
      continue;
    }
    const auto json = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      const bool last = i + 1 >= lines.size() || (i + 2 == lines.size() && lines[i + 1].isEmpty());
      if (last) {
        continue;  // torn by a kill during the write; the run's resume drops it too
      }
      if (error != nullptr) {
        *error = QStringLiteral("%1, line %2: not a JSON object").arg(path).arg(i + 1);
      }
      return false;
    }
    if (json.contains("eval")) {
      const auto& e = json["eval"];
      train::EvalPoint point;
      point.step = json.value("step", std::int64_t{0});
      point.precisionAt1 = e.value("precision_at_1", 0.0);
      point.recallAt5 = e.value("recall_at_5", 0.0);
      point.skipped = e.value("skipped", std::string());
      add(point);
    } else if (json.contains("loss")) {
      train::StepMetrics step;
      step.step = json.value("step", std::int64_t{0});
      step.loss = json.value("loss", 0.0);
      step.learningRate = json.value("learning_rate", 0.0);
      step.examplesPerSec = json.value("examples_per_sec", 0.0);
      add(step);
    }
  }
  return true;
}

std::vector<QPointF> decimate(const std::vector<QPointF>& points, int buckets) {
  if (buckets <= 0 || points.size() <= static_cast<std::size_t>(2 * buckets)) {
    return points;
  }
  const double first = points.front().x();
  const double width = (points.back().x() - first) / buckets;
  std::vector<QPointF> out;
  out.reserve(static_cast<std::size_t>(4 * buckets));
  std::size_t i = 0;
  for (int b = 0; b < buckets && i < points.size(); ++b) {
    const double end = b + 1 == buckets ? points.back().x() + 1.0 : first + width * (b + 1);
    const std::size_t start = i;
    std::size_t low = i;
    std::size_t high = i;
    while (i < points.size() && points[i].x() < end) {
      if (points[i].y() < points[low].y()) {
        low = i;
      }
      if (points[i].y() > points[high].y()) {
        high = i;
      }
      ++i;
    }
    if (i == start) {
      continue;  // an empty bucket
    }
    // In x order, without repeats: first, min and max in their order, last.
    std::size_t picks[4] = {start, std::min(low, high), std::max(low, high), i - 1};
    std::size_t previous = static_cast<std::size_t>(-1);
    for (const std::size_t p : picks) {
      if (p != previous) {
        out.push_back(points[p]);
        previous = p;
      }
    }
  }
  return out;
}

}  // namespace taxon::ui
