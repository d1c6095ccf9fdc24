// The parallel input pipeline: TFRecord shards of tf.train.Examples in, batches of preprocessed
// 8-bit images out (no torch here; BatchTensors.hpp turns a Batch into tensors).
//   partition       -> which shards this rank reads and which of their records it keeps
//                      (partitionEpoch, below): in training with at least as many shards as
//                      ranks and every shard's record count known, each rank reads only its own
//                      shards; otherwise every rank reads every shard and keeps record k of the
//                      stream when k % worldSize == rank
//   reader threads  -> `interleave` of this rank's shards open at once, each read ahead
//                      `readAhead` records; training takes one record from each open shard in
//                      turn, evaluation reads the shards one after another in the order given
//   shuffle buffer  -> training only: `shuffleBuffer` records, a random one leaves as each new one
//                      enters (TensorFlow's shuffle); shard order and buffer reseeded every epoch
//   worker threads  -> tf.train.Example parse, OpenCV decode, InceptionPreprocess
//   assembler       -> puts results back in stream order, skips images that fail, fills batches
//   queue           -> at most `queueBatches` finished batches wait for next()
// Every stage is bounded, so memory does not grow with the data set.
// Determinism: the batches (order, pixels, labels) depend only on the shards (and shardRecords),
// the seed, the epoch, rank/worldSize, the partition, interleave, shuffleBuffer, batchSize and the
// preprocessing settings; not on the number of threads or on timing. Each image's random crop, flip
// and colour come from a seed mixed from (seed, epoch, rank, its position in the epoch), whichever
// thread decodes it.
// Threads: next(), startEpoch() and the destructor are for one consumer thread; stats() may be
// called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "data/Batch.hpp"
#include "data/InceptionPreprocess.hpp"

namespace taxon::data {

enum class LoaderMode {
  kTrain,  // interleaved shards, shuffled, training preprocessing with random distortions
  kEval,   // shards in the order given, records in file order, evaluation preprocessing
};

enum class LoaderPartition {
  kAuto,           // whole shards per rank where partitionEpoch allows it, else record striding
  kStrideRecords,  // every rank reads every shard and keeps every worldSize-th record (as before
                   // whole shards; for comparisons)
};

// Where an epoch starts: the first `records` records of this rank's stream go through the readers
// and the shuffle buffer as usual (so what follows is exactly what an uninterrupted epoch
// delivers) but are neither decoded nor delivered, and batches are numbered from `batches`.
// Exact resume of a training run mid-epoch costs reading, not decoding, the part already seen.
struct LoaderPosition {
  std::int64_t records = 0;
  std::int64_t batches = 0;
};

struct LoaderSettings {
  std::vector<std::filesystem::path> shards;  // TFRecord files; the order matters for kEval
  LoaderMode mode = LoaderMode::kTrain;
  int batchSize = 32;
  bool dropRemainder = false;  // true: an epoch's last, smaller batch is not delivered
  PreprocessSettings preprocess;
  std::uint64_t seed = 0;
  std::int64_t epoch = 0;   // the epoch the loader starts with (startEpoch() moves on)
  LoaderPosition position;  // where in `epoch` it starts
  // Records in each shard (parallel to `shards`), as the manifest or RecordSet knows them without
  // reading; empty: unknown. Training on several ranks reads whole shards per rank only when they
  // are given (the ranks must agree on the epoch's length without reading).
  std::vector<std::int64_t> shardRecords;
  // Data-parallel replicas: the ranks' parts of an epoch are disjoint; see partitionEpoch.
  int rank = 0;
  int worldSize = 1;
  LoaderPartition partition = LoaderPartition::kAuto;
  // Training: shards read round-robin, one record at a time. Part of the data order.
  int interleave = 16;
  // Training: records in the shuffle buffer. Memory: about this many times the average record
  // (8192 x 110 KB = 0.9 GB for ImageNet-size JPEGs). Part of the data order; 1 = no shuffling.
  int shuffleBuffer = 8192;
  int readerThreads = 2;
  int workerThreads = 0;  // decode and preprocess threads; 0: one per hardware thread
  int queueBatches = 4;   // finished batches waiting for next()
  int readAhead = 16;     // records read ahead per open shard
  // true: a record failing its checksum is skipped and reported; false: the loader fails.
  bool skipCorruptRecords = true;

