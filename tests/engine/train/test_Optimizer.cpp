#include "train/Optimizer.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "settings/TrainSettingsJson.hpp"

namespace taxon::train {
namespace {

// One parameter of value 1 whose gradient is 0.5 at every step.
struct OneWeight {
  torch::Tensor w = torch::ones({1, 1}, torch::requires_grad());
  NamedTensors named() { return {{"w", w}}; }
  void setGrad() { w.mutable_grad() = torch::full({1, 1}, 0.5); }
  double value() { return w.item<double>(); }
};

TEST(Optimizer, RmsPropHasTensorFlowsSemantics) {
  // ms starts at 1: ms = 0.9 ms + 0.1 g^2, mom = 0.9 mom + lr g / sqrt(ms + 1), w -= mom.
  // By hand: ms 0.925, mom 0.05 / sqrt(1.925) = 0.0360375, w 0.9639625; then 0.8948423.
  // (PyTorch's RMSprop, with ms from 0 and epsilon outside the root, gives 0.8419 after one.)
  settings::TrainSettings s;
  s.weightDecay = 0.0;
  OneWeight p;
  Optimizer optimizer(p.named(), {true}, s);
  p.setGrad();
  optimizer.step(0.1);
  EXPECT_NEAR(p.value(), 0.9639625014921777, 1e-7);
  p.setGrad();
  optimizer.step(0.1);
  EXPECT_NEAR(p.value(), 0.8948423109227849, 1e-7);
}

TEST(Optimizer, SgdWithMomentumAndWeightDecayOnMarkedParametersOnly) {
  // g = 0.5 + 0.01 w; buf = 0.9 buf + g; w -= 0.1 buf: 0.949, then 0.852151.
  settings::TrainSettings s;
  s.optimizer = settings::OptimizerKind::kSgd;
  s.weightDecay = 0.01;
  OneWeight decayed, plain;
  Optimizer optimizer({{"a", decayed.w}, {"b", plain.w}}, {true, false}, s);
  for (int i = 0; i < 2; ++i) {
    decayed.setGrad();
    plain.setGrad();
    optimizer.step(0.1);
  }
  EXPECT_NEAR(decayed.value(), 0.852151, 1e-6);
  EXPECT_NEAR(plain.value(), 1.0 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.5), 1e-6);
}

TEST(Optimizer, StateRoundTripsAndMismatchesAreErrors) {
  settings::TrainSettings s;
  OneWeight p;
  Optimizer optimizer(p.named(), {true}, s);
  p.setGrad();
  optimizer.step(0.1);
  const auto saved = optimizer.state();
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0].first, "ms/w");
  EXPECT_EQ(saved[1].first, "mom/w");
  OneWeight q;
  Optimizer again(q.named(), {true}, s);
  NamedTensors copy;
  for (const auto& [name, t] : saved) {
    copy.emplace_back(name, t.clone());
  }
  again.loadState(copy);
  EXPECT_TRUE(torch::equal(again.state()[1].second, saved[1].second));
  EXPECT_THROW(again.loadState({{"ms/w", torch::ones({1, 1})}}), core::Error);
  EXPECT_THROW(again.loadState({{"ms/w", torch::ones({2})}, {"mom/w", torch::ones({1, 1})}}),
               core::Error);
}

TEST(LearningRateSchedule, StaircaseCosineWarmupAndConstant) {
  settings::TrainSettings s;
  s.batchSize = 512;  // 0.1 x 512 / 256 = 0.2
  const LearningRateSchedule staircase(s, 100.0, 100000);
  EXPECT_DOUBLE_EQ(staircase.at(0), 0.2);
  EXPECT_DOUBLE_EQ(staircase.at(2999), 0.2);  // epoch 29.99
  EXPECT_DOUBLE_EQ(staircase.at(3000), 0.2 * 0.16);
  EXPECT_NEAR(staircase.at(6000), 0.2 * 0.16 * 0.16, 1e-15);

  s.schedule = settings::ScheduleKind::kCosine;
  s.warmupEpochs = 1.0;
  s.learningRate = 0.4;
  const LearningRateSchedule cosine(s, 10.0, 110);
  EXPECT_DOUBLE_EQ(cosine.at(0), 0.04);  // warm-up: (step + 1) / 10 of the rate
  EXPECT_DOUBLE_EQ(cosine.at(9), 0.4);
  EXPECT_DOUBLE_EQ(cosine.at(10), 0.4);     // the cosine starts at the full rate...
  EXPECT_NEAR(cosine.at(60), 0.2, 1e-12);   // ...is at half halfway...
  EXPECT_NEAR(cosine.at(110), 0.0, 1e-12);  // ...and ends at zero.

  s.schedule = settings::ScheduleKind::kConstant;
  s.warmupEpochs = 0.0;
  EXPECT_DOUBLE_EQ(LearningRateSchedule(s, 10.0, 100).at(99), 0.4);
}

