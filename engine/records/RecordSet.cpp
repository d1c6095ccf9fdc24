#include "records/RecordSet.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "core/JsonNumbers.hpp"
#include "records/RecordFile.hpp"

namespace taxon::records {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> readLabelsTxt(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    core::throwFileError(path, "cannot read the category names (labels.txt)");
  }
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty()) {
      labels.push_back(line);
    }
  }
  if (labels.empty()) {
    core::throwFileError(path, "holds no category names");
  }
  return labels;
}

}  // namespace

std::int64_t RecordSet::count(const std::string& name) const {
  const auto it = splits.find(name);
  return it == splits.end() || it->second.shards.empty() ? 0 : it->second.records;
}

std::string RecordSet::describeSplits() const {
  std::string out;
  for (const auto& [name, split] : splits) {
    out += (out.empty() ? "" : ", ") + name + " " + std::to_string(split.records);
  }
  return out.empty() ? "no splits" : out;
}

std::string RecordSet::emptySplitReason(const std::string& name) const {
  if (count(name) > 0) {
    return {};
  }
  return "the '" + name + "' split of " + directory.string() + " is empty (" + describeSplits() +
         ")";
}

const RecordSplit& RecordSet::split(const std::string& name) const {
  const auto it = splits.find(name);
  if (it == splits.end() || it->second.shards.empty()) {
    std::string have;
    for (const auto& [splitName, split] : splits) {
      if (!split.shards.empty()) {
        have += (have.empty() ? "" : ", ") + splitName;
      }
    }
    core::throwFileError(directory, "has no '" + name + "' record files (" +
                                        (have.empty() ? "it has none" : "it has: " + have) + ")");
  }
  return it->second;
}

RecordSet openRecordSet(const fs::path& directory) {
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    core::throwFileError(directory, "no such folder of record files");
  }
  if (fs::exists(directory / kIncompleteMarker, error)) {
    core::throwFileError(directory / kIncompleteMarker,
                         "taxon build-records stopped before it finished this folder, which now "
                         "mixes shards of two builds; run build-records again");
  }
  RecordSet set;
  set.directory = directory;
  const fs::path labelsPath = directory / "labels.txt";
  const fs::path manifestPath = directory / "manifest.json";
  if (!fs::exists(labelsPath, error)) {
    core::throwFileError(directory,
                         "has no labels.txt naming the categories (taxon build-records writes "
                         "one; for the seed's shards, copy its labels file there)");
  }
  set.categories = readLabelsTxt(labelsPath);
  if (fs::exists(manifestPath, error)) {
    nlohmann::json manifest;
    try {
      std::ifstream in(manifestPath, std::ios::binary);
      manifest = nlohmann::json::parse(in);
      set.labelOffset = core::wholeFieldOr<std::int64_t>(manifest, "label_offset", 1);
      const auto classes =
          core::wholeFieldOr<std::int64_t>(manifest, "num_classes", set.numClasses());
      if (classes != set.numClasses()) {
        core::throwFileError(manifestPath, "says " + std::to_string(classes) +
                                               " categories but labels.txt names " +
                                               std::to_string(set.numClasses()));
      }
      for (const auto& [name, split] : manifest.at("splits").items()) {
        RecordSplit& out = set.splits[name];
        out.records = core::wholeField<std::int64_t>(split, "records");
        std::vector<std::pair<fs::path, std::int64_t>> listed;
        bool counted = true;
        for (const auto& shard : split.at("shards")) {
          const fs::path path = directory / shard.at("file").get<std::string>();
          if (!fs::is_regular_file(path, error)) {
            core::throwFileError(path, "listed in manifest.json but missing");
          }
          counted = counted && shard.contains("records");
          listed.emplace_back(path, core::wholeFieldOr<std::int64_t>(shard, "records", -1));
        }
        std::sort(listed.begin(), listed.end());
        for (const auto& [path, records] : listed) {
          out.shards.push_back(path);
          if (counted) {
            out.shardRecords.push_back(records);
          }
        }
      }
    } catch (const nlohmann::json::exception& e) {
      core::throwFileError(manifestPath, std::string("is not a valid manifest: ") + e.what());
    }
    return set;
  }
  // The seed's layout: shards by prefix, their readable records counted (a damaged record is
  // named by whatever reads its split, not by opening the set: a damaged training shard must not
  // stop the evaluation of the validation split).
  for (const std::string name : {"train", "validation", "test"}) {
    RecordSplit split;
    split.shards = listShards(directory, name + "-");
    for (const auto& shard : split.shards) {
      split.shardRecords.push_back(countRecords(shard, /*skipCorrupt=*/true));
      split.records += split.shardRecords.back();
    }
    if (!split.shards.empty()) {
      set.splits[name] = std::move(split);
    }
  }
  return set;
}

std::vector<fs::path> listShards(const fs::path& directory, std::string_view prefix) {
  std::error_code error;
  std::vector<fs::path> shards;
  fs::directory_iterator it(directory, error);
  if (error) {
    core::throwFileError(directory, "cannot list the record files: " + error.message());
  }
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.compare(0, prefix.size(), prefix) == 0 &&
        !isTemporaryShardName(name)) {
      shards.push_back(entry.path());
    }
  }
  std::sort(shards.begin(), shards.end());
  return shards;
}

bool isTemporaryShardName(std::string_view name) {
  return name.find(".tmp-") != std::string_view::npos;
}

bool isShardName(std::string_view name) {
  return !isTemporaryShardName(name) &&
         (name.find("-of-") != std::string_view::npos || name.ends_with(".tfrecord") ||
          name.ends_with(".tfrecords"));
}

}  // namespace taxon::records
