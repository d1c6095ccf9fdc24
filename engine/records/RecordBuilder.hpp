// `taxon build-records`: writes TFRecord shards of tf.train.Example (the seed's feature keys and
// shard names, `train-00000-of-00128`), labels.txt (line i is label i; labels start at 1 as in
// the seed, 0 is kept for background) and manifest.json (records per shard), from either
//   - the seed's folders: --train_directory/--validation_directory with one folder per category
//     (nested folders are levels of the category path), optionally --labels_file, or
//   - a project's catalog: its train, validation and test splits.
// Shards are written in parallel threads; each shard is atomic (temporary file, then rename).
// Original JPEG bytes are stored as they are; other formats are re-encoded as JPEG (as the
// seed's script does for PNG), and --max_side re-encodes larger images down. Broken files are
// skipped and listed; the rest still gets written. image/filename is the file's name for the
// seed's folders (as its script writes it) and the image's catalog path for a project, so that
// evaluation reports name images the app can find and relabel.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Progress.hpp"

namespace taxon::records {

struct RecordBuildSettings {
  std::filesystem::path project;         // build from this project's catalog, or:
  std::filesystem::path trainDirectory;  // the seed's folders of category folders
  std::filesystem::path validationDirectory;
  std::filesystem::path labelsFile;       // category folders to use, one per line
  std::filesystem::path outputDirectory;  // default for a project: PROJECT/records
  int trainShards = 2;
  int validationShards = 2;
  int testShards = 1;  // projects only: the test split, if any
  int numThreads = 2;
  int maxSide = 0;             // re-encode images with a longer side; 0: never
  int jpegQuality = 95;        // for re-encoded images
  std::uint64_t seed = 12345;  // order of images across shards (the seed's value)
  // Folder mode: decode every image at 1/8 size to prove it is whole (the default), or check
  // only headers, sizes and end markers (as fast as copying; a corrupt image inside then
  // surfaces when the loader skips it). Project images were checked at import either way.
  bool verifyDecode = true;

  std::vector<std::string> validate() const;
};

struct ShardInfo {
  std::string file;  // name inside the output directory
  std::int64_t records = 0;
  std::int64_t bytes = 0;
};

struct SplitRecords {
  std::string name;  // "train", "validation", "test"
  std::vector<ShardInfo> shards;
  std::int64_t records = 0;
};

struct RecordBuildReport {
  std::vector<SplitRecords> splits;
  std::vector<std::string> labels;  // labels[i] is label i + 1
  std::vector<core::FileIssue> skipped;
  std::vector<std::string> emptyCategories;  // a project's categories without images: no label
  std::int64_t reencoded = 0;
  std::int64_t bytesWritten = 0;
  bool cancelled = false;
};

// One image to write: its file, 1-based label, the content hash a project's catalog recorded at
// import (the file was then fully checked; empty for folders) and its image/filename.
struct RecordEntry {
  std::filesystem::path file;
  std::int64_t label = 0;
  std::string expectedHash;
  std::string key;  // the catalog path in a project, else the file name
};

struct SplitPlan {
  std::string name;  // "train", "validation", "test"
  int shards = 1;
  std::vector<RecordEntry> entries;
};

// What to write: the labels (labels[i] is label i + 1) and each split's images, with what was
// passed over while finding them.
struct RecordPlan {
  std::vector<std::string> labels;
  std::vector<SplitPlan> splits;
  std::vector<core::FileIssue> skipped;
  std::vector<std::string> emptyCategories;
};

// The seed's folders (--train_directory, --validation_directory, --labels_file) as a plan.
// Throws core::Error naming a folder that is not one and labels that have no images.
RecordPlan planFromFolders(const RecordBuildSettings& settings, std::stop_token stop = {});

// Writes `plan` into settings.outputDirectory (see above): shuffled with settings.seed, shards in
// settings.numThreads threads, then labels.txt and manifest.json.
RecordBuildReport writeRecords(RecordPlan plan, const RecordBuildSettings& settings,
                               const core::ProgressFn& progress = {}, std::stop_token stop = {});

// planFromFolders, then writeRecords. A project's records are built by project::buildRecords.
RecordBuildReport buildRecordsFromFolders(const RecordBuildSettings& settings,
                                          const core::ProgressFn& progress = {},
                                          std::stop_token stop = {});

// "train-00003-of-00128"
std::string shardName(const std::string& split, int index, int count);

}  // namespace taxon::records
