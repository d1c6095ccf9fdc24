#include "data/Loader.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include <opencv2/core.hpp>

#include "core/Error.hpp"
#include "core/Progress.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"

namespace taxon::data {

namespace fs = std::filesystem;

namespace {

// Thrown inside the loader's threads when the pipeline stops; never leaves them.
struct Cancelled {};

// Tags that keep the seeds of the different random streams apart.
constexpr std::uint64_t kShardOrderTag = 0x5348415244ULL;  // "SHARD"
constexpr std::uint64_t kShuffleTag = 0x53485546ULL;       // "SHUF"
constexpr std::uint64_t kImageTag = 0x494d47ULL;           // "IMG"

struct Record {
  std::string bytes;
  int shard = -1;
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

std::string recordKey(const fs::path& shard, std::int64_t offset) {
  return shard.filename().string() + "@" + std::to_string(offset);
}

}  // namespace

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
  // Shards are spread over `interleave` slots: slot s reads shards s, s + K, s + 2K, ... of the
  // epoch's shard order, one at a time, into its queue.
  struct Slot {
    std::vector<int> shards;
    std::deque<Record> queue;
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
  bool pull(int slot, Record& record);
  void interleaveAndShuffle();
  void take(Record&& record, core::SeededRandom& shuffleRandom, std::vector<Record>& buffer);
  void emit(Record&& record);
  void work();
  Result process(std::int64_t sequence, const Record& record) const;
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

  std::vector<int> shardOrder_;
  std::vector<Slot> slots_;
  std::int64_t streamIndex_ = 0;  // records of every rank taken from the slots so far
  std::deque<std::pair<std::int64_t, Record>> work_;
  std::int64_t emitted_ = 0;
  bool emittedAll_ = false;
  std::map<std::int64_t, Result> results_;
  std::int64_t assembled_ = 0;  // the next sequence number the assembler needs
  std::deque<Batch> ready_;
  bool finished_ = false;

