// A folder of record shards as training, evaluation and classification find it: the shards of each
// split ("train-00000-of-00004", "validation-...", "test-..."), the category names and how the
// stored labels map to classes.
//   `taxon build-records` writes manifest.json (splits, record counts, num_classes, label_offset)
//   and labels.txt (line 1 names class 0, stored as label label_offset: the seed's 1).
//   The seed's build_image_data.py writes shards and the labels file it was given; without a
//   manifest, labels.txt gives the categories, the offset is the seed's 1 and records are counted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace taxon::records {

struct RecordSplit {
  std::vector<std::filesystem::path> shards;  // sorted by name
  std::int64_t records = 0;
  // Records in each shard, parallel to `shards` (the manifest's, or counted); empty when a
  // manifest does not give them.
  std::vector<std::int64_t> shardRecords;
};

struct RecordSet {
  std::filesystem::path directory;
  std::vector<std::string> categories;  // class c (0-based) is categories[c]
  std::int64_t labelOffset = 1;         // stored label = class + labelOffset
  std::map<std::string, RecordSplit> splits;

  std::int64_t numClasses() const { return static_cast<std::int64_t>(categories.size()); }
  // The split's shards and count; throws core::Error naming the folder and the splits it has
  // when `name` has no shards.
  const RecordSplit& split(const std::string& name) const;
  // The split's records; 0 when it has no shards or its shards hold none.
  std::int64_t count(const std::string& name) const;
  // Every split with its records, for messages: "test 100, train 900, validation 0".
  std::string describeSplits() const;
  // Why `name` cannot be evaluated: "the 'validation' split of DIR is empty (test 100, train
  // 900)"; empty when it has records.
  std::string emptySplitReason(const std::string& name) const;
};

// Written by build-records before it replaces the first shard of a folder and removed once the
// folder's manifest is written: while it is there the folder holds a mix of two builds (stopped,
// killed or out of disk half-way), whose shards may number the labels differently.
inline constexpr const char* kIncompleteMarker = "build-records.incomplete";

// Reads `directory` (see above). Throws core::Error naming the file at fault: no such folder, no
// labels, a manifest that does not parse or disagrees with labels.txt, a shard listed but missing,
// a build that did not finish (kIncompleteMarker).
RecordSet openRecordSet(const std::filesystem::path& directory);

// The regular files in `directory` whose names start with `prefix` ("train-", "validation-"),
// less temporary ones, sorted by name. Throws core::Error when the directory cannot be read.
std::vector<std::filesystem::path> listShards(const std::filesystem::path& directory,
                                              std::string_view prefix);

// RecordWriter's temporary files ("NAME.tmp-PID"): shards still being written, or left
// half-written by a process that was killed. Never read as shards.
bool isTemporaryShardName(std::string_view name);
// Whether a file name is a record shard's: "train-00000-of-00004", or *.tfrecord(s), and not a
// temporary file.
bool isShardName(std::string_view name);

}  // namespace taxon::records
