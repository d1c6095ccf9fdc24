#include "data/Loader.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/Error.hpp"
#include "data/LoaderPipeline.hpp"

namespace taxon::data {

namespace fs = std::filesystem;

using pipeline::Cancelled;
using pipeline::kShardOrderTag;
using pipeline::Record;
using pipeline::Result;

Loader::Pipeline::Pipeline(const LoaderSettings& settings, const InceptionPreprocess& preprocess,
                           const LoaderCallbacks& callbacks, std::int64_t epoch,
                           LoaderPosition start, std::stop_token stop)
    : settings_(settings),
      preprocess_(preprocess),
      callbacks_(callbacks),
      epoch_(epoch),
      start_(start),
      train_(settings.mode == LoaderMode::kTrain) {
  partition_ = partitionEpoch(settings_, epoch_);
  shardOrder_ = partition_.shards[static_cast<std::size_t>(settings_.rank)];
  const int shardCount = static_cast<int>(shardOrder_.size());
  const int slotCount = std::max(1, std::min(settings_.interleave, shardCount));
  slots_.resize(static_cast<std::size_t>(slotCount));
  for (int i = 0; i < shardCount; ++i) {
    slots_[static_cast<std::size_t>(i % slotCount)].shards.push_back(
        shardOrder_[static_cast<std::size_t>(i)]);
  }
  const int workers = settings_.workerThreads > 0
                          ? settings_.workerThreads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  window_ = 4 * static_cast<std::int64_t>(workers) + 16;

  callerStop_.emplace(std::move(stop), [this] { requestStop(); });
  try {
    const int readers = std::min(settings_.readerThreads, slotCount);
    for (int t = 0; t < readers; ++t) {
      spawn([this, t] { readShards(t); });
    }
    spawn([this] { interleaveAndShuffle(); });
    for (int w = 0; w < workers; ++w) {
      spawn([this] { work(); });
    }
    spawn([this] { assemble(); });
  } catch (...) {  // a thread could not start: stop the others before leaving
    requestStop();
    for (auto& thread : threads_) {
      thread.join();
    }
    throw;
  }
}

Loader::Pipeline::~Pipeline() {
  requestStop();
  for (auto& thread : threads_) {
    thread.join();
  }
  callerStop_.reset();
}

void Loader::Pipeline::requestStop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  slotsChanged_.notify_all();
  workChanged_.notify_all();
  resultsChanged_.notify_all();
  readyChanged_.notify_all();
}

template <typename Body>
void Loader::Pipeline::spawn(Body body) {
  threads_.emplace_back([this, body] {
    try {
      body();
    } catch (const Cancelled&) {
    } catch (...) {
      {
        const std::lock_guard lock(mutex_);
        if (!error_) {
          error_ = std::current_exception();
        }
      }
      requestStop();
    }
  });
}

// --- assembler and queue --------------------------------------------------------------------

