// Distillation: the loss against a hand computation, a distilled run that resumes exactly, and
// the teachers a run must refuse (other categories, a checkpoint that is gone or was replaced).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stop_token>

#include "TrainTestData.hpp"
#include "checkpoint/Checkpoint.hpp"
#include "core/Error.hpp"
#include "train/Teacher.hpp"
#include "train/TrainStep.hpp"
#include "train/Trainer.hpp"

namespace taxon::train {
namespace {

namespace fs = std::filesystem;

// Cross-entropy with label smoothing, by hand: -sum_c q_c log softmax(z)_c with
// q = (1 - e) one-hot + e / K.
double smoothedCrossEntropy(const std::vector<double>& z, std::int64_t label, double e) {
  double top = z[0];
  for (double v : z) {
    top = std::max(top, v);
  }
  double sum = 0.0;
  for (double v : z) {
    sum += std::exp(v - top);
  }
  const double logSum = top + std::log(sum);
  double loss = 0.0;
  const auto k = static_cast<double>(z.size());
  for (std::size_t c = 0; c < z.size(); ++c) {
    const double q = (static_cast<std::int64_t>(c) == label ? 1.0 - e : 0.0) + e / k;
    loss -= q * (z[c] - logSum);
  }
  return loss;
}

std::vector<double> softmax(const std::vector<double>& z, double t) {
  std::vector<double> p(z.size());
  double sum = 0.0;
  for (std::size_t c = 0; c < z.size(); ++c) {
    p[c] = std::exp(z[c] / t);
    sum += p[c];
  }
  for (double& v : p) {
    v /= sum;
  }
  return p;
}

std::vector<double> row(const torch::Tensor& t, std::int64_t i) {
  const auto r = t[i].to(torch::kDouble).contiguous();
  return {r.data_ptr<double>(), r.data_ptr<double>() + r.numel()};
}

// The distillation loss of a batch against its definition computed by hand in double:
// (1 - A) x smoothed cross-entropy + A x T^2 x mean over images of KL(p_teacher || p_student),
// plus the auxiliary head's cross-entropy on the labels.
TEST(Distill, LossIsTheLabelsAndTheSoftenedTeacherMixedByHand) {
  torch::manual_seed(3);
  const std::int64_t n = 6;
  const std::int64_t k = 5;
  model::InceptionOutput output;
  output.logits = torch::randn({n, k}) * 3.0;
  output.aux = torch::randn({n, k});
  const auto teacher = torch::randn({n, k}) * 4.0;
  const auto target = torch::tensor({0, 1, 2, 3, 4, 1}, torch::kLong);
  StepOptions options;
  options.labelSmoothing = 0.1;
  options.auxWeight = 0.4;
  options.temperature = 3.0;
  options.distillWeight = 0.7;
  options.numClasses = k;
  const auto loss = TrainStep::lossOf(output, target, options, teacher);

  double crossEntropy = 0.0, aux = 0.0, kl = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto label = target[i].item<std::int64_t>();
    crossEntropy += smoothedCrossEntropy(row(output.logits, i), label, 0.1) / n;
    aux += smoothedCrossEntropy(row(output.aux, i), label, 0.1) / n;
    const auto p = softmax(row(teacher, i), 3.0);
    const auto q = softmax(row(output.logits, i), 3.0);
    for (std::int64_t c = 0; c < k; ++c) {
      kl += p[c] * std::log(p[c] / q[c]) / n;
    }
  }
  const double distill = 9.0 * kl;
  EXPECT_NEAR(loss.crossEntropy.item<double>(), crossEntropy, 1e-5);
  EXPECT_NEAR(loss.distill.item<double>(), distill, 1e-5);
  EXPECT_NEAR(loss.loss.item<double>(), 0.3 * crossEntropy + 0.7 * distill + 0.4 * aux, 1e-5);
  EXPECT_GT(distill, 0.1);  // the two disagree: the term is not vacuous

