#include "train/Trainer.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stop_token>

#include "TrainTestData.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "eval/torch/Evaluator.hpp"
#include "model/TorchvisionWeights.hpp"

namespace taxon::train {
namespace {

namespace fs = std::filesystem;

// step -> total loss of the training steps in TRAIN_DIR/metrics.jsonl; every step once.
std::map<std::int64_t, double> stepLosses(const fs::path& trainDir) {
  std::ifstream in(trainDir / "metrics.jsonl");
  std::map<std::int64_t, double> losses;
  std::string line;
  while (std::getline(in, line)) {
    const auto json = nlohmann::json::parse(line);
    if (json.contains("loss")) {
      const auto step = json["step"].get<std::int64_t>();
      EXPECT_EQ(losses.count(step), 0u) << "step " << step << " logged twice";
      losses[step] = json["loss"].get<double>();
    }
  }
  return losses;
}

void expectSameLosses(const std::map<std::int64_t, double>& expected,
                      const std::map<std::int64_t, double>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [step, loss] : expected) {
    ASSERT_EQ(actual.count(step), 1u) << "step " << step;
    EXPECT_NEAR(actual.at(step), loss, 1e-5) << "step " << step;
  }
}

void expectSameWeights(const fs::path& a, const fs::path& b) {
  const auto x = checkpoint::readCheckpoint(a);
  const auto y = checkpoint::readCheckpoint(b);
  ASSERT_EQ(x.step, y.step);
  ASSERT_EQ(x.average.size(), y.average.size());
  for (std::size_t i = 0; i < x.average.size(); ++i) {
    EXPECT_LE((x.average[i].second - y.average[i].second).abs().max().item<double>(), 1e-5)
        << x.average[i].first;
  }
  for (std::size_t i = 0; i < x.model.size(); ++i) {
    EXPECT_LE((x.model[i].second.to(torch::kDouble) - y.model[i].second.to(torch::kDouble))
                  .abs()
                  .max()
                  .item<double>(),
              1e-5)
        << x.model[i].first;
  }
}

class Trainer : public ::testing::Test {
 protected:
  void SetUp() override { test::writeRecordSet(dir_ / "records", 36); }
  test::TempDir dir_;
};

// The loss of every step of a run stopped mid-epoch and resumed equals the uninterrupted run's,
// with the seed's recipe (RMSProp slots, staircase schedule, dropout, weight average).
TEST_F(Trainer, ResumedRunMatchesTheUninterruptedOneStepForStep) {
  const auto whole = test::tinyRun(dir_ / "whole", dir_ / "records");
  const auto wholeResult = train(whole, false, {});
  EXPECT_EQ(wholeResult.step, 12);
  const auto expected = stepLosses(whole.trainDir);
  ASSERT_EQ(expected.size(), 12u);

  // Stopped at step 6 (36 images, batches of 8: 4 steps per epoch, so mid-epoch 1). A step's
  // figures reach the callbacks one step late (while the next step runs: see TrainStep.hpp), so
  // the stop asked at step 5's figures comes after step 6.
  auto parts = test::tinyRun(dir_ / "parts", dir_ / "records");
  std::stop_source stop;
  TrainCallbacks callbacks;
  callbacks.onStep = [&](const StepMetrics& m) {
    if (m.step == 5) {
      stop.request_stop();
    }
  };
  const auto first = train(parts, false, callbacks, stop.get_token());
  EXPECT_TRUE(first.stopped);
  EXPECT_EQ(first.step, 6);
  const auto second = train(parts, true, {});
  EXPECT_FALSE(second.stopped);
  EXPECT_EQ(second.step, 12);
  EXPECT_EQ(second.stepsThisRun, 6);
  expectSameLosses(expected, stepLosses(parts.trainDir));
  expectSameWeights(wholeResult.lastCheckpoint, second.lastCheckpoint);
}

// A run killed after its last checkpoint logged steps it had not saved; resuming from the
// checkpoint drops them and repeats the steps exactly.
TEST_F(Trainer, ResumingFromAnOlderCheckpointRepeatsTheLostSteps) {
  const auto whole = test::tinyRun(dir_ / "whole", dir_ / "records");
  train(whole, false, {});
  auto killed = test::tinyRun(dir_ / "killed", dir_ / "records");
  killed.saveEverySteps = 5;
  std::stop_source stop;
  TrainCallbacks callbacks;
  callbacks.onStep = [&](const StepMetrics& m) {
    if (m.step == 7) {  // seen while step 8 runs: the run stops after step 8
      stop.request_stop();
    }
  };
  EXPECT_EQ(train(killed, false, callbacks, stop.get_token()).step, 8);
  // As if killed before the step-8 checkpoint: the newest left is step 5, the log goes to 8.
  fs::remove(killed.trainDir / "model.ckpt-8.taxon");
  ASSERT_EQ(stepLosses(killed.trainDir).size(), 8u);
  std::vector<std::string> logs;
  TrainCallbacks resumeCallbacks;
  resumeCallbacks.onLog = [&](const std::string& line) { logs.push_back(line); };
  const auto resumed = train(killed, true, resumeCallbacks);
  EXPECT_EQ(resumed.stepsThisRun, 7);
  expectSameLosses(stepLosses(whole.trainDir), stepLosses(killed.trainDir));
  bool said = false;
  for (const auto& line : logs) {
    said = said || line.find("from model.ckpt-5.taxon (step 5") != std::string::npos;
  }
  EXPECT_TRUE(said);
}

// The tiny network memorizing DATA_DIR's 32 noisy pictures (see writeNoisyRecords: batch norm
// well conditioned), the whole set in every batch at a moderate rate: the loss falls steadily on
// every instruction set. (Batches of 8 at 0.05 were chaotic: the loss jumped between 0.04 and 12
// from step to step, and oneDNN's AVX2 and AVX-512 kernels ended 100 steps at 0.23 and 0.33 with
// precision@1 0.75 and 1.0.)
settings::TrainSettings memorizationRun(const fs::path& trainDir, const fs::path& dataDir) {
  auto s = test::tinyRun(trainDir, dataDir);
  s.depthMultiplier = 0.25;
  s.distort = false;
  s.optimizer = settings::OptimizerKind::kSgd;
  s.schedule = settings::ScheduleKind::kConstant;
  s.batchSize = 32;
  s.shuffleBuffer = 32;
  s.torchThreads = 1;  // beside another test on two cores, two threads each spin against each other
  s.learningRate = 0.01;
  s.dropout = 0.0;
  s.labelSmoothing = 0.0;
  s.evalAtEnd = true;
  return s;
}

TEST_F(Trainer, TinyModelMemorizesThirtyTwoImages) {
  test::writeNoisyRecords(dir_ / "records32", 32);
  auto s = memorizationRun(dir_ / "run", dir_ / "records32");
  s.maxSteps = 50;
  s.logEverySteps = 10;
  std::vector<double> evals;
  TrainCallbacks callbacks;
  callbacks.onEval = [&](const EvalPoint& e) { evals.push_back(e.precisionAt1); };
  const auto result = train(s, false, callbacks);
  ASSERT_TRUE(result.lastEval);
  EXPECT_EQ(result.lastEval->examples, 32);
  EXPECT_DOUBLE_EQ(result.lastEval->precisionAt1, 1.0);
  EXPECT_EQ(evals.size(), 1u);
  ASSERT_TRUE(result.lastStep);
  EXPECT_LT(result.lastStep->crossEntropy, 0.01);
  // Steadily: each tenth of the run ends lower than the one before.
  const auto losses = test::loggedCrossEntropies(s.trainDir);
  ASSERT_EQ(losses.size(), 50u);
  for (std::size_t i = 19; i < losses.size(); i += 10) {
    EXPECT_LT(losses[i], losses[i - 10]) << "step " << i + 1;
  }

  // The checkpoint evaluated from disk gives the same answer, with every report file.
  eval::EvalSettings evalSettings;
  evalSettings.checkpoint = s.trainDir;
  evalSettings.evalDir = dir_ / "eval";
  const auto outcome = eval::evaluateCheckpoint(evalSettings);
  EXPECT_EQ(outcome.step, 50);
  EXPECT_DOUBLE_EQ(outcome.report.precisionAt1, 1.0);
  EXPECT_DOUBLE_EQ(outcome.report.recallAtK, 1.0);
  for (const char* file : {"summary.json", "categories.csv", "levels.csv", "confusion.csv",
                           "confused_pairs.csv", "mislabeled.csv"}) {
    EXPECT_TRUE(fs::exists(dir_ / "eval" / file)) << file;
  }
  const auto summary = nlohmann::json::parse(test::readFile(dir_ / "eval" / "summary.json"));
  EXPECT_EQ(summary["step"], 50);
  EXPECT_EQ(summary["subset"], "validation");
}

// On the CPU too, channels-last changes only the memory layout, and bf16 autocast (asked for
// explicitly: emulated where the CPU lacks it) changes the rounding but not what is learned. The
// memorization set-up of the test above, 30 steps: the first step's loss is the same in both
// layouts; under autocast it differs (measured: by 10 % for this tiny network at its
// initialization, against 1 % for Python's torch on a similar one), and all three memorize.
TEST_F(Trainer, CpuChannelsLastAndBf16AutocastLearnAsFp32Does) {
  test::writeNoisyRecords(dir_ / "records32", 32);
  struct Variant {
    const char* name;
    std::string precision;
    bool channelsLast;
  };
  std::map<std::string, double> firstLoss;
  for (const Variant& v : {Variant{"fp32", "fp32", false}, Variant{"fp32-nhwc", "fp32", true},
                           Variant{"bf16-nhwc", "bf16", true}}) {
    auto s = memorizationRun(dir_ / v.name, dir_ / "records32");
    s.maxSteps = 30;
    s.precision = v.precision;
    s.channelsLast = v.channelsLast;
    std::string modelLine;
    TrainCallbacks callbacks;
    callbacks.onLog = [&](const std::string& line) {
      if (line.rfind("Inception-v3", 0) == 0) {
        modelLine = line;
      }
    };
    const auto result = train(s, false, callbacks);
    const std::string expected = std::string(v.precision == "bf16" ? "bf16 autocast" : "fp32") +
                                 (v.channelsLast ? ", channels-last" : "");
    EXPECT_NE(modelLine.find(expected), std::string::npos) << v.name << ": " << modelLine;
    ASSERT_TRUE(result.lastEval) << v.name;
    EXPECT_DOUBLE_EQ(result.lastEval->precisionAt1, 1.0) << v.name;
    EXPECT_LT(result.lastStep->crossEntropy, 0.1) << v.name;
    firstLoss[v.name] = test::loggedCrossEntropies(s.trainDir).at(0);
    // The weights stay float32 (autocast computes in bf16 from float32 masters).
    const auto saved = checkpoint::readCheckpoint(result.lastCheckpoint);
    for (const auto& [name, tensor] : saved.average) {
      EXPECT_EQ(tensor.scalar_type(), torch::kFloat) << v.name << " " << name;
    }
  }
  const double fp32 = firstLoss.at("fp32");
  EXPECT_NEAR(firstLoss.at("fp32-nhwc"), fp32, 1e-4 * fp32);
  const double bf16 = std::abs(firstLoss.at("bf16-nhwc") - fp32) / fp32;
  std::printf("first loss: fp32 %.6f, bf16 %.6f (%.2e relative)\n", fp32, firstLoss.at("bf16-nhwc"),
              bf16);
  EXPECT_GT(bf16, 1e-6) << "bf16 autocast left the loss bit for bit as fp32's: was it on?";
  EXPECT_LT(bf16, 0.25);
}

// A run given in epochs with the small-data recipe, whose warm-up is as long as the run (the
// demo's case): the logged rate rises over the first tenth of the run, then decays to nearly
// zero at the end; resumed halfway, the run logs the same rates.
TEST_F(Trainer, ShortRunWarmsUpAndDecaysWithinItsLength) {
  test::writeRecordSet(dir_ / "records32", 32);
  auto s = test::tinyRun(dir_ / "run", dir_ / "records32");
  s.applyRecipe("small-data");
  ASSERT_EQ(s.schedule, settings::ScheduleKind::kCosine);
  s.warmupEpochs = 3.0;
  s.learningRate = 0.01;
  s.maxSteps = 0;
  s.maxEpochs = 10.0;  // 4 steps an epoch: 40 steps
  s.recalibrateExamples = 0;
  const auto rates = [](const fs::path& trainDir) {
    return test::loggedStepFigures(trainDir, "learning_rate");
  };
  train(s, false, {});
  const auto whole = rates(s.trainDir);
  ASSERT_EQ(whole.size(), 40u);
  EXPECT_LT(whole.front(), 0.5 * 0.01);
  EXPECT_NEAR(*std::max_element(whole.begin(), whole.end()), 0.01, 1e-9);
  EXPECT_EQ(std::max_element(whole.begin(), whole.end()) - whole.begin(), 3);  // 4 of 40 steps
  EXPECT_LT(whole.back(), 1e-4);
  for (std::size_t i = 5; i < whole.size(); ++i) {
    EXPECT_LT(whole[i], whole[i - 1]) << "step " << i + 1;
  }

  auto half = s;
  half.trainDir = dir_ / "resumed";
  std::stop_source stop;
  TrainCallbacks callbacks;
  callbacks.onStep = [&](const StepMetrics& m) {
    if (m.step == 20) {
      stop.request_stop();
    }
  };
  EXPECT_TRUE(train(half, false, callbacks, stop.get_token()).stopped);
  train(half, true, {});
  const auto resumed = rates(half.trainDir);
  ASSERT_EQ(resumed.size(), whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_DOUBLE_EQ(resumed[i], whole[i]) << "step " << i + 1;
  }
}

// A validation split without records (a CSV import that put everything in train and test) is
// said once, in the log, metrics.jsonl and the callbacks, instead of a precision of 0 at every
// evaluation; taxon eval refuses it with the reason.
TEST_F(Trainer, AnEmptyValidationSplitIsSaidOnceNotScoredZero) {
  test::writeShard(dir_ / "records", "train", 16);
  test::writeShard(dir_ / "records", "validation", 0);
  test::writeFourLabels(dir_ / "records");
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  s.maxSteps = 4;
  s.evalEverySteps = 2;
  s.evalAtEnd = true;
  std::vector<EvalPoint> evals;
  std::vector<std::string> logs;
  TrainCallbacks callbacks;
  callbacks.onEval = [&](const EvalPoint& e) { evals.push_back(e); };
  callbacks.onLog = [&](const std::string& line) { logs.push_back(line); };
  const auto result = train(s, false, callbacks);
  EXPECT_EQ(result.step, 4);
  EXPECT_FALSE(result.lastEval.has_value());
  ASSERT_EQ(evals.size(), 1u);
  EXPECT_EQ(evals[0].subset, "validation");
  EXPECT_NE(evals[0].skipped.find("'validation' split"), std::string::npos) << evals[0].skipped;
  EXPECT_NE(evals[0].skipped.find("is empty (train 16, validation 0)"), std::string::npos)
      << evals[0].skipped;
  int notices = 0;
  for (const auto& line : logs) {
    notices += line.find("nothing to evaluate") != std::string::npos ? 1 : 0;
    EXPECT_EQ(line.find("precision @ 1"), std::string::npos) << line;
  }
  EXPECT_EQ(notices, 1);
  std::ifstream metrics(s.trainDir / "metrics.jsonl");
  std::string line;
  int skipped = 0;
  while (std::getline(metrics, line)) {
    const auto json = nlohmann::json::parse(line);
    if (json.contains("eval")) {
      EXPECT_TRUE(json["eval"].contains("skipped")) << line;
      EXPECT_FALSE(json["eval"].contains("precision_at_1")) << line;
      ++skipped;
    }
  }
  EXPECT_EQ(skipped, 1);

  eval::EvalSettings evalSettings;
  evalSettings.checkpoint = s.trainDir;
  evalSettings.recalibrateExamples = 0;
  try {
    eval::evaluateCheckpoint(evalSettings);
    ADD_FAILURE() << "an empty split was evaluated";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing to evaluate"), std::string::npos) << e.what();
  }
}

// The averaged weights get batch-norm statistics of their own: recomputed from training images as
// an equal-weight average over batches, saved with the average, and used by the checkpoint's
// readers; recomputing draws nothing from the global random generator.
TEST_F(Trainer, AveragedWeightsGetBatchNormStatisticsOfTheirOwn) {
  test::writeRecordSet(dir_ / "records32", 32);
  auto s = test::tinyRun(dir_ / "run", dir_ / "records32");
  s.maxSteps = 6;
  s.recalibrateExamples = 32;
  train(s, false, {});
  const auto saved = checkpoint::readLatestCheckpoint(s.trainDir);
  ASSERT_TRUE(saved);
  std::map<std::string, at::Tensor> training;
  for (const auto& [name, tensor] : saved->model) {
    training[name] = tensor;
  }
  std::map<std::string, at::Tensor> statistics;
  for (const auto& [name, tensor] : saved->average) {
    if (name.ends_with(".running_mean") || name.ends_with(".running_var")) {
      statistics[name] = tensor;
    }
  }
  std::size_t layers = 0;
  for (const auto& [name, tensor] : training) {
    layers += name.ends_with(".running_mean") ? 1 : 0;
  }
  ASSERT_GT(layers, 0u);
  ASSERT_EQ(statistics.size(), 2 * layers);
  int differing = 0;
  for (const auto& [name, tensor] : statistics) {
    differing += torch::allclose(tensor, training.at(name)) ? 0 : 1;
  }
  EXPECT_GT(differing, 0) << "the saved statistics are the training network's";

  auto trained = checkpoint::loadTrainedModel(s.trainDir, "cpu");
  for (const auto& item : model::stateDict(*trained.model)) {
    if (statistics.count(item.key()) > 0) {
      EXPECT_TRUE(torch::equal(item.value(), statistics.at(item.key()))) << item.key();
    }
  }

  // The same images in batches of 8 (as the run did) and in one batch of 32 give the first layer
  // the same means (later layers see activations normalized with each batch's own statistics).
  const auto records = records::openRecordSet(s.dataDir);
  eval::RecalibrationSettings byEight;
  byEight.examples = 32;
  byEight.batchSize = 8;
  byEight.seed = s.seed;
  auto eight = checkpoint::loadTrainedModel(s.trainDir, "cpu");
  auto all = checkpoint::loadTrainedModel(s.trainDir, "cpu");
  const auto generator = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
  const auto randomBefore = generator.get_state();
  EXPECT_EQ(eval::recalibrateBatchNorm(*eight.model, records, c10::Device(c10::kCPU), byEight), 32);
  auto byAll = byEight;
  byAll.batchSize = 32;
  EXPECT_EQ(eval::recalibrateBatchNorm(*all.model, records, c10::Device(c10::kCPU), byAll), 32);
  EXPECT_TRUE(torch::equal(generator.get_state(), randomBefore));
  EXPECT_FALSE(eight.model->is_training());
  const auto allState = model::stateDict(*all.model);
  for (const auto& item : model::stateDict(*eight.model)) {
    if (statistics.count(item.key()) == 0) {
      continue;
    }
    EXPECT_TRUE(torch::allclose(item.value(), statistics.at(item.key()), 1e-5, 1e-6))
        << item.key() << ": not what the run saved";
    if (item.key() == "Conv2d_1a_3x3.bn.running_mean") {
      EXPECT_TRUE(torch::allclose(item.value(), *allState.find(item.key()), 1e-4, 1e-5))
          << item.key() << ": batches are not weighted equally";
    }
  }
}

TEST_F(Trainer, RefusesAnExistingRunWithoutResumeAndTouchesNothing) {
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  s.maxSteps = 2;
  train(s, false, {});
  std::map<std::string, std::string> before;
  for (const auto& entry : fs::directory_iterator(s.trainDir)) {
    before[entry.path().filename().string()] = test::readFile(entry.path());
  }
  try {
    train(s, false, {});
    FAIL() << "a second run in the same train dir was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("already holds a training run"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(s.trainDir.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  std::map<std::string, std::string> after;
  for (const auto& entry : fs::directory_iterator(s.trainDir)) {
    after[entry.path().filename().string()] = test::readFile(entry.path());
  }
  EXPECT_EQ(before, after);

  // Resuming with another network is refused too.
  auto other = s;
  other.imageSize = 99;
  EXPECT_THROW(train(other, true, {}), core::UsageError);
  // Nothing to resume in an empty folder.
  auto empty = test::tinyRun(dir_ / "empty", dir_ / "records");
  EXPECT_THROW(train(empty, true, {}), core::Error);
}

TEST_F(Trainer, DamagedCheckpointsAreDetectedAndTheOlderOneIsUsed) {
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  s.maxSteps = 4;
  s.saveEverySteps = 2;
  train(s, false, {});
  // What a save killed half-way leaves is neither listed nor kept.
  test::writeFile(s.trainDir / "model.ckpt-6.taxon.tmp-12345", "half a checkpoint");
  const auto all = checkpoint::listCheckpoints(s.trainDir);
  ASSERT_EQ(all.size(), 2u);  // steps 2 and 4
  EXPECT_EQ(checkpoint::removeUnfinishedCheckpoints(s.trainDir), 1);
  EXPECT_FALSE(fs::exists(s.trainDir / "model.ckpt-6.taxon.tmp-12345"));
  EXPECT_EQ(all.back().step, 4);

  // Cut short.
  const std::string bytes = test::readFile(all.back().path);
  test::writeFile(all.back().path, bytes.substr(0, bytes.size() / 2));
  try {
    checkpoint::readCheckpoint(all.back().path);
    FAIL() << "a truncated checkpoint was read";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find(all.back().path.string()), std::string::npos);
  }
  // One flipped byte in the middle.
  std::string flipped = bytes;
  flipped[flipped.size() / 3] ^= 0x20;
  test::writeFile(all.back().path, flipped);
  try {
    checkpoint::readCheckpoint(all.back().path);
    FAIL() << "a damaged checkpoint was read";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
  std::vector<std::string> warnings;
  fs::path chosen;
  const auto latest = checkpoint::readLatestCheckpoint(s.trainDir, &warnings, &chosen);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->step, 2);
  EXPECT_EQ(chosen, all.front().path);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(all.back().path.string()), std::string::npos);