void Loader::Pipeline::assemble() {
  const auto& p = preprocess_.settings();
  const std::size_t imageBytes = static_cast<std::size_t>(p.height) * p.width * 3;
  const int batchSize = settings_.batchSize;
  const std::int64_t limit = partition_.batches;  // -1: no limit
  std::int64_t index = start_.batches;
  std::int64_t streamEnd = 0;  // assembled_ as this thread last saw it
  const auto newBatch = [&] {
    Batch batch;
    batch.epoch = epoch_;
    batch.index = index++;
    batch.height = p.height;
    batch.width = p.width;
    batch.images.resize(imageBytes * static_cast<std::size_t>(batchSize));
    batch.labels.reserve(static_cast<std::size_t>(batchSize));
    batch.keys.reserve(static_cast<std::size_t>(batchSize));
    return batch;
  };
  Batch batch = newBatch();
  while (limit < 0 || batch.index < limit) {
    Result result;
    {
      std::unique_lock lock(mutex_);
      waitFor(resultsChanged_, lock, [&] {
        return results_.count(assembled_) > 0 || (emittedAll_ && assembled_ == emitted_);
      });
      const auto it = results_.find(assembled_);
      if (it == results_.end()) {
        break;  // every emitted image is assembled
      }
      result = std::move(it->second);
      results_.erase(it);
      streamEnd = ++assembled_;
    }
    workChanged_.notify_all();  // the window moved
    if (result.passed) {
      continue;
    }
    if (!result.ok) {
      skip({std::move(result.key), std::move(result.reason)});
      continue;
    }
    std::memcpy(batch.images.data() + imageBytes * static_cast<std::size_t>(batch.size),
                result.image.data, imageBytes);
    batch.labels.push_back(result.label);
    batch.keys.push_back(std::move(result.key));
    ++batch.size;
    {
      const std::lock_guard lock(mutex_);
      ++imagesDecoded_;
      const auto now = core::RateMeter::Clock::now();
      if (imagesDecoded_ == 1 || now - lastRate_ >= std::chrono::milliseconds(10)) {
        rate_.add(imagesDecoded_, now);
        lastRate_ = now;
      }
    }
    if (batch.size == batchSize) {
      batch.streamEnd = streamEnd;
      publish(std::move(batch));
      batch = newBatch();
    }
  }
  {
    const std::lock_guard lock(mutex_);
    rate_.add(imagesDecoded_, core::RateMeter::Clock::now());
  }
  if (batch.size > 0 && !settings_.dropRemainder && (limit < 0 || batch.index < limit)) {
    batch.streamEnd = streamEnd;
    batch.images.resize(imageBytes * static_cast<std::size_t>(batch.size));
    publish(std::move(batch));
  }
  {
    const std::lock_guard lock(mutex_);
    finished_ = true;
  }
  readyChanged_.notify_all();
}

void Loader::Pipeline::publish(Batch&& batch) {
  {
    std::unique_lock lock(mutex_);
    const auto capacity = static_cast<std::size_t>(settings_.queueBatches);
    waitFor(readyChanged_, lock, [&] { return ready_.size() < capacity; });
    ready_.push_back(std::move(batch));
    ++batches_;
    maxQueueDepth_ = std::max(maxQueueDepth_, static_cast<int>(ready_.size()));
  }
  readyChanged_.notify_all();
}

void Loader::Pipeline::skip(SkippedImage skipped) {
  {
    const std::lock_guard lock(mutex_);
    ++imagesSkipped_;
    if (skipped_.size() < kMaxListedSkips) {
      skipped_.push_back(skipped);
    }
  }
  if (callbacks_.onSkip) {
    callbacks_.onSkip(skipped);
  }
}

std::optional<Batch> Loader::Pipeline::next() {
  std::optional<Batch> batch;
  {
    std::unique_lock lock(mutex_);
    readyChanged_.wait(lock, [&] { return error_ || stopping_ || !ready_.empty() || finished_; });
    if (error_) {
      std::rethrow_exception(error_);
    }
    if (stopping_ || ready_.empty()) {
      return std::nullopt;
    }
    batch = std::move(ready_.front());
    ready_.pop_front();
  }
  readyChanged_.notify_all();
  return batch;
}

LoaderStats Loader::Pipeline::stats() const {
  const std::lock_guard lock(mutex_);
  LoaderStats stats;
  stats.epoch = epoch_;
  stats.recordsRead = recordsRead_;
  stats.bytesRead = bytesRead_;
  stats.imagesDecoded = imagesDecoded_;
  stats.imagesSkipped = imagesSkipped_;
  stats.batches = batches_;
  stats.imagesPerSecond = rate_.perSecond();
  stats.queueDepth = static_cast<int>(ready_.size());
  stats.queueCapacity = settings_.queueBatches;
  stats.maxQueueDepth = maxQueueDepth_;
  stats.skipped = skipped_;
  return stats;
}

// --- partition ------------------------------------------------------------------------------

