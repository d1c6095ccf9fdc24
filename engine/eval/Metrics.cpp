#include "eval/Metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "core/Csv.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"

namespace taxon::eval {
namespace {

// to_chars rather than printf: the app sets a locale, and a ',' decimal separator would break
// both the CSV files and the seed's line.
std::string formatted(double value, std::chars_format format, int precision) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, format, precision);
  return std::string(buffer, result.ptr);
}

std::string significant6(double value) {
  return formatted(value, std::chars_format::general, 6);
}

double fraction(std::int64_t part, std::int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// NaN ranks below everything, so a broken row still has a well-defined top-1 and top-K.
float rankValue(float probability) {
  return std::isnan(probability) ? -std::numeric_limits<float>::infinity() : probability;
}

// The first class with the highest probability. A NaN never compares greater, so only the
// starting value needs rankValue().
std::size_t argmax(const float* row, std::size_t classes) {
  std::size_t best = 0;
  float bestValue = rankValue(row[0]);
  for (std::size_t c = 1; c < classes; ++c) {
    if (row[c] > bestValue) {
      best = c;
      bestValue = row[c];
    }
  }
  return best;
}

// How many classes rank above `label`: more probable, or as probable with a lower index (the
// tie rule of argmax). The label is in the top-K when fewer than K do.
std::int64_t classesAbove(const float* row, std::size_t classes, std::size_t label) {
  const float value = row[label];
  std::int64_t above = 0;
  if (!(value > -std::numeric_limits<float>::infinity())) {
    // The label's value is NaN or -inf, so NaNs elsewhere tie with it: the slow, exact way.
    const float labelValue = rankValue(value);
    for (std::size_t c = 0; c < classes; ++c) {
      const float other = rankValue(row[c]);
      above += other > labelValue || (other == labelValue && c < label) ? 1 : 0;
    }
    return above;
  }
  // Branch-free loops the compiler vectorizes (this is the cost of evaluation at 1,000 classes).
  // A NaN compares false, which is right: it ranks below any real value.
  for (std::size_t c = 0; c < label; ++c) {
    above += row[c] >= value ? 1 : 0;
  }
  for (std::size_t c = label + 1; c < classes; ++c) {
    above += row[c] > value ? 1 : 0;
  }
  return above;
}

const std::string& nameOf(const MetricsReport& report, std::int64_t id) {
  static const std::string unknown;
  const auto index = static_cast<std::size_t>(id);
  return id >= 0 && index < report.categoryNames.size() ? report.categoryNames[index] : unknown;
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace

std::vector<std::string> MetricsSettings::validate() const {
  std::vector<std::string> problems;
  if (topK < 1) {
    problems.push_back("topK must be at least 1 (got " + std::to_string(topK) + ")");
  }
  if (!(mislabeledMaxLabelProbability >= 0.0 && mislabeledMaxLabelProbability <= 1.0)) {
    problems.push_back("mislabeledMaxLabelProbability must be in [0, 1] (got " +
                       significant6(mislabeledMaxLabelProbability) + ")");
  }
  if (!(mislabeledMinPredictedProbability >= 0.0 && mislabeledMinPredictedProbability <= 1.0)) {
    problems.push_back("mislabeledMinPredictedProbability must be in [0, 1] (got " +
                       significant6(mislabeledMinPredictedProbability) + ")");
  }
  return problems;
}

std::vector<std::string> categoryPath(std::string_view name) {
  std::vector<std::string> path;
  std::size_t start = 0;
  while (true) {
    const auto end = name.find('>', start);
    path.push_back(trimmed(name.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) {
      return path;
    }
    start = end + 1;
  }
}

MetricsAccumulator::MetricsAccumulator(std::vector<std::string> categoryNames,
                                       MetricsSettings settings)
    : categoryNames_(std::move(categoryNames)), settings_(std::move(settings)) {
  auto problems = settings_.validate();
  if (categoryNames_.empty()) {
    problems.push_back("there must be at least one category");
  }
  core::throwIfInvalid("evaluation metrics", problems);

  // Prefixes become integers once, so that the per-example level check compares ids, not strings.
  std::map<std::vector<std::string>, std::int32_t> prefixIds;
  for (const auto& name : categoryNames_) {
    const auto path = categoryPath(name);
    std::vector<std::int32_t> nodes;
    std::vector<std::string> prefix;
    for (const auto& component : path) {
      prefix.push_back(component);
      const auto id = static_cast<std::int32_t>(prefixIds.size());
      nodes.push_back(prefixIds.emplace(prefix, id).first->second);
    }
    maxDepth_ = std::max(maxDepth_, nodes.size());
    nodes_.push_back(std::move(nodes));
  }
  const auto classes = categoryNames_.size();
  support_.assign(classes, 0);
  predicted_.assign(classes, 0);
  truePositives_.assign(classes, 0);
  levelExamples_.assign(maxDepth_, 0);
  levelCorrect_.assign(maxDepth_, 0);
}

bool MetricsAccumulator::ranksBefore(const Candidate& x, const Candidate& y) {
  if (x.row.labelProbability != y.row.labelProbability) {
    return x.row.labelProbability < y.row.labelProbability;
  }
  if (x.row.predictedProbability != y.row.predictedProbability) {
    return x.row.predictedProbability > y.row.predictedProbability;
  }
  return x.sequence < y.sequence;
}

void MetricsAccumulator::add(const float* probabilities, std::size_t n, const std::int64_t* labels,
                             const std::vector<std::string>& keys) {
  const auto classes = categoryNames_.size();
  const auto classCount = static_cast<std::int64_t>(classes);
  // Check the whole batch first, so that a bad one leaves the totals as they were.
  if (keys.size() != n) {
    throw core::Error("evaluation batch has " + std::to_string(keys.size()) + " keys for " +
                      std::to_string(n) + " examples");
  }
  if (n > 0 && (probabilities == nullptr || labels == nullptr)) {
    throw core::Error("evaluation batch of " + std::to_string(n) +
                      " examples has no probabilities or labels");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= classCount) {
      throw core::Error("label " + std::to_string(labels[i]) + " of example " + std::to_string(i) +
                        " (" + (keys[i].empty() ? "no key" : keys[i]) + ") is outside the " +
                        std::to_string(classes) + " categories (0 to " +
                        std::to_string(classCount - 1) + ")");
    }
  }

  const auto k = std::min<std::int64_t>(settings_.topK, classCount);
  // Thresholds compared as floats, so that a probability of exactly 0.1f passes "at most 0.1".
  const auto maxLabelProbability = static_cast<float>(settings_.mislabeledMaxLabelProbability);
  const auto minPredictedProbability =
      static_cast<float>(settings_.mislabeledMinPredictedProbability);
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = probabilities + i * classes;
    const auto label = static_cast<std::size_t>(labels[i]);
    const std::size_t top1 = argmax(row, classes);
    const std::int64_t above = classesAbove(row, classes, label);

    const auto sequence = examples_++;
    top1Correct_ += top1 == label ? 1 : 0;
    topKCorrect_ += above < k ? 1 : 0;
    const double p = std::isnan(row[label]) ? 0.0 : static_cast<double>(row[label]);
    lossSum_ -= std::log(std::max(p, 1e-12));
    ++support_[label];
    ++predicted_[top1];
    truePositives_[label] += top1 == label ? 1 : 0;
    ++confusion_[labels[i] * classCount + static_cast<std::int64_t>(top1)];
    predictions_.push_back(
        Prediction{keys[i], labels[i], static_cast<std::int64_t>(top1), row[label], row[top1]});

    const auto& truth = nodes_[label];
    const auto& guess = nodes_[top1];
    for (std::size_t level = 0; level < truth.size(); ++level) {
      ++levelExamples_[level];
      // Ids name whole prefixes, so equal ids mean all the levels above agree too.
      levelCorrect_[level] += level < guess.size() && guess[level] == truth[level] ? 1 : 0;
    }

    if (settings_.maxMislabeled > 0 && top1 != label && row[label] <= maxLabelProbability &&
        row[top1] >= minPredictedProbability) {
      Candidate candidate;
      candidate.row.label = labels[i];
      candidate.row.labelProbability = row[label];
      candidate.row.predicted = static_cast<std::int64_t>(top1);
      candidate.row.predictedProbability = row[top1];
      candidate.sequence = sequence;
      // A bounded heap whose top is the candidate that ranks last: memory stays at
      // maxMislabeled rows however many examples qualify.
      const bool full = mislabeledHeap_.size() >= settings_.maxMislabeled;
      if (!full || ranksBefore(candidate, mislabeledHeap_.front())) {
        if (full) {
          std::pop_heap(mislabeledHeap_.begin(), mislabeledHeap_.end(), ranksBefore);
          mislabeledHeap_.pop_back();
        }
        candidate.row.key = keys[i];
        mislabeledHeap_.push_back(std::move(candidate));
        std::push_heap(mislabeledHeap_.begin(), mislabeledHeap_.end(), ranksBefore);
      }
    }
  }
}

MetricsReport MetricsAccumulator::report() const {
  const auto classes = categoryNames_.size();
  const auto classCount = static_cast<std::int64_t>(classes);
  MetricsReport report;
  report.examples = examples_;
  // The k used: asking for 10 of 4 categories measures recall @ 4.
  report.topK = static_cast<int>(
      std::min<std::int64_t>(settings_.topK, static_cast<std::int64_t>(categoryNames_.size())));
  report.precisionAt1 = fraction(top1Correct_, examples_);
  report.recallAtK = fraction(topKCorrect_, examples_);
  report.meanLoss = examples_ == 0 ? 0.0 : lossSum_ / static_cast<double>(examples_);
  report.categoryNames = categoryNames_;

  for (std::size_t c = 0; c < classes; ++c) {
    CategoryMetrics category;
    category.name = categoryNames_[c];
    category.support = support_[c];
    category.predicted = predicted_[c];
    category.truePositives = truePositives_[c];
    category.precision = fraction(truePositives_[c], predicted_[c]);
    category.recall = fraction(truePositives_[c], support_[c]);
    report.categories.push_back(std::move(category));
  }

  for (std::size_t level = 0; level < maxDepth_; ++level) {
    report.levels.push_back(LevelAccuracy{static_cast<int>(level + 1), levelExamples_[level],
                                          levelCorrect_[level],
                                          fraction(levelCorrect_[level], levelExamples_[level])});
  }

  std::vector<std::pair<std::int64_t, std::int64_t>> cells(confusion_.begin(), confusion_.end());
  std::sort(cells.begin(), cells.end());  // the key actual * C + predicted sorts as the pair
  std::unordered_map<std::int64_t, ConfusedPair> pairs;
  for (const auto& [key, count] : cells) {
    const auto actual = key / classCount;
    const auto predicted = key % classCount;
    report.confusion.push_back(ConfusionCell{actual, predicted, count});
    if (actual == predicted) {
      continue;
    }
    const auto a = std::min(actual, predicted);
    const auto b = std::max(actual, predicted);
    auto& pair = pairs[a * classCount + b];
    pair.a = a;
    pair.b = b;
    (actual == a ? pair.aAsB : pair.bAsA) += count;
  }
  for (const auto& entry : pairs) {
    report.mostConfused.push_back(entry.second);
  }
  const auto keep = std::min(settings_.maxConfusedPairs, report.mostConfused.size());
  std::partial_sort(report.mostConfused.begin(),
                    report.mostConfused.begin() + static_cast<std::ptrdiff_t>(keep),
                    report.mostConfused.end(), [](const ConfusedPair& x, const ConfusedPair& y) {
                      if (x.total() != y.total()) {
                        return x.total() > y.total();
                      }
                      return std::pair(x.a, x.b) < std::pair(y.a, y.b);
                    });
  report.mostConfused.resize(keep);

  auto candidates = mislabeledHeap_;
  std::sort(candidates.begin(), candidates.end(), ranksBefore);
  for (auto& candidate : candidates) {
    report.mislabeled.push_back(std::move(candidate.row));
  }
  report.predictions = predictions_;
  return report;
}

std::string seedLine(const MetricsReport& report) {
  return "precision @ 1 = " + formatted(report.precisionAt1, std::chars_format::fixed, 4) +
         " recall @ " + std::to_string(report.topK) + " = " +
         formatted(report.recallAtK, std::chars_format::fixed, 4);
}

void writeReport(const MetricsReport& report, const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    core::throwFileError(directory, "cannot create the folder: " + error.message());
  }

  std::string categories;
  core::appendCsvRow(categories, {"class", "name", "support", "predicted", "true_positives",
                                  "precision", "recall"});
  for (std::size_t c = 0; c < report.categories.size(); ++c) {
    const auto& category = report.categories[c];
    core::appendCsvRow(categories,
                       {std::to_string(c), category.name, std::to_string(category.support),
                        std::to_string(category.predicted), std::to_string(category.truePositives),
                        significant6(category.precision), significant6(category.recall)});
  }

  std::string levels;
  core::appendCsvRow(levels, {"level", "examples", "correct", "accuracy"});
  nlohmann::json levelsJson = nlohmann::json::array();
  for (const auto& level : report.levels) {
    core::appendCsvRow(levels, {std::to_string(level.level), std::to_string(level.examples),
                                std::to_string(level.correct), significant6(level.accuracy)});
    levelsJson.push_back({{"level", level.level},
                          {"examples", level.examples},
                          {"correct", level.correct},
                          {"accuracy", level.accuracy}});
  }

  std::string confusion;
  core::appendCsvRow(confusion, {"actual", "predicted", "count", "actual_name", "predicted_name"});
  for (const auto& cell : report.confusion) {
    core::appendCsvRow(confusion, {std::to_string(cell.actual), std::to_string(cell.predicted),
                                   std::to_string(cell.count), nameOf(report, cell.actual),
                                   nameOf(report, cell.predicted)});
  }

  std::string pairs;
  core::appendCsvRow(pairs, {"a", "a_name", "b", "b_name", "a_as_b", "b_as_a", "total"});
  for (const auto& pair : report.mostConfused) {
    core::appendCsvRow(
        pairs, {std::to_string(pair.a), nameOf(report, pair.a), std::to_string(pair.b),
                nameOf(report, pair.b), std::to_string(pair.aAsB), std::to_string(pair.bAsA),
                std::to_string(pair.total())});
  }

  std::string mislabeled;
  core::appendCsvRow(mislabeled, {"key", "label", "label_name", "label_probability", "predicted",
                                  "predicted_name", "predicted_probability"});
  for (const auto& row : report.mislabeled) {
    core::appendCsvRow(mislabeled,
                       {row.key, std::to_string(row.label), nameOf(report, row.label),
                        significant6(row.labelProbability), std::to_string(row.predicted),
                        nameOf(report, row.predicted), significant6(row.predictedProbability)});
  }

  std::string predictions;
  core::appendCsvRow(predictions,
                     {"key", "label", "predicted", "label_probability", "predicted_probability"});
  for (const auto& row : report.predictions) {
    core::appendCsvRow(
        predictions, {row.key, std::to_string(row.label), std::to_string(row.predicted),
                      significant6(row.labelProbability), significant6(row.predictedProbability)});
  }

  struct Output {
    const char* key;
    const char* file;
    const std::string& text;
  };
  const Output outputs[] = {{"categories", "categories.csv", categories},
                            {"levels", "levels.csv", levels},
                            {"confusion", "confusion.csv", confusion},
                            {"confused_pairs", "confused_pairs.csv", pairs},
                            {"mislabeled", "mislabeled.csv", mislabeled},
                            {"predictions", "predictions.csv", predictions}};
  nlohmann::json filesJson = nlohmann::json::object();
  for (const auto& output : outputs) {
    core::writeFileAtomic(directory / output.file, output.text);
    filesJson[output.key] = output.file;
  }

  nlohmann::json summary;
  summary["examples"] = report.examples;
  summary["num_classes"] = report.categoryNames.size();
  summary["precision_at_1"] = report.precisionAt1;
  summary["recall_at_k"] = report.recallAtK;
  summary["top_k"] = report.topK;
  summary["mean_loss"] = report.meanLoss;
  summary["levels"] = std::move(levelsJson);
  summary["files"] = std::move(filesJson);
  // Last, so that a reader who finds summary.json finds the files it names complete.
  core::writeFileAtomic(directory / "summary.json", summary.dump(2) + "\n");
}

}  // namespace taxon::eval