// A warm-up as long as the run (the demo: one epoch of warm-up in a one-epoch run) is cut to a
// tenth of the run, and the cosine still decays to zero by the run's end, however short.
TEST(LearningRateSchedule, WarmUpAndDecayFitRunsOfAnyLength) {
  settings::TrainSettings s;
  s.schedule = settings::ScheduleKind::kCosine;
  s.warmupEpochs = 1.0;
  s.learningRate = 0.1;
  for (const std::int64_t total : {843, 84, 10, 3, 1}) {
    const LearningRateSchedule schedule(s, 843.0, total);
    double peak = 0.0;
    std::int64_t peakStep = -1;
    for (std::int64_t step = 0; step < total; ++step) {
      const double rate = schedule.at(step);
      EXPECT_GE(rate, 0.0);
      EXPECT_LE(rate, 0.1 + 1e-15);
      if (rate > peak) {
        peak = rate;
        peakStep = step;
      }
    }
    EXPECT_LE(static_cast<double>(peakStep), std::ceil(0.1 * static_cast<double>(total)))
        << total << " steps";
    if (total >= 10) {
      EXPECT_NEAR(peak, 0.1, 1e-12) << total << " steps";
      // The last step's rate is a small fraction of the peak: the decay finished.
      EXPECT_LT(schedule.at(total - 1), 0.01 * 0.1 * 843.0 / static_cast<double>(total) + 1e-3)
          << total << " steps";
      EXPECT_LT(schedule.at(total - 1), schedule.at(total / 2)) << total << " steps";
    }
  }
  // The demo's run: warm-up over 84 of 843 steps, the peak at step 83, half the rate at the
  // middle of the decay, nearly nothing at the end.
  const LearningRateSchedule demo(s, 843.0, 843);
  EXPECT_DOUBLE_EQ(demo.at(83), 0.1 * 84.0 / 84.3);
  EXPECT_DOUBLE_EQ(demo.at(84), 0.1);  // the fractional warm-up's last step: never above the peak
  EXPECT_NEAR(demo.at(84 + (843 - 84) / 2), 0.05, 1e-3);
  EXPECT_LT(demo.at(842), 1e-5);
  // A long run keeps its whole warm-up.
  const LearningRateSchedule longRun(s, 843.0, 20 * 843);
  EXPECT_NEAR(longRun.at(420), 0.1 * 421.0 / 843.0, 1e-12);
  EXPECT_NEAR(longRun.at(842), 0.1, 1e-12);
}

TEST(WeightAverage, DecayIsCappedEarlyLikeTensorFlowsNumUpdates) {
  OneWeight p;
  WeightAverage average(p.named(), 0.9999);
  {
    torch::NoGradGuard noGrad;
    p.w.fill_(0.0);
  }
  // Step 0: decay min(0.9999, 1 / 10) = 0.1, so the average moves 90% of the way.
  average.update(p.named(), 0);
  EXPECT_NEAR(average.averages()[0].second.item<double>(), 0.1, 1e-7);
  // Step 90: decay 91 / 100.
  average.update(p.named(), 90);
  EXPECT_NEAR(average.averages()[0].second.item<double>(), 0.1 * 0.91, 1e-7);
  // The parameter itself is untouched, and the average is its own memory.
  EXPECT_EQ(p.value(), 0.0);
}

TEST(TrainSettings, RecipesJsonAndValidation) {
  settings::TrainSettings s;
  s.trainDir = "/tmp/a";
  s.dataDir = "/tmp/b";
  EXPECT_TRUE(s.validate().empty());
  EXPECT_EQ(s.optimizer, settings::OptimizerKind::kRmsProp);
  EXPECT_DOUBLE_EQ(s.baseLearningRate(), 0.1 * 32 / 256);
  s.trainDir = "/tmp/a";
  s.dataDir = "/tmp/b";
  s.applyRecipe("small-data");
  EXPECT_EQ(s.optimizer, settings::OptimizerKind::kSgd);
  EXPECT_EQ(s.schedule, settings::ScheduleKind::kCosine);
  EXPECT_DOUBLE_EQ(s.batchNormDecay, 0.99);
  s.seed = 77;
  s.distort = false;
  const auto back = settings::trainSettingsFromJson(toJson(s));
  EXPECT_EQ(toJson(back), toJson(s));
  EXPECT_EQ(back.seed, 77u);
  EXPECT_THROW(s.applyRecipe("fast"), core::UsageError);

  settings::TrainSettings bad;
  bad.imageSize = 60;
  bad.batchSize = 0;
  bad.maxSteps = 0;
  bad.trainDir.clear();
  EXPECT_GE(bad.validate().size(), 4u);
}

}  // namespace
}  // namespace taxon::train
