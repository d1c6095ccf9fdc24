// RecordSet: both layouts a folder of shards comes in (build-records' with a manifest, the seed's
// without), and the errors that name the file at fault.
#include "records/RecordSet.hpp"

#include <gtest/gtest.h>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"

namespace taxon::records {
namespace {

namespace fs = std::filesystem;

// DIR/NAME with `count` real Examples.
void writeShardFile(const fs::path& path, int count) {
  fs::create_directories(path.parent_path());
  RecordWriter writer(path);
  for (int i = 0; i < count; ++i) {
    ImageExample example;
    example.encoded = test::makeJpeg(16, 16, static_cast<std::uint32_t>(i));
    example.filename = "img-" + std::to_string(i) + ".jpg";
    example.label = 1 + i % 2;
    example.width = 16;
    example.height = 16;
    writer.write(encodeExample(example));
  }
  writer.close();
}

// The message of the core::Error that opening `dir` throws ("" when it opens).
std::string openError(const fs::path& dir) {
  try {
    openRecordSet(dir);
  } catch (const core::Error& e) {
    return e.what();
  }
  return "";
}

// build-records' layout: two train shards, one validation shard, counts from the manifest.
void writeBuiltLayout(const fs::path& dir) {
  writeShardFile(dir / "train-00000-of-00002", 2);
  writeShardFile(dir / "train-00001-of-00002", 1);
  writeShardFile(dir / "validation-00000-of-00001", 2);
  test::writeFile(dir / "labels.txt", "Cats\nDogs\n");
  test::writeFile(dir / "manifest.json", R"({
    "format": "tfrecord/tf.train.Example", "label_offset": 1, "num_classes": 2,
    "splits": {
      "train": {"records": 3, "shards": [{"file": "train-00001-of-00002", "records": 1},
                                         {"file": "train-00000-of-00002", "records": 2}]},
      "validation": {"records": 2, "shards": [{"file": "validation-00000-of-00001",
                                               "records": 2}]}}})");
}

TEST(RecordSet, BuildRecordsLayoutReadsTheManifest) {
  test::TempDir dir;
  writeBuiltLayout(dir.path());
  const RecordSet set = openRecordSet(dir.path());
  EXPECT_EQ(set.directory, dir.path());
  EXPECT_EQ(set.categories, (std::vector<std::string>{"Cats", "Dogs"}));
  EXPECT_EQ(set.numClasses(), 2);
  EXPECT_EQ(set.labelOffset, 1);
  ASSERT_EQ(set.splits.size(), 2u);
  const RecordSplit& train = set.split("train");
  EXPECT_EQ(train.records, 3);
  // Sorted by name, whatever the manifest's order.
  ASSERT_EQ(train.shards.size(), 2u);
  EXPECT_EQ(train.shards[0], dir.path() / "train-00000-of-00002");
  EXPECT_EQ(train.shards[1], dir.path() / "train-00001-of-00002");
  // Each shard's count goes with it (the loader deals whole shards to ranks by them).
  EXPECT_EQ(train.shardRecords, (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(set.count("validation"), 2);
  EXPECT_EQ(set.count("test"), 0);
  EXPECT_EQ(set.describeSplits(), "train 3, validation 2");
  EXPECT_EQ(set.emptySplitReason("train"), "");
  EXPECT_EQ(set.emptySplitReason("test"),
            "the 'test' split of " + dir.path().string() + " is empty (train 3, validation 2)");
}

TEST(RecordSet, TheManifestsOffsetIsUsed) {
  test::TempDir dir;
  writeShardFile(dir / "train-00000-of-00001", 1);
  test::writeFile(dir / "labels.txt", "A\nB\nC\n");
  test::writeFile(dir / "manifest.json",
                  R"({"label_offset": 0, "num_classes": 3, "splits": {"train": {"records": 1,
                      "shards": [{"file": "train-00000-of-00001"}]}}})");
  EXPECT_EQ(openRecordSet(dir.path()).labelOffset, 0);
  // A manifest without the shards' counts gives none.
  EXPECT_TRUE(openRecordSet(dir.path()).split("train").shardRecords.empty());
}

