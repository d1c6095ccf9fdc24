#include "train/MetricsLog.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "TestFiles.hpp"
#include "core/Error.hpp"

namespace taxon::train {
namespace {

StepMetrics stepAt(std::int64_t step) {
  StepMetrics m;
  m.step = step;
  m.epoch = step / 3;
  m.loss = 2.0 / static_cast<double>(step);
  m.crossEntropy = 1.5 / static_cast<double>(step);
  m.learningRate = 0.01;
  m.examplesPerSec = 250.0;
  m.secPerBatch = 0.128;
  m.batchPrecisionAt1 = 0.25;
  m.batchRecallAt5 = 0.75;
  m.wallTime = 1.7e9 + static_cast<double>(step);
  return m;
}

EvalPoint evalAt(std::int64_t step) {
  EvalPoint point;
  point.step = step;
  point.subset = "validation";
  point.examples = 40;
  point.precisionAt1 = 0.5;
  point.recallAt5 = 0.875;
  point.loss = 1.25;
  return point;
}

// A run's log, then a resume from the checkpoint of step 4: the lines of steps 5 and 6 go, as
// does a line torn by the kill; the resumed run's lines follow; the reader returns every figure.
TEST(MetricsLog, WriterAndTruncateRoundTrip) {
  test::TempDir dir;
  const auto path = dir / kMetricsFileName;
  {
    MetricsLog log(path);
    for (int step = 1; step <= 6; ++step) {
      log.write(stepAt(step));
      if (step == 3) {
        log.write(evalAt(step));
      }
    }
  }
  {
    std::ofstream torn(path, std::ios::app);
    torn << R"({"step":7,"epoch":2,"lo)";
  }
  truncateMetricsLog(path, 4);
  {
    MetricsLog log(path);
    log.write(stepAt(5));
  }
  const auto contents = readMetricsLog(path);
  EXPECT_TRUE(contents.unread.empty());
  ASSERT_EQ(contents.records.size(), 6u);
  const std::int64_t steps[] = {1, 2, 3, 3, 4, 5};
  for (std::size_t i = 0; i < contents.records.size(); ++i) {
    const auto& record = contents.records[i];
    EXPECT_EQ(record.line, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(record.step ? record.step->step : record.eval->step, steps[i]);
  }
  ASSERT_TRUE(contents.records[3].eval.has_value());
  const EvalPoint& eval = *contents.records[3].eval;
  EXPECT_EQ(eval.subset, "validation");
  EXPECT_EQ(eval.examples, 40);
  EXPECT_EQ(eval.precisionAt1, 0.5);
  EXPECT_EQ(eval.recallAt5, 0.875);
  EXPECT_EQ(eval.loss, 1.25);
  // Every field of a step comes back exactly (JSON keeps doubles' shortest exact form).
  ASSERT_TRUE(contents.records[5].step.has_value());
  const StepMetrics& read = *contents.records[5].step;
  const StepMetrics written = stepAt(5);
  EXPECT_EQ(read.epoch, written.epoch);
  EXPECT_EQ(read.loss, written.loss);
  EXPECT_EQ(read.crossEntropy, written.crossEntropy);
  EXPECT_EQ(read.learningRate, written.learningRate);
  EXPECT_EQ(read.examplesPerSec, written.examplesPerSec);
  EXPECT_EQ(read.secPerBatch, written.secPerBatch);
  EXPECT_EQ(read.batchPrecisionAt1, written.batchPrecisionAt1);
  EXPECT_EQ(read.batchRecallAt5, written.batchRecallAt5);
  EXPECT_EQ(read.wallTime, written.wallTime);
  // What the trainer writes and what a checkpoint keeps is the same line.
  EXPECT_EQ(nlohmann::json::parse(metricsLine(written))["step"], 5);
}

TEST(MetricsLog, TruncateLeavesAMissingFileMissing) {
  test::TempDir dir;
  truncateMetricsLog(dir / kMetricsFileName, 3);
  EXPECT_FALSE(std::filesystem::exists(dir / kMetricsFileName));
}

TEST(MetricsLog, SkippedEvaluationSaysWhy) {
  test::TempDir dir;
  const auto path = dir / kMetricsFileName;
  EvalPoint skipped;
  skipped.subset = "validation";
  skipped.skipped = "the 'validation' split is empty";
  MetricsLog(path).write(skipped);
  const auto contents = readMetricsLog(path);
  ASSERT_EQ(contents.records.size(), 1u);
  ASSERT_TRUE(contents.records[0].eval.has_value());
  EXPECT_EQ(contents.records[0].eval->skipped, "the 'validation' split is empty");
  EXPECT_EQ(contents.records[0].eval->examples, 0);
}

// A run killed while writing leaves its last line cut short: reported as the last, the rest read.
TEST(MetricsLog, ReaderReportsAHalfWrittenLastLine) {
  test::TempDir dir;
  const auto path = dir / kMetricsFileName;
  {
    MetricsLog log(path);
    log.write(stepAt(1));
    log.write(stepAt(2));
  }
  {
    std::ofstream torn(path, std::ios::app);
    torn << R"({"step":3,"epoch":1,"loss":0.6)";
  }
  const auto contents = readMetricsLog(path);
  ASSERT_EQ(contents.records.size(), 2u);
  EXPECT_EQ(contents.records[1].step->step, 2);
  ASSERT_EQ(contents.unread.size(), 1u);
  EXPECT_EQ(contents.unread[0].line, 3);
  EXPECT_TRUE(contents.unread[0].last);
  EXPECT_FALSE(contents.unread[0].reason.empty());
  EXPECT_EQ(contents.firstDamaged(), nullptr);
}

// A damaged line in the middle (and blank lines) is reported with its number; the lines around
// it are read.
TEST(MetricsLog, ReaderReportsADamagedMiddleLineAndReadsTheRest) {
  test::TempDir dir;
  const auto path = dir / kMetricsFileName;
  test::writeFile(path, metricsLine(stepAt(1)) + "\n" + "\x01garbage{\n" + "\n" +
                            metricsLine(evalAt(1), 1.7e9) + "\n" + "[1, 2]\n" +
                            metricsLine(stepAt(2)) + "\n\n");
  const auto contents = readMetricsLog(path);
  ASSERT_EQ(contents.records.size(), 3u);
  EXPECT_EQ(contents.records[0].step->step, 1);
  EXPECT_EQ(contents.records[1].eval->step, 1);
  EXPECT_EQ(contents.records[1].line, 4);
  EXPECT_EQ(contents.records[2].step->step, 2);
  EXPECT_EQ(contents.records[2].line, 6);
  ASSERT_EQ(contents.unread.size(), 2u);
  EXPECT_EQ(contents.unread[0].line, 2);
  EXPECT_FALSE(contents.unread[0].last);
  EXPECT_EQ(contents.unread[1].line, 5);  // valid JSON, but not an object
  EXPECT_FALSE(contents.unread[1].last);
  ASSERT_NE(contents.firstDamaged(), nullptr);
  EXPECT_EQ(contents.firstDamaged()->line, 2);
}

// Counts (step, epoch, examples) that are no int64: a float out of range (converting one is
// undefined behaviour; bench/fuzz/run.sh found 1e31), a fraction, a string, an unsigned 2^64 - 1.
// Each is a damaged line, read past like any other; truncating on resume drops them.
TEST(MetricsLog, CountsOutOfRangeAreDamagedLines) {
  test::TempDir dir;
  const auto path = dir / kMetricsFileName;
  test::writeFile(
      path, std::string("{\"step\": 1e31, \"loss\": 1}\n") + "{\"step\": 3.5, \"loss\": 1}\n" +
                "{\"step\": \"seven\", \"loss\": 1}\n" +
                "{\"step\": 18446744073709551615, \"loss\": 1}\n" +
                "{\"step\": 4, \"eval\": {\"examples\": -1e300}}\n" +
                "{\"step\": 2e0, \"epoch\": 1, \"loss\": 1}\n" + metricsLine(stepAt(3)) + "\n");
  const auto contents = readMetricsLog(path);
  ASSERT_EQ(contents.records.size(), 2u);
  EXPECT_EQ(contents.records[0].step->step, 2);  // a whole float is a count
  EXPECT_EQ(contents.records[0].step->epoch, 1);
  EXPECT_EQ(contents.records[1].step->step, 3);
  ASSERT_EQ(contents.unread.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(contents.unread[i].line, static_cast<std::int64_t>(i + 1));
  }
  EXPECT_NE(contents.unread[0].reason.find("\"step\""), std::string::npos)
      << contents.unread[0].reason;
  EXPECT_NE(contents.unread[4].reason.find("\"examples\""), std::string::npos)
      << contents.unread[4].reason;
  truncateMetricsLog(path, 2);
  const auto kept = readMetricsLog(path);
  EXPECT_EQ(kept.records.size(), 1u);
  EXPECT_TRUE(kept.unread.empty());
}

TEST(MetricsLog, ReaderNamesAMissingFile) {
  test::TempDir dir;
  try {
    readMetricsLog(dir / "absent" / kMetricsFileName);
    FAIL() << "no error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos);
  }
}

}  // namespace
}  // namespace taxon::train
