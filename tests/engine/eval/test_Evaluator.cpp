// Evaluation of a real checkpoint on real records: every figure of the report is the one computed
// here from the model's own outputs on the same images.
#include "eval/torch/Evaluator.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "TinyModel.hpp"
#include "core/Error.hpp"

namespace taxon::eval {
namespace {

namespace fs = std::filesystem;

// One example as computed here: its 0-based label, top-1 class, whether the label is in the
// top-K, and the probability given to the label.
struct Expected {
  std::int64_t label = 0;
  std::int64_t predicted = 0;
  bool inTopK = false;
  double labelProbability = 0;
};

std::map<std::string, Expected> expectedByKey(const fs::path& trainDir, const fs::path& shard,
                                              int topK) {
  const auto examples = test::readExamples(shard);
  std::vector<std::string> encoded;
  for (const auto& example : examples) {
    encoded.push_back(example.encoded);
  }
  const at::Tensor probabilities = test::referenceProbabilities(trainDir, encoded);
  const at::Tensor topIndices = std::get<1>(probabilities.topk(topK, 1));
  std::map<std::string, Expected> out;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const auto row = static_cast<std::int64_t>(i);
    Expected e;
    e.label = examples[i].label - 1;
    e.predicted = probabilities[row].argmax().item<std::int64_t>();
    e.inTopK = (topIndices[row] == e.label).any().item<bool>();
    e.labelProbability = probabilities[row][e.label].item<double>();
    out[examples[i].filename] = e;
  }
  return out;
}

class Evaluator : public ::testing::Test {
 protected:
  void SetUp() override {
    test::writeRecordSet(dataDir_, kImages);
    test::writeRandomCheckpoint(trainDir_, dataDir_);
  }

  EvalSettings settings(int topK) const {
    EvalSettings s;
    s.checkpoint = trainDir_;
    s.model.subset = "validation";
    s.model.batchSize = 5;  // the last batch is short
    s.model.loaderThreads = 2;
    s.model.metrics.topK = topK;
    return s;
  }

  static constexpr int kImages = 14;
  test::TempDir dir_;
  const fs::path trainDir_ = dir_ / "run";
  const fs::path dataDir_ = dir_ / "records";
};

TEST_F(Evaluator, FiguresAreThoseOfTheModelsOwnOutputs) {
  const int topK = 2;
  const auto expected = expectedByKey(trainDir_, dataDir_ / "validation-00000-of-00001", topK);
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kImages));
  // The test means something only when the model's answers differ between images and are not
  // all right or all wrong.
  std::set<std::int64_t> predictedClasses;
  std::int64_t correct = 0, inTopK = 0;
  double loss = 0;
  std::map<std::int64_t, std::int64_t> support, predicted, truePositives;
  for (const auto& [key, e] : expected) {
    predictedClasses.insert(e.predicted);
    correct += e.predicted == e.label ? 1 : 0;
    inTopK += e.inTopK ? 1 : 0;
    loss += -std::log(std::max(e.labelProbability, 1e-12));
    ++support[e.label];
    ++predicted[e.predicted];
    truePositives[e.label] += e.predicted == e.label ? 1 : 0;
  }
  ASSERT_GE(predictedClasses.size(), 2u);
  ASSERT_LT(correct, kImages);

  const EvalOutcome outcome = evaluateCheckpoint(settings(topK));
  const MetricsReport& report = outcome.report;
  EXPECT_EQ(outcome.step, 7);
  EXPECT_EQ(outcome.checkpoint, trainDir_ / "model.ckpt-7.taxon");
  EXPECT_EQ(report.examples, kImages);
  EXPECT_EQ(report.expectedExamples, kImages);
  EXPECT_EQ(report.lostExamples, 0);
  EXPECT_TRUE(report.skipped.empty());
  EXPECT_EQ(report.topK, topK);
  EXPECT_DOUBLE_EQ(report.precisionAt1, static_cast<double>(correct) / kImages);
  EXPECT_DOUBLE_EQ(report.recallAtK, static_cast<double>(inTopK) / kImages);
  EXPECT_NEAR(report.meanLoss, loss / kImages, 1e-4);
  EXPECT_EQ(report.categoryNames, test::fourCategories());
  ASSERT_EQ(report.categories.size(), 4u);
  for (std::int64_t c = 0; c < 4; ++c) {
    const auto& category = report.categories[static_cast<std::size_t>(c)];
    EXPECT_EQ(category.support, support[c]) << c;
    EXPECT_EQ(category.predicted, predicted[c]) << c;
    EXPECT_EQ(category.truePositives, truePositives[c]) << c;
  }
  ASSERT_EQ(report.predictions.size(), static_cast<std::size_t>(kImages));
  for (const auto& prediction : report.predictions) {
    const Expected& e = expected.at(prediction.key);
    EXPECT_EQ(prediction.label, e.label) << prediction.key;
    EXPECT_EQ(prediction.predicted, e.predicted) << prediction.key;
    EXPECT_NEAR(prediction.labelProbability, e.labelProbability, 1e-4) << prediction.key;
  }
}

