// The parallel input pipeline: TFRecord shards of tf.train.Examples in, batches of preprocessed
// 8-bit images out (no torch here; BatchTensors.hpp turns a Batch into tensors).
//   reader threads  -> `interleave` shards open at once, each read ahead `readAhead` records;
//                      training takes one record from each open shard in turn, evaluation reads
//                      the shards one after another in the order given
//   partition       -> record k of that stream belongs to rank k % worldSize
//   shuffle buffer  -> training only: `shuffleBuffer` records, a random one leaves as each new one
//                      enters (TensorFlow's shuffle); shard order and buffer reseeded every epoch
//   worker threads  -> tf.train.Example parse, OpenCV decode, InceptionPreprocess
//   assembler       -> puts results back in stream order, skips images that fail, fills batches
//   queue           -> at most `queueBatches` finished batches wait for next()
// Every stage is bounded, so memory does not grow with the data set.
// Determinism: the batches (order, pixels, labels) depend only on the shards, the seed, the epoch,
// rank/worldSize, interleave, shuffleBuffer, batchSize and the preprocessing settings; not on the
// number of threads or on timing. Each image's random crop, flip and colour come from a seed mixed
// from (seed, epoch, rank, its position in the epoch), whichever thread decodes it.
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
  // Data-parallel replicas: this loader delivers records k of the epoch's stream with
  // k % worldSize == rank, so the ranks' parts are disjoint, cover the epoch and differ in size
  // by at most one record. Every rank reads every shard (decoding, the expensive part, is split).
  int rank = 0;
  int worldSize = 1;
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
  std::int64_t recordsRead = 0;    // records read from the shards (every rank's)
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
