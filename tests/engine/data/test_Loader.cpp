#include "data/Loader.hpp"
#include "records/RecordSet.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <opencv2/core.hpp>
#include <set>
#include <thread>

#include "TestFiles.hpp"
#include "core/Error.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"

namespace taxon::data {
namespace {

using Clock = std::chrono::steady_clock;

std::string keyOf(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "img-%03d.jpg", i);
  return name;
}

// Image i is a flat colour that encodes i, so a test can check that pixels, labels and keys stay
// together; label = i % 7 + 1.
cv::Vec3b colourOf(int i) {
  return cv::Vec3b(static_cast<uchar>((i * 37) % 256), static_cast<uchar>((i * 91) % 256),
                   static_cast<uchar>(64 + (i * 13) % 128));
}

// Writes `counts[s]` records into shard s ("train-0000s"); images are numbered across shards in
// order. `broken` images get bytes that are not an image.
std::vector<std::filesystem::path> writeShards(const test::TempDir& dir,
                                               const std::vector<int>& counts,
                                               const std::set<int>& broken = {}, int width = 48,
                                               int height = 36) {
  std::vector<std::filesystem::path> shards;
  int i = 0;
  for (std::size_t s = 0; s < counts.size(); ++s) {
    const auto path = dir / ("train-" + std::to_string(10000 + s).substr(1));
    records::RecordWriter writer(path);
    for (int r = 0; r < counts[s]; ++r, ++i) {
      records::ImageExample example;
      const auto c = colourOf(i);
      example.encoded =
          broken.count(i) > 0
              ? std::string("this is not an image")
              : test::encode(cv::Mat(height, width, CV_8UC3, cv::Scalar(c[2], c[1], c[0])), ".jpg");
      example.filename = keyOf(i);
      example.label = i % 7 + 1;
      example.width = width;
      example.height = height;
      writer.write(records::encodeExample(example));
    }
    writer.close();
    shards.push_back(path);
  }
  return shards;
}

LoaderSettings smallSettings(std::vector<std::filesystem::path> shards) {
  LoaderSettings s;
  s.shards = std::move(shards);
  s.batchSize = 8;
  s.preprocess.width = 24;
  s.preprocess.height = 16;
  s.shuffleBuffer = 32;
  s.interleave = 3;
  s.readerThreads = 2;
  s.workerThreads = 3;
  s.seed = 7;
  return s;
}

std::vector<Batch> readEpoch(Loader& loader) {
  std::vector<Batch> batches;
  while (auto batch = loader.next()) {
    batches.push_back(std::move(*batch));
  }
  return batches;
}

std::vector<Batch> readEpoch(const LoaderSettings& settings) {
  Loader loader(settings);
  return readEpoch(loader);
}

std::vector<std::string> keysOf(const std::vector<Batch>& batches) {
  std::vector<std::string> keys;
  for (const auto& b : batches) {
    keys.insert(keys.end(), b.keys.begin(), b.keys.end());
  }
  return keys;
}

void expectIdentical(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].keys, b[i].keys) << "batch " << i;
    EXPECT_EQ(a[i].labels, b[i].labels) << "batch " << i;
    EXPECT_TRUE(a[i].images == b[i].images) << "pixels of batch " << i;
  }
}

