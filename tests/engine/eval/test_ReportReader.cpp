#include "eval/ReportReader.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "eval/Metrics.hpp"

namespace taxon::eval {
namespace {

// Names with a comma and quotes, so that the RFC 4180 quoting is exercised both ways.
const std::vector<std::string> kNames = {"Women > Shoes, Boots", "Women > \"Smart\" Shoes",
                                         "Men > Shirts", "Other"};

// 4 classes, 6 examples with known top-1s (two confusions and one likely-mislabeled image).
MetricsReport handMadeReport() {
  MetricsSettings settings;
  settings.topK = 2;
  MetricsAccumulator metrics(kNames, settings);
  const std::vector<float> p = {
      0.7f,  0.2f,  0.05f, 0.05f,  // 0 as 0
      0.6f,  0.3f,  0.05f, 0.05f,  // 1 as 0
      0.05f, 0.05f, 0.85f, 0.05f,  // 2 as 2
      0.9f,  0.02f, 0.03f, 0.05f,  // 3 as 0, label at 0.05: mislabeled
      0.1f,  0.6f,  0.2f,  0.1f,   // 1 as 1
      0.25f, 0.25f, 0.25f, 0.25f,  // 2 as 0 (tie: the first class wins)
  };
  const std::vector<std::int64_t> labels = {0, 1, 2, 3, 1, 2};
  const std::vector<std::string> keys = {"a/0.png", "b,1.png", "\"c\".png",
                                         "d/3.png", "",        "f/5.png"};
  metrics.add(p.data(), 3, labels.data(), {keys.begin(), keys.begin() + 3});
  metrics.add(p.data() + 12, 3, labels.data() + 3, {keys.begin() + 3, keys.end()});
  return metrics.report();
}

TEST(ReportReader, ReadsBackEverythingWriteReportWrote) {
  const auto written = handMadeReport();
  ASSERT_EQ(written.predictions.size(), 6u);
  EXPECT_EQ(written.predictions[1].key, "b,1.png");
  EXPECT_EQ(written.predictions[1].label, 1);
  EXPECT_EQ(written.predictions[1].predicted, 0);
  EXPECT_FLOAT_EQ(written.predictions[1].labelProbability, 0.3f);
  EXPECT_FLOAT_EQ(written.predictions[1].predictedProbability, 0.6f);
  EXPECT_EQ(written.predictions[5].predicted, 0);

  test::TempDir dir;
  writeReport(written, dir / "eval");
  const auto read = readReport(dir / "eval");

  EXPECT_EQ(read.examples, written.examples);
  EXPECT_EQ(read.topK, 2);
  EXPECT_DOUBLE_EQ(read.precisionAt1, written.precisionAt1);
  EXPECT_DOUBLE_EQ(read.recallAtK, written.recallAtK);
  EXPECT_DOUBLE_EQ(read.meanLoss, written.meanLoss);
  EXPECT_EQ(read.categoryNames, kNames);

  ASSERT_EQ(read.categories.size(), written.categories.size());
  for (std::size_t c = 0; c < read.categories.size(); ++c) {
    const auto& r = read.categories[c];
    const auto& w = written.categories[c];
    EXPECT_EQ(r.name, w.name);
    EXPECT_EQ(r.support, w.support);
    EXPECT_EQ(r.predicted, w.predicted);
    EXPECT_EQ(r.truePositives, w.truePositives);
    EXPECT_NEAR(r.precision, w.precision, 1e-6);
    EXPECT_NEAR(r.recall, w.recall, 1e-6);
  }

  ASSERT_EQ(read.levels.size(), written.levels.size());
  for (std::size_t l = 0; l < read.levels.size(); ++l) {
    EXPECT_EQ(read.levels[l].level, written.levels[l].level);
    EXPECT_EQ(read.levels[l].examples, written.levels[l].examples);
    EXPECT_EQ(read.levels[l].correct, written.levels[l].correct);
    EXPECT_NEAR(read.levels[l].accuracy, written.levels[l].accuracy, 1e-6);
  }

  ASSERT_EQ(read.confusion.size(), written.confusion.size());
  for (std::size_t i = 0; i < read.confusion.size(); ++i) {
    EXPECT_EQ(read.confusion[i].actual, written.confusion[i].actual);
    EXPECT_EQ(read.confusion[i].predicted, written.confusion[i].predicted);
    EXPECT_EQ(read.confusion[i].count, written.confusion[i].count);
  }

  ASSERT_EQ(read.mostConfused.size(), written.mostConfused.size());
  for (std::size_t i = 0; i < read.mostConfused.size(); ++i) {
    EXPECT_EQ(read.mostConfused[i].a, written.mostConfused[i].a);
    EXPECT_EQ(read.mostConfused[i].b, written.mostConfused[i].b);
    EXPECT_EQ(read.mostConfused[i].aAsB, written.mostConfused[i].aAsB);
    EXPECT_EQ(read.mostConfused[i].bAsA, written.mostConfused[i].bAsA);
  }

  ASSERT_EQ(read.mislabeled.size(), 1u);
  ASSERT_EQ(written.mislabeled.size(), 1u);
  EXPECT_EQ(read.mislabeled[0].key, "d/3.png");
  EXPECT_EQ(read.mislabeled[0].label, 3);
  EXPECT_EQ(read.mislabeled[0].predicted, 0);
  EXPECT_NEAR(read.mislabeled[0].labelProbability, written.mislabeled[0].labelProbability, 1e-6);
  EXPECT_NEAR(read.mislabeled[0].predictedProbability, written.mislabeled[0].predictedProbability,
              1e-6);

  ASSERT_EQ(read.predictions.size(), written.predictions.size());
  for (std::size_t i = 0; i < read.predictions.size(); ++i) {
    const auto& r = read.predictions[i];
    const auto& w = written.predictions[i];
    EXPECT_EQ(r.key, w.key) << i;
    EXPECT_EQ(r.label, w.label) << i;
    EXPECT_EQ(r.predicted, w.predicted) << i;
    EXPECT_NEAR(r.labelProbability, w.labelProbability, 1e-6) << i;
    EXPECT_NEAR(r.predictedProbability, w.predictedProbability, 1e-6) << i;
  }
  EXPECT_EQ(read.predictions[2].key, "\"c\".png");
  EXPECT_EQ(read.predictions[4].key, "");
}

TEST(ReportReader, PredictionsFileHasOneRowPerExampleInOrder) {
  test::TempDir dir;
  writeReport(handMadeReport(), dir.path());
  EXPECT_EQ(test::readFile(dir / "predictions.csv"),
            "key,label,predicted,label_probability,predicted_probability\n"
            "a/0.png,0,0,0.7,0.7\n"
            "\"b,1.png\",1,0,0.3,0.6\n"
            "\"\"\"c\"\".png\",2,2,0.85,0.85\n"
            "d/3.png,3,0,0.05,0.9\n"
            ",1,1,0.6,0.6\n"
            "f/5.png,2,0,0.25,0.25\n");
}

TEST(ReportReader, MalformedCsvNamesTheFileAndLine) {
  test::TempDir dir;
  writeReport(handMadeReport(), dir.path());
  test::writeFile(dir / "confusion.csv",
                  "actual,predicted,count,actual_name,predicted_name\n0,0,1,a,a\n0,x,1,a,b\n");
  try {
    readReport(dir.path());
    FAIL() << "expected core::Error";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("confusion.csv"), std::string::npos) << message;
    EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  }