  // Statistics, under mutex_.
  std::int64_t recordsRead_ = 0;
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

Loader::Pipeline::Pipeline(const LoaderSettings& settings, const InceptionPreprocess& preprocess,
                           const LoaderCallbacks& callbacks, std::int64_t epoch,
                           LoaderPosition start, std::stop_token stop)
    : settings_(settings),
      preprocess_(preprocess),
      callbacks_(callbacks),
      epoch_(epoch),
      start_(start),
      train_(settings.mode == LoaderMode::kTrain) {
  const int shardCount = static_cast<int>(settings_.shards.size());
  shardOrder_.resize(static_cast<std::size_t>(shardCount));
  std::iota(shardOrder_.begin(), shardOrder_.end(), 0);
  if (train_) {
    // The same order on every rank: the partition below relies on it.
    core::SeededRandom random(core::SeededRandom::mix(
        {settings_.seed, static_cast<std::uint64_t>(epoch_), kShardOrderTag}));
    for (int i = shardCount - 1; i > 0; --i) {
      std::swap(shardOrder_[static_cast<std::size_t>(i)],
                shardOrder_[random.below(static_cast<std::uint64_t>(i) + 1)]);
    }
  }
  const int slotCount = std::min(settings_.interleave, shardCount);
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

template <typename Ready>
void Loader::Pipeline::waitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                               Ready ready) {
  cv.wait(lock, [&] { return stopping_ || ready(); });
  if (stopping_) {
    throw Cancelled{};
  }
}

// --- readers ------------------------------------------------------------------------------

void Loader::Pipeline::readShards(int thread) {
  const int readers = std::min(settings_.readerThreads, static_cast<int>(slots_.size()));
  std::vector<int> mine;
  for (int s = thread; s < static_cast<int>(slots_.size()); s += readers) {
    mine.push_back(s);
  }
  struct Open {
    std::unique_ptr<records::RecordReader> reader;
    std::size_t nextShard = 0;
  };
  std::vector<Open> open(mine.size());
  const auto readAhead = static_cast<std::size_t>(settings_.readAhead);
  std::size_t cursor = 0;
  while (true) {
    int pick = -1;
    {
      std::unique_lock lock(mutex_);
      waitFor(slotsChanged_, lock, [&] {
        bool anyLeft = false;
        for (std::size_t i = 0; i < mine.size(); ++i) {
          const std::size_t j = (cursor + i) % mine.size();
          const Slot& slot = slots_[static_cast<std::size_t>(mine[j])];
          if (!slot.finished) {
            anyLeft = true;
            if (slot.queue.size() < readAhead) {
              pick = static_cast<int>(j);
              return true;
            }
          }
        }
        return !anyLeft;
      });
      if (pick < 0) {
        return;  // all my slots are read
      }
    }
    cursor = static_cast<std::size_t>(pick) + 1;
    // Only this thread touches this slot's shard list and reader; the queue needs the lock.
    Slot& slot = slots_[static_cast<std::size_t>(mine[static_cast<std::size_t>(pick)])];
    Open& o = open[static_cast<std::size_t>(pick)];
    const int shard = slot.shards[o.nextShard];
    const fs::path& path = settings_.shards[static_cast<std::size_t>(shard)];
    if (!o.reader) {
      records::RecordReader::Options options;
      options.skipCorrupt = settings_.skipCorruptRecords;
      options.onDamage = [this](const records::RecordDamage& damage) {
        skip({recordKey(damage.file, damage.offset),
              core::fileMessage(damage.file,
                                "byte " + std::to_string(damage.offset) + ": " + damage.what)});
      };
      o.reader = std::make_unique<records::RecordReader>(path, std::move(options));
    }
    Record record;
    record.shard = shard;
    record.offset = o.reader->offset();
    if (!o.reader->next(record.bytes)) {
      record.endOfShard = true;
      o.reader.reset();
      ++o.nextShard;
    }
    {
      const std::lock_guard lock(mutex_);
      slot.queue.push_back(std::move(record));
      if (o.nextShard == slot.shards.size()) {
        slot.finished = true;
      }
    }
    slotsChanged_.notify_all();
  }
}

bool Loader::Pipeline::pull(int slotIndex, Record& record) {
  Slot& slot = slots_[static_cast<std::size_t>(slotIndex)];
  {
    std::unique_lock lock(mutex_);
    waitFor(slotsChanged_, lock, [&] { return !slot.queue.empty() || slot.finished; });
    if (slot.queue.empty()) {
      return false;
    }
    record = std::move(slot.queue.front());
    slot.queue.pop_front();
  }
  slotsChanged_.notify_all();
  return true;
}

// --- interleave, partition, shuffle ---------------------------------------------------------

void Loader::Pipeline::interleaveAndShuffle() {
  core::SeededRandom shuffleRandom(
      core::SeededRandom::mix({settings_.seed, static_cast<std::uint64_t>(epoch_),
                               static_cast<std::uint64_t>(settings_.rank), kShuffleTag}));
  std::vector<Record> buffer;
  const int slotCount = static_cast<int>(slots_.size());
  Record record;
  if (train_) {
    // One record from each slot in turn; a slot whose shards are all read drops out.
    std::vector<int> active(static_cast<std::size_t>(slotCount));
    std::iota(active.begin(), active.end(), 0);
    std::size_t cursor = 0;
    while (!active.empty()) {
      if (!pull(active[cursor], record)) {
        active.erase(active.begin() + static_cast<std::ptrdiff_t>(cursor));
        if (cursor >= active.size()) {
          cursor = 0;
        }
        continue;
      }
      if (record.endOfShard) {
        continue;  // the slot goes on with its next shard
      }
      cursor = (cursor + 1) % active.size();
      take(std::move(record), shuffleRandom, buffer);
    }
    // Drain the buffer in random order.
    while (!buffer.empty()) {
      const auto i = static_cast<std::size_t>(shuffleRandom.below(buffer.size()));
      Record out = std::move(buffer[i]);
      buffer[i] = std::move(buffer.back());
      buffer.pop_back();
      emit(std::move(out));
    }
  } else {
    // Shard i of the given order is the (i / K)-th shard of slot i % K.
    const int shardCount = static_cast<int>(settings_.shards.size());
    for (int i = 0; i < shardCount; ++i) {
      while (pull(i % slotCount, record) && !record.endOfShard) {
        take(std::move(record), shuffleRandom, buffer);
      }
    }
  }
  {
    const std::lock_guard lock(mutex_);
    emittedAll_ = true;
  }
  workChanged_.notify_all();
  resultsChanged_.notify_all();
}

void Loader::Pipeline::take(Record&& record, core::SeededRandom& shuffleRandom,
                            std::vector<Record>& buffer) {
  std::int64_t k = 0;
  {
    const std::lock_guard lock(mutex_);
    k = streamIndex_++;
    ++recordsRead_;
  }
  if (k % settings_.worldSize != settings_.rank) {
    return;
  }
  if (!train_) {
    emit(std::move(record));
    return;
  }
  const auto capacity = static_cast<std::size_t>(settings_.shuffleBuffer);
  if (buffer.size() < capacity) {
    buffer.push_back(std::move(record));
    return;
  }
  const auto i = static_cast<std::size_t>(shuffleRandom.below(capacity));
  Record out = std::move(buffer[i]);
  buffer[i] = std::move(record);
  emit(std::move(out));
}

void Loader::Pipeline::emit(Record&& record) {
  {
    std::unique_lock lock(mutex_);
    // Bounds the images between the assembler and the newest one handed out.
    waitFor(workChanged_, lock, [&] { return emitted_ < assembled_ + window_; });
    work_.emplace_back(emitted_++, std::move(record));
  }
  workChanged_.notify_all();
}

// --- workers --------------------------------------------------------------------------------

void Loader::Pipeline::work() {
  while (true) {
    std::pair<std::int64_t, Record> item;
    {
      std::unique_lock lock(mutex_);
      waitFor(workChanged_, lock, [&] { return !work_.empty() || emittedAll_; });
      if (work_.empty()) {
        return;
      }
      item = std::move(work_.front());
      work_.pop_front();
    }
    Result result = process(item.first, item.second);
    {
      const std::lock_guard lock(mutex_);
      results_.emplace(item.first, std::move(result));
    }
    resultsChanged_.notify_all();
  }
}

Result Loader::Pipeline::process(std::int64_t sequence, const Record& record) const {
  Result result;
  if (sequence < start_.records) {
    result.passed = true;
    return result;
  }
  result.key = recordKey(settings_.shards[static_cast<std::size_t>(record.shard)], record.offset);
  try {
    const records::ImageExample example = records::decodeExample(record.bytes);
    if (!example.filename.empty()) {
      result.key = example.filename;
    }
    result.label = example.label;
    const auto& p = preprocess_.settings();
    result.image.create(p.height, p.width, CV_8UC3);
    if (train_) {
      const std::uint64_t seed =
          core::SeededRandom::mix({settings_.seed, static_cast<std::uint64_t>(epoch_),
                                   static_cast<std::uint64_t>(settings_.rank),
                                   static_cast<std::uint64_t>(sequence), kImageTag});
      preprocess_.train(example.encoded, seed, result.image, result.key);
    } else {
      preprocess_.eval(example.encoded, result.image, result.key);
    }
    result.ok = true;
  } catch (const std::exception& e) {  // core::Error, cv::Exception, bad_alloc of a huge image
    result.ok = false;
    result.image.release();
    result.reason = e.what();
  }
  return result;
}

// --- assembler and queue --------------------------------------------------------------------

void Loader::Pipeline::assemble() {
  const auto& p = preprocess_.settings();
  const std::size_t imageBytes = static_cast<std::size_t>(p.height) * p.width * 3;
  const int batchSize = settings_.batchSize;
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
  while (true) {
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
  if (batch.size > 0 && !settings_.dropRemainder) {
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
}  // namespace taxon::data
