#include "records/RecordBuilder.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <thread>

#include "core/CategoryPath.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "core/SeededRandom.hpp"
#include "image/CategoryFolders.hpp"
#include "image/ImageCheck.hpp"
#include "records/ImageExample.hpp"
#include "records/RecordFile.hpp"
#include "records/RecordSet.hpp"

namespace taxon::records {

namespace fs = std::filesystem;

namespace {

struct Job {
  std::size_t split = 0;
  int shard = 0;
};

// Category text for a labels-file line: "Women/Shoes/Sneakers" and "Women > Shoes > Sneakers"
// name the same folder.
std::string labelText(const std::string& line) {
  std::string text = line;
  if (text.find(" > ") == std::string::npos) {
    std::string joined;
    for (const auto& part : fs::path(text)) {
      if (!part.empty() && part != ".") {
        joined += (joined.empty() ? "" : " > ") + part.string();
      }
    }
    text = joined;
  }
  return core::normalizeCategoryPath(text);
}

std::vector<std::string> readCategoryList(const fs::path& file) {
  std::ifstream in(file);
  if (!in) {
    core::throwFileError(file, "cannot open the labels file");
  }
  std::vector<std::string> labels;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;
    }
    try {
      labels.push_back(labelText(line));
    } catch (const core::Error& e) {
      core::throwFileError(file, "line " + std::to_string(number) + ": " + e.what());
    }
  }
  if (labels.empty()) {
    core::throwFileError(file, "lists no categories");
  }
  return labels;
}

void shuffleEntries(std::vector<RecordEntry>& entries, std::uint64_t seed) {
  std::uint64_t state = core::mixSeed(seed);
  for (std::size_t i = entries.size(); i > 1; --i) {
    state = core::mixSeed(state);
    std::swap(entries[i - 1], entries[state % i]);
  }
}

// Reads, checks and (when needed) re-encodes one image into an Example. Returns false with a
// reason when the image must be skipped.
bool makeExample(const RecordEntry& entry, const std::vector<std::string>& labels,
                 const RecordBuildSettings& settings, ImageExample& example, std::string& reason,
                 bool& reencoded) {
  std::string bytes;
  try {
    bytes = core::readFile(entry.file);
  } catch (const core::Error& e) {
    const std::string message = e.what();
    reason = message.substr(std::min(message.size(), entry.file.string().size() + 2));
    return false;
  }
  image::ImageHeader header;
  if (!entry.expectedHash.empty() && image::contentHash(bytes) == entry.expectedHash) {
    header = image::readImageHeader(bytes).value_or(image::ImageHeader{});
  } else {
    image::ImageCheckLimits limits;
    limits.decode = settings.verifyDecode;
    const auto checked = image::checkImageBytes(bytes, limits);
    if (!checked.ok) {
      reason = checked.reason;
      return false;
    }
    header = checked.header;
  }
  const bool tooLarge =
      settings.maxSide > 0 && std::max(header.width, header.height) > settings.maxSide;
  reencoded = header.format != "JPEG" || tooLarge;
  if (reencoded) {
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, bytes.data());
    cv::Mat image = cv::imdecode(raw, cv::IMREAD_COLOR);
    if (image.empty()) {
      reason = "cannot be decoded as " + header.format;
      return false;
    }
    if (tooLarge) {
      const double scale = static_cast<double>(settings.maxSide) / std::max(image.cols, image.rows);
      cv::resize(image, image,
                 cv::Size(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                          std::max(1, static_cast<int>(std::lround(image.rows * scale)))),
                 0, 0, cv::INTER_AREA);
    }
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, settings.jpegQuality});
    bytes.assign(jpeg.begin(), jpeg.end());
    header.width = image.cols;
    header.height = image.rows;
  }
  example.encoded = std::move(bytes);
  example.format = "JPEG";
  example.filename = entry.key.empty() ? entry.file.filename().string() : entry.key;
  example.label = entry.label;
  example.text = labels[static_cast<std::size_t>(entry.label - 1)];
  example.height = header.height;
  example.width = header.width;
  return true;
}

// "train-00003-of-00128" for split "train".
bool isShardOf(const std::string& name, const std::string& split) {
  static constexpr std::string_view kShape = "-#####-of-#####";
  if (name.size() != split.size() + kShape.size() || !name.starts_with(split)) {
    return false;
  }
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char c = name[split.size() + i];
    if (kShape[i] == '#' ? !std::isdigit(static_cast<unsigned char>(c)) : c != kShape[i]) {
      return false;
    }
  }
  return true;
}