EpochPartition partitionEpoch(const LoaderSettings& settings, std::int64_t epoch) {
  const int shardCount = static_cast<int>(settings.shards.size());
  const int world = settings.worldSize;
  const bool train = settings.mode == LoaderMode::kTrain;
  std::vector<int> order(static_cast<std::size_t>(shardCount));
  std::iota(order.begin(), order.end(), 0);
  if (train) {
    core::SeededRandom random(core::SeededRandom::mix(
        {settings.seed, static_cast<std::uint64_t>(epoch), kShardOrderTag}));
    for (int i = shardCount - 1; i > 0; --i) {
      std::swap(order[static_cast<std::size_t>(i)],
                order[random.below(static_cast<std::uint64_t>(i) + 1)]);
    }
  }
  const auto& counts = settings.shardRecords;
  const bool known = !counts.empty() && counts.size() == settings.shards.size();
  const std::int64_t total =
      known ? std::accumulate(counts.begin(), counts.end(), std::int64_t{0}) : -1;
  const auto worldSize = static_cast<std::size_t>(world);
  EpochPartition out;
  out.shards.resize(worldSize);
  out.shared.assign(static_cast<std::size_t>(shardCount), -1);
  if (train && settings.partition == LoaderPartition::kAuto && world > 1 && shardCount >= world &&
      known) {
    // Deal the whole shards to the rank with the fewest records, then the fewest shards (so that
    // empty shards are spread too and every rank gets one).
    std::vector<int> owner(static_cast<std::size_t>(shardCount), -1);
    std::vector<std::int64_t> records(worldSize, 0);
    std::vector<int> dealt(worldSize, 0);
    const int wholeCount = shardCount - shardCount % world;
    for (int i = 0; i < wholeCount; ++i) {
      const int shard = order[static_cast<std::size_t>(i)];
      std::size_t to = 0;
      for (std::size_t r = 1; r < worldSize; ++r) {
        if (records[r] < records[to] || (records[r] == records[to] && dealt[r] < dealt[to])) {
          to = r;
        }
      }
      owner[static_cast<std::size_t>(shard)] = static_cast<int>(to);
      records[to] += counts[static_cast<std::size_t>(shard)];
      ++dealt[to];
    }
    for (int i = wholeCount; i < shardCount; ++i) {
      const int shard = order[static_cast<std::size_t>(i)];
      const int place = i - wholeCount;
      out.shared[static_cast<std::size_t>(shard)] = place;
      // Record j goes to rank (j + place) % world.
      const std::int64_t n = counts[static_cast<std::size_t>(shard)];
      for (int r = 0; r < world; ++r) {
        const int first = ((r - place) % world + world) % world;  // its first record's j
        records[static_cast<std::size_t>(r)] += n > first ? (n - first + world - 1) / world : 0;
      }
    }
    const std::int64_t fewest = *std::min_element(records.begin(), records.end());
    const std::int64_t batch = settings.batchSize;
    const std::int64_t batches =
        settings.dropRemainder ? fewest / batch : (fewest + batch - 1) / batch;
    const std::int64_t dropped =
        std::accumulate(records.begin(), records.end(), std::int64_t{0}) - fewest * world;
    if (batches > 0 &&
        static_cast<double>(dropped) <= kMaxWholeShardDrop * static_cast<double>(total)) {
      for (const int shard : order) {
        const int r = owner[static_cast<std::size_t>(shard)];
        for (int k = 0; k < world; ++k) {
          if (r == k || r < 0) {
            out.shards[static_cast<std::size_t>(k)].push_back(shard);
          }
        }
      }
      out.wholeShards = true;
      out.records = std::move(records);
      out.batches = batches;
      return out;
    }
    out.shared.assign(static_cast<std::size_t>(shardCount), -1);
  }
  for (auto& shards : out.shards) {
    shards = order;
  }
  if (known) {
    for (int r = 0; r < world; ++r) {
      out.records.push_back(total / world + (r < total % world ? 1 : 0));
    }
  }
  return out;
}

// --- Loader ---------------------------------------------------------------------------------