// Every key once, and each image's pixels and label belong to its key.
void expectEachImageOnce(const std::vector<Batch>& batches, int count, bool checkColour) {
  std::set<std::string> seen;
  for (const auto& b : batches) {
    ASSERT_EQ(b.images.size(), static_cast<std::size_t>(b.size) * b.height * b.width * 3);
    ASSERT_EQ(b.labels.size(), static_cast<std::size_t>(b.size));
    ASSERT_EQ(b.keys.size(), static_cast<std::size_t>(b.size));
    for (int j = 0; j < b.size; ++j) {
      const auto& key = b.keys[static_cast<std::size_t>(j)];
      EXPECT_TRUE(seen.insert(key).second) << key << " twice";
      const int i = std::stoi(key.substr(4, 3));
      EXPECT_EQ(b.labels[static_cast<std::size_t>(j)], i % 7 + 1) << key;
      if (checkColour) {
        const std::size_t centre =
            (static_cast<std::size_t>(j) * b.height * b.width +
             static_cast<std::size_t>(b.height / 2) * b.width + b.width / 2) *
            3;
        const auto c = colourOf(i);
        for (int k = 0; k < 3; ++k) {
          EXPECT_NEAR(b.images[centre + k], c[k], 6) << key << " channel " << k;
        }
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(count));
}

TEST(Loader, TrainingDeliversEveryRecordOncePerEpoch) {
  const test::TempDir dir;
  auto settings = smallSettings(writeShards(dir, {30, 25, 0, 45}));
  settings.preprocess.colour = false;  // flat colours survive crop, flip and resize
  Loader loader(settings);
  const auto batches = readEpoch(loader);
  ASSERT_EQ(batches.size(), 13u);  // 100 = 12 x 8 + 4
  for (std::size_t i = 0; i + 1 < batches.size(); ++i) {
    EXPECT_EQ(batches[i].size, 8);
    EXPECT_EQ(batches[i].index, static_cast<std::int64_t>(i));
    EXPECT_EQ(batches[i].height, 16);
    EXPECT_EQ(batches[i].width, 24);
  }
  EXPECT_EQ(batches.back().size, 4);
  expectEachImageOnce(batches, 100, true);
  // Shuffled: not in file order.
  const auto keys = keysOf(batches);
  EXPECT_FALSE(std::is_sorted(keys.begin(), keys.end()));

  const auto stats = loader.stats();
  EXPECT_EQ(stats.recordsRead, 100);
  EXPECT_EQ(stats.imagesDecoded, 100);
  EXPECT_EQ(stats.imagesSkipped, 0);
  EXPECT_EQ(stats.batches, 13);
  EXPECT_GT(stats.imagesPerSecond, 0.0);
  EXPECT_EQ(stats.queueCapacity, settings.queueBatches);

  // The next epoch: the same records in another order.
  loader.startEpoch(1);
  EXPECT_EQ(loader.epoch(), 1);
  const auto second = readEpoch(loader);
  expectEachImageOnce(second, 100, true);
  EXPECT_EQ(second.front().epoch, 1);
  EXPECT_NE(keysOf(second), keys);
}

TEST(Loader, DropRemainderDropsTheShortBatch) {
  const test::TempDir dir;
  auto settings = smallSettings(writeShards(dir, {10, 10}));
  settings.dropRemainder = true;
  const auto batches = readEpoch(settings);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[1].size, 8);
}

TEST(Loader, EvaluationDeliversEveryRecordOnceInOrder) {
  const test::TempDir dir;
  auto settings = smallSettings(writeShards(dir, {9, 0, 17, 4, 30}));
  settings.mode = LoaderMode::kEval;
  settings.interleave = 2;
  const auto batches = readEpoch(settings);
  expectEachImageOnce(batches, 60, true);
  std::vector<std::string> expected;
  for (int i = 0; i < 60; ++i) {
    expected.push_back(keyOf(i));
  }
  EXPECT_EQ(keysOf(batches), expected);
}

TEST(Loader, SameSeedGivesTheSameBatchesWhateverTheThreads) {
  const test::TempDir dir;
  auto settings = smallSettings(writeShards(dir, {20, 20, 20, 20}, {}, 80, 60));
  const auto first = readEpoch(settings);
  const auto second = readEpoch(settings);
  expectIdentical(first, second);
  settings.workerThreads = 1;
  settings.readerThreads = 1;
  expectIdentical(first, readEpoch(settings));

  settings.seed = 8;
  const auto other = readEpoch(settings);
  EXPECT_NE(keysOf(other), keysOf(first));
  expectEachImageOnce(other, 80, false);
}

TEST(Loader, StartEpochAbandonsTheCurrentOneAndEpochsAreReproducible) {
  const test::TempDir dir;
  const auto settings = smallSettings(writeShards(dir, {30, 30}));
  Loader loader(settings);
  const auto epoch0 = readEpoch(loader);
  loader.startEpoch(1);
  ASSERT_TRUE(loader.next());  // part of epoch 1 only
  ASSERT_TRUE(loader.next());
  loader.startEpoch(0);
  expectIdentical(epoch0, readEpoch(loader));
  loader.startEpoch(1);
  const auto epoch1 = readEpoch(loader);
  EXPECT_EQ(epoch1.front().epoch, 1);
  expectEachImageOnce(epoch1, 60, false);
  EXPECT_NE(keysOf(epoch1), keysOf(epoch0));
}

TEST(Loader, ResumingMidEpochDeliversExactlyTheRestOfIt) {
  const test::TempDir dir;
  // Image 13 is broken, so the stream position and the image count differ from batch 2 on.
  auto settings = smallSettings(writeShards(dir, {25, 25, 25}, {13}, 60, 40));
  for (const int rank : {0, 1}) {
    settings.rank = rank;
    settings.worldSize = 2;
    settings.epoch = 3;
    settings.position = {};
    const auto whole = readEpoch(settings);
    ASSERT_GE(whole.size(), 4u);
    for (const std::size_t after : {std::size_t{0}, std::size_t{2}, whole.size() - 2}) {
      settings.position = {whole[after].streamEnd, whole[after].index + 1};
      const auto rest = readEpoch(settings);
      expectIdentical(
          std::vector<Batch>(whole.begin() + static_cast<std::ptrdiff_t>(after) + 1, whole.end()),
          rest);
    }
    // The end of the epoch: nothing left.
    settings.position = {whole.back().streamEnd, whole.back().index + 1};
    EXPECT_TRUE(readEpoch(settings).empty());
  }
  settings.position = {-1, 0};
  EXPECT_THROW(Loader{settings}, core::UsageError);
}

TEST(Loader, RanksReadDisjointPartsThatCoverTheEpoch) {
  const test::TempDir dir;
  const auto shards = writeShards(dir, {21, 12, 30});
  for (const auto mode : {LoaderMode::kTrain, LoaderMode::kEval}) {
    auto settings = smallSettings(shards);
    settings.mode = mode;
    settings.worldSize = 2;
    std::set<std::string> all;
    std::size_t sizes[2] = {};
    for (int rank = 0; rank < 2; ++rank) {
      settings.rank = rank;
      const auto keys = keysOf(readEpoch(settings));
      sizes[rank] = keys.size();
      for (const auto& key : keys) {
        EXPECT_TRUE(all.insert(key).second) << key << " on both ranks";
      }
    }
    EXPECT_EQ(all.size(), 63u);
    EXPECT_EQ(sizes[0], 32u);
    EXPECT_EQ(sizes[1], 31u);
  }
}

TEST(Loader, QueueNeverHoldsMoreThanItsCapacity) {
  const test::TempDir dir;
  auto settings = smallSettings(writeShards(dir, {40, 40}));
  settings.queueBatches = 2;
  settings.batchSize = 4;
  Loader loader(settings);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the pipeline fill up
  int delivered = 0;
  while (auto batch = loader.next()) {
    const auto stats = loader.stats();
    EXPECT_LE(stats.queueDepth, 2);
    delivered += batch->size;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(delivered, 80);
  const auto stats = loader.stats();
  EXPECT_EQ(stats.maxQueueDepth, 2);  // it filled up, and no further
  EXPECT_EQ(stats.queueCapacity, 2);
}

TEST(Loader, CancellingReturnsPromptly) {
  const test::TempDir dir;
  // Large enough that the epoch is far from done when the stop comes.
  auto settings = smallSettings(writeShards(dir, {100, 100}, {}, 640, 480));
  settings.workerThreads = 1;
  settings.preprocess.reducedDecode = false;
  std::stop_source stop;
  auto loader = std::make_unique<Loader>(settings, stop.get_token());
  ASSERT_TRUE(loader->next());
  const auto stoppedAt = Clock::now();
  std::thread stopper([&] { stop.request_stop(); });
  stopper.join();
  EXPECT_FALSE(loader->next());
  loader.reset();  // joins every thread
  const auto elapsed = Clock::now() - stoppedAt;
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));

  // A token stopped before the start: nothing at all.
  Loader stopped(settings, stop.get_token());
  EXPECT_FALSE(stopped.next());
}

