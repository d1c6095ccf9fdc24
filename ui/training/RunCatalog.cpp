#include "training/RunCatalog.hpp"

#include <sys/stat.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonValue>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "train/MetricsLog.hpp"

namespace taxon::ui {

QString runMetricName(RunMetric metric) {
  switch (metric) {
    case RunMetric::Loss:
      return QStringLiteral("loss");
    case RunMetric::LearningRate:
      return QStringLiteral("learning rate");
    case RunMetric::ExamplesPerSec:
      return QStringLiteral("examples/sec");
    case RunMetric::PrecisionAt1:
      return QStringLiteral("precision@1");
    case RunMetric::RecallAt5:
      return QStringLiteral("recall@5");
  }
  return {};
}

namespace {

bool isEval(RunMetric metric) {
  return metric == RunMetric::PrecisionAt1 || metric == RunMetric::RecallAt5;
}

qint64 modified(const QString& path) {
  const QFileInfo info(path);
  return info.exists() ? info.lastModified().toMSecsSinceEpoch() : 0;
}

// "17, 240 and 3 more"
QString lineList(const std::vector<std::int64_t>& lines, std::int64_t count) {
  QStringList parts;
  for (const auto line : lines) {
    parts.push_back(QString::number(line));
  }
  QString text = parts.join(QStringLiteral(", "));
  if (count > static_cast<std::int64_t>(lines.size())) {
    text += QStringLiteral(" and %1 more").arg(count - static_cast<std::int64_t>(lines.size()));
  }
  return text;
}

constexpr std::size_t kUnreadNamed = 5;

// Adds the whole lines of `bytes` (which ends with a newline) to `run`.
void addLines(std::string_view bytes, RunSeries& series, RunSnapshot& run) {
  double lastEpoch = series.epoch.empty() ? 0.0 : series.epoch.back();
  std::size_t begin = 0;
  while (begin < bytes.size()) {
    const std::size_t end = bytes.find('\n', begin);
    const std::string_view line = bytes.substr(begin, end - begin);
    begin = end + 1;
    ++run.lines;
    std::string reason;
    const auto record = train::parseMetricsLine(line, &reason);
    if (!record) {
      if (!reason.empty()) {
        if (run.unreadLines == 0) {
          run.unreadReason = QString::fromStdString(reason);
        }
        ++run.unreadLines;
        if (run.firstUnread.size() < kUnreadNamed) {
          run.firstUnread.push_back(run.lines);
        }
      }
      continue;
    }
    if (record->step) {
      const auto& m = *record->step;
      const double step = static_cast<double>(m.step);
      lastEpoch = static_cast<double>(m.epoch);
      if (run.stepsPerEpoch <= 0.0 && m.epoch >= 1) {
        // The first step of epoch E follows E epochs of steps.
        run.stepsPerEpoch = (step - 1.0) / static_cast<double>(m.epoch);
      }
      series.step.push_back(step);
      series.epoch.push_back(lastEpoch);
      series.time.push_back(m.wallTime);
      series.loss.push_back(m.loss);
      series.learningRate.push_back(m.learningRate);
      series.examplesPerSec.push_back(m.examplesPerSec);
    } else if (record->eval && record->eval->skipped.empty()) {
      const auto& e = *record->eval;
      series.evalStep.push_back(static_cast<double>(e.step));
      series.evalEpoch.push_back(lastEpoch);
      series.evalTime.push_back(record->time);  // stamped when the line was written
      series.precisionAt1.push_back(e.precisionAt1);
      series.recallAt5.push_back(e.recallAt5);
    }
  }
}

void summarize(RunSnapshot& run) {
  const RunSeries& s = *run.series;
  run.lastStep = 0;
  if (!s.step.empty()) {
    run.lastStep = static_cast<std::int64_t>(s.step.back());
  }
  if (!s.evalStep.empty()) {
    run.lastStep = std::max(run.lastStep, static_cast<std::int64_t>(s.evalStep.back()));
  }
  run.bestPrecisionAt1.reset();
  run.lastPrecisionAt1.reset();
  if (!s.precisionAt1.empty()) {
    run.bestPrecisionAt1 = *std::max_element(s.precisionAt1.begin(), s.precisionAt1.end());
    run.lastPrecisionAt1 = s.precisionAt1.back();
  }
  double first = 0.0;
  double last = 0.0;
  for (const auto* times : {&s.time, &s.evalTime}) {
    for (const double t : *times) {
      if (t > 0.0) {
        first = first == 0.0 ? t : std::min(first, t);
        last = std::max(last, t);
      }
    }
  }
  run.firstTime = first;
  run.wallSeconds = last - first;
}

}  // namespace

const std::vector<double>& RunSeries::steps(RunMetric metric) const {
  return isEval(metric) ? evalStep : step;
}

const std::vector<double>& RunSeries::epochs(RunMetric metric) const {
  return isEval(metric) ? evalEpoch : epoch;
}

const std::vector<double>& RunSeries::times(RunMetric metric) const {
  return isEval(metric) ? evalTime : time;
}

const std::vector<double>& RunSeries::values(RunMetric metric) const {
  switch (metric) {
    case RunMetric::Loss:
      return loss;
    case RunMetric::LearningRate:
      return learningRate;
    case RunMetric::ExamplesPerSec:
      return examplesPerSec;
    case RunMetric::PrecisionAt1:
      return precisionAt1;
    case RunMetric::RecallAt5:
      return recallAt5;
  }
  return loss;
}

RunSnapshot loadRun(const QString& dir, const QString& name, const RunSnapshot* previous) {
  RunSnapshot run = previous != nullptr ? *previous : RunSnapshot{};
  run.dir = dir;
  run.name = name;
  run.problems.clear();
  const QDir folder(dir);

  // settings.json, again only when it changed.
  const QString settingsPath = folder.filePath(QStringLiteral("settings.json"));
  const qint64 settingsModified = modified(settingsPath);
  if (previous == nullptr || settingsModified != previous->settingsModified) {
    run.settings = {};
    run.settingsModified = settingsModified;
    QFile file(settingsPath);
    if (settingsModified != 0 && file.open(QIODevice::ReadOnly)) {
      QJsonParseError error{};
      const auto json = QJsonDocument::fromJson(file.readAll(), &error);
      if (json.isObject()) {
        run.settings = json.object();
      } else {
        run.problems.push_back(
            QStringLiteral("settings.json: not JSON (%1)").arg(error.errorString()));
      }
    }
  }
  if (settingsModified == 0) {
    run.problems.push_back(QStringLiteral("no settings.json"));
  }

  run.state = train::observeRunState(dir.toStdString());
  if (run.state.recorded && run.state.recorded->stepsPerEpoch > 0) {
    run.stepsPerEpoch = static_cast<double>(run.state.recorded->stepsPerEpoch);
  }

  // metrics.jsonl: what it gained since `previous`, or all of it when it was replaced (a resumed
  // run cuts it back to its checkpoint by writing a new file) or shrank.
  const QString metricsPath = folder.filePath(QString::fromLatin1(train::kMetricsFileName));
  struct stat info {};
  if (::stat(metricsPath.toLocal8Bit().constData(), &info) != 0) {
    run.series = std::make_shared<RunSeries>();
    run.inode = 0;
    run.offset = run.lines = run.unreadLines = 0;
    run.firstUnread.clear();
    run.tornTail = false;
    run.problems.push_back(QStringLiteral("no metrics.jsonl yet"));
  } else {
    const auto inode = static_cast<std::uint64_t>(info.st_ino);
    const auto size = static_cast<std::int64_t>(info.st_size);
    const bool continues = previous != nullptr && previous->inode == inode &&
                           previous->offset <= size && previous->offset > 0;
    if (!continues) {
      run.series = std::make_shared<RunSeries>();
      run.offset = run.lines = run.unreadLines = 0;
      run.firstUnread.clear();
      run.unreadReason.clear();
      if (run.state.recorded == std::nullopt || run.state.recorded->stepsPerEpoch <= 0) {
        run.stepsPerEpoch = 0.0;
      }
    }
    run.inode = inode;
    if (size > run.offset) {
      std::string bytes;
      if (std::FILE* file = std::fopen(metricsPath.toLocal8Bit().constData(), "rb")) {
        bytes.resize(static_cast<std::size_t>(size - run.offset));
        if (std::fseek(file, static_cast<long>(run.offset), SEEK_SET) == 0) {
          bytes.resize(std::fread(bytes.data(), 1, bytes.size(), file));
        } else {
          bytes.clear();
        }
        std::fclose(file);
      } else {
        run.problems.push_back(QStringLiteral("metrics.jsonl: cannot be read"));
      }
      const std::size_t whole = bytes.rfind('\n');
      run.tornTail = whole != bytes.size() - 1;
      if (whole != std::string::npos) {
        auto series = std::make_shared<RunSeries>(*run.series);
        addLines(std::string_view(bytes).substr(0, whole + 1), *series, run);
        run.series = std::move(series);
        run.offset += static_cast<std::int64_t>(whole + 1);
      }
    } else {
      run.tornTail = false;
    }
  }
  summarize(run);

  run.totalSteps = 0;
  if (run.state.recorded && run.state.recorded->totalSteps > 0) {
    run.totalSteps = run.state.recorded->totalSteps;
  } else if (run.settings.value(QStringLiteral("max_epochs")).toDouble() <= 0.0) {
    run.totalSteps = run.settings.value(QStringLiteral("max_steps")).toInteger();
  }
  if (run.unreadLines > 0) {
    run.problems.push_back(
        QStringLiteral("metrics.jsonl: %1 could not be read (%2 %3: %4); the other %5 are shown")
            .arg(run.unreadLines == 1 ? QStringLiteral("1 line")
                                      : QStringLiteral("%1 lines").arg(run.unreadLines),
                 run.unreadLines == 1 ? QStringLiteral("line") : QStringLiteral("lines"),
                 lineList(run.firstUnread, run.unreadLines), run.unreadReason)
            .arg(run.lines - run.unreadLines));
  }
  if (run.tornTail && run.state.status != train::RunStatus::Running) {
    run.problems.push_back(QStringLiteral(
        "metrics.jsonl: its last line is cut short (the run ended while writing it)"));
  }
  if (!run.state.detail.empty() && run.state.status != train::RunStatus::Running) {
    run.problems.push_back(QString::fromStdString(run.state.detail));
  }
  return run;
}

std::vector<double> axisValues(const RunSnapshot& run, RunMetric metric, RunAxis axis,
                               double timeScale) {
  const RunSeries& s = *run.series;
  switch (axis) {
    case RunAxis::Step:
      return s.steps(metric);
    case RunAxis::Epoch: {
      if (run.stepsPerEpoch > 0.0) {
        std::vector<double> x = s.steps(metric);
        for (double& v : x) {
          v /= run.stepsPerEpoch;
        }
        return x;
      }
      return s.epochs(metric);
    }
    case RunAxis::WallTime: {
      std::vector<double> x = s.times(metric);
      for (double& v : x) {
        v = (v - run.firstTime) / timeScale;
      }
      return x;
    }
  }
  return s.steps(metric);
}

std::vector<double> smoothed(const std::vector<double>& values, double weight) {
  std::vector<double> out(values.size());
  double last = 0.0;
  double debias = 1.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1.0 - weight) * v;
    debias *= weight;
    out[i] = weight >= 1.0 ? v : last / (1.0 - debias);
  }
  return out;
}

}  // namespace taxon::ui