  // Resuming goes on from step 2.
  s.maxSteps = 6;
  const auto resumed = train(s, true, {});
  EXPECT_EQ(resumed.stepsThisRun, 4);

  // When none reads, the error says so.
  for (const auto& c : checkpoint::listCheckpoints(s.trainDir)) {
    test::writeFile(c.path, "not a checkpoint");
  }
  EXPECT_THROW(checkpoint::readLatestCheckpoint(s.trainDir), core::Error);
  EXPECT_THROW(train(s, true, {}), core::Error);
}

TEST_F(Trainer, NonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint) {
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  s.maxSteps = 2;
  train(s, false, {});
  const auto good = test::readFile(s.trainDir / "model.ckpt-2.taxon");
  s.maxSteps = 40;
  s.optimizer = settings::OptimizerKind::kRmsProp;
  s.learningRate = 1e30;
  try {
    train(s, true, {});
    FAIL() << "training went on with a non-finite loss";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("the loss is"), std::string::npos) << message;
    EXPECT_NE(message.find("model.ckpt-2.taxon"), std::string::npos) << message;
  }
  const auto all = checkpoint::listCheckpoints(s.trainDir);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(test::readFile(all.front().path), good);
}

TEST_F(Trainer, EventFileHoldsTheLoggedScalars) {
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  s.maxSteps = 4;
  s.logEverySteps = 2;
  s.evalAtEnd = true;
  train(s, false, {});
  int eventFiles = 0;
  for (const auto& entry : fs::directory_iterator(s.trainDir)) {
    eventFiles += entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  EXPECT_EQ(eventFiles, 1);
  // metrics.jsonl: 4 steps and the final evaluation.
  std::ifstream in(s.trainDir / "metrics.jsonl");
  std::string line;
  int steps = 0, evals = 0;
  while (std::getline(in, line)) {
    const auto json = nlohmann::json::parse(line);
    steps += json.contains("loss");
    if (json.contains("eval")) {
      ++evals;
      EXPECT_EQ(json["eval"]["examples"], 36);
    }
  }
  EXPECT_EQ(steps, 4);
  EXPECT_EQ(evals, 1);
}

// Transfer learning: a torchvision state_dict for 7 categories starts a run with 4; every weight
// but the classifier heads comes from the file.
TEST_F(Trainer, InitFromTorchvisionWeightsReplacesOnlyTheHeads) {
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  torch::manual_seed(99);
  model::InceptionV3 donor(checkpoint::modelSettings(s, 7));
  model::saveTorchvisionStateDict(*donor, dir_ / "donor.pt");
  s.initFrom = dir_ / "donor.pt";
  s.maxSteps = 1;
  s.learningRate = 1e-12;  // the one step leaves the weights as they were loaded
  std::vector<std::string> logs;
  TrainCallbacks callbacks;
  callbacks.onLog = [&](const std::string& line) { logs.push_back(line); };
  const auto result = train(s, false, callbacks);
  bool said = false;
  for (const auto& line : logs) {
    said = said || line.find("new classifier heads for 4 categories") != std::string::npos;
  }
  EXPECT_TRUE(said);
  const auto saved = checkpoint::readCheckpoint(result.lastCheckpoint);
  const auto donorState = model::stateDict(*donor);
  int compared = 0;
  for (const auto& [name, tensor] : saved.model) {
    if (name.rfind("fc.", 0) == 0 || name.rfind("AuxLogits.fc.", 0) == 0) {
      EXPECT_EQ(tensor.size(0), 4) << name;
      continue;
    }
    if (name.find("running_") != std::string::npos ||
        name.find("num_batches") != std::string::npos) {
      continue;  // batch-norm statistics moved with the one training batch
    }
    EXPECT_LE((tensor - donorState[name]).abs().max().item<double>(), 1e-6) << name;
    ++compared;
  }
  EXPECT_GT(compared, 200);

  // A file of another network is named with what does not fit.
  auto other = test::tinyRun(dir_ / "other", dir_ / "records");
  other.depthMultiplier = 0.5;
  other.initFrom = dir_ / "donor.pt";
  try {
    train(other, false, {});
    FAIL() << "weights of another network were accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("donor.pt"), std::string::npos) << e.what();
  }
}

TEST(SeedLogLine, HasTheSeedsShape) {
  StepMetrics m;
  m.step = 89910;
  m.loss = 5.9249;
  m.examplesPerSec = 141.04;
  m.secPerBatch = 1.8162;
  m.wallTime = 1482306047.901352;
  const std::string line = seedLogLine(m);
  EXPECT_NE(line.find(".901352: step 89910, loss = 5.92 (141.0 examples/sec; 1.816 sec/batch)"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.size(), std::string("2016-12-21 07:40:47.901352: step 89910, loss = 5.92 (141.0 "
                                     "examples/sec; 1.816 sec/batch)")
                             .size());
}

}  // namespace
}  // namespace taxon::train
