#include "train/RunDirectory.hpp"

#include <nlohmann/json.hpp>

#include "checkpoint/Checkpoint.hpp"
#include "core/Error.hpp"
#include "core/Files.hpp"
#include "settings/TrainSettingsJson.hpp"
#include "train/MetricsLog.hpp"

namespace taxon::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSettingsFile = "settings.json";
constexpr const char* kLabelsFile = "labels.txt";

}  // namespace

ResumePoint::ResumePoint() = default;
ResumePoint::ResumePoint(ResumePoint&&) noexcept = default;
ResumePoint& ResumePoint::operator=(ResumePoint&&) noexcept = default;
ResumePoint::~ResumePoint() = default;

RunFiles findRunFiles(const fs::path& trainDir) {
  RunFiles files;
  std::error_code error;
  files.settings = fs::exists(trainDir / kSettingsFile, error);
  files.metrics = fs::exists(trainDir / kMetricsFileName, error);
  files.checkpoints = static_cast<int>(checkpoint::listCheckpoints(trainDir).size());
  return files;
}

settings::TrainSettings readRunSettings(const fs::path& trainDir) {
  const fs::path path = trainDir / kSettingsFile;
  std::error_code error;
  if (!fs::exists(path, error)) {
    core::throwFileError(trainDir, "holds no training run to resume (no settings.json)");
  }
  try {
    return settings::trainSettingsFromJson(nlohmann::json::parse(core::readFile(path)));
  } catch (const nlohmann::json::exception& e) {
    core::throwFileError(path, std::string("is not valid JSON: ") + e.what());
  }
}

void checkResumable(const settings::TrainSettings& saved, const settings::TrainSettings& asked) {
  std::vector<std::string> changed;
  const auto same = [&](bool equal, const char* what) {
    if (!equal) {
      changed.push_back(what);
    }
  };
  same(saved.imageSize == asked.imageSize, "image size");
  same(saved.depthMultiplier == asked.depthMultiplier, "depth multiplier");
  same(saved.auxLogits == asked.auxLogits, "auxiliary head");
  same(saved.batchSize == asked.batchSize, "batch size");
  same(saved.optimizer == asked.optimizer, "optimizer");
  same(saved.seed == asked.seed, "seed");
  same(saved.shuffleBuffer == asked.shuffleBuffer, "shuffle buffer");
  same(saved.distort == asked.distort && saved.minCropArea == asked.minCropArea &&
           saved.colourDistort == asked.colourDistort,
       "distortion setting");
  // The teacher may have moved (another --teacher_dir), but it must be the same checkpoint.
  same(saved.distilling() == asked.distilling() &&
           (!saved.distilling() || (saved.teacherStep == asked.teacherStep &&
                                    saved.teacherFingerprint == asked.teacherFingerprint)),
       "teacher");
  if (!changed.empty()) {
    std::string list;
    for (const auto& c : changed) {
      list += (list.empty() ? "" : ", ") + c;
    }
    throw core::UsageError("cannot resume with a different " + list +
                           " than the run was started with; start a new run in another "
                           "--train_dir instead");
  }
}

fs::path RunDirectory::metricsPath() const {
  return dir_ / kMetricsFileName;
}

ResumePoint RunDirectory::open(const settings::TrainSettings& settings, bool resume,
                               const LogFn& log) const {
  ResumePoint point;
  const RunFiles existing = findRunFiles(dir_);
  if (!resume) {
    if (existing.any()) {
      core::throwFileError(dir_, "already holds a training run (" +
                                     std::to_string(existing.checkpoints) +
                                     " checkpoints); continue it with --resume, or choose "
                                     "another --train_dir");
    }
    return point;
  }
  if (const int removed = checkpoint::removeUnfinishedCheckpoints(dir_); removed > 0) {
    log("removed " + std::to_string(removed) +
        " unfinished checkpoint file(s) of an interrupted save in " + dir_.string());
  }
  // A run-state.json or settings write cut short by a kill.
  core::removeDeadTemporaries(dir_);
  std::vector<std::string> warnings;
  auto latest = checkpoint::readLatestCheckpoint(dir_, &warnings, &point.path);
  for (const auto& warning : warnings) {
    log("warning: " + warning);
  }
  if (latest) {
    checkResumable(settings::trainSettingsFromJson(nlohmann::json::parse(latest->settingsJson)),
                   settings);
    point.data = std::make_unique<checkpoint::CheckpointData>(std::move(*latest));
  } else if (existing.settings) {
    // Stopped before its first checkpoint: nothing to continue from but the start.
    checkResumable(readRunSettings(dir_), settings);
    truncateMetricsLog(metricsPath(), 0);
    log("no checkpoint in " + dir_.string() + " yet: starting the run over");
  } else {
    core::throwFileError(dir_, "holds no training run to resume");
  }
  return point;
}

void RunDirectory::writeStart(const settings::TrainSettings& settings,
                              const std::vector<std::string>& categories) const {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) {
    core::throwFileError(dir_, "cannot be created: " + error.message());
  }
  core::writeFileAtomic(dir_ / kSettingsFile, toJson(settings).dump(2) + "\n");
  std::string labels;
  for (const auto& name : categories) {
    labels += name + "\n";
  }
  core::writeFileAtomic(dir_ / kLabelsFile, labels);
}

void RunDirectory::keepMetricsUpTo(std::int64_t step) const {
  truncateMetricsLog(metricsPath(), step);
}

}  // namespace taxon::train
