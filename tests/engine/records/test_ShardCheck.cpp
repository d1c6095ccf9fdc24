#include "records/ShardCheck.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "records/RecordFile.hpp"

namespace taxon::records {
namespace {

using test::TempDir;

// Three records of 4 bytes: 16 bytes of framing each, so they start at bytes 0, 20 and 40.
constexpr std::int64_t kRecordBytes = 20;

void writeShard(const std::filesystem::path& path) {
  RecordWriter writer(path);
  for (const char* payload : {"aaaa", "bbbb", "cccc"}) {
    writer.write(payload);
  }
  writer.close();
}

void flip(std::string& bytes, std::int64_t at, int mask) {
  auto& byte = bytes[static_cast<std::size_t>(at)];
  byte = static_cast<char>(byte ^ mask);
}

// Writes the shard, then changes its bytes with `damage`.
std::filesystem::path damagedShard(const std::filesystem::path& path,
                                   const std::function<void(std::string&)>& damage) {
  writeShard(path);
  std::string bytes = test::readFile(path);
  damage(bytes);
  test::writeFile(path, bytes);
  return path;
}

TEST(ShardCheck, CountsTheRecordsOfASoundShard) {
  TempDir dir;
  writeShard(dir / "train-00000-of-00001");
  const auto check = checkShard(dir / "train-00000-of-00001", /*skipCorrupt=*/false);
  EXPECT_EQ(check.records, 3);
  EXPECT_TRUE(check.damaged.empty());
}

TEST(ShardCheck, AFlippedPayloadByteDamagesThatRecordOnly) {
  TempDir dir;
  const auto shard = damagedShard(dir / "s.tfrecord", [](std::string& bytes) {
    flip(bytes, kRecordBytes + 12, 0x20);  // the second record's first payload byte
  });
  const auto check = checkShard(shard, /*skipCorrupt=*/true);
  EXPECT_EQ(check.records, 2);
  ASSERT_EQ(check.damaged.size(), 1u);
  EXPECT_EQ(check.damaged[0].begin, kRecordBytes);
  EXPECT_EQ(check.damaged[0].end, 2 * kRecordBytes);
  EXPECT_EQ(check.damaged[0].reason, "record payload checksum mismatch");
}

TEST(ShardCheck, ADamagedHeaderIsPassedOverToTheNextValidOne) {
  TempDir dir;
  const auto shard = damagedShard(dir / "s.tfrecord", [](std::string& bytes) {
    flip(bytes, kRecordBytes, 0x01);  // the second record's length
  });
  const auto check = checkShard(shard, /*skipCorrupt=*/true);
  EXPECT_EQ(check.records, 2);
  ASSERT_EQ(check.damaged.size(), 1u);
  EXPECT_EQ(check.damaged[0].begin, kRecordBytes);
  EXPECT_EQ(check.damaged[0].end, 2 * kRecordBytes) << "reading resumes at the third record";
  EXPECT_EQ(check.damaged[0].reason, "record length checksum mismatch");
}

TEST(ShardCheck, ACutShortShardIsDamagedToItsEnd) {
  TempDir dir;
  const auto shard = damagedShard(dir / "s.tfrecord", [](std::string& bytes) {
    bytes.resize(2 * kRecordBytes + 10);  // half of the third record's header
  });
  const auto check = checkShard(shard, /*skipCorrupt=*/true);
  EXPECT_EQ(check.records, 2);
  ASSERT_EQ(check.damaged.size(), 1u);
  EXPECT_EQ(check.damaged[0].begin, 2 * kRecordBytes);
  EXPECT_EQ(check.damaged[0].end, 2 * kRecordBytes + 10);
  EXPECT_EQ(check.damaged[0].reason, "truncated record header (10 bytes left in the file)");
}

TEST(ShardCheck, WithoutSkipCorruptTheFirstDamageThrowsNamingFileAndByte) {
  TempDir dir;
  const auto shard = damagedShard(dir / "train-00000-of-00001",
                                  [](std::string& bytes) { flip(bytes, kRecordBytes + 12, 0x20); });
  try {
    checkShard(shard, /*skipCorrupt=*/false);
    FAIL() << "a damaged shard was read without error";
  } catch (const core::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("train-00000-of-00001: byte 20: record payload checksum mismatch"),
              std::string::npos)
        << what;
  }
}

TEST(ShardCheck, VerifiesTheShardsOfAFolderInNameOrder) {
  TempDir dir;
  writeShard(dir / "validation-00000-of-00001");
  damagedShard(dir / "train-00001-of-00002", [](std::string& bytes) { flip(bytes, 12, 0x20); });
  writeShard(dir / "train-00000-of-00002");
  test::writeFile(dir / "labels.txt", "a\nb\n");  // not a shard
  std::vector<std::string> seen;
  ShardCheckOptions options;
  options.skipCorrupt = true;
  options.onShard = [&seen](const ShardCheck& check) {
    seen.push_back(check.file.filename().string());
  };
  const auto report = verifyShards(dir.path(), options);
  EXPECT_EQ(seen, (std::vector<std::string>{"train-00000-of-00002", "train-00001-of-00002",
                                            "validation-00000-of-00001"}));
  ASSERT_EQ(report.shards.size(), 3u);
  EXPECT_EQ(report.shards[1].records, 2);
  EXPECT_EQ(report.records(), 8);
  EXPECT_EQ(report.damagedRecords(), 1);
}

TEST(ShardCheck, AFolderWithoutShardsIsAnErrorNamingIt) {
  TempDir dir;
  test::writeFile(dir / "labels.txt", "a\n");
  try {
    verifyShards(dir.path());
    FAIL() << "a folder without shards was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no TFRecord shards here"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taxon::records