  writeReport(handMadeReport(), dir.path());
  test::writeFile(dir / "predictions.csv",
                  "key,label,predicted,label_probability,predicted_probability\n\"open,1,1,1,1\n");
  try {
    readReport(dir.path());
    FAIL() << "expected core::Error";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("predictions.csv"), std::string::npos) << message;
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  }

  writeReport(handMadeReport(), dir.path());
  test::writeFile(dir / "mislabeled.csv", "key,label\n");
  try {
    readReport(dir.path());
    FAIL() << "expected core::Error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("mislabeled.csv"), std::string::npos) << e.what();
  }

  writeReport(handMadeReport(), dir.path());
  test::writeFile(dir / "categories.csv",
                  "class,name,support,predicted,true_positives,precision,recall\n"
                  "0,a,1,1,1,1,1\n1,b,1,1,1,1,1\n");
  EXPECT_THROW(readReport(dir.path()), core::Error) << "4 classes in summary.json, 2 in the file";
}

TEST(ReportReader, MissingFolderOrSummaryIsAnError) {
  test::TempDir dir;
  try {
    readReport(dir / "nowhere");
    FAIL() << "expected core::Error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("summary.json"), std::string::npos) << e.what();
  }
  test::writeFile(dir / "summary.json", "{\"examples\": ");
  EXPECT_THROW(readReport(dir.path()), core::Error);
}

TEST(ReportReader, ReportWithoutPredictionsFileStillLoads) {
  test::TempDir dir;
  writeReport(handMadeReport(), dir.path());
  // A report from before predictions.csv: summary.json does not name it.
  auto summary = nlohmann::json::parse(test::readFile(dir / "summary.json"));
  summary["files"].erase("predictions");
  test::writeFile(dir / "summary.json", summary.dump());
  std::filesystem::remove(dir / "predictions.csv");
  const auto report = readReport(dir.path());
  EXPECT_TRUE(report.predictions.empty());
  EXPECT_EQ(report.categories.size(), 4u);
}

}  // namespace
}  // namespace taxon::eval