// Removes shards of `split` left by an earlier build with another shard count.
void removeStaleShards(const fs::path& dir, const SplitRecords& written) {
  std::set<std::string> keep;
  for (const auto& shard : written.shards) {
    keep.insert(shard.file);
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (isShardOf(name, written.name) && !keep.count(name)) {
      fs::remove(entry.path(), ec);
    }
  }
}

}  // namespace

std::string shardName(const std::string& split, int index, int count) {
  char name[64];
  std::snprintf(name, sizeof name, "%s-%05d-of-%05d", split.c_str(), index, count);
  return name;
}

RecordPlan planFromFolders(const RecordBuildSettings& settings, std::stop_token stop) {
  RecordPlan result;
  auto& labels = result.labels;
  auto& skipped = result.skipped;
  std::vector<std::pair<std::string, fs::path>> dirs;
  if (!settings.trainDirectory.empty()) {
    dirs.emplace_back("train", settings.trainDirectory);
  }
  if (!settings.validationDirectory.empty()) {
    dirs.emplace_back("validation", settings.validationDirectory);
  }
  std::vector<std::vector<image::FolderImage>> found;
  for (const auto& [name, dir] : dirs) {
    if (!fs::is_directory(dir)) {
      core::throwFileError(dir, "not a folder (--" + name + "_directory)");
    }
    found.push_back(image::scanCategoryFolders(dir, skipped, stop));
  }
  if (!settings.labelsFile.empty()) {
    labels = readCategoryList(settings.labelsFile);
  } else {
    std::set<std::string> names;
    for (const auto& images : found) {
      for (const auto& image : images) {
        names.insert(core::normalizeCategoryPath(image.category));
      }
    }
    labels.assign(names.begin(), names.end());
  }
  std::map<std::string, std::int64_t> index;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    index.emplace(labels[i], static_cast<std::int64_t>(i + 1));
  }
  auto& plans = result.splits;
  for (std::size_t d = 0; d < dirs.size(); ++d) {
    SplitPlan plan{dirs[d].first,
                   dirs[d].first == "train" ? settings.trainShards : settings.validationShards,
                   {}};
    for (auto& image : found[d]) {
      const auto it = index.find(core::normalizeCategoryPath(image.category));
      if (it == index.end()) {
        skipped.push_back(
            {image.path.string(), "category \"" + image.category + "\" is not in the labels file"});
        continue;
      }
      plan.entries.push_back({std::move(image.path), it->second, {}, {}});
    }
    plans.push_back(std::move(plan));
  }
  // A label without a single image would be a category the model is asked to learn from nothing
  // (usually a misspelt or missing folder): refused, naming them.
  std::vector<bool> used(labels.size(), false);
  for (const auto& plan : plans) {
    for (const auto& entry : plan.entries) {
      used[static_cast<std::size_t>(entry.label - 1)] = true;
    }
  }
  std::string unused;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!used[i]) {
      unused += (unused.empty() ? "\"" : ", \"") + labels[i] + "\"";
    }
  }
  if (!unused.empty() && !stop.stop_requested()) {
    core::throwFileError(settings.labelsFile,
                         "names categories that have no images in the given folders (no such "
                         "folder, or an empty one): " +
                             unused);
  }
  return result;
}

std::vector<std::string> RecordBuildSettings::validate() const {
  std::vector<std::string> problems;
  const bool folders = !trainDirectory.empty() || !validationDirectory.empty();
  if (project.empty() && !folders) {
    problems.emplace_back("give a project, or --train_directory and/or --validation_directory");
  }
  if (!project.empty() && folders) {
    problems.emplace_back("give a project or the --*_directory flags, not both");
  }
  if (project.empty() && outputDirectory.empty()) {
    problems.emplace_back("output_directory: required without a project");
  }
  if (!project.empty() && !labelsFile.empty()) {
    problems.emplace_back("labels_file: a project's categories are its labels; drop the flag");
  }
  for (const auto& [name, value] : {std::pair{"train_shards", trainShards},
                                    {"validation_shards", validationShards},
                                    {"test_shards", testShards},
                                    {"num_threads", numThreads}}) {
    if (value < 1) {
      problems.push_back(std::string(name) + ": must be at least 1, got " + std::to_string(value));
    }
  }
  if (maxSide < 0) {
    problems.emplace_back("max_side: must be 0 (keep sizes) or more");
  }
  if (jpegQuality < 1 || jpegQuality > 100) {
    problems.emplace_back("jpeg_quality: must be in [1, 100]");
  }
  return problems;
}