  // A student that already matches its teacher has nothing left to learn from it.
  output.logits = teacher.clone();
  EXPECT_NEAR(TrainStep::lossOf(output, target, options, teacher).distill.item<double>(), 0.0,
              1e-6);
  // Without a teacher: the cross-entropy alone, no distillation part.
  const auto plain = TrainStep::lossOf(output, target, options);
  EXPECT_FALSE(plain.distill.defined());
}

// The gradient flows to the student only, and its direction is the teacher's: one step of
// gradient descent on the distillation term alone moves the student's softened outputs towards
// the teacher's.
TEST(Distill, TheSoftTermPullsTheStudentTowardsTheTeacher) {
  torch::manual_seed(5);
  model::InceptionOutput output;
  auto logits = torch::randn({4, 3}, torch::requires_grad());
  output.logits = logits;
  const auto teacher = torch::randn({4, 3}) * 2.0;
  StepOptions options;
  options.distillWeight = 1.0;
  options.temperature = 2.0;
  options.numClasses = 3;
  auto loss = TrainStep::lossOf(output, torch::zeros({4}, torch::kLong), options, teacher);
  loss.loss.backward();
  const double before = loss.distill.item<double>();
  model::InceptionOutput moved;
  moved.logits = (logits - 0.5 * logits.grad()).detach();
  const double after = TrainStep::lossOf(moved, torch::zeros({4}, torch::kLong), options, teacher)
                           .distill.item<double>();
  EXPECT_LT(after, before);
}

class Distillation : public ::testing::Test {
 protected:
  void SetUp() override {
    test::writeNoisyRecords(dir_ / "records", 32);
    auto teacher = test::tinyRun(dir_ / "teacher", dir_ / "records");
    teacher.maxSteps = 8;
    teacherResult_ = train(teacher, false, {});
  }
  settings::TrainSettings student(const std::string& name) {
    auto s = test::tinyRun(dir_ / name, dir_ / "records");
    s.teacherDir = dir_ / "teacher";
    s.temperature = 2.0;
    s.distillWeight = 0.5;
    return s;
  }
  test::TempDir dir_;
  TrainResult teacherResult_;
};

// A distilled run stopped mid-epoch and resumed logs every step's loss and distillation part as
// the uninterrupted run does: the teacher is deterministic (evaluation form) and the same one.
// The run records its teacher, and says what it learns from.
TEST_F(Distillation, ADistilledRunResumesStepForStep) {
  ASSERT_EQ(teacherResult_.step, 8);
  std::vector<std::string> logs;
  TrainCallbacks logging;
  logging.onLog = [&](const std::string& line) { logs.push_back(line); };
  const auto whole = train(student("whole"), false, logging);
  ASSERT_EQ(whole.step, 12);
  bool said = false;
  for (const auto& line : logs) {
    said = said || (line.find("distilling from") != std::string::npos &&
                    line.find("model.ckpt-8.taxon (step 8") != std::string::npos &&
                    line.find("temperature 2, weight 0.5") != std::string::npos);
  }
  EXPECT_TRUE(said);
  const auto saved = readRunSettings(dir_ / "whole");
  EXPECT_EQ(saved.teacherStep, 8);
  EXPECT_EQ(saved.teacherFingerprint.size(), 8u);
  EXPECT_EQ(saved.teacherDir, dir_ / "teacher");

  auto parts = student("parts");
  std::stop_source stop;
  TrainCallbacks callbacks;
  callbacks.onStep = [&](const StepMetrics& m) {
    if (m.step == 5) {
      stop.request_stop();
    }
  };
  ASSERT_TRUE(train(parts, false, callbacks, stop.get_token()).stopped);
  // Resumed as the CLI does: from the run's own settings.
  auto resumed = readRunSettings(dir_ / "parts");
  resumed.trainDir = dir_ / "parts";
  const auto second = train(resumed, true, {});
  EXPECT_EQ(second.step, 12);

  // A resumed run's metrics.jsonl reads as one run: step 1 to 12, each once.
  for (const std::string key : {"loss", "distill_loss", "cross_entropy"}) {
    const auto a = test::loggedStepFigures(dir_ / "whole", key);
    const auto b = test::loggedStepFigures(dir_ / "parts", key);
    ASSERT_EQ(a.size(), 12u) << key;
    ASSERT_EQ(b.size(), 12u) << key;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(b[i], a[i], 1e-5) << key << " at step " << i + 1;
    }
  }
  const auto distill = test::loggedStepFigures(dir_ / "whole", "distill_loss");
  EXPECT_GT(distill.front(), 0.0);
  // TensorBoard gets the part too.
  bool inEvents = false;
  for (const auto& entry : fs::directory_iterator(dir_ / "whole")) {
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) {
      inEvents = inEvents || test::readFile(entry.path()).find("distill_loss") != std::string::npos;
    }
  }
  EXPECT_TRUE(inEvents);
  // The logged loss is the mix the step optimized (plus the aux head and the L2 term).
  const auto loss = test::loggedStepFigures(dir_ / "whole", "loss");
  const auto ce = test::loggedCrossEntropies(dir_ / "whole");
  EXPECT_GT(loss.front(), 0.5 * ce.front() + 0.5 * distill.front());
}