// `taxon eval --recalibrate_batch_norm N --recalibration_seed S`: the seed chooses which training
// images the statistics come from, so the same seed gives the same figures and another seed others.
TEST_F(Evaluator, RecalibrationReadsTheImagesItsSeedDraws) {
  auto s = settings(2);
  s.recalibrateExamples = 5;  // 5 of the 14 training images
  const auto meanLoss = [&](std::uint64_t seed) {
    s.recalibrateSeed = seed;
    return evaluateCheckpoint(s).report.meanLoss;
  };
  const double first = meanLoss(1);
  EXPECT_EQ(meanLoss(1), first);
  EXPECT_NE(meanLoss(2), first);
  s.recalibrateExamples = 0;
  EXPECT_NE(evaluateCheckpoint(s).report.meanLoss, first);  // the checkpoint's own statistics
}

// A last batch of one image cannot give batch statistics (the aux head's maps are 1 x 1 at 75 px):
// it is left out instead of failing the run's first checkpoint.
TEST_F(Evaluator, RecalibrationLeavesOutALastBatchOfOneImage) {
  auto trained = checkpoint::loadTrainedModel(trainDir_, "cpu");
  const auto records = records::openRecordSet(dataDir_);
  RecalibrationSettings settings;
  settings.batchSize = 5;
  settings.examples = 11;  // 5 + 5 + 1
  EXPECT_EQ(recalibrateBatchNorm(*trained.model, records, c10::Device(c10::kCPU), settings), 10);
  settings.examples = 1;  // nothing to measure: the statistics stay as they were
  const auto before =
      trained.model->named_buffers()["Mixed_7c.branch_pool.bn.running_mean"].clone();
  EXPECT_EQ(recalibrateBatchNorm(*trained.model, records, c10::Device(c10::kCPU), settings), 0);
  EXPECT_TRUE(
      torch::equal(before, trained.model->named_buffers()["Mixed_7c.branch_pool.bn.running_mean"]));
  EXPECT_FALSE(trained.model->is_training());
}

TEST_F(Evaluator, TheFirstNExamplesOnlyWhenAsked) {
  EvalSettings s = settings(1);
  s.model.maxExamples = 6;
  const auto report = evaluateCheckpoint(s).report;
  EXPECT_EQ(report.examples, 6);
  EXPECT_EQ(report.expectedExamples, 6);
  // The first six records in file order: image i has label i % 4.
  std::set<std::string> keys;
  for (const auto& prediction : report.predictions) {
    keys.insert(prediction.key);
  }
  EXPECT_EQ(keys, (std::set<std::string>{"img-0.png", "img-1.png", "img-2.png", "img-3.png",
                                         "img-4.png", "img-5.png"}));
  // With K = 1, recall@K is precision@1.
  EXPECT_DOUBLE_EQ(report.recallAtK, report.precisionAt1);
}

TEST_F(Evaluator, DataOfOtherCategoriesOrAnEmptySplitIsRefused) {
  EvalSettings s = settings(2);
  s.model.subset = "test";
  EXPECT_THROW(evaluateCheckpoint(s), core::Error);

  const fs::path otherData = dir_ / "other";
  test::writeShard(otherData, "validation", 4);
  test::writeFile(otherData / "labels.txt", "Hats\nGloves\nScarves\nBelts\n");
  s = settings(2);
  s.dataDir = otherData;
  EXPECT_THROW(evaluateCheckpoint(s), core::Error);
}

}  // namespace
}  // namespace taxon::eval
