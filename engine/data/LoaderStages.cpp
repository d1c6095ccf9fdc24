// The pipeline's first stages (see Loader.hpp): reader threads fill the slots from the shards,
// one thread interleaves, partitions and shuffles the records, and worker threads decode and
// preprocess them.
#include <algorithm>
#include <numeric>

#include "core/Error.hpp"
#include "data/LoaderPipeline.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"

namespace taxon::data {

namespace fs = std::filesystem;

using pipeline::kImageTag;
using pipeline::kShuffleTag;
using pipeline::Record;
using pipeline::recordKey;
using pipeline::Result;

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
    std::int64_t index = 0;  // records read from the open shard
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
    record.index = o.index++;
    const bool got = o.reader->next(record.bytes);
    const std::int64_t bytes = o.reader->offset() - record.offset;
    if (!got) {
      record.endOfShard = true;
      o.reader.reset();
      o.index = 0;
      ++o.nextShard;
    }
    {
      const std::lock_guard lock(mutex_);
      bytesRead_ += bytes;
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
    const int shardCount = static_cast<int>(shardOrder_.size());
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
  const int world = settings_.worldSize;
  if (partition_.wholeShards) {
    const int place = partition_.shared[static_cast<std::size_t>(record.shard)];
    if (place >= 0 && (record.index + place) % world != settings_.rank) {
      return;  // a shared shard's record of another rank
    }
  } else if (k % world != settings_.rank) {
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

}  // namespace taxon::data