// A teacher that knows other categories cannot teach this data: refused before anything is
// written, naming the teacher and the first difference.
TEST_F(Distillation, ATeacherOfOtherCategoriesIsRefused) {
  test::writeNoisyRecords(dir_ / "other", 32);
  test::writeFile(dir_ / "other" / "labels.txt",
                  "Men > Shoes > Sneakers\nWomen > Shoes > Boots\nWomen > Bags\nOther\n");
  auto s = student("student");
  s.dataDir = dir_ / "other";
  try {
    train(s, false, {});
    FAIL() << "a teacher of other categories was accepted";
  } catch (const core::Error& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find((dir_ / "teacher").string()), std::string::npos) << text;
    EXPECT_NE(text.find("category 1 is 'Women > Shoes > Sneakers', the data's 'Women > Shoes > "
                        "Boots'"),
              std::string::npos)
        << text;
  }
  EXPECT_FALSE(fs::exists(dir_ / "student"));

  test::writeShard(dir_ / "three", "train", 32, test::categoryPng, [](int i) { return i % 3 + 1; });
  test::writeFile(dir_ / "three" / "labels.txt", "A\nB\nC\n");
  s.dataDir = dir_ / "three";
  EXPECT_THROW(
      {
        try {
          train(s, false, {});
        } catch (const core::Error& e) {
          EXPECT_NE(std::string(e.what()).find("4 categories, the data 3"), std::string::npos)
              << e.what();
          throw;
        }
      },
      core::Error);
}

// The teacher a run learns from is recorded; a resumed run whose teacher checkpoint is gone, or
// replaced by other weights, stops and says so instead of learning from another teacher. Moved,
// the same teacher is found through a new --teacher_dir.
TEST_F(Distillation, AResumedRunNeedsTheSameTeacher) {
  auto s = student("student");
  s.maxSteps = 4;
  ASSERT_EQ(train(s, false, {}).step, 4);
  // The teacher trains on: its step-8 checkpoint stays, a newer one appears.
  auto teacher = test::tinyRun(dir_ / "teacher", dir_ / "records");
  teacher.maxSteps = 12;
  ASSERT_EQ(train(teacher, true, {}).step, 12);
  auto resumed = readRunSettings(dir_ / "student");
  resumed.trainDir = dir_ / "student";
  resumed.maxSteps = 6;
  ASSERT_EQ(train(resumed, true, {}).step, 6);

  const fs::path step8 = dir_ / "teacher" / "model.ckpt-8.taxon";
  const fs::path step12 = dir_ / "teacher" / "model.ckpt-12.taxon";
  fs::rename(step8, dir_ / "kept.taxon");
  resumed.maxSteps = 8;
  try {
    train(resumed, true, {});
    FAIL() << "resumed without its teacher";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no longer holds model.ckpt-8.taxon"), std::string::npos)
        << e.what();
  }
  fs::copy_file(step12, step8);
  try {
    train(resumed, true, {});
    FAIL() << "resumed with another teacher";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not the teacher this run learns from"),
              std::string::npos)
        << e.what();
  }
  // The teacher moved elsewhere: named anew, the same checkpoint is accepted.
  fs::create_directories(dir_ / "moved");
  fs::rename(dir_ / "kept.taxon", dir_ / "moved" / "model.ckpt-8.taxon");
  resumed.teacherDir = dir_ / "moved";
  EXPECT_EQ(train(resumed, true, {}).step, 8);
  // Another teacher than the recorded one is not a resume.
  resumed.teacherStep = 12;
  resumed.maxSteps = 10;
  EXPECT_THROW(train(resumed, true, {}), core::UsageError);
}

// A teacher with a larger input: the loader makes its images, the student gets them resized down
// (both see the same augmented batch), and the step cost is the student's.
TEST_F(Distillation, ATeacherWithALargerInputTeachesASmallerStudent) {
  auto big = test::tinyRun(dir_ / "big", dir_ / "records");
  big.imageSize = 107;
  big.maxSteps = 4;
  ASSERT_EQ(train(big, false, {}).step, 4);
  auto s = student("small");
  s.teacherDir = dir_ / "big";
  s.maxSteps = 4;
  ASSERT_EQ(train(s, false, {}).step, 4);
  EXPECT_EQ(test::loggedStepFigures(dir_ / "small", "distill_loss").size(), 4u);
  const auto data = checkpoint::readCheckpoint(dir_ / "small" / "model.ckpt-4.taxon");
  EXPECT_NE(data.settingsJson.find("\"image_size\":75"), std::string::npos);
}

}  // namespace
}  // namespace taxon::train