TEST(RecordSet, TheSeedsLayoutCountsRecordsWithOffsetOne) {
  test::TempDir dir;
  writeShardFile(dir / "train-00000-of-00002", 3);
  writeShardFile(dir / "train-00001-of-00002", 4);
  writeShardFile(dir / "validation-00000-of-00001", 2);
  // A shard still being written is not part of the set.
  writeShardFile(dir / "validation-00001-of-00002.tmp-123", 5);
  test::writeFile(dir / "labels.txt", "Cats\r\n\nDogs\r\nBirds\n");
  const RecordSet set = openRecordSet(dir.path());
  EXPECT_EQ(set.categories, (std::vector<std::string>{"Cats", "Dogs", "Birds"}));
  EXPECT_EQ(set.labelOffset, 1);
  EXPECT_EQ(set.count("train"), 7);
  EXPECT_EQ(set.split("train").shards.size(), 2u);
  EXPECT_EQ(set.split("train").shardRecords, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(set.count("validation"), 2);
  EXPECT_EQ(set.split("validation").shards.size(), 1u);
  EXPECT_FALSE(set.splits.count("test"));
  EXPECT_EQ(set.describeSplits(), "train 7, validation 2");
}

TEST(RecordSet, AMissingSplitIsAnErrorNamingTheSplitsThereAre) {
  test::TempDir dir;
  writeShardFile(dir / "train-00000-of-00001", 1);
  test::writeFile(dir / "labels.txt", "Cats\n");
  const RecordSet set = openRecordSet(dir.path());
  try {
    set.split("validation");
    FAIL() << "no validation split";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(dir.path().string()), std::string::npos) << message;
    EXPECT_NE(message.find("'validation'"), std::string::npos) << message;
    EXPECT_NE(message.find("it has: train"), std::string::npos) << message;
  }
}

TEST(RecordSet, ErrorsNameTheFileAtFault) {
  test::TempDir dir;
  // No such folder.
  EXPECT_NE(openError(dir / "nowhere").find((dir / "nowhere").string()), std::string::npos);

  // No labels.txt.
  const fs::path noLabels = dir / "no-labels";
  writeShardFile(noLabels / "train-00000-of-00001", 1);
  EXPECT_NE(openError(noLabels).find("labels.txt"), std::string::npos);

  // An empty labels.txt.
  const fs::path emptyLabels = dir / "empty-labels";
  test::writeFile(emptyLabels / "labels.txt", "\n\n");
  EXPECT_NE(openError(emptyLabels).find((emptyLabels / "labels.txt").string()), std::string::npos);

  // A manifest that does not parse.
  const fs::path badManifest = dir / "bad-manifest";
  writeBuiltLayout(badManifest);
  test::writeFile(badManifest / "manifest.json", "{\"splits\": [");
  EXPECT_NE(openError(badManifest).find((badManifest / "manifest.json").string()),
            std::string::npos);

  // A manifest that disagrees with labels.txt.
  const fs::path disagrees = dir / "disagrees";
  writeBuiltLayout(disagrees);
  test::writeFile(disagrees / "labels.txt", "Cats\nDogs\nBirds\n");
  const std::string message = openError(disagrees);
  EXPECT_NE(message.find((disagrees / "manifest.json").string()), std::string::npos) << message;
  EXPECT_NE(message.find("says 2 categories but labels.txt names 3"), std::string::npos) << message;

  // A shard listed but missing.
  const fs::path missing = dir / "missing";
  writeBuiltLayout(missing);
  fs::remove(missing / "train-00001-of-00002");
  EXPECT_NE(openError(missing).find((missing / "train-00001-of-00002").string()),
            std::string::npos);
}

TEST(RecordSet, ListShardsTakesThePrefixSortedAndSkipsTemporaryFiles) {
  test::TempDir dir;
  for (const char* name :
       {"train-00001-of-00002", "train-00000-of-00002", "train-00002-of-00003.tmp-99",
        "validation-00000-of-00001", "labels.txt"}) {
    test::writeFile(dir / name, "x");
  }
  fs::create_directories(dir / "train-folder");
  const auto shards = listShards(dir.path(), "train-");
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0], dir / "train-00000-of-00002");
  EXPECT_EQ(shards[1], dir / "train-00001-of-00002");
  EXPECT_THROW(listShards(dir / "nowhere", "train-"), core::Error);
}

TEST(RecordSet, ShardNames) {
  EXPECT_TRUE(isShardName("train-00000-of-00128"));
  EXPECT_TRUE(isShardName("flowers.tfrecord"));
  EXPECT_TRUE(isShardName("flowers.tfrecords"));
  EXPECT_FALSE(isShardName("labels.txt"));
  EXPECT_FALSE(isShardName("train-00000-of-00128.tmp-4242")) << "a shard being written";
  EXPECT_TRUE(isTemporaryShardName("flowers.tfrecord.tmp-17"));
  EXPECT_FALSE(isShardName("manifest.json"));
  EXPECT_FALSE(isShardName("flowers.tfrecord.gz"));
}

}  // namespace
}  // namespace taxon::records
