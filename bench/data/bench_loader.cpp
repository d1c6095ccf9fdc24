// Throughput of the training loader: TFRecord shards -> decode -> Inception training
// preprocessing -> batches, with a fixed number of decode threads.
//   taxon_bench_loader SHARD_DIR [THREADS=2] [BATCH=32] [SIZE=299]
// Prints two lines "ours-uint8 ..." (the batches the trainer receives; on a GPU the scaling to
// [-1, 1] runs there) and "ours-float ..." (the same plus toTensors() on the CPU, i.e. float
// N x 3 x H x W in [-1, 1], the same output as torchvision's pipeline), each with images/sec
// measured from the first batch to the end of the epoch (thread and buffer start-up excluded).
//   taxon_bench_loader SHARD_DIR THREADS BATCH SIZE --rank R --world_size W [--stride] [--epoch E]
// One data-parallel rank's epoch E (uint8 batches): one line "rank ..." with the partition (whole
// shards, or records strided), the shards it read, images, bytes of shard files read and
// images/sec from the first batch to the end. --stride: every rank reads every shard (the loader
// before whole shards per rank). The shards' record counts come from SHARD_DIR's manifest (or are
// counted, as training does).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "data/Loader.hpp"
#include "data/torch/BatchTensors.hpp"
#include "records/RecordSet.hpp"

using namespace taxon;
using Clock = std::chrono::steady_clock;

namespace {

double run(const data::LoaderSettings& settings, bool tensors, std::int64_t& images) {
  data::Loader loader(settings);
  auto batch = loader.next();
  if (!batch) {
    return 0.0;
  }
  const auto start = Clock::now();
  images = 0;
  double checksum = 0.0;
  while ((batch = loader.next())) {
    images += batch->size;
    if (tensors) {
      checksum += data::toTensors(*batch).images[0][0][0][0].item<float>();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (loader.stats().imagesSkipped > 0) {
    std::fprintf(stderr, "warning: %lld images skipped\n",
                 static_cast<long long>(loader.stats().imagesSkipped));
  }
  (void)checksum;
  return static_cast<double>(images) / seconds;
}

// One rank's epoch: what it read and how fast it delivered.
int runRank(data::LoaderSettings settings, const char* directory) {
  const auto set = records::openRecordSet(directory);
  const auto& split = set.split("train");
  settings.shards = split.shards;
  settings.shardRecords = split.shardRecords;
  settings.dropRemainder = true;
  const auto partition = data::partitionEpoch(settings, settings.epoch);
  data::Loader loader(settings);
  std::int64_t images = 0;
  auto batch = loader.next();
  const auto start = Clock::now();
  while ((batch = loader.next())) {
    images += batch->size;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto stats = loader.stats();
  std::printf(
      "rank=%d world_size=%d partition=%s shards_read=%zu of %zu images=%lld bytes_read=%lld "
      "records_read=%lld images_per_sec=%.1f\n",
      settings.rank, settings.worldSize, partition.wholeShards ? "whole-shards" : "stride",
      partition.shards[static_cast<std::size_t>(settings.rank)].size(), settings.shards.size(),
      static_cast<long long>(stats.imagesDecoded), static_cast<long long>(stats.bytesRead),
      static_cast<long long>(stats.recordsRead),
      seconds > 0.0 ? static_cast<double>(images) / seconds : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s SHARD_DIR [THREADS=2] [BATCH=32] [SIZE=299] [--rank R --world_size W "
                 "[--stride] [--epoch E]]\n",
                 argv[0]);
    return 2;
  }
  try {
    data::LoaderSettings settings;
    settings.shards = records::listShards(argv[1], "train-");
    settings.workerThreads = argc > 2 ? std::stoi(argv[2]) : 2;
    settings.batchSize = argc > 3 ? std::stoi(argv[3]) : 32;
    const int size = argc > 4 ? std::stoi(argv[4]) : 299;
    settings.preprocess.width = size;
    settings.preprocess.height = size;
    settings.readerThreads = 1;
    settings.shuffleBuffer = 1024;
    bool perRank = false;
    for (int i = 5; i < argc; ++i) {
      const bool hasValue = i + 1 < argc;
      if (std::strcmp(argv[i], "--rank") == 0 && hasValue) {
        settings.rank = std::stoi(argv[++i]);
        perRank = true;
      } else if (std::strcmp(argv[i], "--world_size") == 0 && hasValue) {
        settings.worldSize = std::stoi(argv[++i]);
        perRank = true;
      } else if (std::strcmp(argv[i], "--epoch") == 0 && hasValue) {
        settings.epoch = std::stoll(argv[++i]);
      } else if (std::strcmp(argv[i], "--stride") == 0) {
        settings.partition = data::LoaderPartition::kStrideRecords;
      } else {
        std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
        return 2;
      }
    }
    if (perRank) {
      return runRank(settings, argv[1]);
    }
    for (const bool tensors : {false, true}) {
      std::int64_t images = 0;
      const double rate = run(settings, tensors, images);
      std::printf("%s threads=%d images=%lld images_per_sec=%.1f\n",
                  tensors ? "ours-float" : "ours-uint8", settings.workerThreads,
                  static_cast<long long>(images), rate);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
