#include <cctype>
#include <cstdio>
#include <fstream>

#include "core/CategoryPath.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "image/CategoryFolders.hpp"
#include "project/import/ImportSources.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"
#include "records/RecordSet.hpp"

namespace taxon::project::importer {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> readLabelsFile(const fs::path& file) {
  std::vector<std::string> labels;
  if (file.empty()) {
    return labels;
  }
  std::ifstream in(file);
  if (!in) {
    core::throwFileError(file, "cannot open the labels file");
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    labels.push_back(line);
  }
  return labels;
}

std::string extensionFor(const std::string& format) {
  std::string lower;
  for (char c : format) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower == "jpeg" || lower == "jpg" || lower.empty()) {
    return ".jpg";
  }
  return "." + lower;
}

void extractShard(const fs::path& shard, const std::vector<std::string>& labelNames,
                  const fs::path& projectDir, std::int64_t limit, Collected& out,
                  const std::stop_token& stop) {
  const std::string shardName = shard.filename().string();
  const Split split = shardName.starts_with("validation") ? Split::Validation
                      : shardName.starts_with("train")    ? Split::Train
                                                          : Split::Unassigned;
  records::RecordReader::Options options;
  options.skipCorrupt = true;
  options.onDamage = [&out](const records::RecordDamage& d) {
    out.issues.push_back({d.file.string() + " @ byte " + std::to_string(d.offset), d.what});
  };
  records::RecordReader reader(shard, options);
  const fs::path dir = projectDir / "images" / "tfrecord" / core::safeFileName(shardName);
  fs::create_directories(dir);
  core::removeDeadTemporaries(dir);  // of an import that was killed
  std::string payload;
  std::int64_t index = 0;
  while ((limit <= 0 || index < limit) && !stop.stop_requested()) {
    const std::int64_t offset = reader.offset();
    if (!reader.next(payload)) {
      break;
    }
    const std::string where = shard.string() + " @ byte " + std::to_string(offset);
    records::ImageExample example;
    try {
      example = records::decodeExample(payload);
    } catch (const core::Error& e) {
      out.issues.push_back({where, e.what()});
      continue;
    }
    std::string category = example.text;
    if (category.empty() && example.label >= 1 &&
        static_cast<std::size_t>(example.label) <= labelNames.size()) {
      category =
          labelNames[static_cast<std::size_t>(example.label - 1)];  // 1-based, 0 = background
    }
    if (category.empty()) {
      category = "label " + std::to_string(example.label);
    }
    try {
      category = core::normalizeCategoryPath(category);
    } catch (const core::Error& e) {
      out.issues.push_back({where, e.what()});
      continue;
    }
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%06lld-", static_cast<long long>(index++));
    std::string base = fs::path(example.filename).stem().string();
    const fs::path file = dir / (prefix + core::safeFileName(base.empty() ? "image" : base, 80) +
                                 extensionFor(example.format));
    core::writeFileAtomic(file, example.encoded, /*durable=*/false);
    out.candidates.push_back({file.string(), category, split});
  }
}

}  // namespace

void extractTfRecords(const fs::path& source, const ImportSettings& settings,
                      const fs::path& projectDir, Collected& out, const std::stop_token& stop) {
  fs::path labelsFile = settings.labelsFile;
  std::vector<fs::path> shards;
  if (fs::is_directory(source)) {
    for (const auto& entry : image::sortedEntries(source, out.issues)) {
      if (fs::is_regular_file(entry) && records::isShardName(entry.filename().string())) {
        shards.push_back(entry);
      }
    }
    if (labelsFile.empty() && fs::exists(source / "labels.txt")) {
      labelsFile = source / "labels.txt";
    }
  } else {
    shards.push_back(source);
  }
  if (shards.empty()) {
    core::throwFileError(source,
                         "no TFRecord shards here (expected names like "
                         "train-00000-of-00128 or *.tfrecord)");
  }
  const auto labelNames = readLabelsFile(labelsFile);
  for (const auto& shard : shards) {
    if (stop.stop_requested()) {
      return;
    }
    extractShard(shard, labelNames, projectDir, settings.limit, out, stop);
  }
}

}  // namespace taxon::project::importer
