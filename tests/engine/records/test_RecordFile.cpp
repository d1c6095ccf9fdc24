#include "records/RecordFile.hpp"

#include <gtest/gtest.h>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "records/Crc32c.hpp"

namespace taxon::records {
namespace {

using test::TempDir;

std::vector<std::string> samplePayloads() {
  return {"", "a", std::string(1000, 'x'), std::string("\0\1\2\xff", 4), std::string(70000, 'q')};
}

void writeShard(const std::filesystem::path& path, const std::vector<std::string>& payloads) {
  RecordWriter writer(path);
  for (const auto& p : payloads) {
    writer.write(p);
  }
  writer.close();
}

std::vector<std::string> readAll(RecordReader& reader) {
  std::vector<std::string> out;
  std::string payload;
  while (reader.next(payload)) {
    out.push_back(payload);
  }
  return out;
}

TEST(RecordFile, RoundTripsPayloadsWithTheTfRecordFraming) {
  TempDir dir;
  const auto path = dir / "train-00000-of-00001";
  writeShard(path, samplePayloads());
  RecordReader reader(path);
  EXPECT_EQ(readAll(reader), samplePayloads());
  EXPECT_EQ(countRecords(path), 5);

  // Check the bytes of the first (empty) record by hand: length 0, masked CRCs.
  const std::string bytes = test::readFile(path);
  ASSERT_GE(bytes.size(), 16u);
  EXPECT_EQ(bytes.substr(0, 8), std::string(8, '\0'));
  const std::uint32_t lengthCrc = maskCrc(crc32c(std::string(8, '\0')));
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), lengthCrc & 0xff);
  EXPECT_EQ(static_cast<unsigned char>(bytes[11]), lengthCrc >> 24);
  const std::uint32_t dataCrc = maskCrc(crc32c(""));
  EXPECT_EQ(static_cast<unsigned char>(bytes[12]), dataCrc & 0xff);
}

TEST(RecordFile, WriterLeavesNothingBehindWithoutClose) {
  TempDir dir;
  const auto path = dir / "shard";
  {
    RecordWriter writer(path);
    writer.write("partial");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "temporary file left behind";
}

TEST(RecordFile, SeekResumesAtARecordBoundary) {
  TempDir dir;
  const auto path = dir / "shard";
  writeShard(path, samplePayloads());
  RecordReader reader(path);
  std::string payload;
  reader.next(payload);
  reader.next(payload);
  const auto offset = reader.offset();
  RecordReader again(path);
  again.seek(offset);
  auto rest = readAll(again);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0], samplePayloads()[2]);
}

TEST(RecordFile, NamesTheShardAndOffsetOfACorruptPayload) {
  TempDir dir;
  const auto path = dir / "train-00003-of-00008";
  writeShard(path, {"first", "second record", "third"});
  std::string bytes = test::readFile(path);
  const std::size_t secondOffset = 12 + 5 + 4;
  bytes[secondOffset + 12 + 2] ^= 0x40;  // flip a bit inside "second record"
  test::writeFile(path, bytes);

  RecordReader strict(path);
  std::string payload;
  ASSERT_TRUE(strict.next(payload));
  try {
    strict.next(payload);
    FAIL() << "a corrupt record was accepted";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("train-00003-of-00008"), std::string::npos) << message;
    EXPECT_NE(message.find("byte " + std::to_string(secondOffset)), std::string::npos) << message;
    EXPECT_NE(message.find("payload checksum"), std::string::npos) << message;
  }

  std::vector<RecordDamage> damage;
  RecordReader::Options options;
  options.skipCorrupt = true;
  options.onDamage = [&damage](const RecordDamage& d) { damage.push_back(d); };
  RecordReader lenient(path, options);
  EXPECT_EQ(readAll(lenient), (std::vector<std::string>{"first", "third"}));
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].offset, static_cast<std::int64_t>(secondOffset));
}

TEST(RecordFile, ResynchronizesAfterACorruptHeader) {
  TempDir dir;
  const auto path = dir / "shard";
  writeShard(path, {"one", "two", "three", "four"});
  std::string bytes = test::readFile(path);
  bytes[12 + 3 + 4 + 1] ^= 0x01;  // damage the length of "two"
  test::writeFile(path, bytes);
  RecordReader::Options options;
  options.skipCorrupt = true;
  RecordReader reader(path, options);
  EXPECT_EQ(readAll(reader), (std::vector<std::string>{"one", "three", "four"}));
  EXPECT_EQ(reader.damagedRecords(), 1);
  RecordReader strict(path);
  std::string payload;
  strict.next(payload);
  EXPECT_THROW(strict.next(payload), core::Error);
}

// Found by taxon_fuzz_record_file: while searching for the next header after damage, a header
// whose checksum holds but whose length is near 2^63 overflowed the "does it fit" sum. It is
// passed over like any record that does not fit.
TEST(RecordFile, ResynchronizingPassesOverAHeaderClaimingAHugeLength) {
  TempDir dir;
  const auto path = dir / "shard";
  char huge[12];
  const std::uint64_t length = 0x7fffffffffffffe0ULL;
  for (int i = 0; i < 8; ++i) {
    huge[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  const std::uint32_t crc = maskCrc(crc32c(huge, 8));
  for (int i = 0; i < 4; ++i) {
    huge[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  }
  const auto frame = frameRecord("good");
  const std::string good = std::string(frame.header, 12) + "good" + std::string(frame.footer, 4);
  test::writeFile(path, std::string(13, 'x') + std::string(huge, 12) + std::string(40, 'y') + good);
  RecordReader::Options options;
  options.skipCorrupt = true;
  RecordReader reader(path, options);
  EXPECT_EQ(readAll(reader), (std::vector<std::string>{"good"}));
  EXPECT_GE(reader.damagedRecords(), 1);
}

TEST(RecordFile, DetectsATruncatedShard) {
  TempDir dir;
  const auto path = dir / "shard";
  writeShard(path, {"one", std::string(500, 'z')});
  std::string bytes = test::readFile(path);
  test::writeFile(path, bytes.substr(0, bytes.size() - 100));
  RecordReader reader(path);
  std::string payload;
  ASSERT_TRUE(reader.next(payload));
  try {
    reader.next(payload);
    FAIL() << "a truncated record was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(RecordFile, MissingFileIsAClearError) {
  try {
    RecordReader reader("/nonexistent/train-00000-of-00001");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/train-00000-of-00001: cannot open"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace taxon::records