  // Every problem at once, one sentence each; empty when the settings are usable.
  std::vector<std::string> validate() const;
};

// How an epoch's records are split between the ranks; a function of the settings (shards,
// shardRecords, mode, worldSize, partition, batchSize, dropRemainder, seed) and the epoch alone, so
// every rank computes the same one without communication.
// Whole shards (training, kAuto, worldSize > 1, at least as many shards as ranks, shardRecords
// given): the epoch's seeded shard order is dealt out; the first shards.size() - shards.size() %
// worldSize of it go whole, each to the rank with the fewest records so far (lowest rank on a
// tie); the last shards.size() % worldSize are shared: every rank reads them and keeps record j of
// the i-th shared shard when (j + i) % worldSize == rank. Every rank then delivers the same number
// of batches, `batches` (the smallest rank's full batches; with dropRemainder off its last one may
// be short): the records of a larger rank past that are read but not delivered. That tail is at
// most kMaxWholeShardDrop of the epoch (plus each rank's last short batch): an epoch whose deal
// would drop more is strided instead.
// Record striding (evaluation, one rank, fewer shards than ranks, shardRecords unknown,
// kStrideRecords, or an uneven deal): every rank reads every shard in the epoch's order and keeps
// record k of the interleaved stream when k % worldSize == rank; the ranks' parts differ by at
// most one record and nothing is dropped beyond the remainder batches.
struct EpochPartition {
  bool wholeShards = false;
  // Per rank: the shards (indices into settings.shards) it reads, in reading order.
  std::vector<std::vector<int>> shards;
  // Whole shards: per shard, its place among the shared shards, or -1 when it is read whole.
  std::vector<int> shared;
  // Per rank: the records it keeps before any is skipped; empty when shardRecords is not given.
  std::vector<std::int64_t> records;
  // Batches every rank delivers this epoch; -1: as many as its records make (record striding).
  std::int64_t batches = -1;
};
inline constexpr double kMaxWholeShardDrop = 0.1;
EpochPartition partitionEpoch(const LoaderSettings& settings, std::int64_t epoch);

// What the statistics passes read (batch-norm recalibration, int8 calibration): `images` of the
// shards, shuffled so that shards written in category order still give every category its share,
// each a `side` x `side` crop of the evaluation crop's size at a random place, with neither flip
// nor colour change; two batches queued.
LoaderSettings shuffledEvaluationCrops(std::vector<std::filesystem::path> shards, int side,
                                       int batchSize, std::uint64_t seed, std::int64_t images,
                                       int workerThreads);

// An image or record the loader left out, and why.
struct SkippedImage {
  std::string key;  // image/filename, or "SHARD@OFFSET"
  std::string reason;
};

// A snapshot of the current epoch.
struct LoaderStats {
  std::int64_t epoch = 0;
  std::int64_t recordsRead = 0;    // records read from the shards (other ranks' too)
  std::int64_t bytesRead = 0;      // bytes of shard files read by this loader
  std::int64_t imagesDecoded = 0;  // images of this rank decoded into batches
  std::int64_t imagesSkipped = 0;  // this rank's images that failed, and damaged records
  std::int64_t batches = 0;        // batches finished
  double imagesPerSecond = 0.0;    // decoded images per second over the last few seconds
  int queueDepth = 0;              // finished batches waiting for next() now
  int queueCapacity = 0;
  int maxQueueDepth = 0;              // the most there have been this epoch
  std::vector<SkippedImage> skipped;  // the first kMaxListedSkips of them
};

struct LoaderCallbacks {
  // Each image or record skipped. Called on a loader thread (a reader for a damaged record, the
  // assembler for an image that fails); must be quick and thread-safe.
  std::function<void(const SkippedImage&)> onSkip;
};

class Loader {
 public:
  static constexpr std::size_t kMaxListedSkips = 1000;

  // Validates the settings (core::Error listing every problem), checks that the shards exist
  // (core::Error naming the first missing one) and starts reading settings.epoch. `stop` cancels:
  // next() then returns nothing and the threads end within about one image's decoding time.
  explicit Loader(LoaderSettings settings, std::stop_token stop = {},
                  LoaderCallbacks callbacks = {});
  ~Loader();  // stops and joins the threads
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in order; blocks until it is ready. Nothing at the end of the epoch or once
  // cancelled. A failure that is not a single bad image (a missing or unreadable shard, a damaged
  // record with skipCorruptRecords off) is rethrown here as core::Error.
  std::optional<Batch> next();
  // Abandons what is left of the current epoch and starts `epoch` (reshuffled with seed + epoch)
  // at `position`.
  void startEpoch(std::int64_t epoch, LoaderPosition position = {});
  std::int64_t epoch() const { return epoch_; }
  LoaderStats stats() const;
  const LoaderSettings& settings() const { return settings_; }

 private:
  class Pipeline;

  LoaderSettings settings_;
  InceptionPreprocess preprocess_;
  std::stop_token stop_;
  LoaderCallbacks callbacks_;
  std::int64_t epoch_ = 0;
  std::unique_ptr<Pipeline> pipeline_;
};
}  // namespace taxon::data
