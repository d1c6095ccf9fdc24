// run-state.json: a run says it is running, then how it ended; readers tell an interrupted run
// from a live one, and judge older folders by their files.
#include "train/RunState.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stop_token>

#include "TrainTestData.hpp"
#include "core/Error.hpp"
#include "train/Trainer.hpp"

namespace taxon::train {
namespace {

namespace fs = std::filesystem;

class RunStateFile : public ::testing::Test {
 protected:
  void SetUp() override { test::writeRecordSet(dir_ / "records", 36); }
  test::TempDir dir_;
};

// The id of a process that has ended.
std::int64_t endedProcess() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

void age(const fs::path& path, std::chrono::seconds by) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - by);
}

TEST_F(RunStateFile, ARunSaysItIsRunningThenHowItEnded) {
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  std::optional<RunState> during;
  std::optional<ObservedRunState> observedDuring;
  std::stop_source stop;
  TrainCallbacks callbacks;
  callbacks.onStep = [&](const StepMetrics& m) {
    if (m.step == 2) {
      during = readRunState(s.trainDir);
      observedDuring = observeRunState(s.trainDir);
    }
    if (m.step == 5) {
      stop.request_stop();
    }
  };
  train(s, false, callbacks, stop.get_token());
  ASSERT_TRUE(during);
  EXPECT_EQ(during->status, RunStatus::Running);
  EXPECT_EQ(during->pid, ::getpid());
  EXPECT_EQ(during->host, hostName());
  EXPECT_EQ(during->totalSteps, 12);
  EXPECT_EQ(during->stepsPerEpoch, 4);  // 36 images in batches of 8, the last part dropped
  EXPECT_GT(during->started, 0.0);
  EXPECT_EQ(during->ended, 0.0);
  ASSERT_TRUE(observedDuring);
  EXPECT_EQ(observedDuring->status, RunStatus::Running);
  EXPECT_EQ(observedDuring->detail, "");

  auto stopped = readRunState(s.trainDir);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->status, RunStatus::Stopped);
  EXPECT_EQ(stopped->step, 6);
  EXPECT_EQ(fs::path(stopped->message).filename(), "model.ckpt-6.taxon");
  EXPECT_GE(stopped->ended, stopped->started);
  EXPECT_EQ(observeRunState(s.trainDir).status, RunStatus::Stopped);

  // A kill during a write of the state (or any atomic write) leaves NAME.tmp-PID; resuming
  // removes it.
  const fs::path leftover =
      s.trainDir / (std::string(kRunStateFileName) + ".tmp-" + std::to_string(endedProcess()));
  test::writeFile(leftover, "{\"state\":");
  train(s, true, {});
  EXPECT_FALSE(fs::exists(leftover));
  const auto finished = readRunState(s.trainDir);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->status, RunStatus::Finished);
  EXPECT_EQ(finished->step, 12);
  EXPECT_GT(finished->started, stopped->ended - 1.0);
  EXPECT_EQ(observeRunState(s.trainDir).status, RunStatus::Finished);
}

TEST_F(RunStateFile, AFailedRunSaysWhyAndARefusedStartTouchesNothing) {
  auto s = test::tinyRun(dir_ / "run", dir_ / "records");
  s.maxSteps = 2;
  train(s, false, {});
  const std::string finished = test::readFile(s.trainDir / kRunStateFileName);
  // A new run into the folder is refused; the folder's state stays the finished run's.
  EXPECT_THROW(train(s, false, {}), core::Error);
  EXPECT_EQ(test::readFile(s.trainDir / kRunStateFileName), finished);

  s.maxSteps = 40;
  s.optimizer = settings::OptimizerKind::kRmsProp;
  s.learningRate = 1e30;
  EXPECT_THROW(train(s, true, {}), core::Error);
  const auto failed = readRunState(s.trainDir);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, RunStatus::Failed);
  EXPECT_NE(failed->message.find("the loss is"), std::string::npos) << failed->message;
  EXPECT_GT(failed->ended, 0.0);
  EXPECT_EQ(observeRunState(s.trainDir).status, RunStatus::Failed);
}

TEST_F(RunStateFile, ARunningStateWhoseProcessEndedIsAnInterruptedRun) {
  const fs::path dir = dir_ / "killed";
  fs::create_directories(dir);
  test::writeFile(dir / "metrics.jsonl", "{\"step\":1,\"loss\":2.0}\n");
  RunState state;
  state.host = hostName();
  state.pid = endedProcess();
  state.started = 1.0;
  writeRunState(dir, state);
  auto observed = observeRunState(dir);
  EXPECT_EQ(observed.status, RunStatus::Stopped);
  EXPECT_EQ(observed.detail, "interrupted: process " + std::to_string(state.pid) + " on " +
                                 state.host + " has ended");

  state.pid = ::getpid();  // alive
  writeRunState(dir, state);
  EXPECT_EQ(observeRunState(dir).status, RunStatus::Running);

  // Another machine's run (a train dir copied or on a shared disk): its metrics tell.
  state.host = "elsewhere.example";
  writeRunState(dir, state);
  EXPECT_EQ(observeRunState(dir).status, RunStatus::Running);
  age(dir / "metrics.jsonl", std::chrono::minutes(11));
  observed = observeRunState(dir);
  EXPECT_EQ(observed.status, RunStatus::Stopped);
  EXPECT_EQ(observed.detail, "interrupted: no news from elsewhere.example for 10 minutes");
}

TEST_F(RunStateFile, AFolderWithoutTheFileIsJudgedByItsFiles) {
  auto s = test::tinyRun(dir_ / "old", dir_ / "records");
  s.maxSteps = 2;
  train(s, false, {});
  fs::remove(s.trainDir / kRunStateFileName);
  auto observed = observeRunState(s.trainDir);
  EXPECT_EQ(observed.status, RunStatus::Running);  // metrics written just now
  EXPECT_EQ(observed.detail.rfind("no run-state.json: metrics written ", 0), 0u) << observed.detail;
  age(s.trainDir / "metrics.jsonl", std::chrono::minutes(2));
  observed = observeRunState(s.trainDir);
  EXPECT_EQ(observed.status, RunStatus::Finished);  // its checkpoint is at --max_steps
  EXPECT_EQ(observed.detail, "no run-state.json");

  test::writeFile(s.trainDir / kRunStateFileName, "{\"state\":\"paused\"}");
  EXPECT_THROW(readRunState(s.trainDir), core::Error);
  observed = observeRunState(s.trainDir);
  EXPECT_EQ(observed.status, RunStatus::Finished);
  EXPECT_NE(observed.detail.find("unknown state 'paused'"), std::string::npos) << observed.detail;
}

}  // namespace
}  // namespace taxon::train