TEST(Loader, CancellingWakesABlockedNext) {
  const test::TempDir dir;
  auto settings = smallSettings(writeShards(dir, {60}, {}, 640, 480));
  settings.workerThreads = 1;
  settings.batchSize = 50;  // the first batch takes a while
  settings.preprocess.reducedDecode = false;
  std::stop_source stop;
  Loader loader(settings, stop.get_token());
  Clock::time_point stoppedAt;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    stoppedAt = Clock::now();
    stop.request_stop();
  });
  const bool got = loader.next().has_value();
  const auto woke = Clock::now();
  stopper.join();
  EXPECT_FALSE(got);
  EXPECT_LT(woke - stoppedAt, std::chrono::milliseconds(200));
}

TEST(Loader, CorruptImagesAndDamagedRecordsAreSkippedAndReported) {
  const test::TempDir dir;
  auto shards = writeShards(dir, {10, 10, 10}, {3, 17});
  // Damage one record's payload in the third shard (image 25): its checksum no longer matches.
  std::string bytes = test::readFile(shards[2]);
  records::RecordReader reader(shards[2]);
  std::string payload;
  for (int r = 0; r < 5; ++r) {
    reader.next(payload);
  }
  const auto offset = reader.offset();
  bytes[static_cast<std::size_t>(offset) + 12 + 40] ^= 0x55;
  test::writeFile(shards[2], bytes);

  std::mutex mutex;
  std::vector<SkippedImage> reported;
  LoaderCallbacks callbacks;
  callbacks.onSkip = [&](const SkippedImage& s) {
    const std::lock_guard lock(mutex);
    reported.push_back(s);
  };
  for (const auto mode : {LoaderMode::kTrain, LoaderMode::kEval}) {
    reported.clear();
    auto settings = smallSettings(shards);
    settings.mode = mode;
    Loader loader(settings, {}, callbacks);
    const auto batches = readEpoch(loader);
    std::set<std::string> keys;
    for (const auto& key : keysOf(batches)) {
      keys.insert(key);
    }
    EXPECT_EQ(keys.size(), 27u);
    EXPECT_EQ(keys.count(keyOf(3)) + keys.count(keyOf(17)) + keys.count(keyOf(25)), 0u);
    // Full batches despite the holes.
    EXPECT_EQ(batches.size(), 4u);
    EXPECT_EQ(batches[0].size, 8);
    const auto stats = loader.stats();
    EXPECT_EQ(stats.imagesSkipped, 3);
    ASSERT_EQ(stats.skipped.size(), 3u);
    ASSERT_EQ(reported.size(), 3u);
    int decodeFailures = 0;
    int checksumFailures = 0;
    for (const auto& s : stats.skipped) {
      if (s.key == keyOf(3) || s.key == keyOf(17)) {
        ++decodeFailures;
        EXPECT_NE(s.reason.find("cannot decode"), std::string::npos) << s.reason;
      } else {
        ++checksumFailures;
        EXPECT_NE(s.key.find("train-0002@"), std::string::npos) << s.key;
        EXPECT_NE(s.reason.find("checksum"), std::string::npos) << s.reason;
      }
    }
    EXPECT_EQ(decodeFailures, 2);
    EXPECT_EQ(checksumFailures, 1);
  }
  // With skipping off, the damaged record fails the loader.
  auto strict = smallSettings(shards);
  strict.skipCorruptRecords = false;
  Loader loader(strict);
  EXPECT_THROW(readEpoch(loader), core::Error);
}

TEST(Loader, BadSettingsAndMissingShardsAreReported) {
  LoaderSettings s;
  s.batchSize = 0;
  s.rank = 2;
  s.worldSize = 2;
  s.queueBatches = 0;
  s.preprocess.width = -1;
  const auto problems = s.validate();
  EXPECT_EQ(problems.size(), 5u);  // no shards, batch size, rank, queue, preprocessing
  EXPECT_THROW(Loader{s}, core::Error);

  const test::TempDir dir;
  auto settings = smallSettings({dir / "train-missing"});
  try {
    Loader loader(settings);
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train-missing"), std::string::npos);
  }
}

TEST(Loader, ListsShardsByPrefix) {
  const test::TempDir dir;
  writeShards(dir, {1, 1, 1});
  test::writeFile(dir / "validation-0000", "x");
  test::writeFile(dir / "train-0003.tmp-123", "x");
  const auto shards = records::listShards(dir.path(), "train-");
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_EQ(shards[0].filename(), "train-0000");
  EXPECT_EQ(shards[2].filename(), "train-0002");
  EXPECT_THROW(records::listShards(dir / "nowhere", "train-"), core::Error);
}

}  // namespace
}  // namespace taxon::data
