#include "records/ShardCheck.hpp"

#include <algorithm>
#include <system_error>

#include "core/Error.hpp"
#include "records/RecordFile.hpp"
#include "records/RecordSet.hpp"

namespace taxon::records {

namespace fs = std::filesystem;

std::int64_t ShardReport::records() const {
  std::int64_t total = 0;
  for (const auto& shard : shards) {
    total += shard.records;
  }
  return total;
}

std::int64_t ShardReport::damagedRecords() const {
  std::int64_t total = 0;
  for (const auto& shard : shards) {
    total += static_cast<std::int64_t>(shard.damaged.size());
  }
  return total;
}

std::vector<fs::path> findShards(const fs::path& path) {
  std::vector<fs::path> shards;
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && isShardName(name)) {
        shards.push_back(entry.path());
      }
    }
    std::sort(shards.begin(), shards.end());
  } else {
    shards.push_back(path);
  }
  if (shards.empty()) {
    core::throwFileError(path, "no TFRecord shards here and not a project (no taxon.sqlite)");
  }
  return shards;
}

ShardCheck checkShard(const fs::path& file, bool skipCorrupt) {
  ShardCheck check;
  check.file = file;
  // A damage's range ends where the reader next stands: at the next damage, the next sound
  // record, or the end of the file. Until then its end is unknown (-1).
  const auto closeOpenRange = [&check](std::int64_t at) {
    if (!check.damaged.empty() && check.damaged.back().end < 0) {
      check.damaged.back().end = at;
    }
  };
  RecordReader::Options options;
  options.skipCorrupt = skipCorrupt;
  options.onDamage = [&](const RecordDamage& damage) {
    closeOpenRange(damage.offset);
    check.damaged.push_back({damage.offset, -1, damage.what});
  };
  RecordReader reader(file, options);
  std::string payload;
  while (reader.next(payload)) {
    closeOpenRange(reader.offset() -
                   static_cast<std::int64_t>(sizeof(RecordFrame::header) + payload.size() +
                                             sizeof(RecordFrame::footer)));
    ++check.records;
  }
  std::error_code error;
  const auto size = fs::file_size(file, error);
  closeOpenRange(error ? reader.offset() : static_cast<std::int64_t>(size));
  return check;
}

ShardReport verifyShards(const std::vector<fs::path>& files, const ShardCheckOptions& options) {
  ShardReport report;
  for (const auto& file : files) {
    report.shards.push_back(checkShard(file, options.skipCorrupt));
    if (options.onShard) {
      options.onShard(report.shards.back());
    }
  }
  return report;
}

ShardReport verifyShards(const fs::path& path, const ShardCheckOptions& options) {
  return verifyShards(findShards(path), options);
}

}  // namespace taxon::records