RecordBuildReport writeRecords(RecordPlan planned, const RecordBuildSettings& settings,
                               const core::ProgressFn& progress, std::stop_token stop) {
  core::throwIfInvalid("build-records", settings.validate());
  RecordBuildReport report;
  report.labels = std::move(planned.labels);
  report.skipped = std::move(planned.skipped);
  report.emptyCategories = std::move(planned.emptyCategories);
  auto& plans = planned.splits;
  if (report.labels.empty()) {
    throw core::Error("no categories to write: the labels are empty");
  }
  const fs::path& out = settings.outputDirectory;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    core::throwFileError(out, "cannot create the output folder: " + ec.message());
  }
  core::removeDeadTemporaries(out);  // of a build killed before it could clean up

  std::vector<Job> jobs;
  std::int64_t total = 0;
  for (std::size_t s = 0; s < plans.size(); ++s) {
    shuffleEntries(plans[s].entries, settings.seed + s);
    total += static_cast<std::int64_t>(plans[s].entries.size());
    report.splits.push_back({plans[s].name, std::vector<ShardInfo>(plans[s].shards), 0});
    for (int shard = 0; shard < plans[s].shards; ++shard) {
      jobs.push_back({s, shard});
    }
  }

  std::mutex mutex;  // guards report.skipped and the error
  // Until a shard replaces one of an earlier build the folder is as it was; from then on it is
  // marked incomplete until the manifest is written (a build that fails or is stopped before its
  // first shard is done leaves the earlier records usable).
  std::once_flag marked;
  const auto markIncomplete = [&] {
    core::writeFileAtomic(out / kIncompleteMarker,
                          "build-records (process " + std::to_string(getpid()) +
                              ") is writing this folder; if it is not running, it was stopped: "
                              "run it again.\n");
  };
  std::atomic<std::size_t> nextJob{0};
  std::atomic<std::int64_t> done{0};
  std::atomic<std::int64_t> reencoded{0};
  std::exception_ptr failure;
  auto work = [&] {
    try {
      for (std::size_t j = nextJob++; j < jobs.size() && !stop.stop_requested(); j = nextJob++) {
        const auto& plan = plans[jobs[j].split];
        const int shard = jobs[j].shard;
        const auto n = plan.entries.size();
        const std::size_t begin = n * static_cast<std::size_t>(shard) / plan.shards;
        const std::size_t end = n * static_cast<std::size_t>(shard + 1) / plan.shards;
        const std::string name = shardName(plan.name, shard, plan.shards);
        RecordWriter writer(out / name);
        for (std::size_t i = begin; i < end && !stop.stop_requested(); ++i) {
          ImageExample example;
          std::string reason;
          bool changed = false;
          if (makeExample(plan.entries[i], report.labels, settings, example, reason, changed)) {
            writer.write(encodeExample(example));
            reencoded += changed ? 1 : 0;
          } else {
            std::lock_guard lock(mutex);
            report.skipped.push_back({plan.entries[i].file.string(), reason});
          }
          const auto finished = ++done;
          if (progress) {
            progress({"build-records", finished, total, "images"});
          }
        }
        if (stop.stop_requested()) {
          return;  // the writer removes its temporary file
        }
        std::call_once(marked, markIncomplete);
        writer.close();
        report.splits[jobs[j].split].shards[static_cast<std::size_t>(shard)] =
            ShardInfo{name, writer.records(), writer.bytes()};
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!failure) {
        failure = std::current_exception();
      }
      nextJob = jobs.size();
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int t = 1; t < settings.numThreads; ++t) {
      pool.emplace_back(work);
    }
    work();
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
  report.cancelled = stop.stop_requested();
  report.reencoded = reencoded;
  if (report.cancelled) {
    return report;
  }

  std::string labelsText;
  for (const auto& label : report.labels) {
    labelsText += label + "\n";
  }
  core::writeFileAtomic(out / "labels.txt", labelsText);
  nlohmann::json manifest;
  manifest["format"] = "tfrecord/tf.train.Example";
  manifest["label_offset"] = 1;
  manifest["num_classes"] = report.labels.size();
  for (auto& split : report.splits) {
    nlohmann::json shards = nlohmann::json::array();
    for (const auto& shard : split.shards) {
      split.records += shard.records;
      report.bytesWritten += shard.bytes;
      shards.push_back({{"file", shard.file}, {"records", shard.records}, {"bytes", shard.bytes}});
    }
    manifest["splits"][split.name] = {{"records", split.records}, {"shards", shards}};
    removeStaleShards(out, split);
  }
  core::writeFileAtomic(out / "manifest.json", manifest.dump(2) + "\n");
  fs::remove(out / kIncompleteMarker, ec);
  return report;
}

RecordBuildReport buildRecordsFromFolders(const RecordBuildSettings& settings,
                                          const core::ProgressFn& progress, std::stop_token stop) {
  core::throwIfInvalid("build-records", settings.validate());
  return writeRecords(planFromFolders(settings, stop), settings, progress, stop);
}

}  // namespace taxon::records
