#include "checkpoint/CheckpointFiles.hpp"

#include <gtest/gtest.h>

#include "TestFiles.hpp"

namespace taxon::checkpoint {
namespace {

namespace fs = std::filesystem;

TEST(CheckpointFiles, OnlyCompleteCheckpointNamesHaveAStep) {
  EXPECT_EQ(checkpointStep("model.ckpt-0.taxon"), 0);
  EXPECT_EQ(checkpointStep("model.ckpt-89910.taxon"), 89910);
  for (const char* other :
       {"model.ckpt-.taxon", "model.ckpt-12.taxon.tmp-4711", "model.ckpt-1x.taxon",
        "model.ckpt--3.taxon", "model.ckpt-12.pt", "ckpt-12.taxon",
        "model.ckpt-1234567890123456789.taxon", "settings.json"}) {
    EXPECT_FALSE(checkpointStep(other)) << other;
  }
}

TEST(CheckpointFiles, ListedOldestFirstAndTheNewestFound) {
  test::TempDir dir;
  for (const char* name : {"model.ckpt-40.taxon", "model.ckpt-5.taxon", "model.ckpt-7.taxon",
                           "model.ckpt-90.taxon.tmp-123", "labels.txt"}) {
    test::writeFile(dir.path() / name, "x");
  }
  fs::create_directories(dir.path() / "model.ckpt-99.taxon");  // a folder is no checkpoint
  const auto all = listCheckpoints(dir.path());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].step, 5);
  EXPECT_EQ(all[1].step, 7);
  EXPECT_EQ(all[2].step, 40);
  EXPECT_EQ(all[2].path, dir.path() / "model.ckpt-40.taxon");

  const auto newest = newestCheckpoint(dir.path());
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->step, 40);
  // A file stands for itself, with the step of its name (0 for another name).
  const auto chosen = newestCheckpoint(dir.path() / "model.ckpt-7.taxon");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->step, 7);
  test::writeFile(dir.path() / "best.taxon", "x");
  const auto renamed = newestCheckpoint(dir.path() / "best.taxon");
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->step, 0);
  EXPECT_EQ(renamed->path, dir.path() / "best.taxon");

  fs::create_directories(dir.path() / "empty");
  EXPECT_FALSE(newestCheckpoint(dir.path() / "empty"));
  EXPECT_FALSE(newestCheckpoint(dir.path() / "missing"));
  EXPECT_TRUE(listCheckpoints(dir.path() / "missing").empty());
}

}  // namespace
}  // namespace taxon::checkpoint
