// The machinery behind Loader: one epoch's pipeline (threads, queues, counters) and the records
// and results that flow through it. Private to data/: Loader.cpp starts and drains the pipeline,
// LoaderStages.cpp holds its reader, interleave and decoder stages.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/Progress.hpp"
#include "data/Loader.hpp"

namespace taxon::data {

namespace pipeline {

// Thrown inside the loader's threads when the pipeline stops; never leaves them.
struct Cancelled {};

// Tags that keep the seeds of the different random streams apart.
inline constexpr std::uint64_t kShardOrderTag = 0x5348415244ULL;  // "SHARD"
inline constexpr std::uint64_t kShuffleTag = 0x53485546ULL;       // "SHUF"
inline constexpr std::uint64_t kImageTag = 0x494d47ULL;           // "IMG"

struct Record {
  std::string bytes;
  int shard = -1;
  std::int64_t index = 0;  // its place among the readable records of its shard
  std::int64_t offset = 0;
  bool endOfShard = false;  // marks the end of a shard in a slot's queue
};

struct Result {
  bool ok = false;
  cv::Mat image;  // height x width CV_8UC3, R, G, B, continuous
  std::int64_t label = 0;
  std::string key;
  std::string reason;
  bool passed = false;  // before the start position: neither decoded nor delivered
};

inline std::string recordKey(const std::filesystem::path& shard, std::int64_t offset) {
  return shard.filename().string() + "@" + std::to_string(offset);
}

}  // namespace pipeline

// One epoch of the pipeline: its threads, queues and counters. See Loader.hpp for the stages.
class Loader::Pipeline {
 public:
  Pipeline(const LoaderSettings& settings, const InceptionPreprocess& preprocess,
           const LoaderCallbacks& callbacks, std::int64_t epoch, LoaderPosition start,
           std::stop_token stop);
  ~Pipeline();

  std::optional<Batch> next();
  LoaderStats stats() const;

 private:
  // This rank's shards are spread over `interleave` slots: slot s reads shards s, s + K, s + 2K,
  // ... of its shard order, one at a time, into its queue.
  struct Slot {
    std::vector<int> shards;
    std::deque<pipeline::Record> queue;
    bool finished = false;  // every shard read (the last end marker may still be queued)
  };

  void requestStop();
  // Runs `body` on a new thread; any exception stops the pipeline and is kept for next().
  template <typename Body>
  void spawn(Body body);
  // Waits on `cv` until `ready()`; throws Cancelled once the pipeline stops.
  template <typename Ready>
  void waitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Ready ready);

  void readShards(int thread);
  // Pops the next record of `slot`; false when the slot has nothing left.
  bool pull(int slot, pipeline::Record& record);
  void interleaveAndShuffle();
  void take(pipeline::Record&& record, core::SeededRandom& shuffleRandom,
            std::vector<pipeline::Record>& buffer);
  void emit(pipeline::Record&& record);
  void work();
  pipeline::Result process(std::int64_t sequence, const pipeline::Record& record) const;
  void assemble();
  void publish(Batch&& batch);
  void skip(SkippedImage skipped);

  const LoaderSettings& settings_;
  const InceptionPreprocess& preprocess_;
  const LoaderCallbacks& callbacks_;
  const std::int64_t epoch_;
  const LoaderPosition start_;
  const bool train_;
  std::int64_t window_ = 0;  // images between the assembler and the newest emitted one

  mutable std::mutex mutex_;
  std::condition_variable slotsChanged_;
  std::condition_variable workChanged_;
  std::condition_variable resultsChanged_;
  std::condition_variable readyChanged_;
  bool stopping_ = false;
  std::exception_ptr error_;

  EpochPartition partition_;
  std::vector<int> shardOrder_;  // the shards this rank reads, in order
  std::vector<Slot> slots_;
  std::int64_t streamIndex_ = 0;  // records of every rank taken from the slots so far
  std::deque<std::pair<std::int64_t, pipeline::Record>> work_;
  std::int64_t emitted_ = 0;
  bool emittedAll_ = false;
  std::map<std::int64_t, pipeline::Result> results_;
  std::int64_t assembled_ = 0;  // the next sequence number the assembler needs
  std::deque<Batch> ready_;
  bool finished_ = false;

  // Statistics, under mutex_.
  std::int64_t recordsRead_ = 0;
  std::int64_t bytesRead_ = 0;
  std::int64_t imagesDecoded_ = 0;
  std::int64_t imagesSkipped_ = 0;
  std::int64_t batches_ = 0;
  int maxQueueDepth_ = 0;
  std::vector<SkippedImage> skipped_;
  core::RateMeter rate_{std::chrono::seconds(5)};
  core::RateMeter::Clock::time_point lastRate_{};

  std::vector<std::thread> threads_;
  // Last member: its callback touches the members above, so it must be registered after them
  // and unregistered (which waits for a running callback) before they go.
  std::optional<std::stop_callback<std::function<void()>>> callerStop_;
};

template <typename Ready>
void Loader::Pipeline::waitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                               Ready ready) {
  cv.wait(lock, [&] { return stopping_ || ready(); });
  if (stopping_) {
    throw pipeline::Cancelled{};
  }
}

}  // namespace taxon::data
