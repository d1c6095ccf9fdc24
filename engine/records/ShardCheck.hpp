// Verifies TFRecord shards: reads every record and checks both of its checksums, as `taxon info`
// does for a folder of shards. The report says, per shard, how many records are sound and which
// byte ranges yielded none and why, so a caller can print it or decide what to rebuild.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace taxon::records {

// Bytes [begin, end) of a shard that yielded no record: a record whose checksum failed, or what
// the reader passed over to find the next valid header (to the end of the file when it found none).
struct DamagedRange {
  std::int64_t begin = 0;  // byte offset of the damaged record's header
  std::int64_t end = 0;    // where reading resumed: the next sound record, damage, or end of file
  std::string reason;      // "record payload checksum mismatch", "truncated record: ...", ...
};

struct ShardCheck {
  std::filesystem::path file;
  std::int64_t records = 0;           // records whose two checksums are valid
  std::vector<DamagedRange> damaged;  // in file order; one per damaged record
};

struct ShardReport {
  std::vector<ShardCheck> shards;  // in the order verified
  std::int64_t records() const;
  std::int64_t damagedRecords() const;
};

struct ShardCheckOptions {
  // false: the first damage throws core::Error naming the file and byte offset (what
  // RecordReader does), and shards after it are not read. true: damage is recorded and reading
  // goes on.
  bool skipCorrupt = false;
  // Called with each shard's result as soon as it is read (before the next one is), so a caller
  // can show progress; on the calling thread.
  std::function<void(const ShardCheck&)> onShard;
};

// The shards in `path`: the files of a folder whose names are shard names (isShardName), sorted,
// less temporary files ("NAME.tmp-PID"); or `path` itself when it is a file. Throws core::Error
// naming `path` when a folder holds none.
std::vector<std::filesystem::path> findShards(const std::filesystem::path& path);

// Reads one shard to its end. Throws core::Error when it cannot be opened, and (without
// skipCorrupt) at its first damage.
ShardCheck checkShard(const std::filesystem::path& file, bool skipCorrupt);

ShardReport verifyShards(const std::vector<std::filesystem::path>& files,
                         const ShardCheckOptions& options = {});
// The shards findShards(path) finds.
ShardReport verifyShards(const std::filesystem::path& path, const ShardCheckOptions& options = {});

}  // namespace taxon::records