std::vector<std::string> LoaderSettings::validate() const {
  std::vector<std::string> problems;
  if (shards.empty()) {
    problems.push_back("no record files (shards) given");
  }
  if (batchSize < 1) {
    problems.push_back("batchSize must be at least 1 (got " + std::to_string(batchSize) + ")");
  }
  if (worldSize < 1 || rank < 0 || rank >= worldSize) {
    problems.push_back("rank must be in [0, worldSize) and worldSize at least 1 (got rank " +
                       std::to_string(rank) + " of " + std::to_string(worldSize) + ")");
  }
  if (!shardRecords.empty() && shardRecords.size() != shards.size()) {
    problems.push_back("shardRecords must give every shard's record count or none (got " +
                       std::to_string(shardRecords.size()) + " for " +
                       std::to_string(shards.size()) + " shards)");
  }
  if (std::any_of(shardRecords.begin(), shardRecords.end(), [](auto n) { return n < 0; })) {
    problems.push_back("shardRecords must not be negative");
  }
  if (interleave < 1) {
    problems.push_back("interleave must be at least 1 (got " + std::to_string(interleave) + ")");
  }
  if (position.records < 0 || position.batches < 0) {
    problems.push_back("the start position must not be negative (got record " +
                       std::to_string(position.records) + ", batch " +
                       std::to_string(position.batches) + ")");
  }
  if (shuffleBuffer < 1) {
    problems.push_back("shuffleBuffer must be at least 1 record (got " +
                       std::to_string(shuffleBuffer) + ")");
  }
  if (readerThreads < 1) {
    problems.push_back("readerThreads must be at least 1 (got " + std::to_string(readerThreads) +
                       ")");
  }
  if (workerThreads < 0) {
    problems.push_back("workerThreads must be 0 (one per hardware thread) or more (got " +
                       std::to_string(workerThreads) + ")");
  }
  if (queueBatches < 1) {
    problems.push_back("queueBatches must be at least 1 (got " + std::to_string(queueBatches) +
                       ")");
  }
  if (readAhead < 1) {
    problems.push_back("readAhead must be at least 1 (got " + std::to_string(readAhead) + ")");
  }
  for (const auto& problem : preprocess.validate()) {
    problems.push_back("preprocessing: " + problem);
  }
  return problems;
}

namespace {

const LoaderSettings& checked(const LoaderSettings& settings) {
  core::throwIfInvalid("loader", settings.validate());
  for (const auto& shard : settings.shards) {
    std::error_code error;
    if (!fs::is_regular_file(shard, error)) {
      core::throwFileError(shard, "no such record file");
    }
  }
  return settings;
}

}  // namespace

Loader::Loader(LoaderSettings settings, std::stop_token stop, LoaderCallbacks callbacks)
    : settings_(checked(settings)),
      preprocess_(settings_.preprocess),
      stop_(std::move(stop)),
      callbacks_(std::move(callbacks)) {
  startEpoch(settings_.epoch, settings_.position);
}

Loader::~Loader() = default;

void Loader::startEpoch(std::int64_t epoch, LoaderPosition position) {
  pipeline_.reset();
  epoch_ = epoch;
  pipeline_ =
      std::make_unique<Pipeline>(settings_, preprocess_, callbacks_, epoch_, position, stop_);
}

std::optional<Batch> Loader::next() {
  return pipeline_->next();
}

LoaderStats Loader::stats() const {
  return pipeline_->stats();
}
LoaderSettings shuffledEvaluationCrops(std::vector<fs::path> shards, int side, int batchSize,
                                       std::uint64_t seed, std::int64_t images, int workerThreads) {
  LoaderSettings s;
  s.shards = std::move(shards);
  s.mode = LoaderMode::kTrain;
  s.batchSize = batchSize;
  s.seed = seed;
  s.shuffleBuffer = static_cast<int>(std::clamp<std::int64_t>(images, 1, 8192));
  auto& p = s.preprocess;
  p.height = side;
  p.width = side;
  p.minArea = p.centralFraction * p.centralFraction;
  p.maxArea = p.minArea;
  p.minAspect = 1.0;
  p.maxAspect = 1.0;
  p.flip = false;
  p.colour = false;
  s.workerThreads = workerThreads;
  s.queueBatches = 2;
  return s;
}

}  // namespace taxon::data
