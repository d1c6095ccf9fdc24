#include "eval/Metrics.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "TestFiles.hpp"
#include "core/Error.hpp"

namespace taxon::eval {
namespace {

// Hand-written rows of probabilities, fed to the accumulator in one add() call.
struct Batch {
  std::vector<float> probabilities;
  std::vector<std::int64_t> labels;
  std::vector<std::string> keys;

  void row(std::int64_t label, const std::vector<float>& p, const std::string& key = "") {
    probabilities.insert(probabilities.end(), p.begin(), p.end());
    labels.push_back(label);
    keys.push_back(key);
  }
  void addTo(MetricsAccumulator& metrics) const {
    metrics.add(probabilities.data(), labels.size(), labels.data(), keys);
  }
};

// A row where `predicted` gets 0.9 and the other classes share the rest.
std::vector<float> confident(std::size_t classes, std::int64_t predicted) {
  std::vector<float> p(classes, 0.1f / static_cast<float>(classes - 1));
  p[static_cast<std::size_t>(predicted)] = 0.9f;
  return p;
}

double nll(float p) {
  return -std::log(static_cast<double>(p));
}

// RFC 4180 reader (quoted fields, doubled quotes, "\n" line ends) for checking written files.
std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  EXPECT_TRUE(row.empty() && field.empty()) << "the file must end with a line break";
  return rows;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(Metrics, PrecisionAt1AndRecallAtKWithTies) {
  Batch batch;
  // Right at top-1 and top-5.
  batch.row(0, {0.7f, 0.1f, 0.05f, 0.05f, 0.05f, 0.03f, 0.02f});
  // Classes 1 and 3 tie at 0.4: the top-1 is the lower index, 1, so wrong; only class 1 ranks
  // above the label, so it is in the top-5.
  batch.row(3, {0.1f, 0.4f, 0.05f, 0.4f, 0.05f, 0.0f, 0.0f});
  // Label 4 ties with 3, 5 and 6 at 0.1: above it rank 0, 1, 2 (0.2) and 3 (same value, lower
  // index) = 4 classes, so it is 5th: in the top-5. Top-1 is class 0.
  batch.row(4, {0.2f, 0.2f, 0.2f, 0.1f, 0.1f, 0.1f, 0.1f});
  // The same row with label 5: 0, 1, 2, 3 and 4 rank above it, so it is 6th: not in the top-5.
  batch.row(5, {0.2f, 0.2f, 0.2f, 0.1f, 0.1f, 0.1f, 0.1f});
  const std::vector<std::string> names = {"c0", "c1", "c2", "c3", "c4", "c5", "c6"};

  MetricsAccumulator metrics(names);
  batch.addTo(metrics);
  const auto report = metrics.report();
  EXPECT_EQ(report.examples, 4);
  EXPECT_EQ(report.topK, 5);
  EXPECT_DOUBLE_EQ(report.precisionAt1, 0.25);  // 1 of 4
  EXPECT_DOUBLE_EQ(report.recallAtK, 0.75);     // 3 of 4
  // (-ln 0.7 - ln 0.4 - ln 0.1 - ln 0.1) / 4 = (0.35667 + 0.91629 + 2 * 2.30259) / 4 = 1.46953
  EXPECT_NEAR(report.meanLoss, (nll(0.7f) + nll(0.4f) + nll(0.1f) + nll(0.1f)) / 4, 1e-12);
  EXPECT_NEAR(report.meanLoss, 1.46953, 1e-5);
  EXPECT_EQ(seedLine(report), "precision @ 1 = 0.2500 recall @ 5 = 0.7500");

  MetricsAccumulator top1(names, MetricsSettings{.topK = 1});
  batch.addTo(top1);
  EXPECT_DOUBLE_EQ(top1.report().recallAtK, 0.25) << "recall@1 is precision@1";
  MetricsAccumulator top6(names, MetricsSettings{.topK = 6});
  batch.addTo(top6);
  EXPECT_DOUBLE_EQ(top6.report().recallAtK, 1.0) << "label 5 is 6th";
  EXPECT_EQ(seedLine(top6.report()), "precision @ 1 = 0.2500 recall @ 6 = 1.0000");
}

TEST(Metrics, BatchesAddUpToTheSameReportAsOneCall) {
  std::vector<float> p = {0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f, 0.5f, 0.4f, 0.1f};
  std::vector<std::int64_t> labels = {0, 2, 1};
  std::vector<std::string> keys = {"a", "b", "c"};
  MetricsAccumulator whole({"A", "B", "C"});
  whole.add(p.data(), 3, labels.data(), keys);
  MetricsAccumulator pieces({"A", "B", "C"});
  pieces.add(p.data(), 1, labels.data(), {"a"});
  EXPECT_EQ(pieces.report().examples, 1) << "report() can be called between batches";
  pieces.add(p.data() + 3, 2, labels.data() + 1, {"b", "c"});
  pieces.add(nullptr, 0, nullptr, {});

  const auto one = whole.report();
  const auto two = pieces.report();
  EXPECT_EQ(two.examples, 3);
  EXPECT_DOUBLE_EQ(two.precisionAt1, 2.0 / 3.0);  // rows 0 and 1 right, row 2 says A for B
  EXPECT_EQ(one.precisionAt1, two.precisionAt1);
  EXPECT_EQ(one.recallAtK, two.recallAtK);
  EXPECT_EQ(one.meanLoss, two.meanLoss);
  ASSERT_EQ(one.confusion.size(), two.confusion.size());
  for (std::size_t i = 0; i < one.confusion.size(); ++i) {
    EXPECT_EQ(one.confusion[i].count, two.confusion[i].count);
  }
}

TEST(Metrics, KLargerThanTheClassCountTakesEveryClass) {
  MetricsAccumulator metrics({"A", "B", "C"});  // K = 5 > 3 classes
  Batch batch;
  batch.row(0, {0.6f, 0.3f, 0.1f});  // right
  batch.row(2, {0.6f, 0.3f, 0.1f});  // wrong, and last, but every class is in the "top 5"
  batch.addTo(metrics);
  const auto report = metrics.report();
  EXPECT_DOUBLE_EQ(report.precisionAt1, 0.5);
  EXPECT_DOUBLE_EQ(report.recallAtK, 1.0);
  EXPECT_EQ(report.topK, 3) << "the report says the K used";
  EXPECT_EQ(seedLine(report), "precision @ 1 = 0.5000 recall @ 3 = 1.0000");
}

TEST(Metrics, PerCategoryPrecisionRecallAndSupport) {
  MetricsAccumulator metrics({"A", "B", "C"});
  Batch batch;
  for (const auto& [actual, predicted] :
       std::vector<std::pair<int, int>>{{0, 0}, {0, 0}, {0, 1}, {1, 1}, {2, 0}, {2, 1}}) {
    batch.row(actual, confident(3, predicted));
  }
  batch.addTo(metrics);
  const auto report = metrics.report();
  ASSERT_EQ(report.categories.size(), 3u);
  // A: labelled 3 times, predicted 3 times (rows 0, 1, 4), right twice.
  EXPECT_EQ(report.categories[0].name, "A");
  EXPECT_EQ(report.categories[0].support, 3);
  EXPECT_EQ(report.categories[0].predicted, 3);
  EXPECT_EQ(report.categories[0].truePositives, 2);
  EXPECT_DOUBLE_EQ(report.categories[0].precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(report.categories[0].recall, 2.0 / 3.0);
  // B: labelled once, predicted 3 times (rows 2, 3, 5), right once.
  EXPECT_EQ(report.categories[1].support, 1);
  EXPECT_EQ(report.categories[1].predicted, 3);
  EXPECT_EQ(report.categories[1].truePositives, 1);
  EXPECT_DOUBLE_EQ(report.categories[1].precision, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(report.categories[1].recall, 1.0);
  // C: labelled twice, never predicted: precision 0 rather than 0 / 0.
  EXPECT_EQ(report.categories[2].support, 2);
  EXPECT_EQ(report.categories[2].predicted, 0);
  EXPECT_EQ(report.categories[2].truePositives, 0);
  EXPECT_EQ(report.categories[2].precision, 0.0);
  EXPECT_EQ(report.categories[2].recall, 0.0);
  EXPECT_DOUBLE_EQ(report.precisionAt1, 0.5);
}

const std::vector<std::string> kTree = {"Men > Shoes > Sneakers", "Women > Shoes > Sneakers",
                                        "Women > Bags", "Other"};

TEST(Metrics, LevelAccuracyComparesWholePrefixes) {
  MetricsAccumulator metrics(kTree);
  Batch batch;
  // actual -> predicted                          level 1     level 2     level 3
  batch.row(0, confident(4, 0));  // Men sneakers, right    right       right       right
  batch.row(0, confident(4, 1));  // Men as Women sneakers  wrong       wrong (*)   wrong
  batch.row(1, confident(4, 2));  // Women sneakers as bags right       wrong       wrong
  batch.row(2, confident(4, 1));  // Women bags as sneakers right       wrong       -
  batch.row(3, confident(4, 3));  // Other, right           right       -           -
  batch.row(2, confident(4, 2));  // Women bags, right      right       right       -
  batch.row(3, confident(4, 0));  // Other as Men sneakers  wrong       -           -
  // (*) "Shoes" matches at level 2, but level 2 is the node "Men > Shoes", not "Women > Shoes".
  batch.addTo(metrics);
  const auto report = metrics.report();
  ASSERT_EQ(report.levels.size(), 3u);
  EXPECT_EQ(report.levels[0].level, 1);
  EXPECT_EQ(report.levels[0].examples, 7);
  EXPECT_EQ(report.levels[0].correct, 5);
  EXPECT_DOUBLE_EQ(report.levels[0].accuracy, 5.0 / 7.0);
  EXPECT_EQ(report.levels[1].level, 2);
  EXPECT_EQ(report.levels[1].examples, 5);  // "Other" has no level 2
  EXPECT_EQ(report.levels[1].correct, 2);
  EXPECT_DOUBLE_EQ(report.levels[1].accuracy, 0.4);
  EXPECT_EQ(report.levels[2].level, 3);
  EXPECT_EQ(report.levels[2].examples, 3);
  EXPECT_EQ(report.levels[2].correct, 1);
  EXPECT_DOUBLE_EQ(report.levels[2].accuracy, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(report.precisionAt1, 3.0 / 7.0);
}

TEST(Metrics, ConfusionIsSparseSortedAndPairsRankByTotal) {
  // actual, predicted, times
  const std::vector<std::array<int, 3>> counts = {{0, 0, 4}, {0, 1, 3}, {1, 0, 2},
                                                  {1, 2, 1}, {2, 1, 2}, {0, 3, 1},
                                                  {3, 0, 2}, {2, 3, 1}, {3, 3, 1}};
  Batch batch;
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {  // reversed: order must not matter
    for (int i = 0; i < (*it)[2]; ++i) {
      batch.row((*it)[0], confident(4, (*it)[1]));
    }
  }
  MetricsAccumulator metrics(kTree, MetricsSettings{.maxConfusedPairs = 100});
  batch.addTo(metrics);
  auto report = metrics.report();
  EXPECT_EQ(report.examples, 17);
  const std::vector<std::array<std::int64_t, 3>> cells = {{0, 0, 4}, {0, 1, 3}, {0, 3, 1},
                                                          {1, 0, 2}, {1, 2, 1}, {2, 1, 2},
                                                          {2, 3, 1}, {3, 0, 2}, {3, 3, 1}};
  ASSERT_EQ(report.confusion.size(), cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(report.confusion[i].actual, cells[i][0]) << i;
    EXPECT_EQ(report.confusion[i].predicted, cells[i][1]) << i;
    EXPECT_EQ(report.confusion[i].count, cells[i][2]) << i;
  }
  // Men vs Women sneakers: 3 + 2 = 5. Then two pairs tie at 3, (0, 3) before (1, 2); then (2, 3).
  ASSERT_EQ(report.mostConfused.size(), 4u);
  const std::vector<std::array<std::int64_t, 4>> pairs = {
      {0, 1, 3, 2}, {0, 3, 1, 2}, {1, 2, 1, 2}, {2, 3, 1, 0}};
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(report.mostConfused[i].a, pairs[i][0]) << i;
    EXPECT_EQ(report.mostConfused[i].b, pairs[i][1]) << i;
    EXPECT_EQ(report.mostConfused[i].aAsB, pairs[i][2]) << i;
    EXPECT_EQ(report.mostConfused[i].bAsA, pairs[i][3]) << i;
  }
  EXPECT_EQ(report.mostConfused[0].total(), 5);

  MetricsAccumulator bounded(kTree, MetricsSettings{.maxConfusedPairs = 2});
  batch.addTo(bounded);
  report = bounded.report();
  ASSERT_EQ(report.mostConfused.size(), 2u);
  EXPECT_EQ(report.mostConfused[1].a, 0);
  EXPECT_EQ(report.mostConfused[1].b, 3);
}

// Default thresholds: p(label) <= 0.1 and another class >= 0.5.
Batch mislabeledRows() {
  Batch batch;
  batch.row(0, {0.9f, 0.05f, 0.05f}, "right");                 // top-1 is the label
  batch.row(0, {0.05f, 0.45f, 0.5f}, "enough");                // qualifies: 0.5 >= 0.5
  batch.row(0, {0.1f, 0.9f, 0.0f}, "at-the-limit");            // qualifies: 0.1 <= 0.1
  batch.row(0, {0.11f, 0.89f, 0.0f}, "label-too-likely");      // 0.11 > 0.1
  batch.row(0, {0.05f, 0.49f, 0.46f}, "prediction-too-weak");  // 0.49 < 0.5
  batch.row(1, {0.96f, 0.01f, 0.03f}, "a");                    // 0.01, 0.96
  batch.row(1, {0.97f, 0.01f, 0.02f}, "b");                    // 0.01, 0.97: before a
  batch.row(1, {0.97f, 0.01f, 0.02f}, "b-again");              // a tie: order of addition
  batch.row(2, {0.0f, 0.98f, 0.02f}, "c");                     // 0.02
  batch.row(2, {0.92f, 0.0f, 0.08f}, "d");                     // 0.08
  return batch;
}

std::vector<std::string> mislabeledKeys(const MetricsReport& report) {
  std::vector<std::string> keys;
  for (const auto& row : report.mislabeled) {
    keys.push_back(row.key);
  }
  return keys;
}

TEST(Metrics, LikelyMislabeledSelectionOrderAndBound) {
  const auto batch = mislabeledRows();
  MetricsAccumulator all({"A", "B", "C"});
  batch.addTo(all);
  auto report = all.report();
  EXPECT_EQ(mislabeledKeys(report),
            (std::vector<std::string>{"b", "b-again", "a", "c", "enough", "d", "at-the-limit"}));
  ASSERT_FALSE(report.mislabeled.empty());
  EXPECT_EQ(report.mislabeled[0].label, 1);
  EXPECT_EQ(report.mislabeled[0].labelProbability, static_cast<double>(0.01f));
  EXPECT_EQ(report.mislabeled[0].predicted, 0);
  EXPECT_EQ(report.mislabeled[0].predictedProbability, static_cast<double>(0.97f));

  // One example per call, so the bounded heap has to drop rows it already holds.
  MetricsAccumulator bounded({"A", "B", "C"}, MetricsSettings{.maxMislabeled = 3});
  for (std::size_t i = 0; i < batch.labels.size(); ++i) {
    bounded.add(batch.probabilities.data() + 3 * i, 1, batch.labels.data() + i, {batch.keys[i]});
  }
  EXPECT_EQ(mislabeledKeys(bounded.report()), (std::vector<std::string>{"b", "b-again", "a"}));

  MetricsAccumulator none({"A", "B", "C"}, MetricsSettings{.maxMislabeled = 0});
  batch.addTo(none);
  EXPECT_TRUE(none.report().mislabeled.empty());

  MetricsAccumulator strict({"A", "B", "C"},
                            MetricsSettings{.mislabeledMaxLabelProbability = 0.01,
                                            .mislabeledMinPredictedProbability = 0.97});
  batch.addTo(strict);
  EXPECT_EQ(mislabeledKeys(strict.report()), (std::vector<std::string>{"b", "b-again"}));
}

TEST(Metrics, BoundedMislabeledListMatchesAFullSort) {
  constexpr std::size_t kClasses = 20;
  std::mt19937 rng(11);
  std::vector<float> probabilities;
  std::vector<std::int64_t> labels;
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    std::vector<float> row(kClasses);
    float sum = 0;
    for (auto& p : row) {
      p = static_cast<float>(rng() % 8);  // coarse values, so that there are many ties
      p = p * p * p;
      sum += p;
    }
    for (auto& p : row) {
      p = sum > 0 ? p / sum : 1.0f / kClasses;
    }
    probabilities.insert(probabilities.end(), row.begin(), row.end());
    labels.push_back(static_cast<std::int64_t>(rng() % kClasses));
    keys.push_back("k" + std::to_string(i));
  }
  const MetricsSettings settings{.maxMislabeled = 25,
                                 .mislabeledMaxLabelProbability = 0.05,
                                 .mislabeledMinPredictedProbability = 0.3};
  std::vector<std::string> names;
  for (std::size_t c = 0; c < kClasses; ++c) {
    names.push_back("c" + std::to_string(c));
  }
  MetricsAccumulator metrics(names, settings);
  for (std::size_t start = 0; start < labels.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 300, labels.size() - start);
    metrics.add(probabilities.data() + start * kClasses, n, labels.data() + start,
                std::vector<std::string>(keys.begin() + static_cast<std::ptrdiff_t>(start),
                                         keys.begin() + static_cast<std::ptrdiff_t>(start + n)));
    start += n;
  }

  struct Row {
    float label, predicted;
    std::string key;
  };
  std::vector<Row> expected;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const float* row = probabilities.data() + i * kClasses;
    const auto top = static_cast<std::size_t>(std::max_element(row, row + kClasses) - row);
    const auto label = static_cast<std::size_t>(labels[i]);
    if (top != label && row[label] <= 0.05f && row[top] >= 0.3f) {
      expected.push_back({row[label], row[top], keys[i]});
    }
  }
  std::stable_sort(expected.begin(), expected.end(), [](const Row& x, const Row& y) {
    return x.label != y.label ? x.label < y.label : x.predicted > y.predicted;
  });
  ASSERT_GT(expected.size(), 50u) << "the data must overflow the bound";
  expected.resize(25);
  std::vector<std::string> expectedKeys;
  for (const auto& row : expected) {
    expectedKeys.push_back(row.key);
  }
  EXPECT_EQ(mislabeledKeys(metrics.report()), expectedKeys);
}

TEST(Metrics, BadBatchesThrowAndAddNothing) {
  MetricsAccumulator metrics({"A", "B", "C"});
  const std::vector<float> p = {0.6f, 0.3f, 0.1f, 0.6f, 0.3f, 0.1f};
  const std::vector<std::int64_t> tooBig = {0, 3};
  const std::vector<std::int64_t> negative = {-1, 0};
  const std::vector<std::int64_t> good = {0, 1};
  EXPECT_THROW(metrics.add(p.data(), 2, tooBig.data(), {"x", "y"}), core::Error);
  EXPECT_THROW(metrics.add(p.data(), 2, negative.data(), {"x", "y"}), core::Error);
  EXPECT_THROW(metrics.add(p.data(), 2, good.data(), {"x"}), core::Error);
  try {
    metrics.add(p.data(), 2, tooBig.data(), {"x", "y.jpg"});
    FAIL() << "no exception";
  } catch (const core::Error& error) {
    EXPECT_NE(std::string(error.what()).find("label 3 of example 1 (y.jpg)"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(metrics.examples(), 0) << "the good first row of a bad batch is not counted";
  const auto report = metrics.report();
  EXPECT_EQ(report.examples, 0);
  EXPECT_EQ(report.categories[0].support, 0);
  EXPECT_TRUE(report.confusion.empty());
  metrics.add(p.data(), 2, good.data(), {"x", "y"});
  EXPECT_EQ(metrics.examples(), 2);
}

TEST(Metrics, InvalidSettingsAndNoCategoriesAreUsageErrors) {
  EXPECT_TRUE(MetricsSettings{}.validate().empty());
  const MetricsSettings bad{
      .topK = 0, .mislabeledMaxLabelProbability = 1.5, .mislabeledMinPredictedProbability = -0.1};
  EXPECT_EQ(bad.validate().size(), 3u);
  EXPECT_THROW(MetricsAccumulator({"A"}, bad), core::UsageError);
  EXPECT_THROW(
      MetricsAccumulator({"A"}, MetricsSettings{.mislabeledMaxLabelProbability =
                                                    std::numeric_limits<double>::quiet_NaN()}),
      core::UsageError);
  try {
    MetricsAccumulator metrics({});
    FAIL() << "no exception";
  } catch (const core::UsageError& error) {
    EXPECT_NE(std::string(error.what()).find("at least one category"), std::string::npos);
  }
}

TEST(Metrics, CategoryPathSplitsOnGreaterThanAndTrims) {
  EXPECT_EQ(categoryPath("Women > Shoes"), (std::vector<std::string>{"Women", "Shoes"}));
  EXPECT_EQ(categoryPath("Other"), (std::vector<std::string>{"Other"}));
  EXPECT_EQ(categoryPath(" Men>Shoes >  Sneakers "),
            (std::vector<std::string>{"Men", "Shoes", "Sneakers"}));
  EXPECT_EQ(categoryPath("Women > Shoes, Boots"),
            (std::vector<std::string>{"Women", "Shoes, Boots"}));
}

TEST(Metrics, EmptyReportHasZerosNotNaNs) {
  MetricsAccumulator metrics({"A > B", "C"});
  const auto report = metrics.report();
  EXPECT_EQ(report.examples, 0);
  EXPECT_EQ(report.precisionAt1, 0.0);
  EXPECT_EQ(report.recallAtK, 0.0);
  EXPECT_EQ(report.meanLoss, 0.0);
  ASSERT_EQ(report.levels.size(), 2u);
  EXPECT_EQ(report.levels[1].examples, 0);
  EXPECT_EQ(report.levels[1].accuracy, 0.0);
  ASSERT_EQ(report.categories.size(), 2u);
  EXPECT_EQ(report.categories[1].precision, 0.0);
  EXPECT_TRUE(report.confusion.empty());
  EXPECT_TRUE(report.mostConfused.empty());
  EXPECT_EQ(seedLine(report), "precision @ 1 = 0.0000 recall @ 2 = 0.0000");
}

TEST(Metrics, NanProbabilitiesRankLastAndCostTheMaximumLoss) {
  constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
  const auto one = [](std::int64_t label, const std::vector<float>& row) {
    MetricsAccumulator metrics({"A", "B", "C"}, MetricsSettings{.topK = 2});
    Batch batch;
    batch.row(label, row);
    batch.addTo(metrics);
    return metrics.report();
  };
  // 0.8 and 0.2 rank above the NaN label: not in the top-2. The top-1 is 2, not the NaN.
  auto report = one(0, {kNan, 0.2f, 0.8f});
  EXPECT_EQ(report.recallAtK, 0.0);
  EXPECT_EQ(report.categories[2].predicted, 1);
  EXPECT_NEAR(report.meanLoss, -std::log(1e-12), 1e-9);
  // NaNs tie with each other, so class 0 ranks above label 1 (lower index), as does class 2.
  report = one(1, {kNan, kNan, 0.3f});
  EXPECT_EQ(report.recallAtK, 0.0);
  EXPECT_EQ(report.categories[2].predicted, 1) << "a NaN in the first place is not the top-1";
  // Only class 2 ranks above label 0: class 1 ties but has a higher index.
  EXPECT_EQ(one(0, {kNan, kNan, 0.3f}).recallAtK, 1.0);
  // A NaN elsewhere never ranks above a real label value.
  EXPECT_EQ(one(2, {kNan, 0.5f, 0.1f}).recallAtK, 1.0);
}

TEST(Metrics, WriteReportFilesParseBack) {
  const std::vector<std::string> names = {"Women > Shoes, Boots", "Men > \"Smart\" Shoes", "Other"};
  MetricsAccumulator metrics(names);
  Batch batch;
  batch.row(0, {0.8f, 0.1f, 0.1f}, "img/0.jpg");
  batch.row(1, {0.9f, 0.0123456789f, 0.0876543211f}, "img,1.jpg");  // Men as Women: mislabeled?
  batch.row(2, {0.2f, 0.3f, 0.5f}, "");
  batch.addTo(metrics);
  const auto report = metrics.report();
  test::TempDir dir;
  const auto out = dir / "eval/run1";  // neither folder exists yet
  writeReport(report, out);
  writeReport(report, out);  // replacing the files is fine

  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(out)) {
    ++entries;
  }
  EXPECT_EQ(entries, 7u) << "no temporary files left behind";

  const auto categoriesText = test::readFile(out / "categories.csv");
  EXPECT_NE(categoriesText.find("\n0,\"Women > Shoes, Boots\",1,2,1,0.5,1\n"), std::string::npos)
      << categoriesText;
  EXPECT_NE(categoriesText.find("\n1,\"Men > \"\"Smart\"\" Shoes\",1,0,0,0,0\n"), std::string::npos)
      << categoriesText;
  EXPECT_EQ(
      parseCsv(categoriesText),
      (Rows{{"class", "name", "support", "predicted", "true_positives", "precision", "recall"},
            {"0", "Women > Shoes, Boots", "1", "2", "1", "0.5", "1"},
            {"1", "Men > \"Smart\" Shoes", "1", "0", "0", "0", "0"},
            {"2", "Other", "1", "1", "1", "1", "1"}}));

  // Level 1: "Women", "Men" (taken for "Women"), "Other": 2 of 3. Level 2: 1 of 2.
  EXPECT_EQ(test::readFile(out / "levels.csv"),
            "level,examples,correct,accuracy\n1,3,2,0.666667\n2,2,1,0.5\n");

  EXPECT_EQ(parseCsv(test::readFile(out / "confusion.csv")),
            (Rows{{"actual", "predicted", "count", "actual_name", "predicted_name"},
                  {"0", "0", "1", names[0], names[0]},
                  {"1", "0", "1", names[1], names[0]},
                  {"2", "2", "1", "Other", "Other"}}));

  EXPECT_EQ(parseCsv(test::readFile(out / "confused_pairs.csv")),
            (Rows{{"a", "a_name", "b", "b_name", "a_as_b", "b_as_a", "total"},
                  {"0", names[0], "1", names[1], "0", "1", "1"}}));

  // 0.0123456789f is 0.01234567910..., 0.9f is 0.89999997...: 6 significant digits.
  const auto mislabeledText = test::readFile(out / "mislabeled.csv");
  EXPECT_NE(mislabeledText.find("\n\"img,1.jpg\",1,"), std::string::npos) << mislabeledText;
  EXPECT_EQ(parseCsv(mislabeledText),
            (Rows{{"key", "label", "label_name", "label_probability", "predicted", "predicted_name",
                   "predicted_probability"},
                  {"img,1.jpg", "1", names[1], "0.0123457", "0", names[0], "0.9"}}));

  EXPECT_EQ(parseCsv(test::readFile(out / "predictions.csv")),
            (Rows{{"key", "label", "predicted", "label_probability", "predicted_probability"},
                  {"img/0.jpg", "0", "0", "0.8", "0.8"},
                  {"img,1.jpg", "1", "0", "0.0123457", "0.9"},
                  {"", "2", "2", "0.5", "0.5"}}));

  const auto summary = nlohmann::json::parse(test::readFile(out / "summary.json"));
  EXPECT_EQ(summary["examples"], 3);
  EXPECT_EQ(summary["num_classes"], 3);
  EXPECT_DOUBLE_EQ(summary["precision_at_1"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(summary["recall_at_k"].get<double>(), 1.0);
  EXPECT_EQ(summary["top_k"], 3);  // the K used: 5 asked, 3 categories
  EXPECT_NEAR(summary["mean_loss"].get<double>(), (nll(0.8f) + nll(0.0123456789f) + nll(0.5f)) / 3,
              1e-12);
  ASSERT_EQ(summary["levels"].size(), 2u);
  EXPECT_EQ(summary["levels"][0]["level"], 1);
  EXPECT_EQ(summary["levels"][0]["examples"], 3);
  EXPECT_EQ(summary["levels"][0]["correct"], 2);
  EXPECT_DOUBLE_EQ(summary["levels"][0]["accuracy"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(summary["levels"][1]["correct"], 1);
  ASSERT_EQ(summary["files"].size(), 6u);
  EXPECT_EQ(summary["files"]["categories"], "categories.csv");
  EXPECT_EQ(summary["files"]["levels"], "levels.csv");
  EXPECT_EQ(summary["files"]["confusion"], "confusion.csv");
  EXPECT_EQ(summary["files"]["confused_pairs"], "confused_pairs.csv");
  EXPECT_EQ(summary["files"]["mislabeled"], "mislabeled.csv");
  EXPECT_EQ(summary["files"]["predictions"], "predictions.csv");
  for (const auto& [key, file] : summary["files"].items()) {
    EXPECT_TRUE(std::filesystem::exists(out / file.get<std::string>())) << key;
  }
}

TEST(Metrics, WriteReportFailsWhenTheFolderCannotBeMade) {
  test::TempDir dir;
  test::writeFile(dir / "file", "x");
  EXPECT_THROW(writeReport(MetricsReport{}, dir / "file" / "sub"), core::Error);
}

}  // namespace
}  // namespace taxon::eval
