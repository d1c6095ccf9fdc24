// TrainSettings: the JSON saved with every run reads back to the same settings (older files too),
// the recipes set what they promise, and validate() names each problem at its edge.
#include "settings/TrainSettings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::settings {
namespace {

// Settings whose every field differs from the default, so that a field lost on the way back
// shows as a difference.
TrainSettings unusualSettings() {
  TrainSettings s;
  s.trainDir = "/runs/one";
  s.dataDir = "/data/records";
  s.device = "cuda:1";
  s.imageSize = 151;
  s.depthMultiplier = 0.5;
  s.auxLogits = false;
  s.dropout = 0.3;
  s.initFrom = "/weights/inception.pt";
  s.recipe = "small-data";
  s.batchSize = 48;
  s.optimizer = OptimizerKind::kSgd;
  s.learningRate = 0.05;
  s.learningRatePer256 = 0.3;
  s.schedule = ScheduleKind::kConstant;
  s.decayEpochs = 7.5;
  s.decayFactor = 0.5;
  s.warmupEpochs = 2.0;
  s.rmsDecay = 0.8;
  s.momentum = 0.7;
  s.rmsEpsilon = 0.5;
  s.labelSmoothing = 0.05;
  s.auxWeight = 0.2;
  s.weightDecay = 1e-4;
  s.batchNormDecay = 0.95;
  s.emaDecay = 0.99;
  s.maxSteps = 1234;
  s.maxEpochs = 3.5;
  s.seed = 99;
  s.loaderThreads = 3;
  s.shuffleBuffer = 100;
  s.distort = false;
  s.minCropArea = 0.6;
  s.colourDistort = false;
  s.torchThreads = 5;
  s.replicas = 4;
  s.syncBatchNorm = true;
  s.bucketMiB = 10.0;
  s.collectiveTimeoutSeconds = 60.0;
  s.precision = "fp32";
  s.channelsLast = false;
  s.cudnnBenchmark = false;
  s.logEverySteps = 7;
  s.saveEverySteps = 70;
  s.keepCheckpoints = 2;
  s.evalEverySteps = 50;
  s.evalExamples = 500;
  s.evalSubset = "test";
  s.recalibrateExamples = 64;
  s.evalAtEnd = false;
  return s;
}

TEST(TrainSettings, EveryFieldSurvivesJson) {
  const TrainSettings s = unusualSettings();
  const nlohmann::json json = toJson(s);
  // Through text, as settings.json and checkpoints store it.
  const TrainSettings r = trainSettingsFromJson(nlohmann::json::parse(json.dump()));
  EXPECT_EQ(r.trainDir, s.trainDir);
  EXPECT_EQ(r.dataDir, s.dataDir);
  EXPECT_EQ(r.device, s.device);
  EXPECT_EQ(r.imageSize, s.imageSize);
  EXPECT_EQ(r.depthMultiplier, s.depthMultiplier);
  EXPECT_EQ(r.auxLogits, s.auxLogits);
  EXPECT_EQ(r.dropout, s.dropout);
  EXPECT_EQ(r.initFrom, s.initFrom);
  EXPECT_EQ(r.recipe, s.recipe);
  EXPECT_EQ(r.batchSize, s.batchSize);
  EXPECT_EQ(r.optimizer, s.optimizer);
  EXPECT_EQ(r.learningRate, s.learningRate);
  EXPECT_EQ(r.learningRatePer256, s.learningRatePer256);
  EXPECT_EQ(r.schedule, s.schedule);
  EXPECT_EQ(r.decayEpochs, s.decayEpochs);
  EXPECT_EQ(r.decayFactor, s.decayFactor);
  EXPECT_EQ(r.warmupEpochs, s.warmupEpochs);
  EXPECT_EQ(r.rmsDecay, s.rmsDecay);
  EXPECT_EQ(r.momentum, s.momentum);
  EXPECT_EQ(r.rmsEpsilon, s.rmsEpsilon);
  EXPECT_EQ(r.labelSmoothing, s.labelSmoothing);
  EXPECT_EQ(r.auxWeight, s.auxWeight);
  EXPECT_EQ(r.weightDecay, s.weightDecay);
  EXPECT_EQ(r.batchNormDecay, s.batchNormDecay);
  EXPECT_EQ(r.emaDecay, s.emaDecay);
  EXPECT_EQ(r.maxSteps, s.maxSteps);
  EXPECT_EQ(r.maxEpochs, s.maxEpochs);
  EXPECT_EQ(r.seed, s.seed);
  EXPECT_EQ(r.loaderThreads, s.loaderThreads);
  EXPECT_EQ(r.shuffleBuffer, s.shuffleBuffer);
  EXPECT_EQ(r.distort, s.distort);
  EXPECT_EQ(r.minCropArea, s.minCropArea);
  EXPECT_EQ(r.colourDistort, s.colourDistort);
  EXPECT_EQ(r.torchThreads, s.torchThreads);
  EXPECT_EQ(r.replicas, s.replicas);
  EXPECT_EQ(r.syncBatchNorm, s.syncBatchNorm);
  EXPECT_EQ(r.bucketMiB, s.bucketMiB);
  EXPECT_EQ(r.collectiveTimeoutSeconds, s.collectiveTimeoutSeconds);
  EXPECT_EQ(r.precision, s.precision);
  EXPECT_EQ(r.channelsLast, s.channelsLast);
  EXPECT_EQ(r.cudnnBenchmark, s.cudnnBenchmark);
  EXPECT_EQ(r.logEverySteps, s.logEverySteps);
  EXPECT_EQ(r.saveEverySteps, s.saveEverySteps);
  EXPECT_EQ(r.keepCheckpoints, s.keepCheckpoints);
  EXPECT_EQ(r.evalEverySteps, s.evalEverySteps);
  EXPECT_EQ(r.evalExamples, s.evalExamples);
  EXPECT_EQ(r.evalSubset, s.evalSubset);
  EXPECT_EQ(r.recalibrateExamples, s.recalibrateExamples);
  EXPECT_EQ(r.evalAtEnd, s.evalAtEnd);
  // Nothing is written that is not read back: the JSON of the copy is the same.
  EXPECT_EQ(toJson(r), json);
}

// Runs written before CPUs could autocast saved "precision": "bf16" (the default then) meaning
// bf16 on CUDA and fp32 on a CPU, which is "auto" now: resumed on a CPU, they stay in fp32.
TEST(TrainSettings, AnOldRunsPrecisionKeepsItsMeaning) {
  nlohmann::json json = toJson(unusualSettings());
  json.erase("train_precision");
  for (const auto& [old, now] :
       std::vector<std::pair<std::string, std::string>>{{"bf16", "auto"}, {"fp32", "fp32"}}) {
    json["precision"] = old;
    EXPECT_EQ(trainSettingsFromJson(json).precision, now) << old;
  }
  TrainSettings s = unusualSettings();
  s.precision = "bf16";  // asked for by name now: bf16 on any device
  EXPECT_EQ(trainSettingsFromJson(toJson(s)).precision, "bf16");
}

TEST(TrainSettings, AnOlderFileWithoutTheLaterFieldsReadsWithDefaults) {
  nlohmann::json json = toJson(unusualSettings());
  for (const char* later :
       {"replicas", "sync_batch_norm", "bucket_mib", "collective_timeout_seconds",
        "train_precision", "channels_last", "cudnn_benchmark", "recalibrate_batch_norm"}) {
    ASSERT_TRUE(json.contains(later)) << later;
    json.erase(later);
  }
  const TrainSettings r = trainSettingsFromJson(json);
  const TrainSettings defaults;
  EXPECT_EQ(r.replicas, defaults.replicas);
  EXPECT_EQ(r.syncBatchNorm, defaults.syncBatchNorm);
  EXPECT_EQ(r.bucketMiB, defaults.bucketMiB);
  EXPECT_EQ(r.collectiveTimeoutSeconds, defaults.collectiveTimeoutSeconds);
  EXPECT_EQ(r.precision, defaults.precision);
  EXPECT_EQ(r.channelsLast, defaults.channelsLast);
  EXPECT_EQ(r.cudnnBenchmark, defaults.cudnnBenchmark);
  EXPECT_EQ(r.recalibrateExamples, defaults.recalibrateExamples);
  // The fields of the first format still come from the file.
  EXPECT_EQ(r.imageSize, 151);
  EXPECT_EQ(r.optimizer, OptimizerKind::kSgd);
}

TEST(TrainSettings, AFileLackingAFirstFormatFieldOrOfTheWrongTypeIsAnError) {
  nlohmann::json missing = toJson(TrainSettings{});
  missing.erase("image_size");
  EXPECT_THROW(trainSettingsFromJson(missing), core::Error);
  nlohmann::json wrongType = toJson(TrainSettings{});
  wrongType["batch_size"] = "thirty-two";
  EXPECT_THROW(trainSettingsFromJson(wrongType), core::Error);
  nlohmann::json unknownOptimizer = toJson(TrainSettings{});
  unknownOptimizer["optimizer"] = "adam";
  EXPECT_THROW(trainSettingsFromJson(unknownOptimizer), core::Error);
}

TEST(TrainSettings, RecipesSetTheirValuesAndBackAgain) {
  TrainSettings s;
  s.learningRate = 0.7;  // a recipe starts from its own learning rate
  s.applyRecipe("small-data");
  EXPECT_EQ(s.recipe, "small-data");
  EXPECT_EQ(s.optimizer, OptimizerKind::kSgd);
  EXPECT_EQ(s.schedule, ScheduleKind::kCosine);
  EXPECT_EQ(s.warmupEpochs, 1.0);
  EXPECT_EQ(s.learningRatePer256, 0.4);
  EXPECT_EQ(s.learningRate, 0.0);
  EXPECT_EQ(s.batchNormDecay, 0.99);
  EXPECT_EQ(s.emaDecay, 0.999);
  EXPECT_EQ(s.minCropArea, 0.8);
  EXPECT_FALSE(s.colourDistort);
  s.batchSize = 128;
  EXPECT_DOUBLE_EQ(s.baseLearningRate(), 0.2);

  s.applyRecipe("inception");
  const TrainSettings defaults;
  EXPECT_EQ(s.recipe, "inception");
  EXPECT_EQ(s.optimizer, OptimizerKind::kRmsProp);
  EXPECT_EQ(s.schedule, ScheduleKind::kStaircase);
  EXPECT_EQ(s.warmupEpochs, defaults.warmupEpochs);
  EXPECT_EQ(s.learningRatePer256, defaults.learningRatePer256);
  EXPECT_EQ(s.batchNormDecay, defaults.batchNormDecay);
  EXPECT_EQ(s.emaDecay, defaults.emaDecay);
  EXPECT_EQ(s.minCropArea, defaults.minCropArea);
  EXPECT_TRUE(s.colourDistort);
  EXPECT_EQ(s.batchSize, 128);  // not part of a recipe

  EXPECT_THROW(s.applyRecipe("fast"), core::UsageError);
  EXPECT_EQ(s.recipe, "inception");
}

TEST(TrainSettings, NamesAndParsersAgree) {
  for (auto kind : {OptimizerKind::kRmsProp, OptimizerKind::kSgd}) {
    EXPECT_EQ(parseOptimizer(name(kind)), kind);
  }
  for (auto kind : {ScheduleKind::kStaircase, ScheduleKind::kCosine, ScheduleKind::kConstant}) {
    EXPECT_EQ(parseSchedule(name(kind)), kind);
  }
  EXPECT_THROW(parseOptimizer("adam"), core::UsageError);
  EXPECT_THROW(parseSchedule("linear"), core::UsageError);
}

TrainSettings usable() {
  TrainSettings s;
  s.trainDir = "/runs/a";
  s.dataDir = "/data/a";
  return s;
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

TEST(TrainSettings, ValidateAcceptsTheEdgesAndRefusesJustPastThem) {
  EXPECT_TRUE(usable().validate().empty());
  struct Edge {
    std::function<void(TrainSettings&)> ok, bad;
    std::string problem;
  };
  const std::vector<Edge> edges = {
      {[](auto& s) { s.imageSize = 75; }, [](auto& s) { s.imageSize = 74; },
       "image size must be at least 75 (got 74)"},
      {[](auto& s) { s.dropout = 0.0; }, [](auto& s) { s.dropout = 1.0; }, "dropout"},
      {[](auto& s) { s.batchSize = 1; }, [](auto& s) { s.batchSize = 0; }, "batch size"},
      {[](auto& s) { s.decayFactor = 1.0; }, [](auto& s) { s.decayFactor = 0.0; }, "decay factor"},
      {[](auto& s) { s.minCropArea = 1.0; }, [](auto& s) { s.minCropArea = 0.0; }, "smallest crop"},
      {[](auto& s) { s.keepCheckpoints = 1; }, [](auto& s) { s.keepCheckpoints = 0; },
       "checkpoint must be kept"},
      {[](auto& s) { s.device = "cuda:3"; }, [](auto& s) { s.device = "tpu"; }, "'tpu'"},
      {[](auto& s) { s.precision = "fp32"; }, [](auto& s) { s.precision = "fp16"; }, "'fp16'"},
      {[](auto& s) { s.collectiveTimeoutSeconds = 1.0; },
       [](auto& s) { s.collectiveTimeoutSeconds = 0.5; }, "collective timeout"},
      {[](auto& s) { s.maxSteps = 0, s.maxEpochs = 0.5; },
       [](auto& s) { s.maxSteps = 0, s.maxEpochs = 0.0; }, "the run needs an end"},
      {[](auto& s) { s.replicas = 4, s.batchSize = 8; },
       [](auto& s) { s.replicas = 3, s.batchSize = 8; },
       "the global batch (8) must split evenly between the 3 replicas"},
  };
  for (const auto& edge : edges) {
    TrainSettings ok = usable();
    edge.ok(ok);
    EXPECT_TRUE(ok.validate().empty()) << edge.problem << ": " << ok.validate().front();
    TrainSettings bad = usable();
    edge.bad(bad);
    const auto problems = bad.validate();
    EXPECT_EQ(problems.size(), 1u) << edge.problem;
    EXPECT_TRUE(mentions(problems, edge.problem)) << edge.problem;
  }
}

TEST(TrainSettings, ValidateReportsEveryProblemAtOnce) {
  TrainSettings s;  // no train dir, no data dir
  s.imageSize = 10;
  s.momentum = 1.0;
  const auto problems = s.validate();
  EXPECT_EQ(problems.size(), 4u);
  EXPECT_TRUE(mentions(problems, "--train_dir"));
  EXPECT_TRUE(mentions(problems, "--data_dir"));
  EXPECT_TRUE(mentions(problems, "image size"));
  EXPECT_TRUE(mentions(problems, "momentum"));
}

}  // namespace
}  // namespace taxon::settings
